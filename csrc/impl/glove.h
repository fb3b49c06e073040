/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * GloVe's AdaGrad pass (Pennington, Socher and Manning 2014; the reference glove.c's updates): for
 * each record (i, j, log X_ij, f(X_ij)) the error e = w_i . c_j + b_i + bc_j - log X_ij, with this
 * level's dot product (the fixed 16-lane order of impl/dot.h), then per component
 *   t = clip(f e * other, [-clip, clip]) * eta,  x -= t / sqrt(G),  G += t^2
 * and for the biases b -= s / sqrt(G_b), G_b += s^2 with s = f e * bias_eta (csrc/fe_glove.h says
 * which step). The updates are elementwise IEEE operations written as plain loops that the compiler
 * vectorises at this level, so every level returns the same bits; fastembed.reference.glove_epoch is
 * the same pass in numpy, bit for bit with one thread.
 */

static inline float FE_FN(fe_glove_clip)(float x, float c)
{
    return x > c ? c : (x < -c ? -c : x);
}

/* One AdaGrad step on the pair (word row w, context row c); returns its cost 0.5 f e^2, or 0 and
 * counts the pair in *skipped if its error is not finite. (The build's -fno-math-errno lets sqrtf
 * vectorise; the sums are >= their start, 1, so no call could set errno anyway.) */
static inline double FE_FN(fe_glove_step)(const fe_glove_model *m, float *restrict w, float *restrict c,
                                          float *restrict gw, float *restrict gc, float logx, float fx,
                                          int64_t *skipped)
{
    const int64_t D = m->D;
    const float diff = FE_FN(fe_dot)(w, c, D) + w[D] + c[D] - logx;
    const float fdiff = fx * diff;
    if (!isfinite(diff) || !isfinite(fdiff)) {
        (*skipped)++;
        return 0.0;
    }
    const double cost = 0.5 * (double)fdiff * (double)diff;
    const float eta = m->eta, clip = m->clip;
    for (int64_t b = 0; b < D; b++) {
        const float t1 = FE_FN(fe_glove_clip)(fdiff * c[b], clip) * eta;
        const float t2 = FE_FN(fe_glove_clip)(fdiff * w[b], clip) * eta;
        const float u1 = t1 / sqrtf(gw[b]);
        const float u2 = t2 / sqrtf(gc[b]);
        gw[b] += t1 * t1;
        gc[b] += t2 * t2;
        w[b] -= u1;
        c[b] -= u2;
    }
    const float fe = fdiff * m->bias_eta;
    w[D] -= fe / sqrtf(gw[D]);
    c[D] -= fe / sqrtf(gc[D]);
    gw[D] += fe * fe;
    gc[D] += fe * fe;
    return cost;
}

/* Train on records [r0, r1) in order; returns the summed cost. Rows of the record two ahead are
 * prefetched (four rows a pair, eight in symmetric mode: memory latency is the cost). */
static double FE_FN(fe_glove_train)(const fe_glove_model *m, const fe_glove_rec *rec, int64_t r0, int64_t r1,
                                    int64_t *skipped)
{
    const int64_t Dp = m->D + 1, V = m->V;
    double cost = 0.0;
    for (int64_t r = r0; r < r1; r++) {
        if (r + 2 < r1) {
            const int64_t a = rec[r + 2].i, b = rec[r + 2].j;
            fe_prefetch_row(m->W + a * Dp, Dp);
            fe_prefetch_row(m->W + (V + b) * Dp, Dp);
            fe_prefetch_row(m->G + a * Dp, Dp);
            fe_prefetch_row(m->G + (V + b) * Dp, Dp);
            if (m->symmetric && a != b) {
                fe_prefetch_row(m->W + b * Dp, Dp);
                fe_prefetch_row(m->W + (V + a) * Dp, Dp);
                fe_prefetch_row(m->G + b * Dp, Dp);
                fe_prefetch_row(m->G + (V + a) * Dp, Dp);
            }
        }
        const int64_t i = rec[r].i, j = rec[r].j;
        cost += FE_FN(fe_glove_step)(m, m->W + i * Dp, m->W + (V + j) * Dp, m->G + i * Dp, m->G + (V + j) * Dp,
                                     rec[r].logx, rec[r].fx, skipped);
        if (m->symmetric && i != j)
            cost += FE_FN(fe_glove_step)(m, m->W + j * Dp, m->W + (V + i) * Dp, m->G + j * Dp,
                                         m->G + (V + i) * Dp, rec[r].logx, rec[r].fx, skipped);
    }
    return cost;
}
