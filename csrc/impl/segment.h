/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h).
 *
 * Segment sums for the sparse backward of a lookup: out[u] = sum over j in [starts[u], starts[u+1])
 * of grad[order[j]] (times scale[u] each, as PyTorch scales every occurrence before adding), added
 * in j order: the order of positions, as np.add.at. Elementwise: the same bits at every level.
 */

static void FE_FN(fe_segment_sum)(const float *grad, const int64_t *order, const int64_t *starts,
                                  int64_t u0, int64_t u1, int64_t D, const float *scale, float *out)
{
    /* grad rows are read in the order of the sorted ids: random rows, prefetched a few ahead */
    const int64_t ahead = fe_prefetch_ahead(D), jend = starts[u1];
    for (int64_t u = u0; u < u1; u++) {
        float *o = out + u * D;
        const int64_t a = starts[u], b = starts[u + 1];
        for (int64_t j = a; j < b && j + ahead < jend; j++)
            fe_prefetch_row(grad + order[j + ahead] * D, D);
        if (scale == NULL) {
            memcpy(o, grad + order[a] * D, (size_t)D * sizeof(float));
            for (int64_t j = a + 1; j < b; j++)
                FE_FN(fe_acc_row)(o, grad + order[j] * D, D);
        } else {
            const float sc = scale[u];
            FE_FN(fe_scale_row)(o, sc, grad + order[a] * D, D);
            for (int64_t j = a + 1; j < b; j++)
                FE_FN(fe_axpy)(o, sc, grad + order[j] * D, D);
        }
    }
}
