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
 * The integer dot product per level: AVX-512 VNNI (vpdpbusd on codes + 128, the query's sum
 * subtracted), AVX2 (vpmaddubsw on |p| and the codes with p's signs, vpmaddwd to int32; no
 * saturation since |c|, |p| <= 127 make each pair sum <= 32258), scalar C elsewhere (and on
 * AVX-512 CPUs without VNNI, which run the AVX2 kernel). Integer sums are exact, so every kernel
 * gives the same bounds, the same candidates and the same answers.
 */

/* ------------------------------------------------------------------ build */

/* Rows [r0, r1): codes[r * D + i] = round(x_i * 127 / max|x|) in [-127, 127], scale[r] =
 * float32(max|x| / 127), st[3 r] = sum (x_i - scale * code_i)^2, st[3 r + 1] = sum code_i^2,
 * st[3 r + 2] = sum x_i^2, all in float64 (the error terms are exact in float64: a float32 minus
 * a float32 times a 7-bit integer spans at most 33 bits). Non-finite rows: codes 0, scale 0,
 * st = (inf, 0, inf); zero rows: everything 0. Any rounding of the codes is valid: the bounds use
 * the error actually made. */
static void FE_FN(fe_i8_quantize)(const float *T, fe_intp D, fe_intp r0, fe_intp r1, int8_t *codes,
                                  float *scale, double *st)
{
    for (fe_intp r = r0; r < r1; r++) {
        const float *x = T + r * D;
        int8_t *c = codes + r * D;
        float mx = 0.0f;
        double ss = 0.0;
        for (fe_intp i = 0; i < D; i++) {
            float v = fe_ldf(x + i), a = fabsf(v);
            mx = a > mx ? a : mx;
            ss += (double)v * (double)v;
        }
        if (!(ss <= 1.79e308) || !(mx > 0.0f)) {  /* NaN / inf (a float32 square never overflows), or zero */
            memset(c, 0, (size_t)D);
            scale[r] = 0.0f;
            st[3 * r] = mx > 0.0f || ss != ss ? INFINITY : 0.0;
            st[3 * r + 1] = 0.0;
            st[3 * r + 2] = ss == ss ? ss : INFINITY;
            continue;
        }
        const float sig = mx / 127.0f;
        const double is = 127.0 / (double)mx, sd = (double)sig;
        double e2 = 0.0, c2 = 0.0;
        for (fe_intp i = 0; i < D; i++) {
            double v = (double)fe_ldf(x + i), t = v * is;
            int qi = (int)(t >= 0.0 ? t + 0.5 : t - 0.5);
            qi = qi > 127 ? 127 : (qi < -127 ? -127 : qi);
            c[i] = (int8_t)qi;
            double e = v - sd * (double)qi;
            e2 += e * e;
            c2 += (double)(qi * qi);
        }
        scale[r] = sig;
        st[3 * r] = e2;
        st[3 * r + 1] = c2;
        st[3 * r + 2] = ss;
    }
}

/* ------------------------------------------------------------------ integer dot products */

#ifndef FE_I8_BLOCK
#define FE_I8_BLOCK 16  /* rows per block of the bounded scan (their bounds are computed together) */
#endif

#if FV_W == 16 || FV_W == 8  /* x86 avx2 and avx512 levels */
/* out[u] = codes row u . p for 4 rows (x: the first, stride D), AVX2: |p| times the codes with p's
 * signs (vpsignb), pairs to int16 (vpmaddubsw, no saturation for |values| <= 127), to int32
 * (vpmaddwd by ones). Reads up to 31 bytes past each row (p is zero there). */
FE_ALWAYS_INLINE void FE_FN(fe_i8_dot4_avx2)(const int8_t *x, fe_intp D, const fe_i8_query *Q, int32_t *out)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (fe_intp i = 0; i < D; i += 32) {
        __m256i p = _mm256_loadu_si256((const __m256i *)(Q->p + i));
        __m256i pa = _mm256_loadu_si256((const __m256i *)(Q->pabs + i));
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i c1 = _mm256_loadu_si256((const __m256i *)(x + D + i));
        __m256i c2 = _mm256_loadu_si256((const __m256i *)(x + 2 * D + i));
        __m256i c3 = _mm256_loadu_si256((const __m256i *)(x + 3 * D + i));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c0, p)), ones));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c1, p)), ones));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c2, p)), ones));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c3, p)), ones));
    }
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    _mm_storeu_si128((__m128i *)out, s);
}

FE_ALWAYS_INLINE int32_t FE_FN(fe_i8_dot1_avx2)(const int8_t *x, fe_intp D, const fe_i8_query *Q)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256();
    for (fe_intp i = 0; i < D; i += 32) {
        __m256i p = _mm256_loadu_si256((const __m256i *)(Q->p + i));
        __m256i pa = _mm256_loadu_si256((const __m256i *)(Q->pabs + i));
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(x + i));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(pa, _mm256_sign_epi8(c0, p)), ones));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

FE_ALWAYS_INLINE void FE_FN(fe_i8_dots_avx2)(const int8_t *x, fe_intp D, int nr, const fe_i8_query *Q, int32_t *out)
{
    int u = 0;
    for (; u + 4 <= nr; u += 4)
        FE_FN(fe_i8_dot4_avx2)(x + u * D, D, Q, out + u);
    for (; u < nr; u++)
        out[u] = FE_FN(fe_i8_dot1_avx2)(x + u * D, D, Q);
}
#endif

#if FV_W == 16 && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define FE_I8_HAVE_VNNI 1
#define FE_I8_VNNI_ATTR __attribute__((target("avx512f,avx512vnni")))
/* 4 rows, AVX-512 VNNI: vpdpbusd(codes ^ 0x80 (= code + 128, unsigned), p) = c . p + 128 sum(p);
 * reads up to 63 bytes past each row (p is zero there). Wrapping int32 arithmetic: the true dot
 * product fits (|c . p| <= 127^2 D < 2^31), so the modular result is it. */
static inline FE_I8_VNNI_ATTR void fe_i8_dot4_vnni(const int8_t *x, fe_intp D, const fe_i8_query *Q, int32_t *out)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (fe_intp i = 0; i < D; i += 64) {
        __m512i p = _mm512_loadu_si512((const void *)(Q->p + i));
        a0 = _mm512_dpbusd_epi32(a0, _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + i)), flip), p);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + D + i)), flip), p);
        a2 = _mm512_dpbusd_epi32(a2, _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + 2 * D + i)), flip), p);
        a3 = _mm512_dpbusd_epi32(a3, _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + 3 * D + i)), flip), p);
    }
    __m256i b0 = _mm256_add_epi32(_mm512_castsi512_si256(a0), _mm512_extracti64x4_epi64(a0, 1));
    __m256i b1 = _mm256_add_epi32(_mm512_castsi512_si256(a1), _mm512_extracti64x4_epi64(a1, 1));
    __m256i b2 = _mm256_add_epi32(_mm512_castsi512_si256(a2), _mm512_extracti64x4_epi64(a2, 1));
    __m256i b3 = _mm256_add_epi32(_mm512_castsi512_si256(a3), _mm512_extracti64x4_epi64(a3, 1));
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(b0, b1), _mm256_hadd_epi32(b2, b3));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    s = _mm_sub_epi32(s, _mm_set1_epi32((int32_t)((uint32_t)Q->psum * 128u)));
    _mm_storeu_si128((__m128i *)out, s);
}

static inline FE_I8_VNNI_ATTR int32_t fe_i8_dot1_vnni(const int8_t *x, fe_intp D, const fe_i8_query *Q)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i a0 = _mm512_setzero_si512();
    for (fe_intp i = 0; i < D; i += 64)
        a0 = _mm512_dpbusd_epi32(a0, _mm512_xor_si512(_mm512_loadu_si512((const void *)(x + i)), flip),
                                 _mm512_loadu_si512((const void *)(Q->p + i)));
    return (int32_t)((uint32_t)_mm512_reduce_add_epi32(a0) - (uint32_t)Q->psum * 128u);
}

static inline FE_I8_VNNI_ATTR void fe_i8_dots_vnni(const int8_t *x, fe_intp D, int nr, const fe_i8_query *Q,
                                                    int32_t *out)
{
    int u = 0;
    for (; u + 4 <= nr; u += 4)
        fe_i8_dot4_vnni(x + u * D, D, Q, out + u);
    for (; u < nr; u++)
        out[u] = fe_i8_dot1_vnni(x + u * D, D, Q);
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
/* portable C: exact int32 sums (the compiler vectorises the loop at the level's width) */
FE_ALWAYS_INLINE void FE_FN(fe_i8_dots_c)(const int8_t *x, fe_intp D, int nr, const fe_i8_query *Q, int32_t *out)
{
    for (int u = 0; u < nr; u++) {
        const int8_t *c = x + u * D;
        int32_t s = 0;
        for (fe_intp i = 0; i < D; i++)
            s += (int32_t)c[i] * (int32_t)Q->p[i];
        out[u] = s;
    }
}
#endif

/* ------------------------------------------------------------------ the bounded scan */

/* One body, instantiated per integer kernel: FE_I8_SCAN_BODY(name, attributes, dots function). */
#define FE_I8_SCAN_BODY(NAME, ATTR, DOTS)                                                              \
static ATTR int NAME(const fe_i8_args *a, const fe_i8_query *qs, int64_t nq, int64_t r0, int64_t r1,   \
                     fe_i8_state *st)                                                                  \
{                                                                                                      \
    const int64_t D = a->t.D, k = a->t.k;                                                              \
    const char *pf_end = (const char *)(a->codes + r1 * D);                                            \
    int32_t dots[FE_I8_BLOCK];                                                                         \
    float U[FE_I8_BLOCK], L[FE_I8_BLOCK];                                                              \
    for (int64_t r = r0; r < r1; r += FE_I8_BLOCK) {                                                   \
        const int nr = r1 - r < FE_I8_BLOCK ? (int)(r1 - r) : FE_I8_BLOCK;                             \
        if (a->t.mask != NULL) {  /* skip blocks with no candidate */                                  \
            int any = 0;                                                                               \
            for (int u = 0; u < nr; u++)                                                               \
                any |= a->t.mask[r + u];                                                               \
            if (!any)                                                                                  \
                continue;                                                                              \
        }                                                                                              \
        {   /* this block's worth of lines, 8 KB ahead */                                              \
            const char *p = (const char *)(a->codes + r * D) + 8192, *pe = p + nr * D;                 \
            for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)                                      \
                FE_PREFETCH(p);                                                                        \
        }                                                                                              \
        const float *cent = a->cent + r, *ra = a->ra + r, *rb = a->rb + r;                             \
        for (int64_t j = 0; j < nq; j++) {                                                             \
            const fe_i8_query *Q = qs + j;                                                             \
            fe_i8_state *s = st + j;                                                                   \
            DOTS(a->codes + r * D, D, nr, Q, dots);                                                    \
            const float tau = Q->tau, fn = Q->fn, qn = Q->qn, ab = Q->abs_err;                         \
            float umax = -INFINITY, lmax = -INFINITY;                                                  \
            for (int u = 0; u < nr; u++) {                                                             \
                float A = cent[u] * (tau * (float)dots[u]);                                            \
                float rad = (ra[u] * fn + rb[u] * qn) + (fabsf(A) * 0x1p-20f + ab);                    \
                float up = A + rad, lo = A - rad;                                                      \
                up = up < INFINITY ? up : INFINITY;     /* NaN (inf * 0) -> unbounded */               \
                lo = lo > -INFINITY ? lo : -INFINITY;                                                  \
                U[u] = up;                                                                             \
                L[u] = lo;                                                                             \
                umax = up > umax ? up : umax;                                                          \
                lmax = lo > lmax ? lo : lmax;                                                          \
            }                                                                                          \
            if (lmax > s->lb[0])                                                                       \
                for (int u = 0; u < nr; u++)                                                           \
                    if (L[u] > s->lb[0] && fe_i8_eligible(&a->t, Q->q, r + u))                         \
                        fe_i8_lb_push(s->lb, k, L[u]);                                                 \
            if (umax >= s->lb[0])                                                                      \
                for (int u = 0; u < nr; u++)                                                           \
                    if (U[u] >= s->lb[0] && fe_i8_eligible(&a->t, Q->q, r + u))                        \
                        fe_i8_add(s, r + u, U[u]);                                                     \
        }                                                                                              \
    }                                                                                                  \
    for (int64_t j = 0; j < nq; j++)                                                                   \
        if (st[j].failed)                                                                              \
            return -1;                                                                                 \
    return 0;                                                                                          \
}

#if FV_W == 16
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan_bw), , FE_FN(fe_i8_dots_avx2))
#if FE_I8_HAVE_VNNI
FE_I8_SCAN_BODY(fe_i8_scan_vnni, FE_I8_VNNI_ATTR, fe_i8_dots_vnni)
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
    return "avx2 (vpmaddubsw) on an avx512 cpu without vnni";
}
#elif FV_W == 8
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan), , FE_FN(fe_i8_dots_avx2))
static const char *FE_FN(fe_i8_kernel)(void) { return "avx2 (vpmaddubsw + vpmaddwd)"; }
#else
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan), , FE_FN(fe_i8_dots_c))
static const char *FE_FN(fe_i8_kernel)(void) { return "portable c (int32 sums)"; }
#endif

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
