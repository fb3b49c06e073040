/* fastembed: word2vec with negative sampling (skip-gram and CBOW): the model, its random numbers and
 * the sigmoid tables. The sentence steps themselves are compiled per SIMD level (impl/w2v.h).
 *
 * Follows word2vec.c / gensim: each context word's input vector predicts the centre word against
 * `negative` words drawn from the unigram^0.75 distribution; a precomputed sigmoid table; a
 * random window shrink per position; frequent-word subsampling. Workers share the weights without
 * locks (Hogwild). Every sentence draws its random numbers from its own seed, so one worker gives
 * the same bits every run, at every SIMD level.
 */
#ifndef FE_W2V_H
#define FE_W2V_H

#include "fe_common.h"

#define FE_EXP_TABLE_SIZE 1000
#define FE_MAX_EXP 6
/* table index of x in [-MAX_EXP, MAX_EXP): entry j holds sigmoid(-MAX_EXP + j * 2 MAX_EXP / SIZE).
 * (word2vec.c writes SIZE / MAX_EXP / 2 in integers, 83 instead of 83.33, reading a shifted entry.) */
#define FE_EXP_SCALE ((float)FE_EXP_TABLE_SIZE / (float)(2 * FE_MAX_EXP))
#define FE_MAX_NEGATIVE 64

typedef struct {
    float *syn0;              /* (V, D) input vectors: the embeddings */
    float *syn1neg;           /* (V, D) output vectors */
    int64_t D, V;
    const uint32_t *keep;     /* (V,) keep a word if a 32-bit random number is below this; NULL: all */
    const uint32_t *alias_prob;  /* (V,) Vose alias table of the unigram^0.75 distribution: */
    const int32_t *alias;        /*   draw i uniformly, keep it if u32 < alias_prob[i], else alias[i] */
    int window, negative;
    const float *exp_table;   /* sigmoid over [-MAX_EXP, MAX_EXP) */
    const float *logsig_table;/* log(sigmoid) over the same grid */
    int fixed_window;         /* 1: every position uses the full window (gensim's shrink_windows=False);
                                 0 (zero-initialised): shrunk at random, as word2vec.c */
} fe_w2v_model;

static inline uint64_t fe_next(uint64_t *r)
{
    *r = *r * 25214903917ULL + 11;
    return *r >> 16;
}

/* splitmix64: independent seeds for (batch, sentence) */
static inline uint64_t fe_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* O(1) draw from the unigram^0.75 distribution (two 4-byte reads, cache-resident for 10^5 words). */
static inline int64_t fe_draw_negative(const fe_w2v_model *m, uint64_t *r)
{
    uint64_t x = fe_next(r);
    int64_t i = (int64_t)((x & 0xFFFFFFFFu) * (uint64_t)m->V >> 32);
    uint32_t u = (uint32_t)(fe_next(r) & 0xFFFFFFFFu);
    return u < m->alias_prob[i] ? i : m->alias[i];
}

/* every line of a row about to be updated (a write hint: the row is read and written) */
static inline void fe_prefetch_row_rw(const float *row, int64_t D)
{
#if defined(__GNUC__)
    for (int64_t b = 0; b < D; b += 16)
        __builtin_prefetch(row + b, 1, 3);
#else
    (void)row; (void)D;
#endif
}

/* Table index of x for -MAX_EXP < x < MAX_EXP (callers handle the saturated ends and NaN first,
 * so the float -> int conversion is always defined). The float product can round up to exactly
 * SIZE for x just below MAX_EXP (x = 5.9999995: (x + 6) * 83.333336 = 1000.0f): clamped in
 * integers to the last entry. */
static inline int fe_sig_index(float x)
{
    int i = (int)((x + (float)FE_MAX_EXP) * FE_EXP_SCALE);
    return i < 0 ? 0 : (i > FE_EXP_TABLE_SIZE - 1 ? FE_EXP_TABLE_SIZE - 1 : i);
}

/* log(sigmoid(x)): 0 far right, x far left (log sigmoid(x) ~ x), the table in between.
 * x is never NaN here (the sentence step skips NaN dot products before asking). */
static inline double fe_logsig(const fe_w2v_model *m, float x)
{
    if (x >= FE_MAX_EXP) return 0.0;
    if (x <= -FE_MAX_EXP) return (double)x;
    return (double)m->logsig_table[fe_sig_index(x)];
}

/* The gradient scale (label - sigmoid(f)) * alpha of one pair, as word2vec.c: saturated at
 * |f| >= MAX_EXP (+inf and -inf too). Returns 0 for a NaN dot product (training diverged): the
 * caller skips the pair and counts it. */
static inline int fe_w2v_grad(const fe_w2v_model *m, float f, float label, float alpha, float *g)
{
    if (f >= FE_MAX_EXP)
        *g = (label - 1.0f) * alpha;
    else if (f <= -FE_MAX_EXP)
        *g = label * alpha;
    else if (f != f)
        return 0;
    else
        *g = (label - m->exp_table[fe_sig_index(f)]) * alpha;
    return 1;
}

/* Subsampling (word2vec.c's keep probability, as 32-bit thresholds): copy the kept words of
 * words[0:n] into buf, return how many. Draws from *r only for words that may be dropped. */
static inline int64_t fe_w2v_subsample(const fe_w2v_model *m, const int32_t *words, int64_t n,
                                       uint64_t *r, int32_t *buf)
{
    int64_t len = 0;
    for (int64_t i = 0; i < n; i++) {
        const int32_t w = words[i];
        if (m->keep != NULL && m->keep[w] != 0xFFFFFFFFu && (uint32_t)fe_next(r) >= m->keep[w])
            continue;
        buf[len++] = w;
    }
    return len;
}

/* The context [*j0, *j1) of position i of len kept words, the window shrunk by a random b in
 * [0, window) as word2vec.c does (so near words weigh more); with fixed_window no shrink and no
 * random number drawn. */
static inline void fe_w2v_window(const fe_w2v_model *m, int64_t i, int64_t len, uint64_t *r,
                                 int64_t *j0, int64_t *j1)
{
    const int b = m->fixed_window ? 0 : (int)(fe_next(r) % (uint64_t)m->window);
    *j0 = i - m->window + b;
    *j1 = i + m->window - b + 1;
    if (*j0 < 0) *j0 = 0;
    if (*j1 > len) *j1 = len;
}

/* targets[0] = word, targets[1..negative] = noise words; every target row is prefetched for
 * writing together (the random rows are the cost: overlapping their misses hides most of it). */
static inline void fe_w2v_targets(const fe_w2v_model *m, int64_t word, uint64_t *r, int64_t *targets)
{
    targets[0] = word;
    fe_prefetch_row_rw(m->syn1neg + word * m->D, m->D);
    for (int d = 1; d <= m->negative; d++) {
        targets[d] = fe_draw_negative(m, r);
        fe_prefetch_row_rw(m->syn1neg + targets[d] * m->D, m->D);
    }
}

#endif /* FE_W2V_H */
