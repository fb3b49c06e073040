"""Build script for the compiled kernels.

Environment variables:
  FASTEMBED_MARCH_NATIVE=1   compile with -march=native (only for a machine you build and run on)
  FASTEMBED_DEBUG=1          turn Cython's bounds/wraparound/initialized checks back on, -O0 -g
  FASTEMBED_ANNOTATE=1       write Cython's annotated HTML next to each .pyx
  FASTEMBED_NO_OPENMP=1      build without OpenMP even if the compiler has it
"""
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


def _try_compile(source, flags, run=False):
    """Compile (and optionally run) a tiny C program; True if it works with these flags."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(source)
        try:
            r = subprocess.run(_cc() + [src, "-o", exe] + flags, capture_output=True, timeout=120)
            if r.returncode != 0:
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

CLONES_PROBE = r"""
__attribute__((target_clones("avx512f", "avx2", "default")))
int f(const float *x, int n) { float s = 0; for (int i = 0; i < n; i++) s += x[i]; return (int)s; }
int main(void) { float x[4] = {1, 2, 3, 4}; return f(x, 4) == 10 ? 0 : 1; }
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


def build_config():
    omp_c, omp_l = openmp_flags()
    debug = _env("FASTEMBED_DEBUG")
    cflags = ["-O0", "-g"] if debug else ["-O3"]
    # Bit-exact equality with the numpy reference: no fused multiply-add contraction, no fast-math.
    cflags += ["-ffp-contract=off", "-fno-strict-aliasing", "-std=c11"]
    # sqrt without the errno branch (a call to sqrtf per element otherwise): square roots vectorise.
    # The kernels never read errno, and IEEE sqrt is exact, so results do not change.
    cflags += ["-fno-math-errno"]
    cflags += ["-Wno-unused-function", "-Wno-unreachable-code"]
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
    if _env("FASTEMBED_MARCH_NATIVE"):
        cflags.append("-march=native")
    elif _try_compile(CLONES_PROBE, ["-O2"], run=True):
        # Runtime dispatch to AVX-512 / AVX2 clones of the hot loops; the arithmetic order is fixed in
        # the source, so every clone returns the same bits.
        macros.append(("FE_TARGET_CLONES", "1"))
    if omp_c:
        macros.append(("FE_OPENMP", "1"))
    return cflags + omp_c, omp_l, macros, debug


def extensions():
    cflags, ldflags, macros, debug = build_config()
    record = " ".join(cflags)
    macros.append(("FE_BUILD_FLAGS", '"%s"' % record.replace('"', "")))
    kdir = os.path.join("src", "fastembed", "_kernels")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(HERE, kdir)) if f.endswith(".pyx"))
    exts = []
    for name in names:
        exts.append(Extension(
            "fastembed._kernels." + name,
            [os.path.join(kdir, name + ".pyx")],
            include_dirs=[CSRC, np.get_include()],
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
