/* fastembed: pooling kernels -- bags of ids to one vector (EmbeddingBag) and their gradients.
 *
 * Plain C11: no Python.h, no numpy headers; pointers and 64-bit sizes only. This header holds what
 * does not depend on the SIMD level (the arguments, the id decoding, the bag search); the loops are
 * compiled once per level in csrc/impl/pool.h and reached through fe_ops (csrc/fe_ops.h), so
 * FASTEMBED_SIMD and the per-level tests reach them like every other kernel.
 *
 * Summation order is fixed: output element j of a bag is
 *     acc = +0.0f;  for each row r of the bag, in bag order:  acc = acc + table[r, j]
 * (acc + w_p * table[r, j] with per-sample weights)
 * with every product and sum rounded to float32 (the build uses -ffp-contract=off, so no fused
 * multiply-add). Each element is its own chain of additions, so a SIMD clone of any width computes
 * exactly the same bits as the scalar loop and as the numpy reference. The mean divides the sum by
 * (float)count once at the end.
 *
 * Max follows torch's CPU kernel: the first non-padding row of the bag is copied, then an element
 * is replaced only when a later row is strictly greater (ties keep the earlier row; a NaN never
 * replaces a number). The arg-max row id of every element is recorded for the backward.
 */
#ifndef FE_POOL_H
#define FE_POOL_H

#include <stdint.h>
#include <string.h>

#include "fe_common.h"


enum { FE_BAG_SUM = 0, FE_BAG_MEAN = 1, FE_BAG_MAX = 2 };
#define FE_BAG_NOMEM (-2)  /* fe_bag_range: no memory for the scratch rows of another storage kind */

/* Rows accumulated per pass over the accumulator. The rows of a bag are scattered over the table;
 * reading 8 of them side by side keeps 8 memory streams in flight and loads/stores the accumulator
 * once per 8 rows (measured on a 50257 x 768 table, (64, 512) bags, one thread: 6.1 ms one row at
 * a time, 2.9 ms four at a time, 2.5 ms eight; software prefetching gained nothing). The order of
 * the additions for each element is unchanged: ((acc + r0) + r1) + ... */
#define FE_POOL_K 8

typedef struct {
    const void *rows;       /* (V, D) rows of a storage kind (csrc/fe_kinds.h), row-major */
    const float *scales;    /* (V,) row scales of a scaled kind, or NULL */
    /* the kind's row conversion to float32 (ops->kind[k].copy_row), NULL for float32 rows: other
     * kinds are converted into a scratch group of rows first, then the float32 loops run */
    void (*cvt)(float *dst, const void *src, float s, fe_intp d, int stream);
    int64_t row_bytes;      /* bytes of one stored row */
    int64_t V, D;
    const void *ids;        /* N ids; element type given by id_code */
    int id_code;            /* 0..3: int8/16/32/64, 4..7: uint8/16/32/64 */
    const int64_t *bounds;  /* B + 1 bag bounds (bag b is positions [bounds[b], bounds[b+1])),
                               or NULL for fixed bags of T ids: bag b is [b*T, (b+1)*T) */
    int64_t T;
    const float *psw;       /* N per-sample weights, or NULL */
    int64_t padding;        /* row skipped (not counted in the mean), or -1 */
    int mode;               /* FE_BAG_SUM / FE_BAG_MEAN / FE_BAG_MAX */
} fe_bag_args;

/* The id at position i as uint64: negative signed ids sign-extend to huge values, so one unsigned
 * compare against V rejects both -1 and V. The switch is predicted perfectly (one type per call)
 * and costs nothing next to the row it selects. */
static inline uint64_t fe_pool_id(const void *ids, int code, int64_t i)
{
    switch (code) {
    case 0: return (uint64_t)(int64_t)((const int8_t *)ids)[i];
    case 1: return (uint64_t)(int64_t)((const int16_t *)ids)[i];
    case 2: return (uint64_t)(int64_t)((const int32_t *)ids)[i];
    case 3: return (uint64_t)((const int64_t *)ids)[i];
    case 4: return (uint64_t)((const uint8_t *)ids)[i];
    case 5: return (uint64_t)((const uint16_t *)ids)[i];
    case 6: return (uint64_t)((const uint32_t *)ids)[i];
    default: return ((const uint64_t *)ids)[i];
    }
}

/* The bag holding position p: the last b with bounds[b] <= p (empty bags before it share its
 * start and are skipped), or p / T for fixed bags. Assumes 0 <= p < N = bounds[B]. */
static inline int64_t fe_pool_bag_of(const int64_t *bounds, int64_t B, int64_t T, int64_t p)
{
    if (!bounds)
        return p / T;
    int64_t lo = 0, hi = B;  /* bounds[lo] <= p < bounds[hi] */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (bounds[mid] <= p)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

#endif /* FE_POOL_H */
