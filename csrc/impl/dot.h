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

/* acc (16 lanes in FE_NV vectors) += a[0:n] * b[0:n], n <= 16: a partial chunk reads only n floats */
static inline void FE_FN(fe_mac16_part)(FV *acc, const float *a, const float *b, int n)
{
    for (int j = 0; j < FE_NV && j * FV_W < n; j++) {
        int m = n - j * FV_W;
        FV x = m >= FV_W ? FV_LOADU(a + j * FV_W) : FV_LOAD_PART(a + j * FV_W, m);
        FV y = m >= FV_W ? FV_LOADU(b + j * FV_W) : FV_LOAD_PART(b + j * FV_W, m);
        acc[j] = FV_ADD(acc[j], FV_MUL(x, y));
    }
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

/* out[r] = dot(x + r * stride, q) for the FV_ROWS rows of a block: every row of the block shares
 * each load of q, each row has its own accumulators (FV_ROWS independent dependency chains), and
 * the final reductions run transposed across the rows. */
static inline void FE_FN(fe_dot_rows)(const float *x, fe_intp stride, const float *q, fe_intp d, float *out)
{
    FV acc[FV_ROWS * FE_NV];
    for (int t = 0; t < FV_ROWS * FE_NV; t++)
        acc[t] = FV_ZERO();
    fe_intp i = 0;
#ifdef FE_SCAN_ROWMAJOR
    for (int r = 0; r < FV_ROWS; r++) {
        fe_intp ii = 0;
        for (; ii + 16 <= d; ii += 16)
            for (int j = 0; j < FE_NV; j++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j],
                                            FV_MUL(FV_LOADU(x + r * stride + ii + j * FV_W), FV_LOADU(q + ii + j * FV_W)));
        i = ii;
    }
#else
    for (; i + 16 <= d; i += 16) {
        FV qv[FE_NV];
        for (int j = 0; j < FE_NV; j++)
            qv[j] = FV_LOADU(q + i + j * FV_W);
        for (int r = 0; r < FV_ROWS; r++)
            for (int j = 0; j < FE_NV; j++)
                acc[r * FE_NV + j] = FV_ADD(acc[r * FE_NV + j],
                                            FV_MUL(FV_LOADU(x + r * stride + i + j * FV_W), qv[j]));
    }
#endif
    if (i < d) {
        const int n = (int)(d - i);
        for (int r = 0; r < FV_ROWS; r++)
            FE_FN(fe_mac16_part)(acc + r * FE_NV, x + r * stride + i, q + i, n);
    }
    FE_FN(fv_reduce16_rows)(acc, out);
}

#undef FE_NV
