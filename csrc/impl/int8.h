/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h): the exact int8 index
 * (csrc/fe_int8.h has the arguments; fastembed/index.py the derivation of the bounds).
 *
 *   fe_i8_quantize  rows -> int8 codes, per-row scale and the sums the bounds need (float64)
 *   fe_i8_scan      bounded scan: exact int32 dot products of int8 codes with each query's codes,
 *                   an upper and a lower bound of every row's float32 score, the k best lower
 *                   bounds of eligible rows and the rows whose upper bound reaches them
 *   fe_i8_rescore   the surviving candidates scored exactly as the float32 scan scores them
 *                   (fe_dot of impl/dot.h, times the inverse norm), offered to the answer heap
 *
 * The integer dot products, sixteen rows at a time from the blocked layout of csrc/fe_int8.h (no
 * horizontal sums): AVX-512 VNNI (vpdpbusd of the query's codes + 128 with the row codes, the
 * rows' code sums subtracted), AVX2 (vpmaddubsw of |p| with the codes carrying p's signs, vpmaddwd
 * to int32), scalar C elsewhere (and on AVX-512 CPUs without VNNI, which run the AVX2 kernel).
 * Integer sums are exact, so every kernel gives the same bounds, candidates and answers.
 */

/* ------------------------------------------------------------------ build */

/* max |x_i| over a row (NaN never wins: max(a, m) keeps m when a is NaN, as `a > m ? a : m`) */
static float FE_FN(fe_i8_absmax)(const float *x, fe_intp D)
{
    fe_intp i = 0;
    float mx = 0.0f;
#if FV_W == 16 && FE_SIMD_X86
    __m512 m0 = _mm512_setzero_ps(), m1 = m0;
    for (; i + 32 <= D; i += 32) {
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
        m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), m1);
    }
    for (; i + 16 <= D; i += 16)
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
    mx = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
#elif FV_W == 8 && FE_SIMD_X86
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
#endif
    for (; i < D; i++) {
        float a = fabsf(fe_ldf(x + i));
        mx = a > mx ? a : mx;
    }
    return mx;
}

/* Columns [0, n) of a row (n a multiple of 16 except at the row's end): cb[j] = rint(x_j * is)
 * (float64, half to even), and per lane l = j mod 16 the float64 sums e2[l] += (x_j - sd q_j)^2,
 * c2[l] += q_j^2, sm[l] += q_j, x2[l] += x_j^2 (fe_sumsq's lanes): the scalar loop's order lane by lane (a tail reads as zeros,
 * which add +0). */
static void FE_FN(fe_i8_quant_span)(const float *x, fe_intp n, double is, double sd, int8_t *cb,
                                    double *e2, double *c2, double *sm, double *x2)
{
    fe_intp j = 0;
#if FV_W == 16 && FE_SIMD_X86
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
#elif FV_W == 8 && FE_SIMD_X86
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
#endif
    for (; j < n; j++) {  /* (levels without a vector path; the avx2 tail) */
        const double v = (double)fe_ldf(x + j), qd = rint(v * is), d = v - sd * qd;
        const int l = (int)(j & 15);
        e2[l] += d * d;
        c2[l] += qd * qd;
        sm[l] += qd;
        x2[l] += v * v;
        cb[j] = (int8_t)(int32_t)qd;
    }
}

/* Rows [r0, r1): codes (blocked, csrc/fe_int8.h; the buffer arrives zeroed) = rint (half to
 * even) of x_i * (127 / max|x|) (float64) in [-127, 127], rowsum[r] = their sum, scale[r] =
 * float32(max|x| / 127), st[3 r] = sum (x_i - scale * code_i)^2, st[3 r + 1] = sum code_i^2,
 * st[3 r + 2] = sum x_i^2 (bit for bit fe_sumsq's, so the inverse norms follow without another
 * pass over the table), all in float64 (the error terms are exact in float64: a float32 minus
 * a float32 times a 7-bit integer spans at most 33 bits). Non-finite rows: codes 0, scale 0,
 * st = (inf, 0, inf); zero rows: everything 0. Any rounding of the codes is valid: the bounds use
 * the error actually made. */
static void FE_FN(fe_i8_quantize)(const float *T, fe_intp D, fe_intp r0, fe_intp r1, int8_t *codes,
                                  int32_t *rowsum, float *scale, double *st)
{
    /* 16 independent lanes per sum (one running sum would be a chain of dependent adds), the
     * sum of squares in fe_sumsq's lanes and tree; one pass for the maximum, one (over the row,
     * now in L1) for everything else. The codes go to a contiguous buffer first, then four at a
     * time into their block. */
    enum { NL = 16, CHUNK = 1024 };
    const fe_intp G = (D + 3) / 4;
    int8_t cbuf[CHUNK + 16];
    for (fe_intp r = r0; r < r1; r++) {
        const float *x = T + r * D;
        int8_t *c = codes + (r / FE_I8_ROWS) * FE_I8_ROWS * 4 * G + (r % FE_I8_ROWS) * 4;
        const float mx = FE_FN(fe_i8_absmax)(x, D);
        double ss = 0.0, e2 = 0.0, c2 = 0.0, sum = 0.0;
        if (mx > 0.0f && mx <= 3.4028234663852886e38f) {  /* FLT_MAX */  /* (a NaN, if any, shows in ss below) */
            const float sig = mx / 127.0f;
            const double is = 127.0 / (double)mx, sd = (double)sig;
            double e2l[NL], c2l[NL], suml[NL], x2l[NL];  /* (code sums are exact in float64) */
            for (int l = 0; l < NL; l++)
                e2l[l] = c2l[l] = suml[l] = x2l[l] = 0.0;
            for (fe_intp c0 = 0; c0 < D; c0 += CHUNK) {  /* |x * is| < 127.5: rint is in [-127, 127] */
                const fe_intp n = D - c0 < CHUNK ? D - c0 : CHUNK;
                FE_FN(fe_i8_quant_span)(x + c0, n, is, sd, cbuf, e2l, c2l, suml, x2l);
                cbuf[n] = cbuf[n + 1] = cbuf[n + 2] = 0;  /* a last partial group stays zero-padded */
                for (fe_intp g = 0; g < (n + 3) / 4; g++)
                    memcpy(c + ((c0 >> 2) + g) * (4 * FE_I8_ROWS), cbuf + 4 * g, 4);
            }
            for (int w = 8; w >= 1; w >>= 1)  /* fe_sumsq's tree: the row norms' bits */
                for (int l = 0; l < w; l++)
                    x2l[l] += x2l[l + w];
            ss = x2l[0];
            for (int l = 0; l < NL; l++) {
                e2 += e2l[l];
                c2 += c2l[l];
                sum += suml[l];
            }
            if (ss <= 1.79e308) {
                rowsum[r] = (int32_t)sum;
                scale[r] = sig;
                st[3 * r] = e2;
                st[3 * r + 1] = c2;
                st[3 * r + 2] = ss;
                continue;
            }
            for (fe_intp g = 0; g < G; g++)  /* a NaN in the row: back to zero codes */
                memset(c + g * (4 * FE_I8_ROWS), 0, 4);
        } else {
            ss = FE_FN(fe_sumsq)(x, D);
        }
        /* NaN / inf (a float32 square never overflows), or a zero row */
        rowsum[r] = 0;
        scale[r] = 0.0f;
        st[3 * r] = mx > 0.0f || ss != ss ? INFINITY : 0.0;
        st[3 * r + 1] = 0.0;
        st[3 * r + 2] = ss == ss ? ss : INFINITY;
    }
}

/* ------------------------------------------------------------------ integer dot products */

/* out[u] = (codes of row u of the block) . p for the 16 rows of a block (blk: its first byte). */

#if FV_W == 16 || FV_W == 8  /* x86 avx2 and avx512 levels */
/* AVX2: eight rows' four columns per 32-byte load; |p| (broadcast) times the codes with p's signs
 * (vpsignb), pairs to int16 (vpmaddubsw: no saturation, |values| <= 127 make each pair sum at
 * most 32258), to int32 (vpmaddwd by ones): each int32 lane one row's four-column dot product. */
FE_ALWAYS_INLINE void FE_FN(fe_i8_block_avx2)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
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
#endif

#if FV_W == 16 && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define FE_I8_HAVE_VNNI 1
#define FE_I8_VNNI_ATTR __attribute__((target("avx512f,avx512vnni")))
/* AVX-512 VNNI: one 64-byte load holds four columns of the sixteen rows; vpdpbusd with the
 * query's codes + 128 (unsigned, broadcast) adds c . p + 128 sum(c) per row lane; the rows' code
 * sums are subtracted at the end. Two accumulators: consecutive groups' chains overlap. */
static inline FE_I8_VNNI_ATTR void fe_i8_block_vnni(const int8_t *blk, int64_t G, const fe_i8_query *Q,
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

static int fe_i8_cpu_vnni(void)
{
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    }
    return known;
}
#endif

#if FV_W != 16 && FV_W != 8
/* portable C: exact int32 sums (the compiler vectorises over the block's 64 bytes) */
FE_ALWAYS_INLINE void FE_FN(fe_i8_block_c)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
                                           const int32_t *rowsum, int32_t *out)
{
    (void)rowsum;
    const int8_t *p = (const int8_t *)Q->p4;
    int32_t acc[FE_I8_ROWS];
    for (int u = 0; u < FE_I8_ROWS; u++)
        acc[u] = 0;
    for (int64_t g = 0; g < G; g++) {
        const int8_t *c = blk + g * 64, *pg = p + 4 * g;
        for (int u = 0; u < FE_I8_ROWS; u++)
            acc[u] += (int32_t)c[4 * u] * pg[0] + (int32_t)c[4 * u + 1] * pg[1]
                      + (int32_t)c[4 * u + 2] * pg[2] + (int32_t)c[4 * u + 3] * pg[3];
    }
    for (int u = 0; u < FE_I8_ROWS; u++)
        out[u] = acc[u];
}
#endif

/* ------------------------------------------------------------------ the bounded scan */

/* Software prefetch distance of the bounded scan, in bytes of codes. */
#ifndef FE_I8_PREFETCH
#define FE_I8_PREFETCH 16384
#endif

/* One body, instantiated per dot-product kernel: FE_I8_SCAN_BODY(name, attributes, block, dot type)
 * where block(a, blk, Q, r, dots) writes the 16 dot products of block blk (rows r..r+15) with query
 * Q: int32 for the int8 kernels, float for the half index (whose queries have tau = 1, fn = 0).
 * r0 is a multiple of FE_I8_ROWS (the callers split on block boundaries). */
#ifndef FE_I8_DOTS_DEFINED
#define FE_I8_DOTS_DEFINED
#define FE_I8_DOTS_VNNI(a, blk, Q, r, dots) fe_i8_block_vnni((blk), (a)->G, (Q), (a)->rowsum + (r), (dots))
#define FE_I8_DOTS_BW(a, blk, Q, r, dots) FE_FN(fe_i8_block_avx2)((blk), (a)->G, (Q), (a)->rowsum + (r), (dots))
#define FE_I8_DOTS_C(a, blk, Q, r, dots) FE_FN(fe_i8_block_c)((blk), (a)->G, (Q), (a)->rowsum + (r), (dots))
#define FE_HX_DOTS_F16(a, blk, Q, r, dots) FE_FN(fe_hx_dots_f16)((const uint16_t *)(const void *)(blk), (a)->t.D, (Q)->qf, (dots))
/* CVT: whether (and how) a kind converts a block's rows to float32 once for several queries */
#define FE_I8_NOCVT_ON 0
#define FE_I8_NOCVT_ROW(dst, src, d) ((void)(dst), (void)(src), (void)(d))
#define FE_I8_NOCVT_ALL(cvt, D, qs, nq, out) ((void)(cvt), (void)(D), (void)(qs), (void)(nq), (void)(out))
#define FE_HX_CVT_F16_ON 1
#define FE_HX_CVT_F16_ROW(dst, src, d) FE_FN(fe_kcopy_row_f16)((dst), (src), 1.0f, (d), 0)
#define FE_HX_CVT_F16_ALL(cvt, D, qs, nq, out) FE_FN(fe_hx_dots_all)((cvt), (D), (qs), (nq), (out))
#define FE_HX_CVT_BF16_ON 1
#define FE_HX_CVT_BF16_ROW(dst, src, d) FE_FN(fe_kcopy_row_bf16)((dst), (src), 1.0f, (d), 0)
#define FE_HX_CVT_BF16_ALL(cvt, D, qs, nq, out) FE_FN(fe_hx_dots_all)((cvt), (D), (qs), (nq), (out))
#define FE_HX_DOTS_BF16(a, blk, Q, r, dots) FE_FN(fe_hx_dots_bf16)((const uint16_t *)(const void *)(blk), (a)->t.D, (Q)->qf, (dots))
#endif
#define FE_I8_SCAN_BODY(NAME, ATTR, BLOCK, DOT_T, PF, CVT)                                                  \
static ATTR int NAME(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,   \
                     fe_i8_state *st)                                                                  \
{                                                                                                      \
    const int64_t k = a->t.k, bb = a->block_bytes;                                                     \
    const char *pf_end = (const char *)(a->codes + ((r1 + FE_I8_ROWS - 1) / FE_I8_ROWS) * bb);         \
    const char *cf_end = (const char *)(a->coef + ((r1 + FE_I8_ROWS - 1) / FE_I8_ROWS) * 3 * FE_I8_ROWS); \
    DOT_T dots[FE_I8_ROWS];                                                                            \
    /* CVT: a kind whose rows several queries would each convert converts each block once */          \
    float *cvt = CVT##_ON && nq >= 2 ? (float *)malloc((size_t)(FE_I8_ROWS * (a->t.D + nq)) * sizeof(float)) : NULL; \
    float *alld = cvt != NULL ? cvt + FE_I8_ROWS * a->t.D : NULL;  /* every query's dots of a block */  \
    float U[FE_I8_ROWS], L[FE_I8_ROWS];                                                                \
    for (int64_t r = r0; r < r1; r += FE_I8_ROWS) {                                                    \
        const int nr = r1 - r < FE_I8_ROWS ? (int)(r1 - r) : FE_I8_ROWS;                               \
        if (a->t.mask != NULL) {  /* skip blocks with no candidate */                                  \
            int any = 0;                                                                               \
            for (int u = 0; u < nr; u++)                                                               \
                any |= a->t.mask[r + u];                                                               \
            if (!any)                                                                                  \
                continue;                                                                              \
        }                                                                                              \
        const int8_t *blk = a->codes + (r / FE_I8_ROWS) * bb;                                          \
        if (PF) {   /* this block's worth of lines, FE_I8_PREFETCH bytes ahead */                      \
            const char *p = (const char *)blk + FE_I8_PREFETCH, *pe = p + bb;                          \
            for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)                                      \
                FE_PREFETCH(p);                                                                        \
        }                                                                                              \
        const float *cent = a->coef + (r / FE_I8_ROWS) * (3 * FE_I8_ROWS);                             \
        const float *ra = cent + FE_I8_ROWS, *rb = cent + 2 * FE_I8_ROWS;                              \
        {   /* the coefficients of the block the codes' prefetch reaches */                            \
            const char *p = (const char *)(cent + (1 + FE_I8_PREFETCH / bb) * (3 * FE_I8_ROWS));       \
            if (p < cf_end) {                                                                          \
                FE_PREFETCH(p);                                                                        \
                FE_PREFETCH(p + 64);                                                                   \
                FE_PREFETCH(p + 128);                                                                  \
            }                                                                                          \
        }                                                                                              \
        if (cvt != NULL) {                                                                             \
            for (int u = 0; u < FE_I8_ROWS; u++)                                                       \
                CVT##_ROW(cvt + u * a->t.D, (const uint16_t *)(const void *)blk + u * a->t.D, a->t.D);  \
            CVT##_ALL(cvt, a->t.D, qs, nq, alld);                                                      \
        }                                                                                              \
        for (int64_t j = 0; j < nq; j++) {                                                             \
            const fe_i8_query *Q = qs + j;                                                             \
            fe_i8_state *s = st + j;                                                                   \
            if (alld != NULL)                                                                          \
                memcpy(dots, alld + j * FE_I8_ROWS, sizeof dots);                                      \
            else                                                                                       \
                BLOCK(a, blk, Q, r, dots);                                                             \
            const float tau = Q->tau, fn = Q->fn, qn = Q->qn, ab = Q->abs_err, thr = s->lb[0];         \
            int any_l = 0, any_u = 0;  /* integer OR reductions: the loop vectorises (a float max    \
                                          reduction would not, without fast-math) */                   \
            for (int u = 0; u < nr; u++) {                                                             \
                float A = cent[u] * (tau * (float)dots[u]);                                            \
                float rad = (ra[u] * fn + rb[u] * qn) + (fabsf(A) * 0x1p-20f + ab);                    \
                float up = A + rad, lo = A - rad;                                                      \
                up = up < INFINITY ? up : INFINITY;     /* NaN (inf * 0) -> unbounded */               \
                lo = lo > -INFINITY ? lo : -INFINITY;                                                  \
                U[u] = up;                                                                             \
                L[u] = lo;                                                                             \
                any_l |= lo > thr;                                                                     \
                any_u |= up >= thr;                                                                    \
            }                                                                                          \
            if (any_l)                                                                                 \
                for (int u = 0; u < nr; u++)                                                           \
                    if (L[u] > s->lb[0] && fe_i8_eligible(&a->t, Q->q, r + u))                         \
                        fe_i8_lb_push(s->lb, k, L[u]);                                                 \
            if (any_u)  /* any_u saw the threshold before the pushes; it only rises */             \
                for (int u = 0; u < nr; u++)                                                           \
                    if (U[u] >= s->lb[0] && fe_i8_eligible(&a->t, Q->q, r + u))                        \
                        fe_i8_add(s, r + u, U[u]);                                                     \
        }                                                                                              \
    }                                                                                                  \
    free(cvt);                                                                                         \
    for (int64_t j = 0; j < nq; j++)                                                                   \
        if (st[j].failed)                                                                              \
            return -1;                                                                                 \
    return 0;                                                                                          \
}

#if FV_W == 16
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan_bw), , FE_I8_DOTS_BW, int32_t, 1, FE_I8_NOCVT)
#if FE_I8_HAVE_VNNI
FE_I8_SCAN_BODY(fe_i8_scan_vnni, FE_I8_VNNI_ATTR, FE_I8_DOTS_VNNI, int32_t, 1, FE_I8_NOCVT)
#endif
/* AVX-512 CPUs with VNNI run vpdpbusd; the others (Skylake-SP) the AVX2 kernel: the same integers */
static int FE_FN(fe_i8_scan)(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,
                             fe_i8_state *st)
{
#if FE_I8_HAVE_VNNI
    if (fe_i8_cpu_vnni())
        return fe_i8_scan_vnni(a, qs, nq, r0, r1, st);
#endif
    return FE_FN(fe_i8_scan_bw)(a, qs, nq, r0, r1, st);
}

static const char *FE_FN(fe_i8_kernel)(void)
{
#if FE_I8_HAVE_VNNI
    if (fe_i8_cpu_vnni())
        return "avx512-vnni (vpdpbusd)";
#endif
    return "avx2 (vpmaddubsw): no avx512-vnni in this cpu or this build";
}
#elif FV_W == 8
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan), , FE_I8_DOTS_BW, int32_t, 1, FE_I8_NOCVT)
static const char *FE_FN(fe_i8_kernel)(void) { return "avx2 (vpmaddubsw + vpmaddwd)"; }
#else
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan), , FE_I8_DOTS_C, int32_t, 1, FE_I8_NOCVT)
static const char *FE_FN(fe_i8_kernel)(void) { return "portable c (int32 sums)"; }
#endif

/* ------------------------------------------------------------------ half index build */

/* One column of a half index row (every level's scalar path and tails): xs = x * 2^sh rounded
 * once to float32 (the float64 product is exact), h = its half bits (nearest even), and the lane
 * sums of (x - h 2^-sh)^2, (h 2^-sh)^2, x^2 in float64. */
#define FE_HX_ONE(j) do {                                                                          \
        const double v_ = (double)fe_ldf(x + (j));                                                 \
        const float xs_ = (float)(v_ * up);                                                        \
        const uint16_t hv_ = bf ? fe_f32_to_bf16(xs_) : fe_f32_to_f16(xs_);                        \
        const double hu_ = (double)(bf ? fe_bf16_to_f32(hv_) : fe_f16_to_f32(hv_)) * down;         \
        const double d_ = v_ - hu_;                                                                \
        const int l_ = (int)((j) & 15);                                                            \
        hr[j] = hv_;                                                                               \
        e2[l_] += d_ * d_;                                                                         \
        h2[l_] += hu_ * hu_;                                                                       \
        x2[l_] += v_ * v_;                                                                         \
    } while (0)

/* Columns [0, D) of row x into hr and the 16-lane sums (lane j mod 16, as FE_HX_ONE); pf = 2^sh
 * as a float32 (sh <= 126; x * pf is then the same rounding of the same product). */
static void FE_FN(fe_hx_span)(const float *x, int64_t D, float pf, double up, double down, int bf,
                              uint16_t *hr, double *e2, double *h2, double *x2)
{
    int64_t j = 0;
#if FV_W == 16 && FE_SIMD_X86
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
#elif FV_W == 8 && FE_SIMD_X86
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
#endif
    (void)pf;
    for (; j < D; j++)
        FE_HX_ONE(j);
}

/* Rows [r0, r1) of a (V, D) float32 table to float16 (bf == 0) or bfloat16 (bf == 1) bits h of the
 * row scaled by 2^shift[r], the power of two that brings max|x| into [1, 2) (no float16 overflow,
 * few subnormals), and st[3 r .. 3 r + 2] = (sum (x - h 2^-shift)^2, sum (h 2^-shift)^2, sum x^2)
 * in float64 (the differences exact: h is a rounding of a nearby value), summed in 16 lanes in the
 * same order at every level (the same bits). Non-finite rows: h = 0, shift 0, st = (inf, 0, inf);
 * zero rows: everything 0. h arrives zeroed. numpy: fastembed.reference.half_index_rows. */
static void FE_FN(fe_hx_build)(const float *T, int64_t D, int64_t r0, int64_t r1, int bf, uint16_t *h,
                               int32_t *shift, double *st)
{
    for (int64_t r = r0; r < r1; r++) {
        const float *x = T + r * D;
        uint16_t *hr = h + r * D;
        const float mx = FE_FN(fe_i8_absmax)(x, D);  /* (NaN never wins) */
        shift[r] = 0;
        st[3 * r] = st[3 * r + 1] = st[3 * r + 2] = 0.0;
        if (mx > 0.0f && mx <= 3.4028234663852886e38f) {
            int e;
            (void)frexpf(mx, &e);  /* mx = f 2^e, f in [0.5, 1): mx 2^(1 - e) in [1, 2) */
            const int sh = 1 - e;
            const double up = ldexp(1.0, sh), down = ldexp(1.0, -sh);
            double e2[16], h2[16], x2[16];
            for (int l = 0; l < 16; l++)
                e2[l] = h2[l] = x2[l] = 0.0;
            if (sh <= 126) {
                FE_FN(fe_hx_span)(x, D, ldexpf(1.0f, sh), up, down, bf, hr, e2, h2, x2);
            } else {  /* a row of denormals: 2^sh is beyond float32 */
                for (int64_t j = 0; j < D; j++)
                    FE_HX_ONE(j);
            }
            double se = 0.0, sh2 = 0.0, sx = 0.0;
            for (int l = 0; l < 16; l++) {
                se += e2[l];
                sh2 += h2[l];
                sx += x2[l];
            }
            if (sx <= 1.79e308) {  /* (a NaN in the row shows here) */
                shift[r] = sh;
                st[3 * r] = se;
                st[3 * r + 1] = sh2;
                st[3 * r + 2] = sx;
                continue;
            }
            memset(hr, 0, (size_t)D * sizeof(uint16_t));
        } else if (!(mx > 0.0f)) {  /* zeros, or zeros and NaNs */
            int nan = 0;
            for (int64_t j = 0; j < D; j++)
                nan |= fe_ldf(x + j) != fe_ldf(x + j);
            if (!nan)
                continue;
        }
        st[3 * r] = INFINITY;  /* not finite */
        st[3 * r + 2] = INFINITY;
    }
}

/* ------------------------------------------------------------------ the half index's scan */

/* The 16 float32 dot products of a block of half rows with the query: fk_dot_rows, FV_ROWS rows
 * at a time (the fixed order of impl/dot.h, so each is fe_dot of the upcast row), each group's
 * lines prefetched FE_SCAN_PREFETCH bytes ahead as the half scans do (impl/kinds.h FK_NARROW_PREFETCH). */
FE_ALWAYS_INLINE void FE_FN(fe_hx_dots_f16)(const uint16_t *blk, int64_t D, const float *q, float *dots)
{
    const char *pf_end = (const char *)blk + FE_SCAN_PREFETCH + FE_I8_ROWS * D * 2;  /* (prefetches never fault) */
    for (int u = 0; u < FE_I8_ROWS; u += FV_ROWS)
        FE_FN(fk_dot_rows_f16)(blk + u * D, D, NULL, q, dots + u, FE_SCAN_PREFETCH, pf_end, blk + FE_I8_ROWS * D);
}

FE_ALWAYS_INLINE void FE_FN(fe_hx_dots_bf16)(const uint16_t *blk, int64_t D, const float *q, float *dots)
{
    const char *pf_end = (const char *)blk + FE_SCAN_PREFETCH + FE_I8_ROWS * D * 2;
    for (int u = 0; u < FE_I8_ROWS; u += FV_ROWS)
        FE_FN(fk_dot_rows_bf16)(blk + u * D, D, NULL, q, dots + u, FE_SCAN_PREFETCH, pf_end, blk + FE_I8_ROWS * D);
}

/* Several queries: the block converted once (cvt, 16 rows of D floats), every query's 16 dots into
 * out[j * 16 + u] by the float32 kernels, queries in pairs sharing each row load (fe_dot_rows_q2,
 * as the float32 scan does): the same bits as fe_hx_dots (the upcast is exact, the order fixed). */
static void FE_FN(fe_hx_dots_all)(const float *cvt, int64_t D, const fe_i8_query *qs, int64_t nq, float *out)
{
    int64_t j = 0;
    for (; j + 2 <= nq; j += 2)
        for (int u = 0; u < FE_I8_ROWS; u += FV_PAIR_ROWS) {
            float d2[2 * FV_PAIR_ROWS];
            FE_FN(fe_dot_rows_q2)(cvt + u * D, D, qs[j].qf, qs[j + 1].qf, D, d2);
            for (int v = 0; v < FV_PAIR_ROWS; v++) {
                out[j * FE_I8_ROWS + u + v] = d2[v];
                out[(j + 1) * FE_I8_ROWS + u + v] = d2[FV_PAIR_ROWS + v];
            }
        }
    for (; j < nq; j++)
        for (int u = 0; u < FE_I8_ROWS; u += FV_ROWS)
            FE_FN(fe_dot_rows)(cvt + u * D, D, qs[j].qf, D, out + j * FE_I8_ROWS + u, 0, NULL);
}

FE_I8_SCAN_BODY(FE_FN(fe_hx_scan_f16), , FE_HX_DOTS_F16, float, 0, FE_HX_CVT_F16)
FE_I8_SCAN_BODY(FE_FN(fe_hx_scan_bf16), , FE_HX_DOTS_BF16, float, 0, FE_HX_CVT_BF16)

/* ------------------------------------------------------------------ exact re-scoring */

/* Score every candidate of s whose upper bound reaches thr exactly as the float32 scan scores it
 * (fe_dot in the fixed order of impl/dot.h, times inv[r] for cosine: impl/topk.h's fe_offer_dots)
 * and offer it to query q's heap; returns how many were scored. Candidates are in row order, so a
 * memory-mapped table is read forward. */
static int64_t FE_FN(fe_i8_rescore)(const fe_topk_args *a, const float *qv, int64_t q, const fe_i8_state *s,
                                    float thr, float *hs, int64_t *hi)
{
    const int64_t D = a->D;
    int64_t n = 0;
    for (int64_t j = 0; j < s->n; j++) {
        if (!(s->ub[j] >= thr))
            continue;
        const int64_t r = s->ids[j];
        if (j + 4 < s->n)
            fe_prefetch_row(a->table + s->ids[j + 4] * D, D);
        const float d = FE_FN(fe_dot)(a->table + r * D, qv, D);
        const float sc = a->inv ? d * a->inv[r] : d;
        fe_offer(a, hs, hi, q, sc, r);
        n++;
    }
    return n;
}
