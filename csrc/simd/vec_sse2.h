/* fastembed SIMD layer "sse2": the x86-64 baseline (every x86-64 CPU), 4 floats per vector,
 * 128-bit streaming stores. Reductions transposed over two rows. */
#define FE_LEVEL sse2
#define FE_LEVEL_NAME "sse2"
#define FV __m128
#define FV_W 4
#define FV_ROWS 2
#define FV_PAIR_ROWS 1  /* rows per pass of the two-query kernel (2 x this accumulator sets) */
#define FV_TILE_R 1  /* the tiled kernel (impl/tile.h): rows x queries of 16-lane accumulators */
#define FV_TILE_C 2  /* in registers (8 vectors) */
#define FV_HAVE_STREAM 1

#ifndef FE_VEC_SSE2_HELPERS
#define FE_VEC_SSE2_HELPERS
static inline __m128 fe_sse2_load_part(const float *p, int n)
{
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)n * sizeof(float));
    return _mm_loadu_ps(t);
}
#endif

/* keep v in a register: stops the compiler from folding one load into several instructions
 * as memory operands (a row read once per query instead of once) */
#define FV_PIN(v) __asm__("" : "+x"(v))
#define FV_ZERO() _mm_setzero_ps()
#define FV_SET1(x) _mm_set1_ps(x)
#define FV_LOADU(p) _mm_loadu_ps(p)
#define FV_STOREU(p, v) _mm_storeu_ps((p), (v))
/* m floats for any int m (m <= 0: zeros, m >= FV_W: a full load); lanes past m read as +0.0 */
#define FV_LOAD_UPTO(p, m) ((m) >= 4 ? _mm_loadu_ps(p) : (m) <= 0 ? _mm_setzero_ps() : fe_sse2_load_part((p), (m)))
#define FV_ADD(a, b) _mm_add_ps((a), (b))
#define FV_MUL(a, b) _mm_mul_ps((a), (b))
#define FV_GE_ANY(a, b) (_mm_movemask_ps(_mm_cmpge_ps((a), (b))) != 0)  /* some lane a >= b (NaN: no) */
#define FV_STREAM(p, v) _mm_stream_ps((p), (v))
#define FV_STREAM4(p, v) _mm_stream_ps((p), (v))
#define FV_FENCE() _mm_sfence()

/* (c0 + c2) + (c1 + c3) of one 4-lane vector: the last two levels of the tree. */
FE_ALWAYS_INLINE float FE_FN(fv_tail4)(__m128 c)
{
    __m128 d = _mm_add_ps(c, _mm_movehl_ps(c, c));                 /* l += l + 2 */
    return _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 1)));  /* l += l + 1 */
}

FE_ALWAYS_INLINE float FE_FN(fv_reduce16)(const FV *acc)
{
    __m128 c = _mm_add_ps(_mm_add_ps(acc[0], acc[2]), _mm_add_ps(acc[1], acc[3]));  /* +8, +4 */
    return FE_FN(fv_tail4)(c);
}

FE_ALWAYS_INLINE void FE_FN(fv_reduce16_rows)(const FV *acc, float *out)
{
    __m128 a = _mm_add_ps(_mm_add_ps(acc[0], acc[2]), _mm_add_ps(acc[1], acc[3]));
    __m128 b = _mm_add_ps(_mm_add_ps(acc[4], acc[6]), _mm_add_ps(acc[5], acc[7]));
    /* [a0 a1 b0 b1] + [a2 a3 b2 b3], then adjacent pairs: both rows' last two levels at once */
    __m128 z = _mm_add_ps(_mm_movelh_ps(a, b), _mm_movehl_ps(b, a));
    __m128 w = _mm_add_ps(z, _mm_shuffle_ps(z, z, _MM_SHUFFLE(2, 3, 0, 1)));
    out[0] = _mm_cvtss_f32(w);
    out[1] = _mm_cvtss_f32(_mm_movehl_ps(w, w));
}

/* Half-precision rows (csrc/fe_half.h): 4 stored halves -> 4 floats, exact. SSE2 has no float16
 * conversion: four scalar ones (fe_f16_to_f32); bfloat16 interleaves zero low halves. */
#ifndef FE_VEC_SSE2_HALF
#define FE_VEC_SSE2_HALF
static inline __m128 fe_sse2_load_f16(const uint16_t *p)
{
    float t[4];
    for (int l = 0; l < 4; l++)
        t[l] = fe_f16_to_f32(fe_ldh(p + l));
    return _mm_loadu_ps(t);
}
#endif
#define FV_LOADU_F16(p) fe_sse2_load_f16(p)
#define FV_LOADU_BF16(p) _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), \
    _mm_loadl_epi64((const __m128i *)(const void *)(p))))
/* v with lanes m.. set to +0.0 (any int m) */
#define FV_KEEP_UPTO(v, m) _mm_and_ps((v), _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32(m), _mm_setr_epi32(0, 1, 2, 3))))
