"""Build script for the compiled kernels.

Environment variables:
  FASTEMBED_MARCH_NATIVE=1   compile with -march=native (only for a machine you build and run on)
  FASTEMBED_DEBUG=1          turn Cython's bounds/wraparound/initialized checks back on, -O0 -g
  FASTEMBED_DEBUG_INFO=1     keep debug information in an optimised build (for profilers and gdb);
                             release builds are compiled with -g0 and linked with --strip-debug
                             (each .so: ~1.4 MB of DWARF against ~230 KB of code)
  FASTEMBED_ANNOTATE=1       write Cython's annotated HTML next to each .pyx
  FASTEMBED_NO_OPENMP=1      build without OpenMP even if the compiler has it
  FASTEMBED_SANITIZE=address,undefined
                             build with these -fsanitize= checks (and -O1 -g -fno-omit-frame-pointer);
                             a Python that is not itself built with ASan must preload the runtime:
                             LD_PRELOAD=$(gcc -print-file-name=libasan.so); see tools/sanitize.sh

Every SIMD level (csrc/fe_simd.h) is compiled into one build and chosen at import (FASTEMBED_SIMD
overrides). A compiler that cannot compile a level's intrinsics leaves that level out (probed below).
"""
import glob
import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(HERE, "csrc")


def _env(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "False")


def _cc():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return cc.split()


def _try_compile(source, flags, run=False, errors=None):
    """Compile (and optionally run) a tiny C program; True if it works with these flags. The
    compiler's messages are appended to ``errors`` (a list) when given."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(source)
        try:
            r = subprocess.run(_cc() + [src, "-o", exe] + flags, capture_output=True, timeout=120)
            if r.returncode != 0:
                if errors is not None:
                    errors.append(r.stderr.decode(errors="replace"))
                return False
            if run:
                r = subprocess.run([exe], capture_output=True, timeout=60)
                return r.returncode == 0
            return True
        except (OSError, subprocess.SubprocessError):
            return False


OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n) num_threads(2)
    n += 1;
    printf("%d %d\n", n, omp_get_max_threads());
    return n == 2 ? 0 : 1;
}
"""

SIMD_PROBE = r"""
#include "fe_simd.h"
int main(void) { return fe_simd_count() > 0 ? 0 : 1; }
"""


def openmp_flags():
    if _env("FASTEMBED_NO_OPENMP"):
        return [], []
    for cflag, lflag in (("-fopenmp", "-fopenmp"), ("-Xpreprocessor -fopenmp", "-lomp"), ("/openmp", "")):
        c = cflag.split()
        ldf = lflag.split() if lflag else []
        if _try_compile(OPENMP_PROBE, c + ldf, run=True):
            return c, ldf
    print("fastembed: WARNING: the compiler has no working OpenMP; kernels will run on one thread",
          file=sys.stderr)
    return [], []


def sanitize_flags():
    """(-fsanitize=... compile flags, link flags) for FASTEMBED_SANITIZE, e.g. "address,undefined"."""
    value = os.environ.get("FASTEMBED_SANITIZE", "").strip()
    if not value:
        return [], []
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    flag = "-fsanitize=" + ",".join(kinds)
    cflags = [flag, "-fno-omit-frame-pointer", "-g"]
    if not _try_compile("int main(void) { return 0; }", [flag]):
        raise SystemExit(f"fastembed: FASTEMBED_SANITIZE={value!r}: the compiler rejects {flag}")
    return cflags, [flag]


def simd_macros():
    """Compile every SIMD level of csrc/fe_simd.h into a probe; leave out the x86 levels an old
    compiler cannot build (AVX-512 first). Nothing to leave out on other architectures."""
    errors = []
    for macros in ([], [("FE_SIMD_NO_AVX512VNNI", "1")], [("FE_SIMD_NO_AVX512", "1")],
                   [("FE_SIMD_NO_AVX512", "1"), ("FE_SIMD_NO_AVX2", "1")]):
        flags = ["-c", "-O1", "-std=c11", "-I" + CSRC] + ["-D%s=%s" % m for m in macros]
        if _try_compile(SIMD_PROBE, flags, errors=errors):
            if macros:
                print("fastembed: WARNING: the compiler cannot build every SIMD level; leaving out "
                      + ", ".join(m[0] for m in macros), file=sys.stderr)
            return macros
    raise SystemExit("fastembed: the compiler cannot build csrc/fe_simd.h:\n" + (errors[-1] if errors else ""))


def strip_flags(keep_debug: bool):
    """(compile flags, link flags) for a release build without debug information: -g0 overrides
    the -g in Python's own CFLAGS, and the linker drops any DWARF left in objects it links in.
    Nothing when debug info is wanted (FASTEMBED_DEBUG, FASTEMBED_DEBUG_INFO, sanitizers)."""
    if keep_debug:
        return [], []
    link = ["-Wl,--strip-debug"]
    if not _try_compile("int main(void) { return 0; }", link):  # e.g. Apple's ld64 (it has -S instead)
        link = ["-Wl,-S"] if _try_compile("int main(void) { return 0; }", ["-Wl,-S"]) else []
    return ["-g0"], link


def build_config():
    omp_c, omp_l = openmp_flags()
    debug = _env("FASTEMBED_DEBUG")
    san_c, san_l = sanitize_flags()
    strip_c, strip_l = strip_flags(debug or bool(san_c) or _env("FASTEMBED_DEBUG_INFO"))
    cflags = ["-O0", "-g"] if debug else (["-O1"] if san_c else ["-O3"])
    # Bit-exact equality with the numpy reference and across SIMD levels: no fused multiply-add
    # contraction, no fast-math.
    cflags += ["-ffp-contract=off", "-fno-strict-aliasing", "-std=c11"]
    # sqrt without the errno branch (a call to sqrtf per element otherwise): square roots vectorise.
    # The kernels never read errno, and IEEE sqrt is exact, so results do not change.
    cflags += ["-fno-math-errno"]
    # Python's own CFLAGS carry -fwrapv (for CPython's code); with it gcc must assume signed index
    # arithmetic may wrap, and the AVX2 half-precision scan ran 2.5x slower (400000x300, one
    # thread: 28 ms against 11 ms). Our C wraps only unsigned types (hashes, random numbers), and
    # the sanitizer build of the C harness (UBSan) checks for signed overflow.
    cflags += ["-fno-wrapv"]
    cflags += ["-Wno-unused-function", "-Wno-unreachable-code"]
    # a call to an undeclared function links against nothing in an extension module and fails only
    # at import (or calls the wrong symbol): an error at build time instead
    cflags += ["-Werror=implicit-function-declaration"]
    cflags += san_c + strip_c
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    if _env("FASTEMBED_MARCH_NATIVE"):
        cflags.append("-march=native")
    macros += simd_macros()
    if omp_c:
        macros.append(("FE_OPENMP", "1"))
    return cflags + omp_c, omp_l + san_l + strip_l, macros, debug


def extensions():
    cflags, ldflags, macros, debug = build_config()
    record = " ".join(cflags)
    macros.append(("FE_BUILD_FLAGS", '"%s"' % record.replace('"', "")))
    kdir = os.path.join("src", "fastembed", "_kernels")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(HERE, kdir)) if f.endswith(".pyx"))
    if not names or not os.path.isfile(os.path.join(CSRC, "fe_ops.h")):
        # an incomplete source tree (an sdist without the Cython sources or the C headers) would
        # otherwise build a pure-Python wheel that installs and then fails at import
        sys.exit("fastembed: the Cython sources (src/fastembed/_kernels/*.pyx) or the C headers (csrc/) "
                 "are missing from this source tree; refusing to build a package without its kernels")
    headers = sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(CSRC, "**", "*.h"), recursive=True))
    exts = []
    for name in names:
        exts.append(Extension(
            "fastembed._kernels." + name,
            [os.path.join(kdir, name + ".pyx")],
            include_dirs=[CSRC, np.get_include()],
            depends=headers,
            extra_compile_args=cflags,
            extra_link_args=ldflags,
            define_macros=macros,
        ))
    directives = {
        "language_level": 3,
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "nonecheck": False,
        "cdivision": True,
        "embedsignature": True,
        "freethreading_compatible": True,
    }
    return cythonize(exts, compiler_directives=directives, annotate=_env("FASTEMBED_ANNOTATE"),
                     include_path=[os.path.join("src")])


setup(ext_modules=extensions())
