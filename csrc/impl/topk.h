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

/* Scan rows [r0, r1) for queries q0 .. q0+nq-1 into nq heaps of k: FV_ROWS rows at a time (the
 * block stays in L1 while every query passes over it: pairs of queries share each row load), the
 * rest one by one. */
static void FE_FN(fe_scan_rows)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                                int64_t r0, int64_t r1, float *hs, int64_t *hi)
{
    const int64_t D = a->D, k = a->k;
    const float *T = a->table;
    const char *pf_end = (const char *)(T + r1 * D);
    float dots[FV_ROWS];
    int64_t r = r0;
    for (; r + FV_ROWS <= r1; r += FV_ROWS) {
        if (a->mask != NULL) {  /* skip blocks with no candidate (restrict masks are often sparse) */
            int any = 0;
            for (int u = 0; u < FV_ROWS; u++)
                any |= a->mask[r + u];
            if (!any)
                continue;
        }
        if (nq >= 2) {  /* a block's worth of lines, FE_SCAN_PREFETCH bytes past this block's end */
            const int64_t block = FV_ROWS * D * (int64_t)sizeof(float);
            const char *p = (const char *)(T + r * D) + block + FE_SCAN_PREFETCH;
            const char *pe = p + block;
            for (pe = pe < pf_end ? pe : pf_end; p < pe; p += 64)
                FE_PREFETCH(p);
        }
        int64_t j = 0;
        for (; j + 2 <= nq; j += 2) {  /* query pairs share each row load */
            float d2[2 * FV_PAIR_ROWS];
            for (int r2 = 0; r2 < FV_ROWS; r2 += FV_PAIR_ROWS) {
                FE_FN(fe_dot_rows_q2)(T + (r + r2) * D, D, queries + j * D, queries + (j + 1) * D, D, d2);
                FE_FN(fe_offer_dots)(a, d2, FV_PAIR_ROWS, r + r2, q0 + j, hs + j * k, hi + j * k);
                FE_FN(fe_offer_dots)(a, d2 + FV_PAIR_ROWS, FV_PAIR_ROWS, r + r2, q0 + j + 1,
                                     hs + (j + 1) * k, hi + (j + 1) * k);
            }
        }
        for (; j < nq; j++) {  /* one query (or the last of an odd number): per-row prefetch */
            FE_FN(fe_dot_rows)(T + r * D, D, queries + j * D, D, dots, nq == 1 ? FE_SCAN_PREFETCH : 0, pf_end);
            FE_FN(fe_offer_dots)(a, dots, FV_ROWS, r, q0 + j, hs + j * k, hi + j * k);
        }
    }
    for (; r < r1; r++) {
        if (a->mask != NULL && !a->mask[r])
            continue;
        for (int64_t j = 0; j < nq; j++) {
            dots[0] = FE_FN(fe_dot)(T + r * D, queries + j * D, D);
            FE_FN(fe_offer_dots)(a, dots, 1, r, q0 + j, hs + j * k, hi + j * k);
        }
    }
}

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
