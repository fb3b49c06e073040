/* fastembed SIMD layer "avx512": 16 floats per vector (AVX-512F CPUs: Skylake-SP and later, AMD
 * Zen 4+): one register holds the 16 lanes of impl/dot.h, masked tail loads, 512-bit streaming
 * stores. Reductions transposed over eight rows. */
#define FE_LEVEL avx512
#define FE_LEVEL_NAME "avx512"
#define FV __m512
#define FV_W 16
#define FV_ROWS 8
#define FV_PAIR_ROWS 8  /* rows per pass of the two-query kernel (2 x this accumulator sets) */
#define FV_TILE_R 4  /* the tiled kernel (impl/tile.h): rows x queries of 16-lane accumulators */
#define FV_TILE_C 6  /* in registers (24 vectors) */
#define FV_HAVE_STREAM 1

/* keep v in a register: stops the compiler from folding one load into several instructions
 * as memory operands (a row read once per query instead of once) */
#define FV_PIN(v) __asm__("" : "+v"(v))
#define FV_ZERO() _mm512_setzero_ps()
#define FV_SET1(x) _mm512_set1_ps(x)
#define FV_LOADU(p) _mm512_loadu_ps(p)
#define FV_STOREU(p, v) _mm512_storeu_ps((p), (v))
/* m floats for any int m (m <= 0: zeros, m >= 16: a full load); lanes past m read as +0.0 and
 * are not touched in memory */
#define FV_LOAD_UPTO(p, m) _mm512_maskz_loadu_ps((__mmask16)((m) >= 16 ? 0xFFFFu : (m) <= 0 ? 0u : (1u << (m)) - 1u), (p))
#define FV_ADD(a, b) _mm512_add_ps((a), (b))
#define FV_MUL(a, b) _mm512_mul_ps((a), (b))
#define FV_STREAM(p, v) _mm512_stream_ps((p), (v))
#define FV_STREAM4(p, v) _mm_stream_ps((p), (v))
#define FV_FENCE() _mm_sfence()

FE_ALWAYS_INLINE float FE_FN(fv_reduce16)(const FV *acc)
{
    __m512 v = acc[0];
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 b = _mm256_add_ps(lo, hi);                                                   /* +8 */
    __m128 c = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));      /* +4 */
    __m128 d = _mm_add_ps(c, _mm_movehl_ps(c, c));                                      /* +2 */
    return _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 1)));                       /* +1 */
}

/* Eight rows, one register each; every add is one level of each row's tree, lower lane first. */
FE_ALWAYS_INLINE void FE_FN(fv_reduce16_rows)(const FV *acc, float *out)
{
    __m512 x[4], y[2];
    for (int p = 0; p < 4; p++)  /* +8: blocks [r 0-3 | r 4-7 | r+1 0-3 | r+1 4-7] */
        x[p] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * p], acc[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(acc[2 * p], acc[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int p = 0; p < 2; p++)  /* +4: block b holds row 4 p + b's four lanes */
        y[p] = _mm512_add_ps(_mm512_shuffle_f32x4(x[2 * p], x[2 * p + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(x[2 * p], x[2 * p + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], _MM_SHUFFLE(1, 0, 1, 0)),      /* +2 */
                             _mm512_shuffle_ps(y[0], y[1], _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 w = _mm512_add_ps(z, _mm512_permute_ps(z, _MM_SHUFFLE(2, 3, 0, 1)));          /* +1 */
    /* lane 4 b holds row b, lane 4 b + 2 row 4 + b */
    __m512 p = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14,
                                                       1, 3, 5, 7, 9, 11, 13, 15), w);
    _mm256_storeu_ps(out, _mm512_castps512_ps256(p));
}

/* Half-precision rows (csrc/fe_half.h): 16 stored halves -> 16 floats, exact. AVX-512F's
 * vcvtph2ps (float16; NaNs come out quiet, as fe_f16_to_f32) and a 16-bit shift (bfloat16). */
#define FV_LOADU_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define FV_LOADU_BF16(p) _mm512_castsi512_ps(_mm512_slli_epi32( \
    _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(p))), 16))
/* v with lanes m.. set to +0.0 (any int m) */
#define FV_KEEP_UPTO(v, m) _mm512_maskz_mov_ps((__mmask16)((m) >= 16 ? 0xFFFFu : (m) <= 0 ? 0u : (1u << (m)) - 1u), (v))
/* 16 int8 values -> 16 floats, exact (sign-extend, convert) */
#define FV_LOADU_I8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))))
