/* fastembed: skip-gram with negative sampling (word2vec), one sentence at a time.
 *
 * Follows word2vec.c / gensim: each context word's input vector predicts the centre word against
 * `negative` words drawn from the unigram^0.75 distribution; a precomputed sigmoid table; a
 * random window shrink per position; frequent-word subsampling. Workers share the weights without
 * locks (Hogwild). Every sentence draws its random numbers from its own seed, so one worker gives
 * the same bits every run.
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

static inline void fe_prefetch_row(const float *row, int64_t D)
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
 * x is never NaN here (the sentence steps skip NaN dot products before asking). */
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

/* Train on one sentence; returns the number of words kept after subsampling. buf holds n ints,
 * neu1e D floats. *loss accumulates -log sigmoid terms when loss != NULL. Non-finite dot products
 * never index the sigmoid tables: +-inf saturate, NaN skips the pair; each is counted in
 * *nonfinite so the caller can stop and say so. */
FE_CLONES static int64_t fe_w2v_sentence(const fe_w2v_model *m, const int32_t *words, int64_t n,
                                          float alpha, uint64_t seed, int32_t *buf, float *neu1e,
                                          double *loss, int64_t *nonfinite)
{
    const int64_t D = m->D;
    uint64_t r = seed;
    int64_t len = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t w = words[i];
        if (m->keep != NULL && m->keep[w] != 0xFFFFFFFFu && (uint32_t)fe_next(&r) >= m->keep[w])
            continue;
        buf[len++] = w;
    }
    for (int64_t i = 0; i < len; i++) {
        const int64_t word = buf[i];
        const int b = (int)(fe_next(&r) % (uint64_t)m->window);
        int64_t j0 = i - m->window + b, j1 = i + m->window - b + 1;
        if (j0 < 0) j0 = 0;
        if (j1 > len) j1 = len;
        for (int64_t j = j0; j < j1; j++) {
            if (j == i)
                continue;
            float *l1 = m->syn0 + (int64_t)buf[j] * D;
            /* draw this pair's negatives first and prefetch their rows together: the random rows
             * are the cost (memory latency), and overlapping the misses hides most of it */
            int64_t targets[FE_MAX_NEGATIVE + 1];
            targets[0] = word;
            fe_prefetch_row(m->syn1neg + word * D, D);
            for (int d = 1; d <= m->negative; d++) {
                targets[d] = fe_draw_negative(m, &r);
                fe_prefetch_row(m->syn1neg + targets[d] * D, D);
            }
            memset(neu1e, 0, (size_t)D * sizeof(float));
            for (int d = 0; d <= m->negative; d++) {
                const int64_t target = targets[d];
                const float label = d == 0 ? 1.0f : 0.0f;
                if (d > 0 && target == word)
                    continue;
                float *l2 = m->syn1neg + target * D;
                const float f = fe_dot(l1, l2, D);
                float g;
                if (!isfinite(f))
                    (*nonfinite)++;
                if (!fe_w2v_grad(m, f, label, alpha, &g))
                    continue;
                if (loss != NULL)
                    *loss -= fe_logsig(m, label > 0 ? f : -f);
                fe_axpy(neu1e, g, l2, D);
                fe_axpy(l2, g, l1, D);
            }
            fe_axpy(l1, 1.0f, neu1e, D);
        }
    }
    return len;
}

/* ------------------------------------------------------------------ CBOW */

/* One CBOW sentence (gensim's fast_sentence_cbow_neg with word2vec.c's sigmoid handling): the
 * context words of each position (a random window shrink, as skip-gram) are summed into neu1,
 * averaged when cbow_mean, and that vector predicts the centre word against `negative` noise
 * words; the error neu1e is added to every context word's input vector (divided by the number of
 * context words when summing, as gensim). The random stream is the skip-gram's (subsampling, then
 * per position the window shrink and the negatives). buf holds n ints, neu1 and neu1e D floats
 * each. Returns the words kept; non-finite dot products are handled and counted as in
 * fe_w2v_sentence. numpy: fastembed.reference.w2v_batch(..., sg=False). */
FE_CLONES static int64_t fe_w2v_cbow_sentence(const fe_w2v_model *m, const int32_t *words, int64_t n,
                                               float alpha, uint64_t seed, int cbow_mean, int32_t *buf,
                                               float *neu1, float *neu1e, double *loss,
                                               int64_t *nonfinite)
{
    const int64_t D = m->D;
    uint64_t r = seed;
    int64_t len = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t w = words[i];
        if (m->keep != NULL && m->keep[w] != 0xFFFFFFFFu && (uint32_t)fe_next(&r) >= m->keep[w])
            continue;
        buf[len++] = w;
    }
    for (int64_t i = 0; i < len; i++) {
        const int64_t word = buf[i];
        const int b = (int)(fe_next(&r) % (uint64_t)m->window);
        int64_t j0 = i - m->window + b, j1 = i + m->window - b + 1;
        if (j0 < 0) j0 = 0;
        if (j1 > len) j1 = len;
        if (j1 - j0 < 2)
            continue;  /* no context word */
        memset(neu1, 0, (size_t)D * sizeof(float));
        for (int64_t j = j0; j < j1; j++)
            if (j != i)
                fe_axpy(neu1, 1.0f, m->syn0 + (int64_t)buf[j] * D, D);
        const float inv = 1.0f / (float)(j1 - j0 - 1);
        if (cbow_mean)
            for (int64_t d = 0; d < D; d++)
                neu1[d] *= inv;
        int64_t targets[FE_MAX_NEGATIVE + 1];
        targets[0] = word;
        fe_prefetch_row(m->syn1neg + word * D, D);
        for (int d = 1; d <= m->negative; d++) {
            targets[d] = fe_draw_negative(m, &r);
            fe_prefetch_row(m->syn1neg + targets[d] * D, D);
        }
        memset(neu1e, 0, (size_t)D * sizeof(float));
        for (int d = 0; d <= m->negative; d++) {
            const int64_t target = targets[d];
            const float label = d == 0 ? 1.0f : 0.0f;
            if (d > 0 && target == word)
                continue;
            float *l2 = m->syn1neg + target * D;
            const float f = fe_dot(neu1, l2, D);
            float g;
            if (!isfinite(f))
                (*nonfinite)++;
            if (!fe_w2v_grad(m, f, label, alpha, &g))
                continue;
            if (loss != NULL)
                *loss -= fe_logsig(m, label > 0 ? f : -f);
            fe_axpy(neu1e, g, l2, D);
            fe_axpy(l2, g, neu1, D);
        }
        if (!cbow_mean)
            for (int64_t d = 0; d < D; d++)
                neu1e[d] *= inv;
        for (int64_t j = j0; j < j1; j++)
            if (j != i)
                fe_axpy(m->syn0 + (int64_t)buf[j] * D, 1.0f, neu1e, D);
    }
    return len;
}

/* ------------------------------------------------------------------ sparse gradients */

/* out[u] = sum over j in [starts[u], starts[u+1]) of grad[order[j]] (times scale[u] each, as PyTorch
 * scales every occurrence before adding), added in j order: the order of positions, as np.add.at. */
static inline void fe_segment_sum(const float *grad, const int64_t *order, const int64_t *starts,
                                  int64_t u0, int64_t u1, int64_t D, const float *scale, float *out)
{
    for (int64_t u = u0; u < u1; u++) {
        float *o = out + u * D;
        const int64_t a = starts[u], b = starts[u + 1];
        if (scale == NULL) {
            memcpy(o, grad + order[a] * D, (size_t)D * sizeof(float));
            for (int64_t j = a + 1; j < b; j++)
                fe_acc_row(o, grad + order[j] * D, D);
        } else {
            const float sc = scale[u];
            const float *g0 = grad + order[a] * D;
            for (int64_t d = 0; d < D; d++)
                o[d] = g0[d] * sc;
            for (int64_t j = a + 1; j < b; j++) {
                const float *g = grad + order[j] * D;
                for (int64_t d = 0; d < D; d++)
                    o[d] += g[d] * sc;
            }
        }
    }
}

#endif /* FE_W2V_H */
