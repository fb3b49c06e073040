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
 * horizontal sums): the avx512vnni level (vpdpbusd of the query's codes + 128 with the row codes,
 * the rows' code sums subtracted), avx2 and avx512 (vpmaddubsw of |p| with the codes carrying p's
 * signs, vpmaddwd to int32), scalar C elsewhere. Integer sums are exact, so every level gives the
 * same bounds, candidates and answers. The intrinsics live in the SIMD layers (simd/vec_*.h:
 * FV_I8_BLOCK, FV_I8_ABSMAX, FV_I8_QUANT, FV_HX_SPAN, each the vector prefix of a loop whose
 * scalar rest is here); a layer without them runs the portable C below.
 */

#ifndef FV_I8_ABSMAX
#define FV_I8_ABSMAX(x, D, mx) ((void)(x), (void)(D), (void)(mx), (fe_intp)0)
#endif
#ifndef FV_I8_QUANT
#define FV_I8_QUANT(x, n, is, sd, cb, e2, c2, sm, x2) ((fe_intp)0)
#endif
#ifndef FV_HX_SPAN
#define FV_HX_SPAN(x, D, pf, down, bf, hr, e2, h2, x2) ((int64_t)0)
#endif

/* ------------------------------------------------------------------ build */

/* max |x_i| over a row (NaN never wins: max(a, m) keeps m when a is NaN, as `a > m ? a : m`) */
static float FE_FN(fe_i8_absmax)(const float *x, fe_intp D)
{
    float mx = 0.0f;
    fe_intp i = FV_I8_ABSMAX(x, D, &mx);  /* a level's vector prefix (the layer's), then the scalar rest */
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
    fe_intp j = FV_I8_QUANT(x, n, is, sd, cb, e2, c2, sm, x2);  /* the layer's vector prefix */
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

#ifdef FV_I8_BLOCK
FE_ALWAYS_INLINE void FE_FN(fe_i8_block)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
                                         const int32_t *rowsum, int32_t *out)
{
    FV_I8_BLOCK(blk, G, Q, rowsum, out);
}
#else
/* portable C: exact int32 sums (the compiler vectorises over the block's 64 bytes) */
FE_ALWAYS_INLINE void FE_FN(fe_i8_block)(const int8_t *blk, int64_t G, const fe_i8_query *Q,
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
#define FE_I8_DOTS(a, blk, Q, r, dots) FE_FN(fe_i8_block)((blk), (a)->G, (Q), (a)->rowsum + (r), (dots))
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

/* The layer's integer dot products (FV_I8_BLOCK: vpdpbusd at avx512vnni, vpmaddubsw at avx2 and
 * avx512), or the portable C ones: exact int32 sums, so every level gives the same bounds. */
FE_I8_SCAN_BODY(FE_FN(fe_i8_scan), , FE_I8_DOTS, int32_t, 1, FE_I8_NOCVT)

static const char *FE_FN(fe_i8_kernel)(void)
{
#ifdef FV_I8_KERNEL_NAME
    return FV_I8_KERNEL_NAME;
#else
    return "portable c (int32 sums)";
#endif
}

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
    int64_t j = FV_HX_SPAN(x, D, pf, down, bf, hr, e2, h2, x2);  /* the layer's vector prefix */
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
