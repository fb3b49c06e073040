/* One half storage dtype's kernels at one SIMD level (no include guard: impl/half.h includes this
 * once per dtype with FH_KIND (f16 | bf16), FH_LOADU (FV_W halves -> FV) and FH_SCALAR (one half ->
 * float) defined). Function names: fe_<kernel>_<kind>_<level>. */

#define FH_FN(name) FE_FN(FE_CAT(name, FH_KIND))
#define FE_NV (16 / FV_W)

/* FV_W halves at p as floats, only the first m valid (m < FV_W; the rest +0.0, memory past them
 * untouched): a zero-padded copy, converted by the same vector instruction as full loads. */
FE_ALWAYS_INLINE FV FH_FN(fh_load_upto)(const uint16_t *p, int m)
{
    uint16_t t[16] = {0};
    if (m >= FV_W)
        return FH_LOADU(p);
    if (m > 0)
        memcpy(t, p, (size_t)m * sizeof(uint16_t));
    return FH_LOADU(t);
}

/* dst[0:d] = float(src[0:d]); stream: non-temporal stores from the first FV_W * 4-byte boundary of
 * dst (the few floats before it converted one by one), as fe_copy_row streams. */
static void FH_FN(fe_copy_row)(float *dst, const uint16_t *src, fe_intp d, int stream)
{
    fe_intp i = 0;
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 3u) == 0) {
        for (; i < d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i++)
            fe_stf(dst + i, FH_SCALAR(fe_ldh(src + i)));
        for (; i + 2 * FV_W <= d; i += 2 * FV_W) {
            FV a = FH_LOADU(src + i), b = FH_LOADU(src + i + FV_W);
            FV_STREAM(dst + i, a);
            FV_STREAM(dst + i + FV_W, b);
        }
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FH_LOADU(src + i));
        for (; i < d; i++)
            fe_stf(dst + i, FH_SCALAR(fe_ldh(src + i)));
        return;
    }
#endif
    (void)stream;
    for (; i + 2 * FV_W <= d; i += 2 * FV_W) {
        FV a = FH_LOADU(src + i), b = FH_LOADU(src + i + FV_W);
        FV_STOREU(dst + i, a);
        FV_STOREU(dst + i + FV_W, b);
    }
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FH_LOADU(src + i));
    for (; i < d; i++)
        fe_stf(dst + i, FH_SCALAR(fe_ldh(src + i)));
}

/* dst = (float(src) * scale + pos) (+ types): fe_embed_row's roundings on the exact upcast. */
static void FH_FN(fe_embed_row)(float *dst, const uint16_t *src, float scale, const float *pos,
                                const float *types, fe_intp d, int stream)
{
    const FV s = FV_SET1(scale);
    fe_intp i = 0;
#define FH_EMBED_SCALAR(i) \
    fe_stf(dst + (i), types ? (FH_SCALAR(fe_ldh(src + (i))) * scale + fe_ldf(pos + (i))) + fe_ldf(types + (i)) \
                            : FH_SCALAR(fe_ldh(src + (i))) * scale + fe_ldf(pos + (i)))
#define FH_EMBED_VEC(i) \
    (types ? FV_ADD(FV_ADD(FV_MUL(FH_LOADU(src + (i)), s), FV_LOADU(pos + (i))), FV_LOADU(types + (i))) \
           : FV_ADD(FV_MUL(FH_LOADU(src + (i)), s), FV_LOADU(pos + (i))))
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 3u) == 0) {
        for (; i < d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i++)
            FH_EMBED_SCALAR(i);
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FH_EMBED_VEC(i));
        for (; i < d; i++)
            FH_EMBED_SCALAR(i);
        return;
    }
#endif
    (void)stream;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FH_EMBED_VEC(i));
    for (; i < d; i++)
        FH_EMBED_SCALAR(i);
#undef FH_EMBED_SCALAR
#undef FH_EMBED_VEC
}

/* fh_load_upto where the FV_W halves at p lie before `end` (inside the table: the next row's
 * values): one full load with the lanes past m cleared after conversion (a NaN or inf there
 * becomes +0.0), instead of a copy through memory (a store-forwarding stall per row: it made a
 * D = 100 scan 2.5x slower than D = 96). */
FE_ALWAYS_INLINE FV FH_FN(fh_load_upto_in)(const uint16_t *p, int m, const uint16_t *end)
{
    if (m >= FV_W)
        return FH_LOADU(p);
    if (m <= 0)
        return FV_ZERO();
    if (p + FV_W <= end)
        return FV_KEEP_UPTO(FH_LOADU(p), m);
    return FH_FN(fh_load_upto)(p, m);
}

/* acc += float(a[0:n]) * b[0:n] for a partial 16-chunk (n < 16), as fe_mac16_part; the halves
 * before `end` may be read (and ignored) past a[n]. */
FE_ALWAYS_INLINE void FH_FN(fh_mac16_part)(FV *acc, const uint16_t *a, const float *b, int n, const uint16_t *end)
{
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ADD(acc[j], FV_MUL(FH_FN(fh_load_upto_in)(a + j * FV_W, n - j * FV_W, end),
                                       FV_LOAD_UPTO(b + j * FV_W, n - j * FV_W)));
}

/* fe_dot(float(a), b): the fixed 16-lane order of impl/dot.h. */
static float FH_FN(fe_dot)(const uint16_t *a, const float *b, fe_intp d)
{
    FV acc[FE_NV];
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ZERO();
    fe_intp i = 0;
    for (; i + 16 <= d; i += 16)
        for (int j = 0; j < FE_NV; j++)
            acc[j] = FV_ADD(acc[j], FV_MUL(FH_LOADU(a + i + j * FV_W), FV_LOADU(b + i + j * FV_W)));
    if (i < d)
        FH_FN(fh_mac16_part)(acc, a + i, b + i, (int)(d - i), a + d);
    return FE_FN(fv_reduce16)(acc);
}

/* fe_dot_rows over half rows (one query, FV_ROWS rows, prefetching pf_bytes ahead); halves before
 * `end` may be read past a row's end (and ignored). Chunk-major: each 16-chunk of the query is
 * loaded once for the block's rows (their accumulators stay in registers); each row still adds
 * its chunks in increasing order, so every row's lanes get the same adds in the same order. */
FE_ALWAYS_INLINE void FH_FN(fh_dot_rows)(const uint16_t *x, fe_intp stride, const float *q, fe_intp d,
                                         float *out, fe_intp pf_bytes, const char *pf_end, const uint16_t *end)
{
    FV acc[FV_ROWS * FE_NV];
    for (int t = 0; t < FV_ROWS * FE_NV; t++)
        acc[t] = FV_ZERO();
    const fe_intp full = d & ~(fe_intp)15;
    const int n = (int)(d - full);
    if (pf_bytes > 0) {  /* the block's lines, pf_bytes ahead */
        const char *p = (const char *)x + pf_bytes, *pe = p + FV_ROWS * stride * (fe_intp)sizeof(uint16_t);
        for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)
            FH_PREFETCH(p);
    }
    for (fe_intp i = 0; i < full; i += 16)
        for (int j = 0; j < FE_NV; j++) {
            const FV qv = FV_LOADU(q + i + j * FV_W);
            for (int r = 0; r < FV_ROWS; r++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j], FV_MUL(FH_LOADU(x + r * stride + i + j * FV_W), qv));
        }
    if (n)
        for (int j = 0; j < FE_NV; j++) {
            const FV qv = FV_LOAD_UPTO(q + full + j * FV_W, n - j * FV_W);
            for (int r = 0; r < FV_ROWS; r++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j],
                                            FV_MUL(FH_FN(fh_load_upto_in)(x + r * stride + full + j * FV_W, n - j * FV_W, end), qv));
        }
    FE_FN(fv_reduce16_rows)(acc, out);
}

/* Sum of squares of float(x) in impl/norms.h's order (float64 lanes), then norms as fe_row_norms. */
static void FH_FN(fe_row_norms)(const uint16_t *table, fe_intp D, fe_intp r0, fe_intp r1, float *out,
                                int want_norm)
{
    float buf[16];
    for (fe_intp r = r0; r < r1; r++) {
        const uint16_t *x = table + r * D;
        double acc[16];
        for (int l = 0; l < 16; l++)
            acc[l] = 0.0;
        fe_intp i = 0;
        for (; i + 16 <= D; i += 16) {
            for (int j = 0; j < FE_NV; j++)
                FV_STOREU(buf + j * FV_W, FH_LOADU(x + i + j * FV_W));
            for (int l = 0; l < 16; l++) {
                double v = (double)buf[l];
                acc[l] += v * v;
            }
        }
        for (int l = 0; i + l < D; l++) {
            double v = (double)FH_SCALAR(fe_ldh(x + i + l));
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
}

/* fe_scan_rows over half rows (a->half: (V, D) bits). One query: a fused pass, the row converted in
 * registers. Several: each block of rows is converted once into an L2 buffer and scored by the
 * float32 tiled kernel (impl/tile.h); the scores are the same bits either way. */
static void FH_FN(fe_scan_rows)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                                int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D, k = a->k;
    const uint16_t *T = a->half;
    if (nq >= 2 && D > 0) {
        const fe_intp RB = FE_FN(fe_tile_block_rows)(D), G = FE_FN(fe_tile_group)(D);
        const fe_intp group = nq < G ? nq : G;
        float *blk = (float *)malloc((size_t)(RB * D) * sizeof(float));
        float *buf = (float *)malloc((size_t)(group * RB) * sizeof(float));
        if (blk != NULL && buf != NULL) {
            for (int64_t rb = r0; rb < r1; rb += RB) {
                const fe_intp n = r1 - rb < RB ? r1 - rb : RB;
                if (!fe_block_has_candidate(a, rb, n))
                    continue;
                for (fe_intp u = 0; u < n; u++)
                    FH_FN(fe_copy_row)(blk + u * D, T + (rb + u) * D, D, 0);
                FE_FN(fe_tiled_block)(a, blk, n, rb, queries, q0, nq, hs, hi, buf, group);
            }
            free(blk);
            free(buf);
            return;
        }
        free(blk);  /* no scratch: row by row below, the same scores */
        free(buf);
    }
    const char *pf_end = (const char *)(T + r1 * D);
    float dots[FV_ROWS];
    int64_t r = r0;
    for (; r + FV_ROWS <= r1; r += FV_ROWS) {
        if (!fe_block_has_candidate(a, r, FV_ROWS))
            continue;
        if (nq == 1) {
            FH_FN(fh_dot_rows)(T + r * D, D, queries, D, dots, FE_SCAN_PREFETCH, pf_end, T + r1 * D);
            FE_FN(fe_offer_dots)(a, dots, FV_ROWS, r, q0, hs, hi);
            continue;
        }
        for (int u = 0; u < FV_ROWS; u++)
            for (int64_t j = 0; j < nq; j++) {
                dots[0] = FH_FN(fe_dot)(T + (r + u) * D, queries + j * D, D);
                FE_FN(fe_offer_dots)(a, dots, 1, r + u, q0 + j, hs + j * k, hi + j * k);
            }
    }
    for (; r < r1; r++) {
        if (a->mask != NULL && !a->mask[r])
            continue;
        for (int64_t j = 0; j < nq; j++) {
            dots[0] = FH_FN(fe_dot)(T + r * D, queries + j * D, D);
            FE_FN(fe_offer_dots)(a, dots, 1, r, q0 + j, hs + j * k, hi + j * k);
        }
    }
}

#undef FE_NV
#undef FH_FN
