"""Build facts of the compiled kernels: OpenMP, SIMD dispatch, flags."""
from fastembed._kernels.fe cimport (fe_openmp_enabled, fe_omp_max_threads, FE_BUILD_FLAGS,
                                    fe_stream_supported)

cdef extern from *:
    """
    #if defined(FE_TARGET_CLONES)
    static int fe_target_clones(void) { return 1; }
    #else
    static int fe_target_clones(void) { return 0; }
    #endif
    static const char *fe_best_clone(void) {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return "avx512f";
        if (__builtin_cpu_supports("avx2")) return "avx2";
        return "sse2";
    #else
        return "generic";
    #endif
    }
    """
    int fe_target_clones() noexcept nogil
    const char *fe_best_clone() noexcept nogil


def openmp_enabled():
    """True if the kernels were compiled with OpenMP."""
    return bool(fe_openmp_enabled())


def omp_max_threads():
    """OpenMP's default team size (honours OMP_NUM_THREADS); 1 without OpenMP."""
    return int(fe_omp_max_threads())


def build_flags():
    """The compiler flags the kernels were built with."""
    return FE_BUILD_FLAGS.decode()


def simd():
    """Which SIMD path the hot loops run: the runtime-dispatched clone, or the compile-time target."""
    if fe_target_clones():
        return "runtime dispatch (avx512f/avx2/default), this CPU: " + fe_best_clone().decode()
    return "compile-time target only (no runtime dispatch)"


def streaming_stores():
    """True if large gathers can use non-temporal stores."""
    return bool(fe_stream_supported())
