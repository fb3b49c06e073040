/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * The fused embedding + LayerNorm row of BERT-family models (word + position (+ token type), then
 * LayerNorm with the checkpoint's gamma, beta and eps), one row per call:
 *
 *   x[i]  = (src[i] * scale + pos[i]) (+ types[i])     each operation rounded to float32
 *   mean  = S(x) / D                                   S: the 16-lane sum below
 *   var   = S((x - mean)^2) / D                        (x - mean) computed as x + (-mean): the same bits
 *   rstd  = 1 / sqrt(var + eps)                        float32, correctly rounded sqrt and division
 *   dst[i] = ((x[i] - mean) * rstd) * gamma[i] + beta[i]
 *
 * S is the dot product's order (impl/dot.h) with x in place of the products: element i goes to lane
 * i % 16 (lanes start at +0.0) in increasing i, then the fixed tree. So every level gives the same bits
 * as fastembed.reference.embed_layernorm. x is kept in `tmp` (D floats, L1-resident) between the
 * three sweeps, so the output row is written once (streaming stores when asked).
 */

#define FE_NV (16 / FV_W)

/* lanes[0..16) += t[0..16) (a zero-padded tail chunk: +0.0 leaves a lane unchanged) */
FE_ALWAYS_INLINE void FE_FN(fe_ln_add16)(FV *acc, const float *t)
{
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ADD(acc[j], FV_LOADU(t + j * FV_W));
}

static void FE_FN(fe_embed_ln_row)(float *dst, const float *src, float scale, const float *pos,
                                   const float *types, const float *gamma, const float *beta, float eps,
                                   fe_intp d, float *tmp, int stream)
{
    FV acc[FE_NV];
    const FV s = FV_SET1(scale);
    const fe_intp full = d & ~(fe_intp)15;
    float t[16];
    fe_intp i;
    /* sweep 1: x into tmp, and its lane sums */
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ZERO();
    for (i = 0; i < full; i += 16) {
        for (int j = 0; j < FE_NV; j++) {
            const fe_intp k = i + j * FV_W;
            FV x = FV_ADD(FV_MUL(FV_LOADU(src + k), s), FV_LOADU(pos + k));
            if (types)
                x = FV_ADD(x, FV_LOADU(types + k));
            FV_STOREU(tmp + k, x);
            acc[j] = FV_ADD(acc[j], x);
        }
    }
    if (full < d) {
        for (int l = 0; l < 16; l++) {
            float x = 0.0f;
            if (full + l < d) {
                x = fe_ldf(src + full + l) * scale + fe_ldf(pos + full + l);
                if (types)
                    x = x + fe_ldf(types + full + l);
                tmp[full + l] = x;
            }
            t[l] = x;
        }
        FE_FN(fe_ln_add16)(acc, t);
    }
    const float mean = FE_FN(fv_reduce16)(acc) / (float)d;
    const float neg = -mean;
    const FV nm = FV_SET1(neg);
    /* sweep 2: the centred sum of squares */
    for (int j = 0; j < FE_NV; j++)
        acc[j] = FV_ZERO();
    for (i = 0; i < full; i += 16) {
        for (int j = 0; j < FE_NV; j++) {
            FV c = FV_ADD(FV_LOADU(tmp + i + j * FV_W), nm);
            acc[j] = FV_ADD(acc[j], FV_MUL(c, c));
        }
    }
    if (full < d) {
        for (int l = 0; l < 16; l++) {
            float c = full + l < d ? tmp[full + l] + neg : 0.0f;
            t[l] = full + l < d ? c * c : 0.0f;
        }
        FE_FN(fe_ln_add16)(acc, t);
    }
    const float var = FE_FN(fv_reduce16)(acc) / (float)d;
    const float rstd = 1.0f / sqrtf(var + eps);
    const FV r = FV_SET1(rstd);
    /* sweep 3: normalise, scale, shift, write the output row once */
    i = 0;
#define FE_LN_VEC(k) FV_ADD(FV_MUL(FV_MUL(FV_ADD(FV_LOADU(tmp + (k)), nm), r), FV_LOADU(gamma + (k))), \
                            FV_LOADU(beta + (k)))
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & (FV_W * 4 - 1)) == 0) {
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FE_LN_VEC(i));
    }
#endif
    (void)stream;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FE_LN_VEC(i));
    for (; i < d; i++)
        fe_stf(dst + i, ((tmp[i] + neg) * rstd) * fe_ldf(gamma + i) + fe_ldf(beta + i));
#undef FE_LN_VEC
}

#undef FE_NV
