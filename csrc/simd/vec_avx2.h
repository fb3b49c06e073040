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
#define FV_GE_ANY(a, b) (_mm256_movemask_ps(_mm256_cmp_ps((a), (b), _CMP_GE_OQ)) != 0)  /* some lane a >= b (NaN: no) */
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

/* ---- the exact int8 index (impl/int8.h): vector prefixes of its loops; each returns how far it got
 * (the scalar rest of the loop is impl/int8.h's, in the same order) */
FE_ALWAYS_INLINE fe_intp FE_FN(fv_i8_absmax)(const float *x, fe_intp D, float *mxp)
{
    fe_intp i = 0;
    float mx = 0.0f;
    const __m256 nosign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m0 = _mm256_setzero_ps(), m1 = m0;
    for (; i + 16 <= D; i += 16) {
        m0 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), nosign), m0);
        m1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i + 8), nosign), m1);
    }
    float ml[8];
    _mm256_storeu_ps(ml, _mm256_max_ps(m0, m1));
    for (int l = 0; l < 8; l++)
        mx = ml[l] > mx ? ml[l] : mx;
    *mxp = mx;
    return i;
}
#define FV_I8_ABSMAX(x, D, mx) FE_FN(fv_i8_absmax)((x), (D), (mx))

FE_ALWAYS_INLINE fe_intp FE_FN(fv_i8_quant)(const float *x, fe_intp n, double is, double sd, int8_t *cb, double *e2,
                                     double *c2, double *sm, double *x2)
{
    fe_intp j = 0;
    const __m256d vis = _mm256_set1_pd(is), vsd = _mm256_set1_pd(sd);
    __m256d E[4], C[4], S[4], X[4];  /* lanes 4b..4b+3 of each sum in register b */
    for (int b = 0; b < 4; b++) {
        X[b] = _mm256_loadu_pd(x2 + 4 * b);
        E[b] = _mm256_loadu_pd(e2 + 4 * b);
        C[b] = _mm256_loadu_pd(c2 + 4 * b);
        S[b] = _mm256_loadu_pd(sm + 4 * b);
    }
    for (; j + 16 <= n; j += 16) {
        __m128i qi[4];
        for (int b = 0; b < 4; b++) {
            const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4 * b));
            const __m256d q = _mm256_round_pd(_mm256_mul_pd(v, vis), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            const __m256d d = _mm256_sub_pd(v, _mm256_mul_pd(vsd, q));
            E[b] = _mm256_add_pd(E[b], _mm256_mul_pd(d, d));
            C[b] = _mm256_add_pd(C[b], _mm256_mul_pd(q, q));
            S[b] = _mm256_add_pd(S[b], q);
            X[b] = _mm256_add_pd(X[b], _mm256_mul_pd(v, v));
            qi[b] = _mm256_cvtpd_epi32(q);
        }
        _mm_storeu_si128((__m128i *)(cb + j),
                         _mm_packs_epi16(_mm_packs_epi32(qi[0], qi[1]), _mm_packs_epi32(qi[2], qi[3])));
    }
    for (int b = 0; b < 4; b++) {
        _mm256_storeu_pd(e2 + 4 * b, E[b]);
        _mm256_storeu_pd(c2 + 4 * b, C[b]);
        _mm256_storeu_pd(sm + 4 * b, S[b]);
        _mm256_storeu_pd(x2 + 4 * b, X[b]);
    }
    return j;
}
#define FV_I8_QUANT(x, n, is, sd, cb, e2, c2, sm, x2) FE_FN(fv_i8_quant)((x), (n), (is), (sd), (cb), (e2), (c2), (sm), (x2))

FE_ALWAYS_INLINE int64_t FE_FN(fv_hx_span)(const float *x, int64_t D, float pf, double down, int bf, uint16_t *hr,
                                     double *e2, double *h2, double *x2)
{
    int64_t j = 0;
    const __m256 vpf = _mm256_set1_ps(pf);
    const __m256d vdn = _mm256_set1_pd(down);
    __m256d E[4], H[4], X[4];  /* lanes 4b..4b+3 in register b */
    for (int b = 0; b < 4; b++) {
        E[b] = _mm256_loadu_pd(e2 + 4 * b);
        H[b] = _mm256_loadu_pd(h2 + 4 * b);
        X[b] = _mm256_loadu_pd(x2 + 4 * b);
    }
    for (; j + 16 <= D; j += 16)
        for (int hh = 0; hh < 2; hh++) {
            const __m256 xf = _mm256_loadu_ps(x + j + 8 * hh);
            const __m256 xs = _mm256_mul_ps(xf, vpf);
            __m256 hf;
            if (bf) {
                const __m256i b = _mm256_castps_si256(xs);
                const __m256i rb = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)),
                                                                      _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1))), 16);
                const __m256i pk = _mm256_permute4x64_epi64(_mm256_packus_epi32(rb, rb), 0x08);
                _mm_storeu_si128((__m128i *)(void *)(hr + j + 8 * hh), _mm256_castsi256_si128(pk));
                hf = _mm256_castsi256_ps(_mm256_slli_epi32(rb, 16));
            } else {
                const __m128i hv = _mm256_cvtps_ph(xs, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                _mm_storeu_si128((__m128i *)(void *)(hr + j + 8 * hh), hv);
                hf = _mm256_cvtph_ps(hv);
            }
            for (int q = 0; q < 2; q++) {
                const int b = 2 * hh + q;
                const __m256d v = _mm256_cvtps_pd(q ? _mm256_extractf128_ps(xf, 1) : _mm256_castps256_ps128(xf));
                const __m256d u = _mm256_mul_pd(_mm256_cvtps_pd(q ? _mm256_extractf128_ps(hf, 1) : _mm256_castps256_ps128(hf)), vdn);
                const __m256d d = _mm256_sub_pd(v, u);
                E[b] = _mm256_add_pd(E[b], _mm256_mul_pd(d, d));
                H[b] = _mm256_add_pd(H[b], _mm256_mul_pd(u, u));
                X[b] = _mm256_add_pd(X[b], _mm256_mul_pd(v, v));
            }
        }
    for (int b = 0; b < 4; b++) {
        _mm256_storeu_pd(e2 + 4 * b, E[b]);
        _mm256_storeu_pd(h2 + 4 * b, H[b]);
        _mm256_storeu_pd(x2 + 4 * b, X[b]);
    }
    return j;
}
#define FV_HX_SPAN(x, D, pf, down, bf, hr, e2, h2, x2) FE_FN(fv_hx_span)((x), (D), (pf), (down), (bf), (hr), (e2), (h2), (x2))

/* AVX2: eight rows' four columns per 32-byte load; |p| (broadcast) times the codes with p's signs
 * (vpsignb), pairs to int16 (vpmaddubsw: no saturation, |values| <= 127 make each pair sum at
 * most 32258), to int32 (vpmaddwd by ones): each int32 lane one row's four-column dot product. */
FE_ALWAYS_INLINE void FE_FN(fv_i8_block_bw)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
                                              const int32_t *rowsum, int32_t *out)
{
    (void)rowsum;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (int64_t g = 0; g < G; g++) {
        const __m256i pb = _mm256_set1_epi32(Q->p4[g]), pa = _mm256_set1_epi32(Q->pabs4[g]);
        const __m256i c0 = _mm256_loadu_si256((const __m256i *)(blk + g * 64));
        const __m256i c1 = _mm256_loadu_si256((const __m256i *)(blk + g * 64 + 32));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c0, pb)), ones));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c1, pb)), ones));
    }
    _mm256_storeu_si256((__m256i *)out, a0);
    _mm256_storeu_si256((__m256i *)(out + 8), a1);
}
#define FV_I8_BLOCK(blk, G, Q, rowsum, out) FE_FN(fv_i8_block_bw)((blk), (G), (Q), (rowsum), (out))
#define FV_I8_KERNEL_NAME "avx2 (vpmaddubsw + vpmaddwd)"
