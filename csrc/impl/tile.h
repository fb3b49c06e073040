/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * THE TILED DOT PRODUCTS: many queries against many rows without BLAS.
 *
 * fe_tile computes the R x C dot products of R rows with C queries, each one in exactly the order
 * of impl/dot.h (16 float32 lanes, element i added to lane i % 16 in increasing i, the fixed
 * reduction tree): so every (query, row) score equals fe_dot's bits, whichever tile, block, thread
 * or SIMD level computes it, and a batch of queries gets the scores each query gets alone. The R x C
 * accumulators stay in registers (FV_TILE_R x FV_TILE_C of them, 16 / FV_W vectors each) while the
 * tile's rows and queries stream through: every row chunk loaded once serves C queries, every query
 * chunk R rows. The reductions run FV_ROWS pairs at a time through fv_reduce16_rows.
 *
 * fe_dots_block walks a block of rows and a group of queries tile by tile (query tile outer, so its
 * C queries stay in L1 while the block's rows, resident in L2, pass under them); fe_scan_tiled is
 * the top-k scan of several queries built on it (the storage kinds' scans, impl/kind.h, call it): row blocks sized for L2, query groups sized so the
 * group and one block fit together, each block's scores merged into the heaps (impl/topk.h).
 *
 * Why not BLAS: a BLAS call's rounding depends on its tile shapes and thread count (the answers of
 * the old GEMM path moved with both), and capping BLAS threads is a process-wide setting that
 * concurrent calls restore over each other. This kernel needs neither.
 */

#define FE_NV (16 / FV_W)

/* out[c * os + r] = dot(x + r * xs, q + c * qs) for r < R, c < C, d values each; R <= FV_TILE_R,
 * C <= FV_TILE_C are constants at every call site (fe_tile_rc), so the accumulator array is
 * resolved into registers. */
FE_ALWAYS_INLINE void FE_FN(fe_tile)(const float *x, fe_intp xs, const float *q, fe_intp qs, fe_intp d,
                                     float *out, fe_intp os, const int R, const int C)
{
    FV acc[FV_TILE_R * FV_TILE_C * FE_NV];
    for (int t = 0; t < R * C * FE_NV; t++)
        acc[t] = FV_ZERO();
    const fe_intp full = d & ~(fe_intp)15;
    for (fe_intp i = 0; i < full; i += 16)
        for (int j = 0; j < FE_NV; j++) {
            FV qv[FV_TILE_C];
            for (int c = 0; c < C; c++) {
                qv[c] = FV_LOADU(q + c * qs + i + j * FV_W);
                FV_PIN(qv[c]);
            }
            for (int r = 0; r < R; r++) {
                FV xv = FV_LOADU(x + r * xs + i + j * FV_W);
                FV_PIN(xv);
                for (int c = 0; c < C; c++)
                    acc[(r * C + c) * FE_NV + j] = FV_ADD(acc[(r * C + c) * FE_NV + j], FV_MUL(xv, qv[c]));
            }
        }
    if (full < d) {  /* the partial chunk: lanes past d read as +0.0 on both sides (fe_mac16_part) */
        const int n = (int)(d - full);
        for (int j = 0; j < FE_NV; j++) {
            FV qv[FV_TILE_C];
            for (int c = 0; c < C; c++)
                qv[c] = FV_LOAD_UPTO(q + c * qs + full + j * FV_W, n - j * FV_W);
            for (int r = 0; r < R; r++) {
                FV xv = FV_LOAD_UPTO(x + r * xs + full + j * FV_W, n - j * FV_W);
                for (int c = 0; c < C; c++)
                    acc[(r * C + c) * FE_NV + j] = FV_ADD(acc[(r * C + c) * FE_NV + j], FV_MUL(xv, qv[c]));
            }
        }
    }
    /* reductions: FV_ROWS pairs at a time (the transposed tree), the rest one by one */
    float red[FV_TILE_R * FV_TILE_C];
    int p = 0;
    for (; p + FV_ROWS <= R * C; p += FV_ROWS)
        FE_FN(fv_reduce16_rows)(acc + p * FE_NV, red + p);
    for (; p < R * C; p++)
        red[p] = FE_FN(fv_reduce16)(acc + p * FE_NV);
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            out[c * os + r] = red[r * C + c];
}

/* fe_tile with run-time R, C (1 <= R <= FV_TILE_R, 1 <= C <= FV_TILE_C): one specialised copy per
 * shape, so edge tiles run the same register kernel. */
static void FE_FN(fe_tile_rc)(const float *x, fe_intp xs, const float *q, fe_intp qs, fe_intp d, float *out,
                              fe_intp os, int R, int C)
{
#define FE_TILE_CASE(r, c) \
    case (r) * 8 + (c): FE_FN(fe_tile)(x, xs, q, qs, d, out, os, (r), (c)); return;
    switch (R * 8 + C) {
        FE_TILE_CASE(1, 1)
#if FV_TILE_C >= 2
        FE_TILE_CASE(1, 2)
#endif
#if FV_TILE_C >= 3
        FE_TILE_CASE(1, 3)
#endif
#if FV_TILE_C >= 4
        FE_TILE_CASE(1, 4)
#endif
#if FV_TILE_C >= 5
        FE_TILE_CASE(1, 5)
#endif
#if FV_TILE_C >= 6
        FE_TILE_CASE(1, 6)
#endif
#if FV_TILE_R >= 2
        FE_TILE_CASE(2, 1)
#if FV_TILE_C >= 2
        FE_TILE_CASE(2, 2)
#endif
#if FV_TILE_C >= 3
        FE_TILE_CASE(2, 3)
#endif
#if FV_TILE_C >= 4
        FE_TILE_CASE(2, 4)
#endif
#if FV_TILE_C >= 5
        FE_TILE_CASE(2, 5)
#endif
#if FV_TILE_C >= 6
        FE_TILE_CASE(2, 6)
#endif
#endif
#if FV_TILE_R >= 3
        FE_TILE_CASE(3, 1)
#if FV_TILE_C >= 2
        FE_TILE_CASE(3, 2)
#endif
#if FV_TILE_C >= 3
        FE_TILE_CASE(3, 3)
#endif
#if FV_TILE_C >= 4
        FE_TILE_CASE(3, 4)
#endif
#if FV_TILE_C >= 5
        FE_TILE_CASE(3, 5)
#endif
#if FV_TILE_C >= 6
        FE_TILE_CASE(3, 6)
#endif
#endif
#if FV_TILE_R >= 4
        FE_TILE_CASE(4, 1)
#if FV_TILE_C >= 2
        FE_TILE_CASE(4, 2)
#endif
#if FV_TILE_C >= 3
        FE_TILE_CASE(4, 3)
#endif
#if FV_TILE_C >= 4
        FE_TILE_CASE(4, 4)
#endif
#if FV_TILE_C >= 5
        FE_TILE_CASE(4, 5)
#endif
#if FV_TILE_C >= 6
        FE_TILE_CASE(4, 6)
#endif
#endif
    default:  /* not reached: every (R, C) within the level's tile has its case */
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++)
                out[c * os + r] = FE_FN(fe_dot)(x + r * xs, q + c * qs, d);
    }
#undef FE_TILE_CASE
}

/* out[c * os + r] = dot(X + r * D, Qm + c * D) for the n rows at X and the nq queries at Qm (D
 * floats each): the fixed-order dot products of impl/dot.h, tile by tile. */
static void FE_FN(fe_dots_block)(const float *X, fe_intp D, fe_intp n, const float *Qm, fe_intp nq,
                                 float *out, fe_intp os)
{
    for (fe_intp c0 = 0; c0 < nq; c0 += FV_TILE_C) {
        const int C = (int)(nq - c0 < FV_TILE_C ? nq - c0 : FV_TILE_C);
        fe_intp r = 0;
        for (; r + FV_TILE_R <= n; r += FV_TILE_R)
            FE_FN(fe_tile_rc)(X + r * D, D, Qm + c0 * D, D, D, out + c0 * os + r, os, FV_TILE_R, C);
        if (r < n)
            FE_FN(fe_tile_rc)(X + r * D, D, Qm + c0 * D, D, D, out + c0 * os + r, os, (int)(n - r), C);
    }
}

/* The row-block height and query-group size of the tiled scan for rows of D floats: a block of
 * about FE_TILE_BLOCK_BYTES of rows (it stays in L2 while the group's queries pass over it) and a
 * group of about FE_TILE_GROUP_BYTES of queries; multiples of the tile, at least one tile. */
#ifndef FE_TILE_BLOCK_BYTES
#define FE_TILE_BLOCK_BYTES (96 * 1024)
#endif
#ifndef FE_TILE_GROUP_BYTES
#define FE_TILE_GROUP_BYTES (96 * 1024)
#endif

static inline fe_intp FE_FN(fe_tile_block_rows)(fe_intp D)
{
    fe_intp rb = FE_TILE_BLOCK_BYTES / (4 * (D > 0 ? D : 1));
    rb = rb / 16 * 16;
    return rb < 16 ? 16 : rb > 1024 ? 1024 : rb;
}

static inline fe_intp FE_FN(fe_tile_group)(fe_intp D)
{
    fe_intp g = FE_TILE_GROUP_BYTES / (4 * (D > 0 ? D : 1));
    g = g / FV_TILE_C * FV_TILE_C;
    return g < FV_TILE_C ? FV_TILE_C : g > 240 ? 240 : g;
}

/* Top-k of queries q0 .. q0+nq-1 (nq >= 1, rows of `queries`) over the float32 rows of the block
 * [rb, rb + n) at `rows` (row rb at rows[0]): the block's scores, query group by query group, into
 * buf (>= group * n floats), merged into the heaps. */
static void FE_FN(fe_tiled_block)(const fe_topk_args *a, const float *rows, fe_intp n, int64_t rb,
                                  const float *queries, int64_t q0, int64_t nq, float *hs, int64_t *hi,
                                  float *buf, fe_intp group)
{
    const int64_t D = a->D, k = a->k;
    for (int64_t g = 0; g < nq; g += group) {
        const int64_t ng = nq - g < group ? nq - g : group;
        FE_FN(fe_dots_block)(rows, D, n, queries + g * D, ng, buf, n);
        for (int64_t c = 0; c < ng; c++)
            FE_FN(fe_merge_scores)(a, buf + c * n, n, rb, q0 + g + c, hs + (g + c) * k, hi + (g + c) * k);
    }
}

/* The tiled top-k scan of the float32 rows [r0, r1) of T (see impl/kind.h's scan). Returns -1 if its scratch could
 * not be allocated (nothing scanned), else 0. */
static int FE_FN(fe_scan_tiled)(const fe_topk_args *a, const float *T, const float *queries, int64_t q0,
                                int64_t nq, int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D;
    const fe_intp RB = FE_FN(fe_tile_block_rows)(D), G = FE_FN(fe_tile_group)(D);
    const fe_intp group = nq < G ? nq : G;
    float *buf = (float *)malloc((size_t)(group * RB) * sizeof(float));
    if (buf == NULL)
        return -1;
    for (int64_t rb = r0; rb < r1; rb += RB) {
        const fe_intp n = r1 - rb < RB ? r1 - rb : RB;
        if (fe_block_has_candidate(a, rb, n))
            FE_FN(fe_tiled_block)(a, T + rb * D, n, rb, queries, q0, nq, hs, hi, buf, group);
    }
    free(buf);
    return 0;
}

#undef FE_NV
