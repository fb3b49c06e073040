/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * Top-k scans and merges. A (query, row) score is always the fixed-order dot product of impl/dot.h
 * (times the row's inverse norm for cosine), whichever level, block or thread computes it.
 */

/* Offer n consecutive rows' dot products (rows r .. r+n-1) to query q's heap. */
static inline void FE_FN(fe_offer_dots)(const fe_topk_args *a, const float *dots, int n, int64_t r,
                                        int64_t q, float *hs, int64_t *hi)
{
    for (int u = 0; u < n; u++) {
        const float s = a->inv ? dots[u] * a->inv[r + u] : dots[u];
        if (s >= hs[0])  /* strictly below the k-th best (or NaN): cannot enter */
            fe_offer(a, hs, hi, q, s, r + u);
    }
}

/* Software prefetch distance of the scans, in bytes: measured 1.2-3x faster than the hardware
 * prefetchers alone on tables that do not fit in cache (1 and 2 threads, D 100 and 300, every
 * level); 4-16 KB all did about as well. */
#ifndef FE_SCAN_PREFETCH
#define FE_SCAN_PREFETCH 8192
#endif

/* Merge n precomputed dot products of query q with rows r0 .. r0+n-1 (a row of a GEMM block) into
 * q's heap. Sixteen scores at a time are first compared, as a block maximum, with the heap root. */
static void FE_FN(fe_merge_scores)(const fe_topk_args *a, const float *dots, int64_t n, int64_t r0,
                                   int64_t q, float *hs, int64_t *hi)
{
    const float *inv = a->inv ? a->inv + r0 : NULL;
    float v[16];
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float mx[16];
        for (int l = 0; l < 16; l++) {
            v[l] = inv ? dots[i + l] * inv[i + l] : dots[i + l];
            mx[l] = v[l];
        }
        for (int w = 8; w >= 1; w >>= 1)
            for (int l = 0; l < w; l++)
                mx[l] = mx[l + w] > mx[l] ? mx[l + w] : mx[l];
        if (mx[0] < hs[0])
            continue;  /* strictly below the k-th best: nothing here can enter */
        for (int l = 0; l < 16; l++)
            fe_offer(a, hs, hi, q, v[l], r0 + i + l);
    }
    for (; i < n; i++)
        fe_offer(a, hs, hi, q, inv ? dots[i] * inv[i] : dots[i], r0 + i);
}

/* Analogy scores from per-word dot products: for query q, row r0 + l scores
 * ((Sb[l] - Sa[l]) + Sc[l]) * qs (times inv[r0 + l] for cosine): dot(b - a + c, row) / ||b - a + c||
 * computed from the rows' dot products with the distinct words a, b, c. Fused with the merge. */
static void FE_FN(fe_merge_combined)(const fe_topk_args *a, const float *Sa, const float *Sb,
                                     const float *Sc, float qs, int64_t n, int64_t r0, int64_t q,
                                     float *hs, int64_t *hi, float *buf)
{
    /* combine into an L1-resident buffer with a plain vectorisable loop, then one merge pass */
    for (int64_t l = 0; l < n; l++)
        buf[l] = ((Sb[l] - Sa[l]) + Sc[l]) * qs;
    FE_FN(fe_merge_scores)(a, buf, n, r0, q, hs, hi);
}
