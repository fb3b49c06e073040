/* fastembed: a fixed-size top-k heap with a deterministic order.
 *
 * Order: higher score is better; among equal scores the smaller id is better. The heap keeps the k
 * best items seen, with the worst at the root, so a candidate is rejected with one compare against
 * the root in the common case. Empty slots hold (-inf, FE_EMPTY_ID) and lose against any real item.
 */
#ifndef FE_HEAP_H
#define FE_HEAP_H

#include <stdint.h>
#include <math.h>

#define FE_EMPTY_ID INT64_MAX

/* a is worse than b */
static inline int fe_worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static inline void fe_heap_init(float *s, int64_t *ids, int64_t k)
{
    for (int64_t i = 0; i < k; i++) {
        s[i] = -INFINITY;
        ids[i] = FE_EMPTY_ID;
    }
}

/* Replace the root with (score, id) and sift down; caller has checked it beats the root. */
static inline void fe_heap_replace_root(float *s, int64_t *ids, int64_t k, float score, int64_t id)
{
    int64_t i = 0;
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        float ws = score;
        int64_t wi = id;
        if (l < k && fe_worse(s[l], ids[l], ws, wi)) { w = l; ws = s[l]; wi = ids[l]; }
        if (r < k && fe_worse(s[r], ids[r], ws, wi)) { w = r; }
        if (w == i) break;
        s[i] = s[w];
        ids[i] = ids[w];
        i = w;
    }
    s[i] = score;
    ids[i] = id;
}

/* Sort the heap in place, best first (heap sort: pop the worst to the back). */
static inline void fe_heap_sort(float *s, int64_t *ids, int64_t k)
{
    for (int64_t n = k; n > 1; n--) {
        float ts = s[0];
        int64_t ti = ids[0];
        /* move last to root and sift down within n-1 */
        float ls = s[n - 1];
        int64_t li = ids[n - 1];
        s[n - 1] = ts;
        ids[n - 1] = ti;
        fe_heap_replace_root(s, ids, n - 1, ls, li);
    }
}

#endif /* FE_HEAP_H */
