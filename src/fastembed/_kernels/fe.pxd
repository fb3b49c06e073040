# Declarations of the plain C helpers in csrc/ shared by every kernel module.
from libc.stdint cimport int64_t

cdef extern from "fe_common.h" nogil:
    ctypedef Py_ssize_t fe_intp
    const char *FE_BUILD_FLAGS
    void fe_copy_row(float *dst, const float *src, fe_intp d, int stream) noexcept
    void fe_stream_fence() noexcept
    int fe_stream_supported() noexcept
    void fe_embed_row(float *dst, const float *src, float scale, const float *pos, const float *types,
                      fe_intp d, int stream) noexcept
    void fe_acc_row(float *dst, const float *src, fe_intp d) noexcept
    void fe_axpy(float *dst, float a, const float *x, fe_intp d) noexcept
    float fe_dot(const float *a, const float *b, fe_intp d) noexcept
    void fe_dot4(const float *x, const float *q0, const float *q1, const float *q2, const float *q3,
                 fe_intp d, float *out) noexcept
    double fe_sumsq_f64(const float *x, fe_intp d) noexcept

cdef extern from "fe_heap.h" nogil:
    int64_t FE_EMPTY_ID
    void fe_heap_init(float *s, int64_t *ids, int64_t k) noexcept
    void fe_heap_sort(float *s, int64_t *ids, int64_t k) noexcept
    int fe_worse(float sa, int64_t ia, float sb, int64_t ib) noexcept

cdef extern from *:
    """
    #if defined(FE_OPENMP)
    #include <omp.h>
    static int fe_openmp_enabled(void) { return 1; }
    static int fe_omp_max_threads(void) { return omp_get_max_threads(); }
    static int fe_omp_thread_num(void) { return omp_get_thread_num(); }
    #else
    static int fe_openmp_enabled(void) { return 0; }
    static int fe_omp_max_threads(void) { return 1; }
    static int fe_omp_thread_num(void) { return 0; }
    #endif
    """
    int fe_openmp_enabled() noexcept nogil
    int fe_omp_max_threads() noexcept nogil
    int fe_omp_thread_num() noexcept nogil

cdef extern from "fe_topk.h" nogil:
    ctypedef struct fe_topk_args:
        const float *table
        int64_t D
        const float *inv
        const unsigned char *mask
        const int64_t *excl_ptr
        const int64_t *excl
        int64_t k
    void fe_scan_rows(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                      int64_t r0, int64_t r1, float *hs, int64_t *hi) noexcept
    void fe_merge_scores(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                         int64_t q, float *hs, int64_t *hi) noexcept
    void fe_merge_combined(const fe_topk_args *a, const float *Sa, const float *Sb, const float *Sc,
                           float qs, int64_t n, int64_t r0, int64_t q, float *hs, int64_t *hi,
                           float *buf) noexcept
    void fe_merge_heaps(float *s1, int64_t *i1, const float *s2, const int64_t *i2, int64_t k) noexcept
    void fe_row_norms(const float *table, int64_t D, int64_t r0, int64_t r1, float *out, int want_norm) noexcept
