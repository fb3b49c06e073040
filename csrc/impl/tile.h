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

/* ---------------------------------------------------------------- queries in lanes
 *
 * THE QUERY-LANE KERNEL (the scan of FV_W / 2 or more queries). fe_tile above keeps one pair's 16
 * lanes in registers and pays a horizontal reduction (shuffles) per (row, query) pair: at D = 100
 * that fixed cost was as large as the products. Here the vector lanes are FV_W *queries* instead:
 * the queries are transposed once (qt[i * FV_W + lane] = query lane's element i), a row's element
 * x[i] is broadcast, and lane class l of impl/dot.h (elements l, l + 16, l + 32, ... added in
 * increasing order, products rounded before the add, never fused) is one vector accumulator over
 * FV_W queries. The 16 class sums of impl/dot.h's tree, ((s0 + s8) + (s4 + s12)) + ((s2 + s10) +
 * (s6 + s14)) + ..., are then plain vertical adds in the same order: every lane gets exactly the
 * bits fe_dot gives its (row, query) pair, without a shuffle. A partial last chunk adds +0.0 to
 * the classes past it, as fe_dot's masked lanes do (so a -0.0 class sum becomes +0.0 there too).
 *
 * Cost per (row, query, element): 1 / FV_W multiply and add, plus 15 / FV_W adds per pair for
 * the tree; a lane's score is compared with its query's heap root as a vector, so the merge costs
 * nothing for rows that cannot enter (almost all of them). */

#ifndef FV_QT_R  /* rows per register tile: 5 live vectors per row (class pair, tree nodes) */
#define FV_QT_R (FV_W >= 16 ? 4 : 2)
#endif

/* res[r] (r < R) = the FV_W scores dot(x + r * xs, query lane) for the queries transposed at qt
 * (D x FV_W floats). R is a constant at every call site. */
FE_ALWAYS_INLINE void FE_FN(fe_qt_rows)(const float *x, fe_intp xs, const float *qt, fe_intp D, FV *res,
                                        const int R)
{
    const fe_intp nfull = D >> 4;
    const int rem = (int)(D & 15);
    FV s[2][FV_QT_R], b[2][FV_QT_R], c[FV_QT_R], d[FV_QT_R];
    /* the classes l and l + 8 together: b = s_l + s_{l+8} */
#define FE_QT_PAIR(l, B)                                                                         \
    do {                                                                                         \
        for (int r = 0; r < R; r++) { s[0][r] = FV_ZERO(); s[1][r] = FV_ZERO(); }                \
        for (fe_intp j = 0; j < nfull; j++) {                                                    \
            const fe_intp i = (l) + 16 * j;                                                      \
            FV q0 = FV_LOADU(qt + i * FV_W), q1 = FV_LOADU(qt + (i + 8) * FV_W);                 \
            for (int r = 0; r < R; r++) {                                                        \
                s[0][r] = FV_ADD(s[0][r], FV_MUL(FV_SET1(x[r * xs + i]), q0));                   \
                s[1][r] = FV_ADD(s[1][r], FV_MUL(FV_SET1(x[r * xs + i + 8]), q1));               \
            }                                                                                    \
        }                                                                                        \
        if (rem) {                                                                               \
            const fe_intp i = (l) + 16 * nfull;                                                  \
            for (int h = 0; h < 2; h++) {                                                        \
                if ((l) + 8 * h < rem) {                                                         \
                    FV qv = FV_LOADU(qt + (i + 8 * h) * FV_W);                                   \
                    for (int r = 0; r < R; r++)                                                  \
                        s[h][r] = FV_ADD(s[h][r], FV_MUL(FV_SET1(x[r * xs + i + 8 * h]), qv));   \
                } else {                                                                         \
                    for (int r = 0; r < R; r++)                                                  \
                        s[h][r] = FV_ADD(s[h][r], FV_ZERO());                                    \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        for (int r = 0; r < R; r++)                                                              \
            B[r] = FV_ADD(s[0][r], s[1][r]);                                                     \
    } while (0)
    /* d0 = ((s0 + s8) + (s4 + s12)) + ((s2 + s10) + (s6 + s14)), d1 likewise from 1; res = d0 + d1 */
    for (int half = 0; half < 2; half++) {
        FE_QT_PAIR(half + 0, b[0]);
        FE_QT_PAIR(half + 4, b[1]);
        for (int r = 0; r < R; r++)
            c[r] = FV_ADD(b[0][r], b[1][r]);
        FE_QT_PAIR(half + 2, b[0]);
        FE_QT_PAIR(half + 6, b[1]);
        for (int r = 0; r < R; r++) {
            FV c2 = FV_ADD(b[0][r], b[1][r]);
            if (half == 0)
                d[r] = FV_ADD(c[r], c2);
            else
                res[r] = FV_ADD(d[r], FV_ADD(c[r], c2));
        }
    }
#undef FE_QT_PAIR
}

/* 1 if some lane of a is >= the same lane of b (ordered: NaN never). */
FE_ALWAYS_INLINE int FE_FN(fe_qt_any_ge)(FV a, FV b)
{
#ifdef FV_GE_ANY
    return FV_GE_ANY(a, b);
#else
    float x[FV_W], y[FV_W];
    FV_STOREU(x, a);
    FV_STOREU(y, b);
    int any = 0;
    for (int l = 0; l < FV_W; l++)
        any |= x[l] >= y[l];
    return any;
#endif
}

/* Offer the scores of R rows (res, rows rb .. rb+R-1) for the queries of lane group v (nl valid lanes,
 * heaps hs/hi of query q0 + v * FV_W + lane) whose lanes pass their threshold thr (the heap roots;
 * +inf for padding lanes); cosine scores are dot * inv[row], the merge's product. */
FE_ALWAYS_INLINE void FE_FN(fe_qt_offer)(const fe_topk_args *a, const FV *res, int R, int64_t rb, int64_t qbase,
                                         int nl, float *hs, int64_t *hi, float *thr, FV *tv)
{
    const int64_t k = a->k;
    for (int r = 0; r < R; r++) {
        FV sv = a->inv ? FV_MUL(res[r], FV_SET1(a->inv[rb + r])) : res[r];
        if (!FE_FN(fe_qt_any_ge)(sv, *tv))
            continue;
        float sc[FV_W];
        FV_STOREU(sc, sv);
        for (int l = 0; l < nl; l++)
            if (sc[l] >= thr[l]) {
                fe_offer(a, hs + l * k, hi + l * k, qbase + l, sc[l], rb + r);
                thr[l] = hs[l * k];
            }
        *tv = FV_LOADU(thr);
    }
}

/* Top-k of the nq queries at `queries` (query q0 + j's heap at hs + j * k) over the float32 rows
 * [rb, rb + n) at `rows`, the queries transposed in qt (ceil(nq / FV_W) groups of D x FV_W floats,
 * padding lanes zero). */
static void FE_FN(fe_qt_block)(const fe_topk_args *a, const float *rows, fe_intp n, int64_t rb,
                               const float *qt, int64_t q0, int64_t nq, float *hs, int64_t *hi)
{
    const int64_t D = a->D, k = a->k;
    for (int64_t v = 0; v * FV_W < nq; v++) {
        const int nl = (int)(nq - v * FV_W < FV_W ? nq - v * FV_W : FV_W);
        float thr[FV_W];
        for (int l = 0; l < FV_W; l++)
            thr[l] = l < nl ? hs[(v * FV_W + l) * k] : INFINITY;
        FV tv = FV_LOADU(thr), res[FV_QT_R];
        const float *qv = qt + v * D * FV_W;
        float *vh = hs + v * FV_W * k;
        int64_t *vi = hi + v * FV_W * k;
        fe_intp r = 0;
        for (; r + FV_QT_R <= n; r += FV_QT_R) {
            FE_FN(fe_qt_rows)(rows + r * D, D, qv, D, res, FV_QT_R);
            FE_FN(fe_qt_offer)(a, res, FV_QT_R, rb + r, q0 + v * FV_W, nl, vh, vi, thr, &tv);
        }
        for (; r < n; r++) {
            FE_FN(fe_qt_rows)(rows + r * D, D, qv, D, res, 1);
            FE_FN(fe_qt_offer)(a, res, 1, rb + r, q0 + v * FV_W, nl, vh, vi, thr, &tv);
        }
    }
}

/* The queries transposed for fe_qt_block: a malloc'd ceil(nq / FV_W) x D x FV_W buffer (NULL if
 * out of memory). */
static float *FE_FN(fe_qt_transpose)(const float *queries, int64_t nq, int64_t D)
{
    const int64_t nv = (nq + FV_W - 1) / FV_W;
    float *qt = (float *)malloc((size_t)(nv * D * FV_W) * sizeof(float));
    if (qt == NULL)
        return NULL;
    for (int64_t v = 0; v < nv; v++)
        for (int l = 0; l < FV_W; l++) {
            const int64_t q = v * FV_W + l;
            float *dst = qt + v * D * FV_W + l;
            if (q < nq)
                for (int64_t i = 0; i < D; i++)
                    dst[i * FV_W] = queries[q * D + i];
            else
                for (int64_t i = 0; i < D; i++)
                    dst[i * FV_W] = 0.0f;
        }
    return qt;
}

/* The query-lane kernel pays for FV_W lanes whatever nq is: used from half a vector of queries.
 * Its transposed queries (D x FV_W floats per group) leave L1 for long rows, where the row-tiled
 * kernel's per-pair reduction is cheap by comparison: measured (Zen 4, 2 threads, avx512) the
 * query-lane kernel 1.3-2.8x faster at D = 100-512 for Q = 16-256, 1.07x at D = 768 Q = 16, and
 * the row-tiled one 1.2-1.5x faster at D = 768 from Q = 64. Either gives the same bits. */
#define FE_QT_MIN_QUERIES (FV_W / 2 > 2 ? FV_W / 2 : 2)
#define FE_QT_USE(nq, D) ((nq) >= FE_QT_MIN_QUERIES && ((D) <= 640 || (nq) < 64))

/* The tiled top-k scan of the float32 rows [r0, r1) of T (see impl/kind.h's scan). Returns -1 if its scratch could
 * not be allocated (nothing scanned), else 0. */
static int FE_FN(fe_scan_tiled)(const fe_topk_args *a, const float *T, const float *queries, int64_t q0,
                                int64_t nq, int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D;
    const fe_intp RB = FE_FN(fe_tile_block_rows)(D), G = FE_FN(fe_tile_group)(D);
    if (FE_QT_USE(nq, D)) {
        float *qt = FE_FN(fe_qt_transpose)(queries, nq, D);
        if (qt == NULL)
            return -1;
        for (int64_t rb = r0; rb < r1; rb += RB) {
            const fe_intp n = r1 - rb < RB ? r1 - rb : RB;
            if (fe_block_has_candidate(a, rb, n))
                FE_FN(fe_qt_block)(a, T + rb * D, n, rb, qt, q0, nq, hs, hi);
        }
        free(qt);
        return 0;
    }
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
