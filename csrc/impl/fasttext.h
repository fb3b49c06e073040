/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * fastText: the mean vectors of words (their row and their n-gram rows) and the training steps of
 * skip-gram and CBOW with character n-grams. The negative-sampling step, the random stream
 * (subsampling, window shrink, noise words) and the sigmoid tables are word2vec's
 * (impl/w2v.h, fe_w2v.h); what fastText adds is the input side: a word's hidden vector is the mean
 * of its input rows (fastText's Model::computeHidden: zero, add each row in order, multiply by
 * (float)(1.0 / n)) and the error vector is added, whole, to every one of those rows (fastText's
 * Model::update; gensim divides it by n instead). Elementwise row arithmetic and impl/dot.h's fixed
 * dot-product order: every level computes the same bits.
 * numpy: fastembed.reference.fasttext_batch and fastembed.reference.fasttext_vectors.
 */

/* out[i - w0] = the mean of word i's row and its n-gram rows, words [w0, w1); the order is the one
 * of fe_fasttext.h's header comment (each element one chain of float32 additions, then a
 * division). Returns 0, or -1 when the n-gram id buffer cannot be allocated. */
static int FE_FN(fe_ft_mean_range)(const fe_ft_args *a, int64_t w0, int64_t w1, float *out)
{
    const int64_t D = a->D;
    int64_t cap = 256;
    int64_t *ids = (int64_t *)malloc((size_t)cap * sizeof(int64_t));
    if (ids == NULL)
        return -1;
    for (int64_t i = w0; i < w1; i++) {
        float *acc = out + (i - w0) * D;
        const unsigned char *w = a->blob + a->offsets[i];
        const int64_t len = a->offsets[i + 1] - a->offsets[i];
        const int64_t row = a->rows != NULL ? a->rows[i] : (a->words != NULL ? i : -1);
        int64_t m = 0, count;
        if (row >= 0 && a->words != NULL)
            memcpy(acc, a->words + row * D, (size_t)D * sizeof(float));
        else
            memset(acc, 0, (size_t)D * sizeof(float));
        if (a->bucket > 0 && !(a->skip_eos && fe_ft_is_eos(w, len))) {
            m = fe_ft_ngrams(w, len, a->minn, a->maxn, (uint32_t)a->bucket, ids, cap);
            if (m > cap) {
                free(ids);
                cap = m;
                ids = (int64_t *)malloc((size_t)cap * sizeof(int64_t));
                if (ids == NULL)
                    return -1;
                fe_ft_ngrams(w, len, a->minn, a->maxn, (uint32_t)a->bucket, ids, cap);
            }
        }
        for (int64_t k = 0; k < m; k++)  /* each element its own chain of additions, in n-gram order */
            FE_FN(fe_acc_row)(acc, a->ngrams + ids[k] * D, D);
        count = m + (row >= 0 && a->words != NULL ? 1 : 0);
        if (count > 1) {
            const float c = (float)count;
            for (int64_t j = 0; j < D; j++)
                acc[j] = acc[j] / c;
        }
    }
    free(ids);
    return 0;
}

/* h += the input rows rows[0:n] of the model, in order (each prefetched first: the n-gram rows are
 * scattered over the bucket matrix, and overlapping their misses is most of the speed). */
static inline void FE_FN(fe_ft_add_rows)(const fe_ft_model *f, const int64_t *rows, int64_t n, float *h)
{
    const int64_t D = f->w.D;
    for (int64_t k = 0; k < n; k++)
        fe_prefetch_row_rw(f->w.syn0 + rows[k] * D, D);
    for (int64_t k = 0; k < n; k++)
        FE_FN(fe_acc_row)(h, f->w.syn0 + rows[k] * D, D);
}

static inline void FE_FN(fe_ft_scale)(float *h, int64_t count, int64_t D)
{
    const float inv = (float)(1.0 / (double)count);  /* fastText: hidden.mul(1.0 / input.size()) */
    for (int64_t d = 0; d < D; d++)
        h[d] = h[d] * inv;
}

/* every input row of rows[0:n] += g */
static inline void FE_FN(fe_ft_apply)(const fe_ft_model *f, const int64_t *rows, int64_t n, const float *g)
{
    const int64_t D = f->w.D;
    for (int64_t k = 0; k < n; k++)
        FE_FN(fe_acc_row)(f->w.syn0 + rows[k] * D, g, D);
}

/* One skip-gram sentence (fastText's FastText::skipgram): for each kept position i and each context
 * word j of its (randomly shrunk) window, the mean of word i's input rows predicts word j against
 * `negative` noise words. per_pair (fastText's order): the mean is recomputed and the error added to
 * word i's rows after every pair; otherwise the mean is computed once per position and the summed
 * error of its pairs added once (fewer passes over the scattered n-gram rows). hidden, neu1e and grad
 * hold D floats each; buf n ints. Returns the words kept; non-finite dot products are handled and
 * counted as in fe_w2v_sentence. */
static int64_t FE_FN(fe_ft_sg_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha,
                                        uint64_t seed, int32_t *buf, float *hidden, float *neu1e, float *grad,
                                        double *loss, int64_t *nonfinite)
{
    const fe_w2v_model *m = &f->w;
    const int64_t D = m->D;
    uint64_t r = seed;
    const int64_t len = fe_w2v_subsample(m, words, n, &r, buf);
    for (int64_t i = 0; i < len; i++) {
        int64_t j0, j1;
        fe_w2v_window(m, i, len, &r, &j0, &j1);
        const int64_t *rows = f->sub_rows + f->sub_starts[buf[i]];
        const int64_t nr = f->sub_starts[buf[i] + 1] - f->sub_starts[buf[i]];
        if (!f->per_pair) {
            memset(hidden, 0, (size_t)D * sizeof(float));
            FE_FN(fe_ft_add_rows)(f, rows, nr, hidden);
            FE_FN(fe_ft_scale)(hidden, nr, D);
            memset(grad, 0, (size_t)D * sizeof(float));
        }
        for (int64_t j = j0; j < j1; j++) {
            if (j == i)
                continue;
            int64_t targets[FE_MAX_NEGATIVE + 1];
            if (f->per_pair) {
                memset(hidden, 0, (size_t)D * sizeof(float));
                FE_FN(fe_ft_add_rows)(f, rows, nr, hidden);
                FE_FN(fe_ft_scale)(hidden, nr, D);
            }
            fe_w2v_targets(m, buf[j], &r, targets);
            FE_FN(fe_w2v_negative_step)(m, hidden, targets, alpha, neu1e, loss, nonfinite);
            if (f->per_pair)
                FE_FN(fe_ft_apply)(f, rows, nr, neu1e);
            else
                FE_FN(fe_acc_row)(grad, neu1e, D);
        }
        if (!f->per_pair && j1 - j0 > 1)
            FE_FN(fe_ft_apply)(f, rows, nr, grad);
    }
    return len;
}

/* One CBOW sentence (fastText's FastText::cbow): the mean of the input rows of every context word
 * (each word's rows in getSubwords order, words in window order) predicts the centre word; the error
 * is added to every one of those rows. hidden and neu1e hold D floats each; buf n ints. */
static int64_t FE_FN(fe_ft_cbow_sentence)(const fe_ft_model *f, const int32_t *words, int64_t n, float alpha,
                                          uint64_t seed, int32_t *buf, float *hidden, float *neu1e,
                                          double *loss, int64_t *nonfinite)
{
    const fe_w2v_model *m = &f->w;
    const int64_t D = m->D;
    uint64_t r = seed;
    const int64_t len = fe_w2v_subsample(m, words, n, &r, buf);
    for (int64_t i = 0; i < len; i++) {
        int64_t j0, j1, count = 0;
        fe_w2v_window(m, i, len, &r, &j0, &j1);
        if (j1 - j0 < 2)
            continue;  /* no context word */
        memset(hidden, 0, (size_t)D * sizeof(float));
        for (int64_t j = j0; j < j1; j++) {
            if (j == i)
                continue;
            const int64_t s0 = f->sub_starts[buf[j]], s1 = f->sub_starts[buf[j] + 1];
            FE_FN(fe_ft_add_rows)(f, f->sub_rows + s0, s1 - s0, hidden);
            count += s1 - s0;
        }
        FE_FN(fe_ft_scale)(hidden, count, D);
        int64_t targets[FE_MAX_NEGATIVE + 1];
        fe_w2v_targets(m, buf[i], &r, targets);
        FE_FN(fe_w2v_negative_step)(m, hidden, targets, alpha, neu1e, loss, nonfinite);
        for (int64_t j = j0; j < j1; j++) {
            if (j == i)
                continue;
            const int64_t s0 = f->sub_starts[buf[j]], s1 = f->sub_starts[buf[j] + 1];
            FE_FN(fe_ft_apply)(f, f->sub_rows + s0, s1 - s0, neu1e);
        }
    }
    return len;
}
