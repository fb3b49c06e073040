/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * Row copies and elementwise row arithmetic: every element is computed on its own with the same
 * operations in the same order as the scalar loop, so every level gives the same bits.
 * `stream`: non-temporal stores (no read-for-ownership of output lines that will not be read again
 * soon: large gathers), on levels that have them, for 4-byte aligned destinations; the head up to
 * the vector alignment is streamed 4 floats at a time from a 16-byte boundary, so a row written
 * with streaming stores never mixes in ordinary stores (except a misaligned destination's first
 * and last floats).
 */

static void FE_FN(fe_copy_row)(float *dst, const float *src, fe_intp d, int stream)
{
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 15u) == 0) {
        fe_intp i = 0;
        for (; i + 4 <= d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i += 4)
            FV_STREAM4(dst + i, _mm_loadu_ps(src + i));
        for (; i + 4 * FV_W <= d; i += 4 * FV_W) {
            FV a = FV_LOADU(src + i), b = FV_LOADU(src + i + FV_W);
            FV c = FV_LOADU(src + i + 2 * FV_W), e = FV_LOADU(src + i + 3 * FV_W);
            FV_STREAM(dst + i, a);
            FV_STREAM(dst + i + FV_W, b);
            FV_STREAM(dst + i + 2 * FV_W, c);
            FV_STREAM(dst + i + 3 * FV_W, e);
        }
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FV_LOADU(src + i));
        for (; i + 4 <= d; i += 4)
            FV_STREAM4(dst + i, _mm_loadu_ps(src + i));
        for (; i < d; i++)
            dst[i] = fe_ldf(src + i);
        return;
    }
#endif
    (void)stream;
    memcpy(dst, src, (size_t)d * sizeof(float));
}

/* dst = (src * scale + pos) (+ types): multiply, add, add, each rounded to float32 */
static void FE_FN(fe_embed_row)(float *dst, const float *src, float scale, const float *pos,
                                const float *types, fe_intp d, int stream)
{
    const FV s = FV_SET1(scale);
    fe_intp i = 0;
#define FE_EMBED_SCALAR(i) \
    fe_stf(dst + (i), types ? (fe_ldf(src + (i)) * scale + fe_ldf(pos + (i))) + fe_ldf(types + (i)) \
                            : fe_ldf(src + (i)) * scale + fe_ldf(pos + (i)))
#define FE_EMBED_VEC(i) \
    (types ? FV_ADD(FV_ADD(FV_MUL(FV_LOADU(src + (i)), s), FV_LOADU(pos + (i))), FV_LOADU(types + (i))) \
           : FV_ADD(FV_MUL(FV_LOADU(src + (i)), s), FV_LOADU(pos + (i))))
#if FV_HAVE_STREAM
    if (stream && ((uintptr_t)dst & 15u) == 0) {
        const __m128 s4 = _mm_set1_ps(scale);
        for (; i + 4 <= d && ((uintptr_t)(dst + i) & (FV_W * 4 - 1)); i += 4) {
            __m128 v = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i), s4), _mm_loadu_ps(pos + i));
            FV_STREAM4(dst + i, types ? _mm_add_ps(v, _mm_loadu_ps(types + i)) : v);
        }
        if (!types) {   /* the common case, unswitched: four independent vectors per step */
            for (; i + 4 * FV_W <= d; i += 4 * FV_W) {
                FV a = FV_ADD(FV_MUL(FV_LOADU(src + i), s), FV_LOADU(pos + i));
                FV b = FV_ADD(FV_MUL(FV_LOADU(src + i + FV_W), s), FV_LOADU(pos + i + FV_W));
                FV c = FV_ADD(FV_MUL(FV_LOADU(src + i + 2 * FV_W), s), FV_LOADU(pos + i + 2 * FV_W));
                FV e = FV_ADD(FV_MUL(FV_LOADU(src + i + 3 * FV_W), s), FV_LOADU(pos + i + 3 * FV_W));
                FV_STREAM(dst + i, a);
                FV_STREAM(dst + i + FV_W, b);
                FV_STREAM(dst + i + 2 * FV_W, c);
                FV_STREAM(dst + i + 3 * FV_W, e);
            }
        }
        for (; i + 2 * FV_W <= d; i += 2 * FV_W) {
            FV a = FE_EMBED_VEC(i), b = FE_EMBED_VEC(i + FV_W);
            FV_STREAM(dst + i, a);
            FV_STREAM(dst + i + FV_W, b);
        }
        for (; i + FV_W <= d; i += FV_W)
            FV_STREAM(dst + i, FE_EMBED_VEC(i));
        for (; i + 4 <= d; i += 4) {
            __m128 v = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(src + i), s4), _mm_loadu_ps(pos + i));
            FV_STREAM4(dst + i, types ? _mm_add_ps(v, _mm_loadu_ps(types + i)) : v);
        }
        for (; i < d; i++)
            FE_EMBED_SCALAR(i);
        return;
    }
#endif
    (void)stream;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FE_EMBED_VEC(i));
    for (; i < d; i++)
        FE_EMBED_SCALAR(i);
#undef FE_EMBED_SCALAR
#undef FE_EMBED_VEC
}

static void FE_FN(fe_stream_fence)(void)
{
    FV_FENCE();
}

/* dst += src */
static void FE_FN(fe_acc_row)(float *dst, const float *src, fe_intp d)
{
    fe_intp i = 0;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FV_ADD(FV_LOADU(dst + i), FV_LOADU(src + i)));
    for (; i < d; i++)
        fe_stf(dst + i, fe_ldf(dst + i) + fe_ldf(src + i));
}

/* dst += a * x */
static void FE_FN(fe_axpy)(float *dst, float a, const float *x, fe_intp d)
{
    const FV av = FV_SET1(a);
    fe_intp i = 0;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FV_ADD(FV_LOADU(dst + i), FV_MUL(av, FV_LOADU(x + i))));
    for (; i < d; i++)
        fe_stf(dst + i, fe_ldf(dst + i) + a * fe_ldf(x + i));
}

/* dst = a * x */
static inline void FE_FN(fe_scale_row)(float *dst, float a, const float *x, fe_intp d)
{
    const FV av = FV_SET1(a);
    fe_intp i = 0;
    for (; i + FV_W <= d; i += FV_W)
        FV_STOREU(dst + i, FV_MUL(av, FV_LOADU(x + i)));
    for (; i < d; i++)
        fe_stf(dst + i, a * fe_ldf(x + i));
}
