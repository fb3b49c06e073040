/* fastembed SIMD layer "avx512": 16 floats per vector (AVX-512F CPUs: Skylake-SP and later, AMD
 * Zen 4+): one register holds the 16 lanes of impl/dot.h, masked tail loads, 512-bit streaming
 * stores. Reductions transposed over eight rows. */
#ifndef FE_LEVEL  /* (simd/vec_avx512vnni.h names its own level, then includes this layer) */
#define FE_LEVEL avx512
#define FE_LEVEL_NAME "avx512"
#endif
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
#define FV_GE_ANY(a, b) (_mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ) != 0)  /* some lane a >= b (NaN: no) */
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

/* ---- the exact int8 index (impl/int8.h): vector prefixes of its loops; each returns how far it got
 * (the scalar rest of the loop is impl/int8.h's, in the same order) */
FE_ALWAYS_INLINE fe_intp FE_FN(fv_i8_absmax)(const float *x, fe_intp D, float *mxp)
{
    fe_intp i = 0;
    float mx = 0.0f;
    __m512 m0 = _mm512_setzero_ps(), m1 = m0;
    for (; i + 32 <= D; i += 32) {
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
        m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), m1);
    }
    for (; i + 16 <= D; i += 16)
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
    mx = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
    *mxp = mx;
    return i;
}
#define FV_I8_ABSMAX(x, D, mx) FE_FN(fv_i8_absmax)((x), (D), (mx))

FE_ALWAYS_INLINE fe_intp FE_FN(fv_i8_quant)(const float *x, fe_intp n, double is, double sd, int8_t *cb, double *e2,
                                     double *c2, double *sm, double *x2)
{
    fe_intp j = 0;
    const __m512d vis = _mm512_set1_pd(is), vsd = _mm512_set1_pd(sd);
    __m512d E0 = _mm512_loadu_pd(e2), E1 = _mm512_loadu_pd(e2 + 8);
    __m512d C0 = _mm512_loadu_pd(c2), C1 = _mm512_loadu_pd(c2 + 8);
    __m512d S0 = _mm512_loadu_pd(sm), S1 = _mm512_loadu_pd(sm + 8);
    __m512d X0 = _mm512_loadu_pd(x2), X1 = _mm512_loadu_pd(x2 + 8);
    for (; j < n; j += 16) {
        const __m512 xf = n - j >= 16 ? _mm512_loadu_ps(x + j)
                                      : _mm512_maskz_loadu_ps((__mmask16)((1u << (n - j)) - 1u), x + j);
        const __m512d v0 = _mm512_cvtps_pd(_mm512_castps512_ps256(xf));
        const __m512d v1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xf), 1)));
        const __m512d q0 = _mm512_roundscale_pd(_mm512_mul_pd(v0, vis), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m512d q1 = _mm512_roundscale_pd(_mm512_mul_pd(v1, vis), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m512d d0 = _mm512_sub_pd(v0, _mm512_mul_pd(vsd, q0)), d1 = _mm512_sub_pd(v1, _mm512_mul_pd(vsd, q1));
        E0 = _mm512_add_pd(E0, _mm512_mul_pd(d0, d0));
        E1 = _mm512_add_pd(E1, _mm512_mul_pd(d1, d1));
        C0 = _mm512_add_pd(C0, _mm512_mul_pd(q0, q0));
        C1 = _mm512_add_pd(C1, _mm512_mul_pd(q1, q1));
        S0 = _mm512_add_pd(S0, q0);
        S1 = _mm512_add_pd(S1, q1);
        X0 = _mm512_add_pd(X0, _mm512_mul_pd(v0, v0));
        X1 = _mm512_add_pd(X1, _mm512_mul_pd(v1, v1));
        const __m512i qi = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtpd_epi32(q0)), _mm512_cvtpd_epi32(q1), 1);
        _mm_storeu_si128((__m128i *)(cb + j), _mm512_cvtepi32_epi8(qi));
    }
    _mm512_storeu_pd(e2, E0); _mm512_storeu_pd(e2 + 8, E1);
    _mm512_storeu_pd(c2, C0); _mm512_storeu_pd(c2 + 8, C1);
    _mm512_storeu_pd(sm, S0); _mm512_storeu_pd(sm + 8, S1);
    _mm512_storeu_pd(x2, X0); _mm512_storeu_pd(x2 + 8, X1);
    return j;
}
#define FV_I8_QUANT(x, n, is, sd, cb, e2, c2, sm, x2) FE_FN(fv_i8_quant)((x), (n), (is), (sd), (cb), (e2), (c2), (sm), (x2))

FE_ALWAYS_INLINE int64_t FE_FN(fv_hx_span)(const float *x, int64_t D, float pf, double down, int bf, uint16_t *hr,
                                     double *e2, double *h2, double *x2)
{
    int64_t j = 0;
    const __m512 vpf = _mm512_set1_ps(pf);
    const __m512d vdn = _mm512_set1_pd(down);
    __m512d E0 = _mm512_loadu_pd(e2), E1 = _mm512_loadu_pd(e2 + 8), H0 = _mm512_loadu_pd(h2);
    __m512d H1 = _mm512_loadu_pd(h2 + 8), X0 = _mm512_loadu_pd(x2), X1 = _mm512_loadu_pd(x2 + 8);
    for (; j < D; j += 16) {  /* a tail reads zeros: they add +0 */
        const int n = D - j >= 16 ? 16 : (int)(D - j);
        const __m512 xf = n == 16 ? _mm512_loadu_ps(x + j) : _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), x + j);
        const __m512 xs = _mm512_mul_ps(xf, vpf);
        __m256i hv;
        __m512 hf;
        if (bf) {
            const __m512i b = _mm512_castps_si512(xs);
            const __m512i rb = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)),
                                                                  _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1))), 16);
            hv = _mm512_cvtepi32_epi16(rb);
            hf = _mm512_castsi512_ps(_mm512_slli_epi32(rb, 16));
        } else {
            hv = _mm512_cvtps_ph(xs, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            hf = _mm512_cvtph_ps(hv);
        }
        if (n == 16) {
            _mm256_storeu_si256((__m256i *)(void *)(hr + j), hv);
        } else {
            uint16_t t[16];
            _mm256_storeu_si256((__m256i *)(void *)t, hv);
            memcpy(hr + j, t, (size_t)n * sizeof(uint16_t));
        }
        const __m512d v0 = _mm512_cvtps_pd(_mm512_castps512_ps256(xf));
        const __m512d v1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xf), 1)));
        const __m512d u0 = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(hf)), vdn);
        const __m512d u1 = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(hf), 1))), vdn);
        const __m512d d0 = _mm512_sub_pd(v0, u0), d1 = _mm512_sub_pd(v1, u1);
        E0 = _mm512_add_pd(E0, _mm512_mul_pd(d0, d0));
        E1 = _mm512_add_pd(E1, _mm512_mul_pd(d1, d1));
        H0 = _mm512_add_pd(H0, _mm512_mul_pd(u0, u0));
        H1 = _mm512_add_pd(H1, _mm512_mul_pd(u1, u1));
        X0 = _mm512_add_pd(X0, _mm512_mul_pd(v0, v0));
        X1 = _mm512_add_pd(X1, _mm512_mul_pd(v1, v1));
    }
    _mm512_storeu_pd(e2, E0); _mm512_storeu_pd(e2 + 8, E1);
    _mm512_storeu_pd(h2, H0); _mm512_storeu_pd(h2 + 8, H1);
    _mm512_storeu_pd(x2, X0); _mm512_storeu_pd(x2 + 8, X1);
    return j;
}
#define FV_HX_SPAN(x, D, pf, down, bf, hr, e2, h2, x2) FE_FN(fv_hx_span)((x), (D), (pf), (down), (bf), (hr), (e2), (h2), (x2))

#ifdef FV_I8_VNNI
/* AVX-512 VNNI: one 64-byte load holds four columns of the sixteen rows; vpdpbusd with the
 * query's codes + 128 (unsigned, broadcast) adds c . p + 128 sum(c) per row lane; the rows' code
 * sums are subtracted at the end. Two accumulators: consecutive groups' chains overlap. */
FE_ALWAYS_INLINE void FE_FN(fv_i8_block_vnni)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
                                                     const int32_t *rowsum, int32_t *out)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    int64_t g = 0;
    for (; g + 2 <= G; g += 2) {
        a0 = _mm512_dpbusd_epi32(a0, _mm512_set1_epi32(Q->pu4[g]), _mm512_loadu_si512((const void *)(blk + g * 64)));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_set1_epi32(Q->pu4[g + 1]),
                                 _mm512_loadu_si512((const void *)(blk + g * 64 + 64)));
    }
    if (g < G)
        a0 = _mm512_dpbusd_epi32(a0, _mm512_set1_epi32(Q->pu4[g]), _mm512_loadu_si512((const void *)(blk + g * 64)));
    a0 = _mm512_add_epi32(a0, a1);
    a0 = _mm512_sub_epi32(a0, _mm512_slli_epi32(_mm512_loadu_si512((const void *)rowsum), 7));
    _mm512_storeu_si512((void *)out, a0);
}

#define FV_I8_BLOCK(blk, G, Q, rowsum, out) FE_FN(fv_i8_block_vnni)((blk), (G), (Q), (rowsum), (out))
#else
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
#endif
#ifdef FV_I8_VNNI
#define FV_I8_KERNEL_NAME "avx512-vnni (vpdpbusd)"
#else
#define FV_I8_KERNEL_NAME "avx2 (vpmaddubsw) at the avx512 level: the avx512vnni level has vpdpbusd"
#endif
