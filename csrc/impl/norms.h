/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * SUM OF SQUARES (the fixed order every level and fastembed.reference.row_norms compute):
 *   16 float64 lanes starting at +0.0; element i adds (double)x[i] * (double)x[i] (exact: a float's
 *   square fits in a double) to lane i % 16 in increasing i; then the tree of impl/dot.h.
 * Plain C: the lanes are independent, so the compiler vectorises the loop at every level's width
 * without reassociating anything.
 */

static double FE_FN(fe_sumsq)(const float *x, fe_intp d)
{
    double acc[16];
    for (int l = 0; l < 16; l++)
        acc[l] = 0.0;
    fe_intp i = 0;
    for (; i + 16 <= d; i += 16)
        for (int l = 0; l < 16; l++) {
            double v = (double)fe_ldf(x + i + l);
            acc[l] += v * v;
        }
    for (int l = 0; i + l < d; l++) {
        double v = (double)fe_ldf(x + i + l);
        acc[l] += v * v;
    }
    for (int w = 8; w >= 1; w >>= 1)
        for (int l = 0; l < w; l++)
            acc[l] += acc[l + w];
    return acc[0];
}

static void FE_FN(fe_row_norms)(const float *table, fe_intp D, fe_intp r0, fe_intp r1, float *out, int want_norm)
{
    for (fe_intp r = r0; r < r1; r++) {
        double ss = FE_FN(fe_sumsq)(table + r * D, D);
        if (want_norm)
            out[r] = (float)sqrt(ss);
        else
            out[r] = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    }
}
