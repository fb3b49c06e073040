/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * One skip-gram sentence (word2vec.c's inner loop) with this level's dot product and axpy. Every
 * level computes the same bits: the dot product has a fixed order (impl/dot.h) and the updates are
 * elementwise. fastembed.reference.w2v_batch is the same algorithm in numpy, bit for bit.
 *
 * Non-finite dot products (training diverged: a learning rate far too large) never index the
 * sigmoid tables: +inf and -inf saturate like any |f| >= MAX_EXP, NaN skips the pair (no update,
 * no loss term). Each is counted in *nonfinite so the caller can stop and say so.
 */

/* One negative-sampling step shared by skip-gram and CBOW: the hidden vector h (a context word's
 * row, or CBOW's context mean/sum) predicts targets[0] against targets[1..negative]; each output
 * row moves by g * h and the error g * row is accumulated into neu1e (zeroed here), for the caller
 * to apply to the input rows. A noise word equal to the true word is skipped, as word2vec.c. */
static void FE_FN(fe_w2v_negative_step)(const fe_w2v_model *m, const float *h, const int64_t *targets,
                                        float alpha, float *neu1e, double *loss, int64_t *nonfinite)
{
    const int64_t D = m->D;
    memset(neu1e, 0, (size_t)D * sizeof(float));
    for (int d = 0; d <= m->negative; d++) {
        const int64_t target = targets[d];
        const float label = d == 0 ? 1.0f : 0.0f;
        if (d > 0 && target == targets[0])
            continue;
        float *l2 = m->syn1neg + target * D;
        const float f = FE_FN(fe_dot)(h, l2, D);
        float g;
        if (!isfinite(f))
            (*nonfinite)++;
        if (!fe_w2v_grad(m, f, label, alpha, &g))
            continue;  /* NaN: no update from this pair */
        if (loss != NULL)
            *loss -= fe_logsig(m, label > 0 ? f : -f);
        FE_FN(fe_axpy)(neu1e, g, l2, D);
        FE_FN(fe_axpy)(l2, g, h, D);
    }
}

static int64_t FE_FN(fe_w2v_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n,
                                      float alpha, uint64_t seed, int32_t *buf, float *neu1e,
                                      double *loss, int64_t *nonfinite)
{
    const int64_t D = m->D;
    uint64_t r = seed;
    const int64_t len = fe_w2v_subsample(m, words, n, &r, buf);
    for (int64_t i = 0; i < len; i++) {
        int64_t j0, j1;
        fe_w2v_window(m, i, len, &r, &j0, &j1);
        for (int64_t j = j0; j < j1; j++) {
            if (j == i)
                continue;
            float *l1 = m->syn0 + (int64_t)buf[j] * D;
            int64_t targets[FE_MAX_NEGATIVE + 1];
            fe_w2v_targets(m, buf[i], &r, targets);
            FE_FN(fe_w2v_negative_step)(m, l1, targets, alpha, neu1e, loss, nonfinite);
            FE_FN(fe_axpy)(l1, 1.0f, neu1e, D);
        }
    }
    return len;
}

/* One CBOW sentence (gensim's fast_sentence_cbow_neg with word2vec.c's sigmoid handling): the
 * context words of each position (a random window shrink, as skip-gram) are summed into neu1,
 * averaged when cbow_mean, and that vector predicts the centre word against `negative` noise
 * words; the error neu1e is added to every context word's input vector (divided by the number of
 * context words when summing, as gensim). The random stream is the skip-gram's (subsampling, then
 * per position the window shrink and the negatives). buf holds n ints, neu1 and neu1e D floats
 * each. Returns the words kept; non-finite dot products are handled and counted as in
 * fe_w2v_sentence. numpy: fastembed.reference.w2v_batch(..., sg=False). */
static int64_t FE_FN(fe_w2v_cbow_sentence)(const fe_w2v_model *m, const int32_t *words, int64_t n,
                                           float alpha, uint64_t seed, int cbow_mean, int32_t *buf,
                                           float *neu1, float *neu1e, double *loss, int64_t *nonfinite)
{
    const int64_t D = m->D;
    uint64_t r = seed;
    const int64_t len = fe_w2v_subsample(m, words, n, &r, buf);
    for (int64_t i = 0; i < len; i++) {
        int64_t j0, j1;
        fe_w2v_window(m, i, len, &r, &j0, &j1);
        if (j1 - j0 < 2)
            continue;  /* no context word */
        memset(neu1, 0, (size_t)D * sizeof(float));
        for (int64_t j = j0; j < j1; j++)
            if (j != i)
                FE_FN(fe_axpy)(neu1, 1.0f, m->syn0 + (int64_t)buf[j] * D, D);
        const float inv = 1.0f / (float)(j1 - j0 - 1);
        if (cbow_mean)
            for (int64_t d = 0; d < D; d++)
                neu1[d] *= inv;
        int64_t targets[FE_MAX_NEGATIVE + 1];
        fe_w2v_targets(m, buf[i], &r, targets);
        FE_FN(fe_w2v_negative_step)(m, neu1, targets, alpha, neu1e, loss, nonfinite);
        if (!cbow_mean)
            for (int64_t d = 0; d < D; d++)
                neu1e[d] *= inv;
        for (int64_t j = j0; j < j1; j++)
            if (j != i)
                FE_FN(fe_axpy)(m->syn0 + (int64_t)buf[j] * D, 1.0f, neu1e, D);
    }
    return len;
}
