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
 * S is a 64-lane sum: element i goes to lane i % 64 (lanes start at +0.0) in increasing i; then lane
 * l += lane l + 32 (l < 32), l += l + 16 (l < 16), and the dot product's 16-lane tree (impl/dot.h).
 * 64 lanes (not the dot product's 16) give 4 independent add chains even at AVX-512, so a row's sums
 * are not one serial chain of D / 16 additions. Every level gives the same bits as
 * fastembed.reference.embed_layernorm. x is kept in `tmp` (D floats, L1-resident) between the three
 * sweeps, so the output row is written once (streaming stores when asked).
 */

#define FE_NL (64 / FV_W)
#define FE_NV (16 / FV_W)

/* lanes[0..64) += t[0..64) (a zero-padded tail chunk: +0.0 leaves a lane unchanged) */
FE_ALWAYS_INLINE void FE_FN(fe_ln_add64)(FV *acc, const float *t)
{
    for (int j = 0; j < FE_NL; j++)
        acc[j] = FV_ADD(acc[j], FV_LOADU(t + j * FV_W));
}

/* the 64 lanes folded to 16 (l += l + 32, then l += l + 16), then the 16-lane tree */
FE_ALWAYS_INLINE float FE_FN(fe_ln_reduce64)(FV *acc)
{
    for (int j = 0; j < 32 / FV_W; j++)
        acc[j] = FV_ADD(acc[j], acc[j + 32 / FV_W]);
    for (int j = 0; j < 16 / FV_W; j++)
        acc[j] = FV_ADD(acc[j], acc[j + 16 / FV_W]);
    return FE_FN(fv_reduce16)(acc);
}

FE_ALWAYS_INLINE void FE_FN(fe_embed_ln_row)(float *dst, const float *src, float scale, const float *pos,
                                   const float *types, const float *gamma, const float *beta, float eps,
                                   fe_intp d, float *tmp, int stream)
{
    FV acc[FE_NL];
    const FV s = FV_SET1(scale);
    const fe_intp full = d & ~(fe_intp)63;
    float t[64];
    fe_intp i;
    /* sweep 1: x into tmp, and its lane sums */
    for (int j = 0; j < FE_NL; j++)
        acc[j] = FV_ZERO();
    /* x * 1.0f is x: BERT-family rows skip the multiply (the same bits) */
#define FE_LN_SWEEP1(LOADX)                                                      \
    for (i = 0; i < full; i += 64) {                                             \
        for (int j = 0; j < FE_NL; j++) {                                        \
            const fe_intp k = i + j * FV_W;                                      \
            FV x = FV_ADD(LOADX, FV_LOADU(pos + k));                             \
            if (types)                                                           \
                x = FV_ADD(x, FV_LOADU(types + k));                              \
            FV_STOREU(tmp + k, x);                                               \
            acc[j] = FV_ADD(acc[j], x);                                          \
        }                                                                        \
    }
    if (scale == 1.0f) {
        FE_LN_SWEEP1(FV_LOADU(src + k))
    } else {
        FE_LN_SWEEP1(FV_MUL(FV_LOADU(src + k), s))
    }
#undef FE_LN_SWEEP1
    if (full < d) {
        for (int l = 0; l < 64; l++) {
            float x = 0.0f;
            if (full + l < d) {
                x = fe_ldf(src + full + l) * scale + fe_ldf(pos + full + l);
                if (types)
                    x = x + fe_ldf(types + full + l);
                tmp[full + l] = x;
            }
            t[l] = x;
        }
        FE_FN(fe_ln_add64)(acc, t);
    }
    const float mean = FE_FN(fe_ln_reduce64)(acc) / (float)d;
    const float neg = -mean;
    const FV nm = FV_SET1(neg);
    /* sweep 2: the centred sum of squares */
    for (int j = 0; j < FE_NL; j++)
        acc[j] = FV_ZERO();
    for (i = 0; i < full; i += 64) {
        for (int j = 0; j < FE_NL; j++) {
            FV c = FV_ADD(FV_LOADU(tmp + i + j * FV_W), nm);
            acc[j] = FV_ADD(acc[j], FV_MUL(c, c));
        }
    }
    if (full < d) {
        for (int l = 0; l < 64; l++) {
            float c = full + l < d ? tmp[full + l] + neg : 0.0f;
            t[l] = full + l < d ? c * c : 0.0f;
        }
        FE_FN(fe_ln_add64)(acc, t);
    }
    const float var = FE_FN(fe_ln_reduce64)(acc) / (float)d;
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

/* Rows [lo, hi) of a->out (see fe_ln_args in fe_ops.h), the loop in C (no call per row); tmp holds
 * D floats. Returns -1, or the first row whose id is outside [0, V) (rows before it are written).
 * (Interleaving two rows per step to overlap one row's reductions with the other's sweeps measured
 * slower at every level here, so rows go one at a time.) */
static fe_intp FE_FN(fe_embed_ln_range)(const fe_ln_args *a, fe_intp lo, fe_intp hi, float *tmp)
{
    const fe_intp D = a->D, V = a->V, ahead = fe_prefetch_ahead(D);
    for (fe_intp i = lo; i < hi; i++) {
        if (i + ahead < hi && (uint64_t)a->ids[i + ahead] < (uint64_t)V)
            fe_prefetch_row(a->table + a->ids[i + ahead] * D, D);
        const uint64_t u = (uint64_t)a->ids[i];
        if (u >= (uint64_t)V)
            return i;
        const fe_intp p = a->pidx ? a->pidx[i] : a->poff[i / a->T] + i % a->T;
        FE_FN(fe_embed_ln_row)(a->out + i * D, a->table + (fe_intp)u * D, a->scale, a->pos + p * D,
                               a->types ? a->types + (a->tidx ? a->tidx[i] * D : 0) : NULL, a->gamma, a->beta,
                               a->eps, D, tmp, a->stream);
    }
    if (a->stream)
        FV_FENCE();
    return -1;
}

#undef FE_NV
#undef FE_NL
