/* fastembed SIMD layer "avx2": 8 floats per vector (AVX2 CPUs: Haswell and later, AMD Zen 1-3),
 * masked tail loads, 256-bit streaming stores. Reductions transposed over four rows. */
#define FE_LEVEL avx2
#define FE_LEVEL_NAME "avx2"
#define FV __m256
#define FV_W 8
#define FV_ROWS 4
#define FV_PAIR_ROWS 2  /* rows per pass of the two-query kernel (2 x this accumulator sets) */
#define FV_TILE_R 3  /* the tiled kernel (impl/tile.h): rows x queries of 16-lane accumulators */
#define FV_TILE_C 2  /* in registers (12 vectors) */
#define FV_HAVE_STREAM 1

/* keep v in a register: stops the compiler from folding one load into several instructions
 * as memory operands (a row read once per query instead of once) */
#define FV_PIN(v) __asm__("" : "+x"(v))
#define FV_ZERO() _mm256_setzero_ps()
#define FV_SET1(x) _mm256_set1_ps(x)
#define FV_LOADU(p) _mm256_loadu_ps(p)
#define FV_STOREU(p, v) _mm256_storeu_ps((p), (v))
/* m floats for any int m (m <= 0: zeros, m >= 8: a full load); lanes past m read as +0.0 and are
 * never touched in memory (no fault past the end of a row) */
#define FV_LOAD_UPTO(p, m) _mm256_maskload_ps((p), _mm256_cmpgt_epi32(_mm256_set1_epi32(m), \
                                                   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
#define FV_ADD(a, b) _mm256_add_ps((a), (b))
#define FV_MUL(a, b) _mm256_mul_ps((a), (b))
#define FV_STREAM(p, v) _mm256_stream_ps((p), (v))
#define FV_STREAM4(p, v) _mm_stream_ps((p), (v))
#define FV_FENCE() _mm_sfence()

FE_ALWAYS_INLINE float FE_FN(fv_reduce16)(const FV *acc)
{
    __m256 b = _mm256_add_ps(acc[0], acc[1]);                                          /* +8 */
    __m128 c = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));      /* +4 */
    __m128 d = _mm_add_ps(c, _mm_movehl_ps(c, c));                                      /* +2 */
    return _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 1)));                       /* +1 */
}

/* Four rows (acc[2 r], acc[2 r + 1]); every add is one level of each row's tree, lower lane first. */
FE_ALWAYS_INLINE void FE_FN(fv_reduce16_rows)(const FV *acc, float *out)
{
    __m256 ba = _mm256_add_ps(acc[0], acc[1]), bb = _mm256_add_ps(acc[2], acc[3]);     /* +8 */
    __m256 bc = _mm256_add_ps(acc[4], acc[5]), bd = _mm256_add_ps(acc[6], acc[7]);
    __m256 xab = _mm256_add_ps(_mm256_permute2f128_ps(ba, bb, 0x20),                    /* +4: [a' | b'] */
                               _mm256_permute2f128_ps(ba, bb, 0x31));
    __m256 xcd = _mm256_add_ps(_mm256_permute2f128_ps(bc, bd, 0x20),
                               _mm256_permute2f128_ps(bc, bd, 0x31));
    __m256 z = _mm256_add_ps(_mm256_shuffle_ps(xab, xcd, _MM_SHUFFLE(1, 0, 1, 0)),      /* +2 */
                             _mm256_shuffle_ps(xab, xcd, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 w = _mm256_add_ps(z, _mm256_shuffle_ps(z, z, _MM_SHUFFLE(2, 3, 0, 1)));      /* +1 */
    /* w lanes: 0 = row a, 2 = row c, 4 = row b, 6 = row d */
    __m256 p = _mm256_permutevar8x32_ps(w, _mm256_setr_epi32(0, 4, 2, 6, 1, 3, 5, 7));
    _mm_storeu_ps(out, _mm256_castps256_ps128(p));
}

/* Half-precision rows (csrc/fe_half.h): 8 stored halves -> 8 floats, exact. F16C's vcvtph2ps
 * (float16; every AVX2 CPU has F16C and the level requires it) and a 16-bit shift (bfloat16). */
#define FV_LOADU_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define FV_LOADU_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32( \
    _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16))
/* v with lanes m.. set to +0.0 (any int m) */
#define FV_KEEP_UPTO(v, m) _mm256_and_ps((v), _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(m), \
                                                   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))))
/* 8 int8 values -> 8 floats, exact (sign-extend, convert) */
#define FV_LOADU_I8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))
