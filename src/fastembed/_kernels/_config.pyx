"""Build facts of the compiled kernels: OpenMP, SIMD levels, compiler, flags."""
from fastembed._kernels._csrc cimport FE_BUILD_FLAGS, fe_compiler
from fastembed._kernels._common cimport fe_openmp_enabled, fe_omp_max_threads

from fastembed._kernels import _simd


def openmp_enabled():
    """True if the kernels were compiled with OpenMP."""
    return bool(fe_openmp_enabled())


def omp_max_threads():
    """OpenMP's default team size (honours OMP_NUM_THREADS); 1 without OpenMP."""
    return int(fe_omp_max_threads())


def build_flags():
    """The compiler flags the kernels were built with."""
    return FE_BUILD_FLAGS.decode()


def compiler():
    """The C compiler that built the kernels."""
    return fe_compiler().decode()


def simd():
    """The active SIMD level, with the compiled and the supported ones."""
    return (f"{_simd.get_level()} (compiled: {' '.join(_simd.compiled_levels())}; "
            f"this CPU: {' '.join(_simd.supported_levels())})")


def streaming_stores():
    """True if large gathers use non-temporal stores at the active SIMD level."""
    return _simd.streaming_stores()
