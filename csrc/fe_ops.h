/* fastembed: the dispatch table of the SIMD-level kernels.
 *
 * Every hot kernel is compiled once per SIMD level (csrc/fe_simd.h instantiates csrc/impl/ headers for
 * "generic", "sse2", "avx2", "avx512", "avx512vnni" on x86-64, "neon" on aarch64) and reached through one
 * `fe_ops` table chosen at import (the best level this CPU supports, or FASTEMBED_SIMD). Exactly
 * one table is active per process: fastembed._kernels._simd owns the pointer; the other kernel
 * modules ask it for the table (`ops()` in _simd.pxd) once per call.
 *
 * Every level returns the same bits for the same inputs: the arithmetic order is fixed in the
 * source (see impl/dot.h for the dot product's), the build uses -ffp-contract=off, and no level
 * uses fused multiply-add or fast-math. Batched scores come from our own tiled kernel
 * (impl/tile.h), never from BLAS, so they do not depend on tile shapes or thread counts either.
 *
 * Adding a kernel: write it once in a csrc/impl/ header against the vector layer (FV_* macros of
 * csrc/simd/vec_*.h; level-specific intrinsics go into those layers), add one field here, one line
 * to the table in csrc/impl/table.h, and the field to _csrc.pxd.
 */
#ifndef FE_OPS_H
#define FE_OPS_H

#include "fe_common.h"
#include "fe_half.h"
#include "fe_topk.h"
#include "fe_w2v.h"
#include "fe_fasttext.h"
#include "fe_glove.h"
#include "fe_int8.h"
#include "fe_kinds.h"
#include "fe_pool.h"

/* One storage kind's row kernels (csrc/impl/kind.h): rows as `const void *` of the kind's elements,
 * a scaled kind's row scale `s` (ignored otherwise). The same bits as the float32 kernels on the
 * rows' float32 values, at every level. */
typedef struct fe_kind_ops {
    /* dst = the row's float32 values; stream: non-temporal stores where the level has them (call
     * stream_fence after) */
    void (*copy_row)(float *dst, const void *src, float s, fe_intp d, int stream);
    /* dst = (value * scale + pos) (+ types): multiply, then add, then add */
    void (*embed_row)(float *dst, const void *src, float s, float scale, const float *pos,
                      const float *types, fe_intp d, int stream);
    /* fe_dot of the row's values and q */
    float (*dot)(const void *row, float s, const float *q, fe_intp d);
    /* out[r] = ||row r|| (want_norm) or 1 / ||row r|| (0 for a zero row), rows [r0, r1) */
    void (*row_norms)(const void *table, const float *scales, fe_intp D, fe_intp r0, fe_intp r1, float *out,
                      int want_norm);
    /* scan rows [r0, r1) of a->rows for queries q0 .. q0+nq-1 (rows of `queries`) into nq heaps of k */
    void (*scan_rows)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                      int64_t r0, int64_t r1, float *hs, int64_t *hi);
} fe_kind_ops;

/* One fused embedding + LayerNorm call (impl/layernorm.h): row i of out (V x D table, D >= 1) is
 * LayerNorm(table[ids[i]] * scale + pos[p(i)] (+ types[t(i)])) * gamma + beta, with
 * p(i) = pidx[i], or poff[i / T] + i % T when pidx is NULL; t(i) = tidx[i], or 0 when tidx is NULL
 * (types NULL: no token-type row). stream: non-temporal stores for 64-byte aligned rows. */
typedef struct fe_ln_args {
    const float *table;
    fe_intp V, D;
    const int64_t *ids;
    const float *pos;
    const int64_t *pidx, *poff;
    fe_intp T;
    float scale;
    const float *types;
    const int64_t *tidx;
    const float *gamma, *beta;
    float eps;
    float *out;
    int stream;
} fe_ln_args;

typedef struct fe_ops {
    const char *name;            /* the level's name: "generic", "sse2", "avx2", "avx512", "avx512vnni", "neon" */
    int vector_floats;           /* floats per vector register at this level */
    int streaming_stores;        /* copy_row / embed_row honour stream != 0 */

    /* ---- the storage kinds' row kernels, indexed by fe_kind (impl/kinds.h) */
    fe_kind_ops kind[FE_KIND_COUNT];

    /* ---- float32 rows (impl/rows.h): elementwise, so trivially the same bits everywhere */
    void (*stream_fence)(void);
    /* dst += src */
    void (*acc_row)(float *dst, const float *src, fe_intp d);
    /* dst += a * x */
    void (*axpy)(float *dst, float a, const float *x, fe_intp d);

    /* ---- reductions (impl/dot.h, impl/norms.h): fixed 16-lane order, see fe_dot.h */
    float (*dot)(const float *a, const float *b, fe_intp d);
    double (*sumsq)(const float *x, fe_intp d);

    /* ---- top-k (impl/topk.h, impl/tile.h) */
    /* merge n precomputed dot products of query q with rows r0 .. r0+n-1 into q's heap */
    void (*merge_scores)(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                         int64_t q, float *hs, int64_t *hi);
    /* out[c * os + r] = dot(X + r * D, Qm + c * D), r < n, c < nq: the tiled kernel of impl/tile.h */
    void (*dots_block)(const float *X, fe_intp D, fe_intp n, const float *Qm, fe_intp nq, float *out, fe_intp os);
    /* merge ((Sb - Sa) + Sc) * qs (analogies from per-word dot products); buf holds n floats */
    void (*merge_combined)(const fe_topk_args *a, const float *Sa, const float *Sb, const float *Sc,
                           float qs, int64_t n, int64_t r0, int64_t q, float *hs, int64_t *hi,
                           float *buf);

    /* ---- pooling (impl/pool.h, fe_pool.h): bags [b0, b1) into out (and arg for max); -1, the first
     * bad position, or FE_BAG_NOMEM */
    int64_t (*bag_range)(const fe_bag_args *a, int64_t b0, int64_t b1, float *out, int64_t *arg);
    /* sum / mean backward: rows[u] for unique ids [u0, u1), summed in position order */
    void (*bag_backward_rows)(const int64_t *order, const int64_t *starts, int64_t u0, int64_t u1,
                              const int64_t *bounds, int64_t B, int64_t T, const float *g, const float *psw,
                              int64_t D, float *rows);
    /* max backward for columns [j0, j1) */
    void (*bag_max_backward_cols)(const int64_t *slot, const float *g, int64_t B, int64_t D, int64_t j0,
                                  int64_t j1, float *rows);

    /* ---- learning (impl/w2v.h, impl/glove.h, impl/segment.h) */
    /* one skip-gram sentence; returns the words kept; counts non-finite dot products in *nonfinite */
    int64_t (*w2v_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n, float alpha,
                            uint64_t seed, int32_t *buf, float *neu1e, double *loss, int64_t *nonfinite);
    /* one CBOW sentence (mean or sum of the context); neu1 and neu1e hold D floats each */
    int64_t (*w2v_cbow_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n, float alpha,
                                 uint64_t seed, int cbow_mean, int32_t *buf, float *neu1, float *neu1e,
                                 double *loss, int64_t *nonfinite);
    /* ---- fastText (impl/fasttext.h): mean vectors of words [w0, w1) (0, or -1: no memory), and one
     * skip-gram / CBOW sentence with character n-grams (word2vec's random stream and negative step) */
    int (*ft_mean_range)(const fe_ft_args *a, int64_t w0, int64_t w1, float *out);
    int64_t (*ft_sg_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha, uint64_t seed,
                              int32_t *buf, float *hidden, float *neu1e, float *grad, double *loss,
                              int64_t *nonfinite);
    int64_t (*ft_cbow_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha, uint64_t seed,
                                int32_t *buf, float *hidden, float *neu1e, double *loss, int64_t *nonfinite);
    /* GloVe's AdaGrad pass over records [r0, r1) in order (impl/glove.h); returns the summed cost,
     * counts the pairs with a non-finite error in *skipped */
    double (*glove_train)(const fe_glove_model *m, const fe_glove_rec *rec, int64_t r0, int64_t r1,
                          int64_t *skipped);
    /* out[u] = sum of grad[order[j]] (times scale[u]) over j in [starts[u], starts[u+1]), in j order */
    void (*segment_sum)(const float *grad, const int64_t *order, const int64_t *starts, int64_t u0,
                        int64_t u1, int64_t D, const float *scale, float *out);

    /* ---- the exact int8 search index (impl/int8.h, fe_int8.h) */
    /* rows [r0, r1) -> blocked int8 codes, their sums, scale[r] and st[3 r .. 3 r + 2] =
     * (error^2, code^2, row^2) sums */
    void (*i8_quantize)(const float *table, fe_intp D, fe_intp r0, fe_intp r1, int8_t *codes,
                        int32_t *rowsum, float *scale, double *st);
    /* bounded scan of rows [r0, r1) for nq queries into their states; -1 if an allocation failed */
    int (*i8_scan)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                   fe_i8_state *st);
    /* exact scores of s's candidates with upper bound >= thr into query q's heap; returns the count */
    int64_t (*i8_rescore)(const fe_topk_args *a, const float *qv, int64_t q, const fe_i8_state *s,
                          float thr, float *hs, int64_t *hi);
    /* which integer kernel i8_scan runs on this CPU */
    const char *(*i8_kernel)(void);
    /* the half index: its rows (impl/int8.h fe_hx_build) and bounded scan (float16 / bfloat16
     * rows in a->codes; i8_scan's contract) */
    void (*hx_build)(const float *T, int64_t D, int64_t r0, int64_t r1, int bf, uint16_t *h, int32_t *shift,
                     double *st);
    int (*hx_scan_f16)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                       fe_i8_state *st);
    int (*hx_scan_bf16)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                        fe_i8_state *st);
    /* ---- the fused embedding + LayerNorm (impl/layernorm.h) over rows [lo, hi) of a->out:
     * x = (src * scale + pos) (+ types), dst = ((x - mean) * rstd) * gamma + beta with 64-lane
     * float32 statistics; tmp holds D floats. -1, or the first row whose id is out of range */
    fe_intp (*embed_ln_range)(const fe_ln_args *a, fe_intp lo, fe_intp hi, float *tmp);
} fe_ops;

#endif /* FE_OPS_H */
