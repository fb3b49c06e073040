/* fastembed kernels, instantiated once per SIMD level (no include guard: csrc/fe_simd.h includes
 * this file once per level with that level's FV_* layer and FE_FN suffix).
 *
 * THE DOT PRODUCT (the fixed order every level and fastembed.reference._dot16 compute):
 *   16 float32 lanes, each starting at +0.0; element i adds the float32 product a[i] * b[i] to lane
 *   i % 16, in increasing i; then the lanes are summed in a fixed tree: lane l += lane l + 8
 *   (l < 8), l += l + 4 (l < 4), l += l + 2 (l < 2), l += l + 1; the result is lane 0.
 * A vector shorter than a multiple of 16 behaves as if zero-padded: padding would add +0.0 to a
 * lane, which changes nothing (a lane that starts at +0.0 never holds -0.0 under round-to-nearest).
 * NaN and inf propagate as IEEE arithmetic says (NaN payloads are unspecified).
 *
 * Why this order: a 16-lane accumulator is one AVX-512 register, two AVX2 registers or four
 * SSE/NEON registers, and the tree's first levels are then plain vertical adds; the last levels are
 * done for several rows at once (fv_reduce16_rows: the reduction transposed across rows), so the
 * horizontal work per row shrinks with the block size.
 */

#define FE_NV (16 / FV_W)

/* acc (16 lanes in FE_NV vectors) += a[0:n] * b[0:n] for a partial chunk, n < 16: vector j reads
 * only its n - j * FV_W valid floats (none when that is <= 0; adding the zero products is a no-op).
 * Every index is a constant after unrolling, so the accumulators stay in registers. */
FE_ALWAYS_INLINE void FE_FN(fe_mac16_part)(FV *acc, const float *a, const float *b, int n)
{
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ADD(acc[j], FV_MUL(FV_LOAD_UPTO(a + j * FV_W, n - j * FV_W),
                                       FV_LOAD_UPTO(b + j * FV_W, n - j * FV_W)));
}

static float FE_FN(fe_dot)(const float *a, const float *b, fe_intp d)
{
    FV acc[FE_NV];
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ZERO();
    fe_intp i = 0;
    for (; i + 16 <= d; i += 16)
        for (int j = 0; j < FE_NV; j++)
            acc[j] = FV_ADD(acc[j], FV_MUL(FV_LOADU(a + i + j * FV_W), FV_LOADU(b + i + j * FV_W)));
    if (i < d)
        FE_FN(fe_mac16_part)(acc, a + i, b + i, (int)(d - i));
    return FE_FN(fv_reduce16)(acc);
}

/* out[r] = dot(x + r * stride, q) for the FV_ROWS rows of a block (one query: the scan is bound by
 * memory bandwidth). Rows are read one after the other, in memory order: the hardware prefetchers
 * follow one stream (interleaving the rows' chunks measured up to 3x slower without software
 * prefetching at D = 300); with pf_bytes > 0 each row first prefetches the row's worth of lines
 * pf_bytes ahead (spread out: a block's worth at once overflows the miss buffers at AVX-512's
 * 8-row blocks), never at or past pf_end. Each row has its own accumulators, so consecutive rows'
 * dependency chains overlap, and the final reductions run transposed across the rows. */
FE_ALWAYS_INLINE void FE_FN(fe_dot_rows)(const float *x, fe_intp stride, const float *q, fe_intp d, float *out,
                                         fe_intp pf_bytes, const char *pf_end)
{
    FV acc[FV_ROWS * FE_NV];
    for (int t = 0; t < FV_ROWS * FE_NV; t++)
        acc[t] = FV_ZERO();
    const fe_intp full = d & ~(fe_intp)15;
    const int n = (int)(d - full);
    for (int r = 0; r < FV_ROWS; r++) {
        const float *row = x + r * stride;
        if (pf_bytes > 0) {  /* prefetch one row's worth of lines, pf_bytes ahead of this row */
            const char *p = (const char *)row + pf_bytes, *pe = p + d * (fe_intp)sizeof(float);
            for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)
                FE_PREFETCH(p);
        }
        for (fe_intp i = 0; i < full; i += 16)
            for (int j = 0; j < FE_NV; j++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j],
                                            FV_MUL(FV_LOADU(row + i + j * FV_W), FV_LOADU(q + i + j * FV_W)));
        if (n)
            FE_FN(fe_mac16_part)(acc + r * FE_NV, row + full, q + full, n);
    }
    FE_FN(fv_reduce16_rows)(acc, out);
}

/* Two queries at once: out[j * FV_PAIR_ROWS + r] = dot(x + r * stride, q_j) for the FV_PAIR_ROWS
 * rows starting at x. Each row load serves both queries (the scan of several queries is bound by
 * loads, not arithmetic); 2 * FV_PAIR_ROWS accumulator sets, reduced FV_ROWS at a time. */
FE_ALWAYS_INLINE void FE_FN(fe_dot_rows_q2)(const float *x, fe_intp stride, const float *q0, const float *q1,
                                            fe_intp d, float *out)
{
    enum { S = 2 * FV_PAIR_ROWS };
    FV acc[S * FE_NV];
    for (int t = 0; t < S * FE_NV; t++)
        acc[t] = FV_ZERO();
    fe_intp i = 0;
    for (; i + 16 <= d; i += 16) {
        for (int j = 0; j < FE_NV; j++) {
            FV a = FV_LOADU(q0 + i + j * FV_W), b = FV_LOADU(q1 + i + j * FV_W);
            FV_PIN(a);
            FV_PIN(b);
            for (int r = 0; r < FV_PAIR_ROWS; r++) {
                FV v = FV_LOADU(x + r * stride + i + j * FV_W);
                FV_PIN(v);
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j], FV_MUL(v, a));
                acc[(FV_PAIR_ROWS + r) * FE_NV + j] = FV_ADD(acc[(FV_PAIR_ROWS + r) * FE_NV + j], FV_MUL(v, b));
            }
        }
    }
    if (i < d) {
        const int n = (int)(d - i);
        for (int j = 0; j < FE_NV; j++) {
            FV a = FV_LOAD_UPTO(q0 + i + j * FV_W, n - j * FV_W), b = FV_LOAD_UPTO(q1 + i + j * FV_W, n - j * FV_W);
            FV_PIN(a);
            FV_PIN(b);
            for (int r = 0; r < FV_PAIR_ROWS; r++) {
                FV v = FV_LOAD_UPTO(x + r * stride + i + j * FV_W, n - j * FV_W);
                FV_PIN(v);
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j], FV_MUL(v, a));
                acc[(FV_PAIR_ROWS + r) * FE_NV + j] = FV_ADD(acc[(FV_PAIR_ROWS + r) * FE_NV + j], FV_MUL(v, b));
            }
        }
    }
    for (int g = 0; g < S; g += FV_ROWS)
        FE_FN(fv_reduce16_rows)(acc + g * FE_NV, out + g);
}

#undef FE_NV
