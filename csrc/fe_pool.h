/* fastembed: pooling kernels -- bags of ids to one vector (EmbeddingBag) and their gradients.
 *
 * Plain C11: no Python.h, no numpy headers; pointers and 64-bit sizes only.
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

#if defined(FE_TARGET_CLONES) && defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* Runtime dispatch to the widest clone the CPU has; the arithmetic is elementwise, so all clones
 * return the same bits. */
#define FE_POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FE_POOL_CLONES
#endif

#if defined(__GNUC__)
/* The loops below must be compiled inside each SIMD clone of their caller, not once for the
 * baseline ISA. */
#define FE_POOL_INLINE static inline __attribute__((always_inline))
#else
#define FE_POOL_INLINE static inline
#endif

enum { FE_BAG_SUM = 0, FE_BAG_MEAN = 1, FE_BAG_MAX = 2 };

/* Rows accumulated per pass over the accumulator. The rows of a bag are scattered over the table;
 * reading 8 of them side by side keeps 8 memory streams in flight and loads/stores the accumulator
 * once per 8 rows (measured on a 50257 x 768 table, (64, 512) bags, one thread: 6.1 ms one row at
 * a time, 2.9 ms four at a time, 2.5 ms eight; software prefetching gained nothing). The order of
 * the additions for each element is unchanged: ((acc + r0) + r1) + ... */
#define FE_POOL_K 8

typedef struct {
    const float *table;     /* (V, D), row-major */
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
FE_POOL_INLINE uint64_t fe_pool_id(const void *ids, int code, int64_t i)
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

/* ---------------------------------------------------------------- row loops (elementwise) */

/* Each loop runs over columns [lo, hi). Callers split a row at fe_pool_head: numpy places large
 * arrays 16 bytes past a cache line, so without the split every 64-byte load of a row straddles
 * two lines (measured: Zipf ids, rows mostly in cache, 2.3 ms -> 1.6 ms on one thread). All rows
 * of one table share their offset from a line when D * 4 is a multiple of 64, so one head aligns
 * the loads of the 8 rows of a group. The split changes no arithmetic: every element is computed
 * on its own. */

/* Columns before r + head lies on a 64-byte boundary (at most 15, at most d). */
FE_POOL_INLINE int64_t fe_pool_head(const float *r, int64_t d)
{
    int64_t h = (int64_t)((64u - ((uintptr_t)r & 63u)) & 63u) / 4;
    return h < d ? h : d;
}

FE_POOL_INLINE void fe_pool_add_span(float *restrict acc, const float *restrict row, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = acc[j] + row[j];
}

FE_POOL_INLINE void fe_pool_add_scaled_span(float *restrict acc, float w, const float *restrict row,
                                            int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = acc[j] + w * row[j];
}

#define FE_POOL_ROWS8 \
    const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2], *restrict r3 = r[3]; \
    const float *restrict r4 = r[4], *restrict r5 = r[5], *restrict r6 = r[6], *restrict r7 = r[7];

FE_POOL_INLINE void fe_pool_add8_span(float *restrict acc, const float *const *r, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float s = acc[j];
        s = s + r0[j]; s = s + r1[j]; s = s + r2[j]; s = s + r3[j];
        s = s + r4[j]; s = s + r5[j]; s = s + r6[j]; s = s + r7[j];
        acc[j] = s;
    }
}

FE_POOL_INLINE void fe_pool_add8_scaled_span(float *restrict acc, const float *const *r, const float *w,
                                             int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7];
    for (int64_t j = lo; j < hi; j++) {
        float s = acc[j];
        s = s + w0 * r0[j]; s = s + w1 * r1[j]; s = s + w2 * r2[j]; s = s + w3 * r3[j];
        s = s + w4 * r4[j]; s = s + w5 * r5[j]; s = s + w6 * r6[j]; s = s + w7 * r7[j];
        acc[j] = s;
    }
}

FE_POOL_INLINE void fe_pool_max_span(float *restrict acc, const float *restrict row, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = row[j] > acc[j] ? row[j] : acc[j];
}

FE_POOL_INLINE void fe_pool_max_arg_span(float *restrict acc, int64_t *restrict arg, const float *restrict row,
                                         int64_t id, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++) {
        int gt = row[j] > acc[j];
        acc[j] = gt ? row[j] : acc[j];
        arg[j] = gt ? id : arg[j];
    }
}

#define FE_POOL_MAX_STEP(k) { float x = r##k[j]; int gt = x > m; m = gt ? x : m; }
#define FE_POOL_MAXARG_STEP(k) { float x = r##k[j]; int gt = x > m; m = gt ? x : m; g = gt ? id[k] : g; }

FE_POOL_INLINE void fe_pool_max8_span(float *restrict acc, const float *const *r, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float m = acc[j];
        FE_POOL_MAX_STEP(0) FE_POOL_MAX_STEP(1) FE_POOL_MAX_STEP(2) FE_POOL_MAX_STEP(3)
        FE_POOL_MAX_STEP(4) FE_POOL_MAX_STEP(5) FE_POOL_MAX_STEP(6) FE_POOL_MAX_STEP(7)
        acc[j] = m;
    }
}

FE_POOL_INLINE void fe_pool_max8_arg_span(float *restrict acc, int64_t *restrict arg, const float *const *r,
                                          const int64_t *id, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float m = acc[j];
        int64_t g = arg[j];
        FE_POOL_MAXARG_STEP(0) FE_POOL_MAXARG_STEP(1) FE_POOL_MAXARG_STEP(2) FE_POOL_MAXARG_STEP(3)
        FE_POOL_MAXARG_STEP(4) FE_POOL_MAXARG_STEP(5) FE_POOL_MAXARG_STEP(6) FE_POOL_MAXARG_STEP(7)
        acc[j] = m;
        arg[j] = g;
    }
}

/* One row or a group of 8 into the accumulator: the head columns, then the aligned rest. */
FE_POOL_INLINE void fe_pool_add(float *restrict acc, const float *restrict row, int64_t d)
{
    int64_t h = fe_pool_head(row, d);
    fe_pool_add_span(acc, row, 0, h);
    fe_pool_add_span(acc, row, h, d);
}

FE_POOL_INLINE void fe_pool_add_scaled(float *restrict acc, float w, const float *restrict row, int64_t d)
{
    int64_t h = fe_pool_head(row, d);
    fe_pool_add_scaled_span(acc, w, row, 0, h);
    fe_pool_add_scaled_span(acc, w, row, h, d);
}

FE_POOL_INLINE void fe_pool_add8(float *restrict acc, const float *const *r, int64_t d)
{
    int64_t h = fe_pool_head(r[0], d);
    fe_pool_add8_span(acc, r, 0, h);
    fe_pool_add8_span(acc, r, h, d);
}

FE_POOL_INLINE void fe_pool_add8_scaled(float *restrict acc, const float *const *r, const float *w, int64_t d)
{
    int64_t h = fe_pool_head(r[0], d);
    fe_pool_add8_scaled_span(acc, r, w, 0, h);
    fe_pool_add8_scaled_span(acc, r, w, h, d);
}

FE_POOL_INLINE void fe_pool_max(float *restrict acc, const float *restrict row, int64_t d)
{
    int64_t h = fe_pool_head(row, d);
    fe_pool_max_span(acc, row, 0, h);
    fe_pool_max_span(acc, row, h, d);
}

FE_POOL_INLINE void fe_pool_max_arg(float *restrict acc, int64_t *restrict arg, const float *restrict row,
                                    int64_t id, int64_t d)
{
    int64_t h = fe_pool_head(row, d);
    fe_pool_max_arg_span(acc, arg, row, id, 0, h);
    fe_pool_max_arg_span(acc, arg, row, id, h, d);
}

FE_POOL_INLINE void fe_pool_max8(float *restrict acc, const float *const *r, int64_t d)
{
    int64_t h = fe_pool_head(r[0], d);
    fe_pool_max8_span(acc, r, 0, h);
    fe_pool_max8_span(acc, r, h, d);
}

FE_POOL_INLINE void fe_pool_max8_arg(float *restrict acc, int64_t *restrict arg, const float *const *r,
                                     const int64_t *id, int64_t d)
{
    int64_t h = fe_pool_head(r[0], d);
    fe_pool_max8_arg_span(acc, arg, r, id, 0, h);
    fe_pool_max8_arg_span(acc, arg, r, id, h, d);
}

/* Fold k (<= FE_POOL_K) gathered rows into the bag's accumulator, in order. For max, `first`
 * says the accumulator holds nothing yet: the first row is copied (torch's kernel does the same). */
FE_POOL_INLINE void fe_pool_flush(int mode, float *restrict out, int64_t *restrict arg, const float **rows,
                                  const float *w, const int64_t *id, int k, int first, int64_t d)
{
    if (mode == FE_BAG_MAX) {
        int i = 0;
        if (first) {
            memcpy(out, rows[0], (size_t)d * sizeof(float));
            if (arg)
                for (int64_t j = 0; j < d; j++)
                    arg[j] = id[0];
            i = 1;
        }
        if (i == 0 && k == FE_POOL_K) {
            if (arg)
                fe_pool_max8_arg(out, arg, rows, id, d);
            else
                fe_pool_max8(out, rows, d);
            return;
        }
        for (; i < k; i++) {
            if (arg)
                fe_pool_max_arg(out, arg, rows[i], id[i], d);
            else
                fe_pool_max(out, rows[i], d);
        }
        return;
    }
    if (k == FE_POOL_K) {
        if (w)
            fe_pool_add8_scaled(out, rows, w, d);
        else
            fe_pool_add8(out, rows, d);
        return;
    }
    for (int i = 0; i < k; i++) {
        if (w)
            fe_pool_add_scaled(out, w[i], rows[i], d);
        else
            fe_pool_add(out, rows[i], d);
    }
}

/* One bag: positions [lo, hi) into out (D floats) and, for max with arg != NULL, arg (D int64).
 * Returns -1, or the first position whose id is outside [0, V) (out is then unspecified): ids are
 * checked in position order before their rows are used. */
FE_POOL_INLINE int64_t fe_bag_one(const fe_bag_args *a, int64_t lo, int64_t hi, float *restrict out,
                                  int64_t *restrict arg)
{
    const int64_t D = a->D, V = a->V;
    const uint64_t pad = (uint64_t)a->padding;  /* -1 (none) never equals a valid id */
    const int code = a->id_code, mode = a->mode;
    const float *rows[FE_POOL_K];
    float w[FE_POOL_K];
    int64_t id[FE_POOL_K];
    int k = 0;
    int64_t n = 0;
    if (mode != FE_BAG_MAX)
        memset(out, 0, (size_t)D * sizeof(float));  /* acc starts at +0.0f, as the reference */
    for (int64_t p = lo; p < hi; p++) {
        uint64_t u = fe_pool_id(a->ids, code, p);
        if (u >= (uint64_t)V)
            return p;
        if (u == pad)
            continue;
        rows[k] = a->table + (int64_t)u * D;
        w[k] = a->psw ? a->psw[p] : 1.0f;
        id[k] = (int64_t)u;
        if (++k == FE_POOL_K) {
            fe_pool_flush(mode, out, arg, rows, a->psw ? w : NULL, id, k, n == 0, D);
            n += k;
            k = 0;
        }
    }
    if (k) {
        fe_pool_flush(mode, out, arg, rows, a->psw ? w : NULL, id, k, n == 0, D);
        n += k;
    }
    if (n == 0) {  /* empty bag, or only padding: zeros (and arg-max -1) */
        memset(out, 0, (size_t)D * sizeof(float));
        if (arg)
            for (int64_t j = 0; j < D; j++)
                arg[j] = -1;
    } else if (mode == FE_BAG_MEAN) {
        const float c = (float)n;
        for (int64_t j = 0; j < D; j++)
            out[j] = out[j] / c;
    }
    return -1;
}

/* Bags [b0, b1) into out rows b0.. (B x D) and arg rows (B x D int64, max mode, or NULL).
 * Returns -1 or the first bad position (bags after it are not written). */
FE_POOL_CLONES static int64_t fe_bag_range(const fe_bag_args *a, int64_t b0, int64_t b1, float *out,
                                           int64_t *arg)
{
    const int64_t D = a->D;
    for (int64_t b = b0; b < b1; b++) {
        int64_t lo = a->bounds ? a->bounds[b] : b * a->T;
        int64_t hi = a->bounds ? a->bounds[b + 1] : (b + 1) * a->T;
        int64_t bad = fe_bag_one(a, lo, hi, out + b * D, arg ? arg + b * D : NULL);
        if (bad >= 0)
            return bad;
    }
    return -1;
}

/* The bag holding position p: the last b with bounds[b] <= p (empty bags before it share its
 * start and are skipped), or p / T for fixed bags. Assumes 0 <= p < N = bounds[B]. */
FE_POOL_INLINE int64_t fe_pool_bag_of(const int64_t *bounds, int64_t B, int64_t T, int64_t p)
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

/* Backward of sum / mean: rows[u] for u in [u0, u1), where unique id u occurs at the positions
 * order[starts[u]] .. order[starts[u+1] - 1] (ascending positions):
 *     rows[u] = +0 + c(p0) + c(p1) + ...,   c(p) = g[bag(p)]  or  psw[p] * g[bag(p)]
 * g is the (B, D) output gradient, already divided by the bag's count for the mean. Summed in
 * position order: bit-identical to np.add.at on a dense buffer. */
FE_POOL_CLONES static void fe_bag_backward_rows(const int64_t *order, const int64_t *starts, int64_t u0,
                                                int64_t u1, const int64_t *bounds, int64_t B, int64_t T,
                                                const float *g, const float *psw, int64_t D, float *rows)
{
    const float *r[FE_POOL_K];
    float w[FE_POOL_K];
    for (int64_t u = u0; u < u1; u++) {
        float *restrict acc = rows + u * D;
        int k = 0;
        memset(acc, 0, (size_t)D * sizeof(float));
        for (int64_t q = starts[u]; q < starts[u + 1]; q++) {
            int64_t p = order[q];
            r[k] = g + fe_pool_bag_of(bounds, B, T, p) * D;
            w[k] = psw ? psw[p] : 1.0f;
            if (++k == FE_POOL_K) {
                fe_pool_flush(FE_BAG_SUM, acc, NULL, r, psw ? w : NULL, NULL, k, 0, D);
                k = 0;
            }
        }
        if (k)
            fe_pool_flush(FE_BAG_SUM, acc, NULL, r, psw ? w : NULL, NULL, k, 0, D);
    }
}

/* Backward of max for columns [j0, j1): rows (U x D, zeroed by the caller) receive
 * rows[slot[b, j], j] += g[b, j] for bags b in order; slot -1 (empty bag) is skipped. A column
 * belongs to one thread, so the per-element order is the bag order whatever the team. */
FE_POOL_CLONES static void fe_bag_max_backward_cols(const int64_t *slot, const float *g, int64_t B, int64_t D,
                                                    int64_t j0, int64_t j1, float *rows)
{
    for (int64_t b = 0; b < B; b++) {
        const int64_t *s = slot + b * D;
        const float *gb = g + b * D;
        for (int64_t j = j0; j < j1; j++) {
            int64_t u = s[j];
            if (u >= 0)
                rows[u * D + j] = rows[u * D + j] + gb[j];
        }
    }
}

#endif /* FE_POOL_H */
