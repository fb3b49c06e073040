/* fastembed: top-k scans over a (V, D) float32 table.
 *
 * Score of row r for query q: dot(q, row_r), times inv_norm[r] for cosine (queries arrive
 * normalised). Every path computes a (q, r) score with the same fixed-order dot product, so the
 * answer does not depend on the number of threads or on how rows are split into blocks.
 */
#ifndef FE_TOPK_H
#define FE_TOPK_H

#include "fe_common.h"
#include "fe_heap.h"

typedef struct {
    const float *table;        /* (V, D) */
    int64_t D;
    const float *inv;          /* (V,) inverse row norms, or NULL for the dot metric */
    const uint8_t *mask;       /* (V,) 1 = candidate, or NULL for every row */
    const int64_t *excl_ptr;   /* CSR per query (Q + 1 offsets), or NULL */
    const int64_t *excl;       /* sorted ids to skip for each query */
    int64_t k;
} fe_topk_args;

static inline int fe_is_excluded(const fe_topk_args *a, int64_t q, int64_t id)
{
    if (a->excl_ptr == NULL)
        return 0;
    int64_t lo = a->excl_ptr[q], hi = a->excl_ptr[q + 1], end = hi;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a->excl[mid] < id) lo = mid + 1; else hi = mid;
    }
    return lo < end && a->excl[lo] == id;
}

/* Offer (s, id) to query q's heap: one compare against the root rejects most candidates; the
 * mask and exclusion checks run only for the few that would enter. */
static inline void fe_offer(const fe_topk_args *a, float *hs, int64_t *hi, int64_t q, float s, int64_t id)
{
    if (!fe_worse(hs[0], hi[0], s, id))
        return;
    if (a->mask != NULL && !a->mask[id])
        return;
    if (fe_is_excluded(a, q, id))
        return;
    fe_heap_replace_root(hs, hi, a->k, s, id);
}

/* Merge n precomputed dot products of query q with rows r0 .. r0+n-1 (a row of a GEMM block) into
 * q's heap. Sixteen scores at a time are first compared, as a block maximum, with the heap root. */
static inline void fe_merge_scores_at(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                                      int64_t q, float *hs, int64_t *hi)
{
    const float *inv = a->inv ? a->inv + r0 : NULL;
    float v[16];
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float mx[16];
        for (int l = 0; l < 16; l++) {
            v[l] = inv ? dots[i + l] * inv[i + l] : dots[i + l];
            mx[l] = v[l];
        }
        for (int w = 8; w >= 1; w >>= 1)
            for (int l = 0; l < w; l++)
                mx[l] = mx[l + w] > mx[l] ? mx[l + w] : mx[l];
        if (mx[0] < hs[0])
            continue;  /* strictly below the k-th best: nothing here can enter */
        for (int l = 0; l < 16; l++)
            fe_offer(a, hs, hi, q, v[l], r0 + i + l);
    }
    for (; i < n; i++)
        fe_offer(a, hs, hi, q, inv ? dots[i] * inv[i] : dots[i], r0 + i);
}

FE_CLONES static void fe_merge_scores(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                                      int64_t q, float *hs, int64_t *hi)
{
    fe_merge_scores_at(a, dots, n, r0, q, hs, hi);
}

/* Scan rows [r0, r1) for queries q0 .. q0+nq-1 (rows of `queries`, D wide) into heaps hs/hi
 * (nq heaps of k). Four queries share each load of a row; with fewer than four queries, four rows
 * share each load of a query. Either way a (q, r) score is fe_dot(q, row r): the same bits. */
FE_CLONES static void fe_scan_rows(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                                   int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D, k = a->k;
    const float *T = a->table;
    float sc[4];
    int64_t r = r0;
    if (nq < 4) {
        for (; r + 4 <= r1; r += 4) {
            for (int64_t j = 0; j < nq; j++) {
                fe_dot4(queries + j * D, T + r * D, T + (r + 1) * D, T + (r + 2) * D, T + (r + 3) * D, D, sc);
                fe_merge_scores_at(a, sc, 4, r, q0 + j, hs + j * k, hi + j * k);  /* applies inv */
            }
        }
    }
    for (; r < r1; r++) {
        if (a->mask != NULL && !a->mask[r])
            continue;
        const float *x = T + r * D;
        int64_t j = 0;
        for (; j + 4 <= nq; j += 4) {
            const float *q = queries + j * D;
            fe_dot4(x, q, q + D, q + 2 * D, q + 3 * D, D, sc);
            for (int u = 0; u < 4; u++) {
                float s = a->inv ? sc[u] * a->inv[r] : sc[u];
                fe_offer(a, hs + (j + u) * k, hi + (j + u) * k, q0 + j + u, s, r);
            }
        }
        for (; j < nq; j++) {
            float d = fe_dot(x, queries + j * D, D);
            float s = a->inv ? d * a->inv[r] : d;
            fe_offer(a, hs + j * k, hi + j * k, q0 + j, s, r);
        }
    }
}

/* Analogy scores from per-word dot products: for query q, row r0 + l scores
 * ((Sb[l] - Sa[l]) + Sc[l]) * qs (times inv[r0 + l] for cosine): dot(b - a + c, row) / ||b - a + c||
 * computed from the rows' dot products with the distinct words a, b, c. Fused with the merge. */
FE_CLONES static void fe_merge_combined(const fe_topk_args *a, const float *restrict Sa,
                                        const float *restrict Sb, const float *restrict Sc, float qs,
                                        int64_t n, int64_t r0, int64_t q, float *hs, int64_t *hi,
                                        float *restrict buf)
{
    /* combine into an L1-resident buffer with a plain vectorisable loop, then one merge pass */
    for (int64_t l = 0; l < n; l++)
        buf[l] = ((Sb[l] - Sa[l]) + Sc[l]) * qs;
    fe_merge_scores_at(a, buf, n, r0, q, hs, hi);
}

/* Fold heap (s2, i2) into heap (s1, i1), both of size k. */
static inline void fe_merge_heaps(float *s1, int64_t *i1, const float *s2, const int64_t *i2, int64_t k)
{
    for (int64_t j = 0; j < k; j++)
        if (fe_worse(s1[0], i1[0], s2[j], i2[j]))
            fe_heap_replace_root(s1, i1, k, s2[j], i2[j]);
}

/* out[r] = 1 / ||row r|| in float32 (0 for a zero row); with want_norm, ||row r|| itself. */
static inline void fe_row_norms(const float *table, int64_t D, int64_t r0, int64_t r1, float *out, int want_norm)
{
    for (int64_t r = r0; r < r1; r++) {
        double ss = fe_sumsq_f64(table + r * D, D);
        if (want_norm)
            out[r] = (float)sqrt(ss);
        else
            out[r] = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    }
}

#endif /* FE_TOPK_H */
