# The C API of csrc/, declared header by header (the plain C11 layer under every kernel module).
# Kernel modules cimport what they need from here; shared typedefs and OpenMP helpers live in
# _common.pxd. Two headers are declared where they are used, because Cython includes every header
# of a cimported .pxd in every module: csrc/fe_simd.h (every SIMD level's code; _simd.pyx only) and
# csrc/fe_parse.h (_parse.pyx).
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

# ---------------------------------------------------------------- fe_common.h
cdef extern from "fe_common.h" nogil:
    ctypedef Py_ssize_t fe_intp
    const char *FE_BUILD_FLAGS
    float fe_ldf(const float *p) noexcept
    void fe_stf(float *p, float v) noexcept
    void fe_prefetch_row(const float *row, fe_intp d) noexcept
    fe_intp fe_prefetch_ahead(fe_intp d) noexcept

# ---------------------------------------------------------------- fe_half.h
cdef extern from "fe_half.h" nogil:
    float fe_f16_to_f32(uint16_t h) noexcept
    float fe_bf16_to_f32(uint16_t h) noexcept
    uint16_t fe_f32_to_bf16(float f) noexcept

# ---------------------------------------------------------------- fe_kinds.h
cdef extern from "fe_kinds.h" nogil:
    # the storage kinds of a table's rows: one code each (fastembed._dtypes reads them from here)
    ctypedef enum fe_kind:
        FE_KIND_F32
        FE_KIND_F16
        FE_KIND_BF16
        FE_KIND_I8
        FE_KIND_COUNT
    const char *const fe_kind_names[]
    const int fe_kind_itemsize[]
    const int fe_kind_scaled[]

# ---------------------------------------------------------------- fe_omp.h
cdef extern from "fe_omp.h" nogil:
    int fe_openmp_enabled() noexcept
    int fe_omp_max_threads() noexcept
    int fe_omp_thread_num() noexcept

# ---------------------------------------------------------------- fe_heap.h
cdef extern from "fe_heap.h" nogil:
    int64_t FE_EMPTY_ID
    void fe_heap_init(float *s, int64_t *ids, int64_t k) noexcept
    void fe_heap_sort(float *s, int64_t *ids, int64_t k) noexcept
    int fe_worse(float sa, int64_t ia, float sb, int64_t ib) noexcept

# ---------------------------------------------------------------- fe_topk.h
cdef extern from "fe_topk.h" nogil:
    ctypedef struct fe_topk_args:
        const float *table
        const void *rows
        const float *scales
        int64_t D
        const float *inv
        const uint8_t *mask
        const int64_t *excl_ptr
        const int64_t *excl
        int64_t k
        const uint16_t *half
    void fe_merge_heaps(float *s1, int64_t *i1, const float *s2, const int64_t *i2, int64_t k) noexcept

# ---------------------------------------------------------------- fe_w2v.h
cdef extern from "fe_w2v.h" nogil:
    int FE_EXP_TABLE_SIZE
    int FE_MAX_EXP
    int FE_MAX_NEGATIVE
    ctypedef struct fe_w2v_model:
        float *syn0
        float *syn1neg
        int64_t D
        int64_t V
        const uint32_t *keep
        const uint32_t *alias_prob
        const int32_t *alias
        int window
        int negative
        const float *exp_table
        const float *logsig_table
        int fixed_window
    uint64_t fe_mix(uint64_t x) noexcept

# ---------------------------------------------------------------- fe_fasttext.h
cdef extern from "fe_fasttext.h" nogil:
    ctypedef struct fe_ft_args:
        const float *words
        const int64_t *rows
        const float *ngrams
        int64_t bucket
        int64_t D
        const unsigned char *blob
        const int64_t *offsets
        int64_t minn
        int64_t maxn
        int skip_eos
    ctypedef struct fe_ft_model:
        fe_w2v_model w
        const int64_t *sub_starts
        const int64_t *sub_rows
        int per_pair
    uint32_t fe_ft_hash(const unsigned char *s, int64_t n) noexcept
    int64_t fe_ft_ngrams(const unsigned char *w, int64_t len, int64_t minn, int64_t maxn, uint32_t bucket,
                         int64_t *out, int64_t cap) noexcept
    int fe_ft_is_eos(const unsigned char *w, int64_t len) noexcept
    int64_t fe_ft_scan_dict(const unsigned char *buf, int64_t n, int64_t max_entries, int64_t max_word,
                            unsigned char *words, int64_t *ends, int64_t *counts, int8_t *types,
                            int64_t *consumed, int *status) noexcept
# ---------------------------------------------------------------- fe_glove.h
cdef extern from "fe_glove.h" nogil:
    uint64_t FE_GLOVE_EMPTY
    int FE_GLOVE_MAX_WINDOW
    int FE_GLOVE_RADIX
    ctypedef struct fe_glove_slot:
        uint64_t key
        double val
    ctypedef struct fe_glove_map:
        fe_glove_slot *slots
        int64_t cap
        int64_t n
        int64_t hard
    ctypedef struct fe_glove_rec:
        int32_t i
        int32_t j
        float logx
        float fx
    ctypedef struct fe_glove_model:
        float *W
        float *G
        int64_t V
        int64_t D
        float eta
        float bias_eta
        float clip
        int symmetric
    int fe_glove_count(fe_glove_map *m, const int32_t *words, const int64_t *starts, int64_t s0,
                       int64_t s1, int window, const double *weight, int symmetric) noexcept
    void fe_glove_map_move(const fe_glove_map *src, fe_glove_map *dst) noexcept
    int64_t fe_glove_map_sort(fe_glove_map *m, fe_glove_slot *tmp, int64_t *count) noexcept
    int64_t fe_glove_merge(const fe_glove_slot *const *run, const int64_t *rn, int64_t R, int64_t *pos,
                           int64_t *heap, int64_t *hn_io, fe_glove_slot *out, int64_t cap) noexcept
    void fe_glove_shuffle(fe_glove_rec *rec, int64_t k_hi, int64_t k_lo, uint64_t *state) noexcept

# ---------------------------------------------------------------- fe_int8.h
cdef extern from "fe_int8.h" nogil:
    int FE_I8_ROWS
    ctypedef struct fe_i8_args:
        const int8_t *codes
        int64_t block_bytes
        const int32_t *rowsum
        int64_t G
        const float *coef
        fe_topk_args t
    ctypedef struct fe_i8_query:
        const int32_t *p4
        const int32_t *pabs4
        const int32_t *pu4
        float tau
        float fn
        float qn
        float abs_err
        const float *qf
        int64_t q
    ctypedef struct fe_i8_state:
        float *lb
        int64_t *ids
        float *ub
        int64_t n
        int64_t cap
        int failed
    void fe_i8_merge_lb(float *lb, const float *o, int64_t k) noexcept

# ---------------------------------------------------------------- fe_pool.h
cdef extern from "fe_pool.h" nogil:
    ctypedef struct fe_bag_args:
        const void *rows
        const float *scales
        void (*cvt)(float *dst, const void *src, float s, fe_intp d, int stream) noexcept nogil
        int64_t row_bytes
        int64_t V
        int64_t D
        const void *ids
        int id_code
        const int64_t *bounds
        int64_t T
        const float *psw
        int64_t padding
        int mode
    int FE_BAG_SUM
    int FE_BAG_MEAN
    int FE_BAG_MAX
    int64_t FE_BAG_NOMEM

# ---------------------------------------------------------------- fe_ops.h (the SIMD-level kernels)
cdef extern from "fe_ops.h" nogil:
    ctypedef struct fe_ln_args:
        const float *table
        fe_intp V
        fe_intp D
        const int64_t *ids
        const float *pos
        const int64_t *pidx
        const int64_t *poff
        fe_intp T
        float scale
        const float *types
        const int64_t *tidx
        const float *gamma
        const float *beta
        float eps
        float *out
        int stream

    ctypedef struct fe_kind_ops:
        void (*copy_row)(float *dst, const void *src, float s, fe_intp d, int stream) noexcept nogil
        void (*embed_row)(float *dst, const void *src, float s, float scale, const float *pos,
                          const float *types, fe_intp d, int stream) noexcept nogil
        float (*dot)(const void *row, float s, const float *q, fe_intp d) noexcept nogil
        void (*row_norms)(const void *table, const float *scales, fe_intp D, fe_intp r0, fe_intp r1,
                          float *out, int want_norm) noexcept nogil
        void (*scan_rows)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                          int64_t r0, int64_t r1, float *hs, int64_t *hi) noexcept nogil
    ctypedef struct fe_ops:
        const char *name
        int vector_floats
        int streaming_stores
        fe_kind_ops kind[4]
        void (*stream_fence)() noexcept nogil
        void (*acc_row)(float *dst, const float *src, fe_intp d) noexcept nogil
        void (*axpy)(float *dst, float a, const float *x, fe_intp d) noexcept nogil
        float (*dot)(const float *a, const float *b, fe_intp d) noexcept nogil
        double (*sumsq)(const float *x, fe_intp d) noexcept nogil
        void (*merge_scores)(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                             int64_t q, float *hs, int64_t *hi) noexcept nogil
        void (*dots_block)(const float *X, fe_intp D, fe_intp n, const float *Qm, fe_intp nq, float *out,
                           fe_intp os) noexcept nogil
        void (*merge_combined)(const fe_topk_args *a, const float *Sa, const float *Sb, const float *Sc,
                               float qs, int64_t n, int64_t r0, int64_t q, float *hs, int64_t *hi,
                               float *buf) noexcept nogil
        int64_t (*bag_range)(const fe_bag_args *a, int64_t b0, int64_t b1, float *out, int64_t *arg) noexcept nogil
        void (*bag_backward_rows)(const int64_t *order, const int64_t *starts, int64_t u0, int64_t u1,
                                  const int64_t *bounds, int64_t B, int64_t T, const float *g, const float *psw,
                                  int64_t D, float *rows) noexcept nogil
        void (*bag_max_backward_cols)(const int64_t *slot, const float *g, int64_t B, int64_t D, int64_t j0,
                                      int64_t j1, float *rows) noexcept nogil
        int64_t (*w2v_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n, float alpha,
                                uint64_t seed, int32_t *buf, float *neu1e, double *loss,
                                int64_t *nonfinite) noexcept nogil
        int64_t (*w2v_cbow_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n, float alpha,
                                     uint64_t seed, int cbow_mean, int32_t *buf, float *neu1, float *neu1e,
                                     double *loss, int64_t *nonfinite) noexcept nogil
        int (*ft_mean_range)(const fe_ft_args *a, int64_t w0, int64_t w1, float *out) noexcept nogil
        int64_t (*ft_sg_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha, uint64_t seed,
                                  int32_t *buf, float *hidden, float *neu1e, float *grad, double *loss,
                                  int64_t *nonfinite) noexcept nogil
        int64_t (*ft_cbow_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha,
                                    uint64_t seed, int32_t *buf, float *hidden, float *neu1e, double *loss,
                                    int64_t *nonfinite) noexcept nogil
        double (*glove_train)(const fe_glove_model *m, const fe_glove_rec *rec, int64_t r0, int64_t r1,
                              int64_t *skipped) noexcept nogil
        void (*segment_sum)(const float *grad, const int64_t *order, const int64_t *starts, int64_t u0,
                            int64_t u1, int64_t D, const float *scale, float *out) noexcept nogil
        void (*i8_quantize)(const float *table, fe_intp D, fe_intp r0, fe_intp r1, int8_t *codes,
                            int32_t *rowsum, float *scale, double *st) noexcept nogil
        int (*i8_scan)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                       fe_i8_state *st) noexcept nogil
        int64_t (*i8_rescore)(const fe_topk_args *a, const float *qv, int64_t q, const fe_i8_state *s,
                              float thr, float *hs, int64_t *hi) noexcept nogil
        const char *(*i8_kernel)() noexcept nogil
        void (*hx_build)(const float *T, int64_t D, int64_t r0, int64_t r1, int bf, uint16_t *h,
                         int32_t *shift, double *st) noexcept nogil
        int (*hx_scan_f16)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                           fe_i8_state *st) noexcept nogil
        int (*hx_scan_bf16)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                            fe_i8_state *st) noexcept nogil
        fe_intp (*embed_ln_range)(const fe_ln_args *a, fe_intp lo, fe_intp hi, float *tmp) noexcept nogil

# ---------------------------------------------------------------- fe_config.h
cdef extern from "fe_config.h" nogil:
    const char *fe_compiler() noexcept
