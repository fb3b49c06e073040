/* THE STORAGE-KIND TEMPLATE: one kind's row kernels at one SIMD level (no include guard:
 * impl/kinds.h includes this once per kind of csrc/fe_kinds.h, with
 *
 *   FK_KIND      the kind's suffix (f32, f16, bf16, i8): functions are fe_<op>_<kind>_<level>
 *   FK_T         the stored element type (float, uint16_t, int8_t)
 *   FK_IS_F32    1 for float32 rows (the kernels then use the measured float32 code paths)
 *   FK_SCALED    1 if each row carries a float32 scale (a value is (float)element * scale)
 *   FK_LOADV(p)  FV_W stored elements at p as FV_W floats, exactly (before the row scale)
 *   FK_SCALAR(p) one stored element at p as a float, exactly (before the row scale)
 *   FK_PREFETCH(p) the scans' software prefetch hint for these rows
 *
 * defined). The contract: a stored value becomes a float32 exactly as fastembed._dtypes says
 * (the upcast, times the row's scale for a scaled kind: one float32 multiply), then every kernel
 * does the float32 kernel's arithmetic in the float32 kernel's order (impl/dot.h, impl/rows.h,
 * impl/norms.h, impl/tile.h). So a table's lookups, embeddings, norms and scores equal, bit for
 * bit, those of its float32 dequantisation, at every level; only the bytes read are fewer.
 *
 * Every kernel takes its rows as `const void *` plus the row's scale (ignored by unscaled kinds):
 * one signature per operation for every kind, the `fe_kind_ops` of csrc/fe_ops.h.
 */

#define FK_FN(name) FE_FN(FE_CAT(name, FK_KIND))
#define FE_NV (16 / FV_W)

#if FK_SCALED
#define FK_V(p, sv) FV_MUL(FK_LOADV(p), (sv))
#define FK_S(p, s) (FK_SCALAR(p) * (s))
#else
#define FK_V(p, sv) FK_LOADV(p)
#define FK_S(p, s) FK_SCALAR(p)
#endif

/* FV_W values of a row at p, only the first m valid (the rest +0.0; any int m): elements before
 * `end` may be loaded and discarded (no copy through memory: a store-forwarding stall per row made
 * a D = 100 half scan 2.5x slower than D = 96); near `end` a zero-padded copy is converted. */
FE_ALWAYS_INLINE FV FK_FN(fk_upto)(const FK_T *p, int m, const FK_T *end, FV sv)
{
#if FK_IS_F32
    (void)end;
    (void)sv;
    return FV_LOAD_UPTO(p, m);
#else
    (void)sv;
    if (m >= FV_W)
        return FK_V(p, sv);
    if (m <= 0)
        return FV_ZERO();
    if (p + FV_W <= end)
        return FV_KEEP_UPTO(FK_V(p, sv), m);
    FK_T t[16];
    memset(t, 0, sizeof t);
    memcpy(t, p, (size_t)m * sizeof(FK_T));
    return FK_V(t, sv);
#endif
}

/* ---------------------------------------------------------------- rows out: copy and embed */

/* dst[0:d] = the row's float32 values; stream: non-temporal stores as impl/rows.h's copy. */
static void FK_FN(fe_kcopy_row)(float *dst, const void *src_, float s, fe_intp d, int stream)
{
#if FK_IS_F32
    (void)s;
    FE_FN(fe_copy_row)(dst, (const float *)src_, d, stream);
#else
    const FK_T *src = (const FK_T *)src_;
    const FV sv = FV_SET1(s);
    (void)sv;
    fe_intp i = 0;
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 3u) == 0) {
        for (; i < d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i++)
            fe_stf(dst + i, FK_S(src + i, s));
        for (; i + 2 * FV_W <= d; i += 2 * FV_W) {
            FV a = FK_V(src + i, sv), b = FK_V(src + i + FV_W, sv);
            FV_STREAM(dst + i, a);
            FV_STREAM(dst + i + FV_W, b);
        }
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FK_V(src + i, sv));
        for (; i < d; i++)
            fe_stf(dst + i, FK_S(src + i, s));
        return;
    }
#endif
    (void)stream;
    for (; i + 2 * FV_W <= d; i += 2 * FV_W) {
        FV a = FK_V(src + i, sv), b = FK_V(src + i + FV_W, sv);
        FV_STOREU(dst + i, a);
        FV_STOREU(dst + i + FV_W, b);
    }
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FK_V(src + i, sv));
    for (; i < d; i++)
        fe_stf(dst + i, FK_S(src + i, s));
#endif
}

/* dst = (value * scale + pos) (+ types): impl/rows.h's roundings on the row's float32 values. */
static void FK_FN(fe_kembed_row)(float *dst, const void *src_, float s, float scale, const float *pos,
                                 const float *types, fe_intp d, int stream)
{
#if FK_IS_F32
    (void)s;
    FE_FN(fe_embed_row)(dst, (const float *)src_, scale, pos, types, d, stream);
#else
    const FK_T *src = (const FK_T *)src_;
    const FV sv = FV_SET1(s), sc = FV_SET1(scale);
    (void)sv;
    fe_intp i = 0;
#define FK_EMBED_SCALAR(i) \
    fe_stf(dst + (i), types ? (FK_S(src + (i), s) * scale + fe_ldf(pos + (i))) + fe_ldf(types + (i)) \
                            : FK_S(src + (i), s) * scale + fe_ldf(pos + (i)))
#define FK_EMBED_VEC(i) \
    (types ? FV_ADD(FV_ADD(FV_MUL(FK_V(src + (i), sv), sc), FV_LOADU(pos + (i))), FV_LOADU(types + (i))) \
           : FV_ADD(FV_MUL(FK_V(src + (i), sv), sc), FV_LOADU(pos + (i))))
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 3u) == 0) {
        for (; i < d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i++)
            FK_EMBED_SCALAR(i);
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FK_EMBED_VEC(i));
        for (; i < d; i++)
            FK_EMBED_SCALAR(i);
        return;
    }
#endif
    (void)stream;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FK_EMBED_VEC(i));
    for (; i < d; i++)
        FK_EMBED_SCALAR(i);
#undef FK_EMBED_SCALAR
#undef FK_EMBED_VEC
#endif
}

/* ---------------------------------------------------------------- dot products and norms */

/* fe_dot(row's float32 values, q): the fixed 16-lane order of impl/dot.h. */
static float FK_FN(fe_kdot)(const void *row, float s, const float *q, fe_intp d)
{
#if FK_IS_F32
    (void)s;
    return FE_FN(fe_dot)((const float *)row, q, d);
#else
    const FK_T *a = (const FK_T *)row;
    const FV sv = FV_SET1(s);
    (void)sv;
    FV acc[FE_NV];
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ZERO();
    fe_intp i = 0;
    for (; i + 16 <= d; i += 16)
        for (int j = 0; j < FE_NV; j++)
            acc[j] = FV_ADD(acc[j], FV_MUL(FK_V(a + i + j * FV_W, sv), FV_LOADU(q + i + j * FV_W)));
    if (i < d) {
        const int n = (int)(d - i);
        for (int j = 0; j < FE_NV; j++)
            acc[j] = FV_ADD(acc[j], FV_MUL(FK_FN(fk_upto)(a + i + j * FV_W, n - j * FV_W, a + d, sv),
                                           FV_LOAD_UPTO(q + i + j * FV_W, n - j * FV_W)));
    }
    return FE_FN(fv_reduce16)(acc);
#endif
}

/* fe_dot_rows over this kind's rows: one query, the FV_ROWS rows at x (stride D elements, scales sc
 * or NULL), prefetching pf_bytes ahead; elements before `end` may be read past a row's end (and
 * ignored). Float32 rows take impl/dot.h's row-by-row kernel; other kinds go chunk-major (each
 * query chunk loaded once for the block's rows, the block prefetched at once), which measured
 * faster for rows converted in registers. Each row adds its chunks in increasing order either way. */
FE_ALWAYS_INLINE void FK_FN(fk_dot_rows)(const FK_T *x, fe_intp D, const float *sc, const float *q, float *out,
                                         fe_intp pf_bytes, const char *pf_end, const FK_T *end)
{
#if FK_IS_F32
    (void)sc;
    (void)end;
    FE_FN(fe_dot_rows)(x, D, q, D, out, pf_bytes, pf_end);
#else
    FV acc[FV_ROWS * FE_NV], sv[FV_ROWS];
    for (int t = 0; t < FV_ROWS * FE_NV; t++)
        acc[t] = FV_ZERO();
    for (int r = 0; r < FV_ROWS; r++)
        sv[r] = FV_SET1(sc ? sc[r] : 1.0f);
    (void)sv;
    const fe_intp full = D & ~(fe_intp)15;
    const int n = (int)(D - full);
    if (pf_bytes > 0) {  /* the block's lines, pf_bytes ahead */
        const char *p = (const char *)x + pf_bytes, *pe = p + FV_ROWS * D * (fe_intp)sizeof(FK_T);
        for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)
            FK_PREFETCH(p);
    }
    for (fe_intp i = 0; i < full; i += 16)
        for (int j = 0; j < FE_NV; j++) {
            const FV qv = FV_LOADU(q + i + j * FV_W);
            for (int r = 0; r < FV_ROWS; r++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j], FV_MUL(FK_V(x + r * D + i + j * FV_W, sv[r]), qv));
        }
    if (n)
        for (int j = 0; j < FE_NV; j++) {
            const FV qv = FV_LOAD_UPTO(q + full + j * FV_W, n - j * FV_W);
            for (int r = 0; r < FV_ROWS; r++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j],
                                            FV_MUL(FK_FN(fk_upto)(x + r * D + full + j * FV_W, n - j * FV_W, end, sv[r]), qv));
        }
    FE_FN(fv_reduce16_rows)(acc, out);
#endif
}

/* out[r] = ||row r|| (want_norm) or 1 / ||row r|| (0 for a zero row), rows [r0, r1): the float64
 * sum of squares of impl/norms.h on the rows' float32 values. */
static void FK_FN(fe_krow_norms)(const void *table, const float *scales, fe_intp D, fe_intp r0, fe_intp r1,
                                 float *out, int want_norm)
{
#if FK_IS_F32
    (void)scales;
    FE_FN(fe_row_norms)((const float *)table, D, r0, r1, out, want_norm);
#else
    float buf[16];
    for (fe_intp r = r0; r < r1; r++) {
        const FK_T *x = (const FK_T *)table + r * D;
        const float s = scales ? scales[r] : 1.0f;
        const FV sv = FV_SET1(s);
        (void)sv;
        double acc[16];
        for (int l = 0; l < 16; l++)
            acc[l] = 0.0;
        fe_intp i = 0;
        for (; i + 16 <= D; i += 16) {
            for (int j = 0; j < FE_NV; j++)
                FV_STOREU(buf + j * FV_W, FK_V(x + i + j * FV_W, sv));
            for (int l = 0; l < 16; l++) {
                double v = (double)buf[l];
                acc[l] += v * v;
            }
        }
        for (int l = 0; i + l < D; l++) {
            double v = (double)FK_S(x + i + l, s);
            acc[l] += v * v;
        }
        for (int w = 8; w >= 1; w >>= 1)
            for (int l = 0; l < w; l++)
                acc[l] += acc[l + w];
        if (want_norm)
            out[r] = (float)sqrt(acc[0]);
        else
            out[r] = acc[0] > 0 ? (float)(1.0 / sqrt(acc[0])) : 0.0f;
    }
#endif
}

/* ---------------------------------------------------------------- the top-k scan */

/* Scan rows [r0, r1) (a->rows, a->scales) for queries q0 .. q0+nq-1 into nq heaps of k. One query:
 * a fused pass, FV_ROWS rows at a time, converted in registers, prefetching ahead (memory-bound).
 * Several: the tiled kernel of impl/tile.h, on the float32 rows directly or on each block of rows
 * converted once into an L2 buffer. The scores are the same bits either way (fe_dot's). */
static void FK_FN(fe_kscan_rows)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                                 int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D, k = a->k;
    const FK_T *T = (const FK_T *)a->rows;
    const float *sc = a->scales;
    if (nq >= 2 && D > 0) {
#if FK_IS_F32
        if (FE_FN(fe_scan_tiled)(a, (const float *)T, queries, q0, nq, r0, r1, hs, hi) == 0)
            return;
#else
        const fe_intp RB = FE_FN(fe_tile_block_rows)(D), G = FE_FN(fe_tile_group)(D);
        const fe_intp group = nq < G ? nq : G;
        float *blk = (float *)malloc((size_t)(RB * D) * sizeof(float));
        float *buf = (float *)malloc((size_t)(group * RB) * sizeof(float));
        float *qt = FE_QT_USE(nq, D) ? FE_FN(fe_qt_transpose)(queries, nq, D) : NULL;
        if (blk != NULL && buf != NULL && (qt != NULL || !FE_QT_USE(nq, D))) {
            for (int64_t rb = r0; rb < r1; rb += RB) {
                const fe_intp n = r1 - rb < RB ? r1 - rb : RB;
                if (!fe_block_has_candidate(a, rb, n))
                    continue;
                for (fe_intp u = 0; u < n; u++)
                    FK_FN(fe_kcopy_row)(blk + u * D, T + (rb + u) * D, sc ? sc[rb + u] : 1.0f, D, 0);
                if (qt != NULL)
                    FE_FN(fe_qt_block)(a, blk, n, rb, qt, q0, nq, hs, hi);
                else
                    FE_FN(fe_tiled_block)(a, blk, n, rb, queries, q0, nq, hs, hi, buf, group);
            }
            free(blk);
            free(buf);
            free(qt);
            return;
        }
        free(blk);
        free(buf);
        free(qt);
#endif
        /* no scratch: row by row below, the same scores */
    }
    const char *pf_end = (const char *)(T + r1 * D);
    float dots[FV_ROWS];
    int64_t r = r0;
    for (; r + FV_ROWS <= r1; r += FV_ROWS) {
        if (!fe_block_has_candidate(a, r, FV_ROWS))  /* restrict masks are often sparse */
            continue;
        for (int64_t j = 0; j < nq; j++) {
            FK_FN(fk_dot_rows)(T + r * D, D, sc ? sc + r : NULL, queries + j * D, dots,
                               j == 0 ? FE_SCAN_PREFETCH : 0, pf_end, T + r1 * D);
            FE_FN(fe_offer_dots)(a, dots, FV_ROWS, r, q0 + j, hs + j * k, hi + j * k);
        }
    }
    for (; r < r1; r++) {
        if (a->mask != NULL && !a->mask[r])
            continue;
        for (int64_t j = 0; j < nq; j++) {
            dots[0] = FK_FN(fe_kdot)(T + r * D, sc ? sc[r] : 1.0f, queries + j * D, D);
            FE_FN(fe_offer_dots)(a, dots, 1, r, q0 + j, hs + j * k, hi + j * k);
        }
    }
}

#undef FE_NV
#undef FK_V
#undef FK_S
#undef FK_FN
