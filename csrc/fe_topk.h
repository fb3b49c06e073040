/* fastembed: top-k over a (V, D) float32 table: the arguments, the heap offer and heap merges.
 *
 * Score of row r for query q: dot(q, row_r), times inv_norm[r] for cosine (queries arrive
 * normalised). Every path computes a (q, r) score with the same fixed-order dot product (fe_dot.h),
 * so the answer does not depend on the SIMD level, the number of threads or how rows are split
 * into blocks. The scans and merges themselves are compiled per SIMD level (impl/topk.h).
 */
#ifndef FE_TOPK_H
#define FE_TOPK_H

#include "fe_common.h"
#include "fe_heap.h"

typedef struct {
    const float *table;        /* (V, D) float32 rows (the index's re-scoring), or NULL */
    const void *rows;          /* (V, D) rows of the table's storage kind (csrc/fe_kinds.h) */
    const float *scales;       /* (V,) row scales of a scaled kind, or NULL */
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

/* 1 if some row of [r, r + n) is a candidate (no mask: all are). */
static inline int fe_block_has_candidate(const fe_topk_args *a, int64_t r, fe_intp n)
{
    if (a->mask == NULL)
        return 1;
    for (fe_intp u = 0; u < n; u++)
        if (a->mask[r + u])
            return 1;
    return 0;
}

/* Fold heap (s2, i2) into heap (s1, i1), both of size k. */
static inline void fe_merge_heaps(float *s1, int64_t *i1, const float *s2, const int64_t *i2, int64_t k)
{
    for (int64_t j = 0; j < k; j++)
        if (fe_worse(s1[0], i1[0], s2[j], i2[j]))
            fe_heap_replace_root(s1, i1, k, s2[j], i2[j]);
}

#endif /* FE_TOPK_H */
