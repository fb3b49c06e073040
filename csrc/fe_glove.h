/* fastembed: GloVe (Pennington, Socher and Manning 2014): co-occurrence counting and training.
 *
 * Plain C11, no Python or numpy headers; every size and index is 64-bit. Counting, sorting, merging
 * and shuffling are here (integer and memory work, no SIMD level to choose); the training pass is
 * compiled once per SIMD level in csrc/impl/glove.h and reached through the fe_ops table
 * (glove_train), so FASTEMBED_SIMD and the per-level tests reach it.
 *
 * Counting. X[a][b] += 1/d for every pair of words (a before b) at distance d <= window in a
 * sentence (GloVe's cooccur.c with distance weighting; 1 instead of 1/d without it). With symmetric
 * contexts X is symmetric, X[b][a] gets the same increments, and only the upper triangle is kept:
 * key (min(a, b), max(a, b)), the diagonal key (a, a) holding X[a][a] (which receives 2/d per pair
 * of equal words). Without symmetry, key (a, b) holds X[a][b] (b in the right context of a).
 * Each thread adds into its own open-addressing hash map (linear probing, 16 bytes a slot, the
 * sums in float64); a full map is sorted into a run by the caller and emptied (fe_glove_map_sort),
 * and the runs are merged at the end (fe_glove_merge), adding equal keys in run order.
 *
 * Training. AdaGrad on sum f(X_ij) (w_i . c_j + b_i + bc_j - log X_ij)^2, f(x) = min(1, (x/x_max)^alpha),
 * exactly as glove.c: parameters start at uniform(-0.5, 0.5)/D (drawn by the caller), the squared
 * gradient sums at 1, each step is eta * grad / sqrt(G) and G accumulates (eta * grad)^2; each vector
 * gradient component is clipped to [-clip, clip] before the scaling by eta (glove.c's grad_clip_value).
 * Threads share the parameters without locks (Hogwild) over contiguous slices of the shuffled
 * records. Pairs whose error is NaN or infinite (training diverged) are skipped and counted.
 */
#ifndef FE_GLOVE_H
#define FE_GLOVE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define FE_GLOVE_EMPTY UINT64_MAX


/* ------------------------------------------------------------------ counting */

typedef struct {
    uint64_t key;      /* (a << 32) | b; FE_GLOVE_EMPTY marks a free slot */
    double val;        /* the sum of the increments */
} fe_glove_slot;

typedef struct {
    fe_glove_slot *slots;  /* (cap,) */
    int64_t cap;       /* any size >= 2 (Lemire's multiply-shift maps a 32-bit hash onto it) */
    int64_t n;         /* slots in use */
    int64_t hard;      /* never fill more than this many slots (keeps probe chains short and ends them) */
} fe_glove_map;

static inline int64_t fe_glove_home(int64_t cap, uint64_t key)
{
    const uint64_t h = (key * 0x9E3779B97F4A7C15ULL) >> 32;  /* Fibonacci hashing: the high bits */
    return (int64_t)((h * (uint64_t)cap) >> 32);
}

/* Add v to key's sum; -1 if the key is new and the map is at its hard limit (nothing written). */
static inline int fe_glove_map_add(fe_glove_map *m, uint64_t key, double v)
{
    int64_t h = fe_glove_home(m->cap, key);
    for (;;) {
        fe_glove_slot *s = m->slots + h;
        if (s->key == key) {
            s->val += v;
            return 0;
        }
        if (s->key == FE_GLOVE_EMPTY) {
            if (m->n >= m->hard)
                return -1;
            s->key = key;
            s->val = v;
            m->n++;
            return 0;
        }
        if (++h == m->cap)
            h = 0;
    }
}

#define FE_GLOVE_MAX_WINDOW 1024

/* Count the sentences [s0, s1) of (words, starts) into map m. weight[d] is the increment at
 * distance d (1 <= d <= window). Returns 0, or -1 if the map reached its hard limit (the caller
 * sizes the calls so that this cannot happen; it is checked anyway: the map stays valid but the
 * call's counts are incomplete and the caller raises). The home slots of the next position's pairs
 * are prefetched while the current position's pairs are added: the random slots are the cost. */
static int fe_glove_count(fe_glove_map *m, const int32_t *words, const int64_t *starts, int64_t s0,
                          int64_t s1, int window, const double *weight, int symmetric)
{
    uint64_t keys[2][FE_GLOVE_MAX_WINDOW];
    double vals[2][FE_GLOVE_MAX_WINDOW];
    int nk[2] = {0, 0};
    int cur = 0;
    for (int64_t s = s0; s < s1; s++) {
        const int64_t a0 = starts[s], a1 = starts[s + 1];
        for (int64_t k = a0; k <= a1; k++) {
            /* stage position k's pairs (none past the end: that round only adds the last ones) */
            const int nxt = cur ^ 1;
            nk[nxt] = 0;
            if (k < a1) {
                const uint64_t b = (uint32_t)words[k];
                const int64_t lo = k - window > a0 ? k - window : a0;
                for (int64_t p = k - 1; p >= lo; p--) {
                    const uint64_t a = (uint32_t)words[p];
                    const double w = weight[k - p];
                    uint64_t key;
                    double v = w;
                    if (symmetric) {
                        key = a <= b ? (a << 32 | b) : (b << 32 | a);
                        if (a == b)
                            v = w + w;  /* X[a][a] gets the pair from both sides */
                    } else {
                        key = a << 32 | b;
                    }
                    keys[nxt][nk[nxt]] = key;
                    vals[nxt][nk[nxt]] = v;
#if defined(__GNUC__)
                    __builtin_prefetch(m->slots + fe_glove_home(m->cap, key), 1, 3);
#endif
                    nk[nxt]++;
                }
            }
            for (int q = 0; q < nk[cur]; q++)
                if (fe_glove_map_add(m, keys[cur][q], vals[cur][q]) != 0)
                    return -1;
            nk[cur] = 0;
            cur = nxt;
        }
    }
    return 0;
}

/* Re-insert every entry of src into the (empty, larger) map dst. */
static void fe_glove_map_move(const fe_glove_map *src, fe_glove_map *dst)
{
    for (int64_t i = 0; i < src->cap; i++) {
        const fe_glove_slot s = src->slots[i];
        if (s.key == FE_GLOVE_EMPTY)
            continue;
        int64_t h = fe_glove_home(dst->cap, s.key);
        while (dst->slots[h].key != FE_GLOVE_EMPTY)
            if (++h == dst->cap)
                h = 0;
        dst->slots[h] = s;
        dst->n++;
    }
}

/* Move the map's entries to the front of its slots and sort them by key: an LSD radix sort, 11 bits
 * a pass over the bits the keys use (passes where every key has the same digit are skipped),
 * through `tmp` (at least n slots). Returns n; the sorted run is slots[0:n]. The map must be
 * emptied (every key FE_GLOVE_EMPTY, n = 0) before it is used again. */
#define FE_GLOVE_RADIX_BITS 11
#define FE_GLOVE_RADIX (1 << FE_GLOVE_RADIX_BITS)

static int64_t fe_glove_map_sort(fe_glove_map *m, fe_glove_slot *tmp, int64_t *count)
{
    fe_glove_slot *a = m->slots;
    int64_t n = 0;
    uint64_t all = 0;
    for (int64_t i = 0; i < m->cap; i++) {
        if (a[i].key != FE_GLOVE_EMPTY) {
            a[n] = a[i];
            all |= a[i].key;
            n++;
        }
    }
    int bits = 0;
    while (bits < 64 && (all >> bits) != 0)
        bits++;
    fe_glove_slot *src = a, *dst = tmp;
    for (int shift = 0; shift < bits && n > 0; shift += FE_GLOVE_RADIX_BITS) {
        memset(count, 0, FE_GLOVE_RADIX * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & (FE_GLOVE_RADIX - 1)]++;
        if (count[(src[0].key >> shift) & (FE_GLOVE_RADIX - 1)] == n)
            continue;  /* every key has this digit: the pass would not move anything */
        int64_t sum = 0;
        for (int d = 0; d < FE_GLOVE_RADIX; d++) {
            const int64_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & (FE_GLOVE_RADIX - 1)]++] = src[i];
        fe_glove_slot *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof(fe_glove_slot));
    for (int64_t i = n; i < m->cap; i++)
        a[i].key = FE_GLOVE_EMPTY;
    return n;
}

/* k-way merge of sorted runs (keys ascending, no key twice within a run) into at most `cap`
 * outputs, summing equal keys in run order (run 0 first), so the sums do not depend on how the heap
 * breaks ties. pos[r] is run r's read position, updated; heap and *hn_io carry the merge state
 * between calls (*hn_io = -1 before the first). Returns the number of outputs written. */
static inline int fe_glove_run_less(const fe_glove_slot *const *run, const int64_t *pos, int64_t a,
                                    int64_t b)
{
    const uint64_t ka = run[a][pos[a]].key, kb = run[b][pos[b]].key;
    return ka < kb || (ka == kb && a < b);
}

static void fe_glove_heap_down(int64_t *heap, int64_t hn, int64_t i, const fe_glove_slot *const *run,
                               const int64_t *pos)
{
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= hn)
            return;
        if (c + 1 < hn && fe_glove_run_less(run, pos, heap[c + 1], heap[c]))
            c++;
        if (!fe_glove_run_less(run, pos, heap[c], heap[i]))
            return;
        const int64_t t = heap[i];
        heap[i] = heap[c];
        heap[c] = t;
        i = c;
    }
}

static int64_t fe_glove_merge(const fe_glove_slot *const *run, const int64_t *rn, int64_t R,
                              int64_t *pos, int64_t *heap, int64_t *hn_io, fe_glove_slot *out,
                              int64_t cap)
{
    int64_t hn = *hn_io, n = 0;
    if (hn < 0) {
        hn = 0;
        for (int64_t r = 0; r < R; r++)
            if (pos[r] < rn[r])
                heap[hn++] = r;
        for (int64_t i = hn / 2 - 1; i >= 0; i--)
            fe_glove_heap_down(heap, hn, i, run, pos);
    }
    if (hn == 1) {  /* one run left: copy it */
        const int64_t r = heap[0];
        int64_t take = rn[r] - pos[r];
        if (take > cap)
            take = cap;
        memcpy(out, run[r] + pos[r], (size_t)take * sizeof(fe_glove_slot));
        pos[r] += take;
        if (pos[r] >= rn[r])
            hn = 0;
        *hn_io = hn;
        return take;
    }
    while (hn > 0 && n < cap) {
        const uint64_t key = run[heap[0]][pos[heap[0]]].key;
        double sum = 0.0;
        /* equal keys come off the heap in run order (ties broken by run index) */
        while (hn > 0 && run[heap[0]][pos[heap[0]]].key == key) {
            const int64_t r = heap[0];
            sum += run[r][pos[r]].val;
            if (++pos[r] >= rn[r])
                heap[0] = heap[--hn];
            fe_glove_heap_down(heap, hn, 0, run, pos);
        }
        out[n].key = key;
        out[n].val = sum;
        n++;
    }
    *hn_io = hn;
    return n;
}

/* ------------------------------------------------------------------ training */

typedef struct {
    int32_t i, j;      /* word i, context word j (symmetric: also trains word j with context i) */
    float logx;        /* log X_ij */
    float fx;          /* f(X_ij) = min(1, (X_ij / x_max)^alpha) */
} fe_glove_rec;

typedef struct {
    float *W;          /* (2V, D + 1): word vectors and bias (rows < V), context vectors and bias */
    float *G;          /* (2V, D + 1): AdaGrad sums of squared scaled gradients, start at 1 */
    int64_t V, D;
    float eta;         /* AdaGrad's initial step for the vector components */
    float bias_eta;    /* ... and for the biases (see the header comment) */
    float clip;
    int symmetric;
} fe_glove_model;

/* ------------------------------------------------------------------ shuffling */

static inline uint64_t fe_glove_splitmix(uint64_t *s)
{
    uint64_t x = (*s += 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Fisher-Yates shuffle of records in place: for k = n-1 .. 1 swap k with a uniform j in [0, k]
 * (j = high 32 bits of a 64-bit draw times (k + 1), for k + 1 < 2^32; modulo beyond). This call
 * does the steps k = k_hi .. k_lo + 1 (k_hi = n - 1 first, then on down: the caller cuts the pass
 * into calls so that Ctrl-C is honoured between them); *state is the splitmix64 state, carried. */
static void fe_glove_shuffle(fe_glove_rec *rec, int64_t k_hi, int64_t k_lo, uint64_t *state)
{
    uint64_t s = *state;
    for (int64_t k = k_hi; k > k_lo && k > 0; k--) {
        const uint64_t x = fe_glove_splitmix(&s);
        const uint64_t bound = (uint64_t)k + 1;
        const int64_t j = bound < (1ULL << 32) ? (int64_t)(((x >> 32) * bound) >> 32)
                                                : (int64_t)(x % bound);
        const fe_glove_rec t = rec[k];
        rec[k] = rec[j];
        rec[j] = t;
    }
    *state = s;
}

#endif /* FE_GLOVE_H */
