/* fastembed kernels, instantiated once per SIMD level (see impl/dot.h): pooling, bags of ids to one
 * vector (EmbeddingBag) and their gradients. csrc/fe_pool.h holds the arguments and the summation
 * order (every element its own chain of float32 additions in bag order, so the compiler's
 * vectorisation at each level's width gives the same bits as the scalar loop and the numpy
 * reference). Rows of another storage kind are converted to float32 into a scratch group first
 * (the kind's copy_row), then the float32 loops run: a bag of an int8 / half table equals the bag
 * of its float32 values bit for bit. */

/* ---------------------------------------------------------------- row loops (elementwise) */

/* Each loop runs over columns [lo, hi). Callers split a row at fe_pool_head: numpy places large
 * arrays 16 bytes past a cache line, so without the split every 64-byte load of a row straddles
 * two lines (measured: Zipf ids, rows mostly in cache, 2.3 ms -> 1.6 ms on one thread). All rows
 * of one table share their offset from a line when D * 4 is a multiple of 64, so one head aligns
 * the loads of the 8 rows of a group. The split changes no arithmetic: every element is computed
 * on its own. */

/* Columns before r + head lies on a 64-byte boundary (at most 15, at most d). */
FE_ALWAYS_INLINE int64_t FE_FN(fe_pool_head)(const float *r, int64_t d)
{
    int64_t h = (int64_t)((64u - ((uintptr_t)r & 63u)) & 63u) / 4;
    return h < d ? h : d;
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add_span)(float *restrict acc, const float *restrict row, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = acc[j] + row[j];
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add_scaled_span)(float *restrict acc, float w, const float *restrict row,
                                            int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = acc[j] + w * row[j];
}

#define FE_POOL_ROWS8 \
    const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2], *restrict r3 = r[3]; \
    const float *restrict r4 = r[4], *restrict r5 = r[5], *restrict r6 = r[6], *restrict r7 = r[7];

FE_ALWAYS_INLINE void FE_FN(fe_pool_add8_span)(float *restrict acc, const float *const *r, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float s = acc[j];
        s = s + r0[j]; s = s + r1[j]; s = s + r2[j]; s = s + r3[j];
        s = s + r4[j]; s = s + r5[j]; s = s + r6[j]; s = s + r7[j];
        acc[j] = s;
    }
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add8_scaled_span)(float *restrict acc, const float *const *r, const float *w,
                                             int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7];
    for (int64_t j = lo; j < hi; j++) {
        float s = acc[j];
        s = s + w0 * r0[j]; s = s + w1 * r1[j]; s = s + w2 * r2[j]; s = s + w3 * r3[j];
        s = s + w4 * r4[j]; s = s + w5 * r5[j]; s = s + w6 * r6[j]; s = s + w7 * r7[j];
        acc[j] = s;
    }
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max_span)(float *restrict acc, const float *restrict row, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++)
        acc[j] = row[j] > acc[j] ? row[j] : acc[j];
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max_arg_span)(float *restrict acc, int64_t *restrict arg, const float *restrict row,
                                         int64_t id, int64_t lo, int64_t hi)
{
    for (int64_t j = lo; j < hi; j++) {
        int gt = row[j] > acc[j];
        acc[j] = gt ? row[j] : acc[j];
        arg[j] = gt ? id : arg[j];
    }
}

#define FE_POOL_MAX_STEP(k) { float x = r##k[j]; int gt = x > m; m = gt ? x : m; }
#define FE_POOL_MAXARG_STEP(k) { float x = r##k[j]; int gt = x > m; m = gt ? x : m; g = gt ? id[k] : g; }

FE_ALWAYS_INLINE void FE_FN(fe_pool_max8_span)(float *restrict acc, const float *const *r, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float m = acc[j];
        FE_POOL_MAX_STEP(0) FE_POOL_MAX_STEP(1) FE_POOL_MAX_STEP(2) FE_POOL_MAX_STEP(3)
        FE_POOL_MAX_STEP(4) FE_POOL_MAX_STEP(5) FE_POOL_MAX_STEP(6) FE_POOL_MAX_STEP(7)
        acc[j] = m;
    }
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max8_arg_span)(float *restrict acc, int64_t *restrict arg, const float *const *r,
                                          const int64_t *id, int64_t lo, int64_t hi)
{
    FE_POOL_ROWS8
    for (int64_t j = lo; j < hi; j++) {
        float m = acc[j];
        int64_t g = arg[j];
        FE_POOL_MAXARG_STEP(0) FE_POOL_MAXARG_STEP(1) FE_POOL_MAXARG_STEP(2) FE_POOL_MAXARG_STEP(3)
        FE_POOL_MAXARG_STEP(4) FE_POOL_MAXARG_STEP(5) FE_POOL_MAXARG_STEP(6) FE_POOL_MAXARG_STEP(7)
        acc[j] = m;
        arg[j] = g;
    }
}

/* One row or a group of 8 into the accumulator: the head columns, then the aligned rest. */
FE_ALWAYS_INLINE void FE_FN(fe_pool_add)(float *restrict acc, const float *restrict row, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(row, d);
    FE_FN(fe_pool_add_span)(acc, row, 0, h);
    FE_FN(fe_pool_add_span)(acc, row, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add_scaled)(float *restrict acc, float w, const float *restrict row, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(row, d);
    FE_FN(fe_pool_add_scaled_span)(acc, w, row, 0, h);
    FE_FN(fe_pool_add_scaled_span)(acc, w, row, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add8)(float *restrict acc, const float *const *r, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(r[0], d);
    FE_FN(fe_pool_add8_span)(acc, r, 0, h);
    FE_FN(fe_pool_add8_span)(acc, r, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_add8_scaled)(float *restrict acc, const float *const *r, const float *w, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(r[0], d);
    FE_FN(fe_pool_add8_scaled_span)(acc, r, w, 0, h);
    FE_FN(fe_pool_add8_scaled_span)(acc, r, w, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max)(float *restrict acc, const float *restrict row, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(row, d);
    FE_FN(fe_pool_max_span)(acc, row, 0, h);
    FE_FN(fe_pool_max_span)(acc, row, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max_arg)(float *restrict acc, int64_t *restrict arg, const float *restrict row,
                                    int64_t id, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(row, d);
    FE_FN(fe_pool_max_arg_span)(acc, arg, row, id, 0, h);
    FE_FN(fe_pool_max_arg_span)(acc, arg, row, id, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max8)(float *restrict acc, const float *const *r, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(r[0], d);
    FE_FN(fe_pool_max8_span)(acc, r, 0, h);
    FE_FN(fe_pool_max8_span)(acc, r, h, d);
}

FE_ALWAYS_INLINE void FE_FN(fe_pool_max8_arg)(float *restrict acc, int64_t *restrict arg, const float *const *r,
                                     const int64_t *id, int64_t d)
{
    int64_t h = FE_FN(fe_pool_head)(r[0], d);
    FE_FN(fe_pool_max8_arg_span)(acc, arg, r, id, 0, h);
    FE_FN(fe_pool_max8_arg_span)(acc, arg, r, id, h, d);
}

/* Fold k (<= FE_POOL_K) gathered rows into the bag's accumulator, in order. For max, `first`
 * says the accumulator holds nothing yet: the first row is copied (torch's kernel does the same). */
FE_ALWAYS_INLINE void FE_FN(fe_pool_flush)(int mode, float *restrict out, int64_t *restrict arg, const float **rows,
                                  const float *w, const int64_t *id, int k, int first, int64_t d)
{
    if (mode == FE_BAG_MAX) {
        int i = 0;
        if (first) {
            memcpy(out, rows[0], (size_t)d * sizeof(float));
            if (arg)
                for (int64_t j = 0; j < d; j++)
                    arg[j] = id[0];
            i = 1;
        }
        if (i == 0 && k == FE_POOL_K) {
            if (arg)
                FE_FN(fe_pool_max8_arg)(out, arg, rows, id, d);
            else
                FE_FN(fe_pool_max8)(out, rows, d);
            return;
        }
        for (; i < k; i++) {
            if (arg)
                FE_FN(fe_pool_max_arg)(out, arg, rows[i], id[i], d);
            else
                FE_FN(fe_pool_max)(out, rows[i], d);
        }
        return;
    }
    if (k == FE_POOL_K) {
        if (w)
            FE_FN(fe_pool_add8_scaled)(out, rows, w, d);
        else
            FE_FN(fe_pool_add8)(out, rows, d);
        return;
    }
    for (int i = 0; i < k; i++) {
        if (w)
            FE_FN(fe_pool_add_scaled)(out, w[i], rows[i], d);
        else
            FE_FN(fe_pool_add)(out, rows[i], d);
    }
}

/* One bag: positions [lo, hi) into out (D floats) and, for max with arg != NULL, arg (D int64).
 * Returns -1, or the first position whose id is outside [0, V) (out is then unspecified): ids are
 * checked in position order before their rows are used. */
FE_ALWAYS_INLINE int64_t FE_FN(fe_bag_one)(const fe_bag_args *a, int64_t lo, int64_t hi, float *restrict out,
                                         int64_t *restrict arg, float *scratch)
{
    const int64_t D = a->D, V = a->V;
    const uint64_t pad = (uint64_t)a->padding;  /* -1 (none) never equals a valid id */
    const int code = a->id_code, mode = a->mode;
    const float *rows[FE_POOL_K];
    float w[FE_POOL_K];
    int64_t id[FE_POOL_K];
    int k = 0;
    int64_t n = 0;
    if (mode != FE_BAG_MAX)
        memset(out, 0, (size_t)D * sizeof(float));  /* acc starts at +0.0f, as the reference */
    for (int64_t p = lo; p < hi; p++) {
        uint64_t u = fe_pool_id(a->ids, code, p);
        if (u >= (uint64_t)V)
            return p;
        if (u == pad)
            continue;
        if (a->cvt) {  /* another storage kind: its float32 values into the group's scratch row */
            a->cvt(scratch + k * D, (const char *)a->rows + (int64_t)u * a->row_bytes,
                   a->scales ? a->scales[u] : 1.0f, D, 0);
            rows[k] = scratch + k * D;
        } else {
            rows[k] = (const float *)a->rows + (int64_t)u * D;
        }
        w[k] = a->psw ? a->psw[p] : 1.0f;
        id[k] = (int64_t)u;
        if (++k == FE_POOL_K) {
            FE_FN(fe_pool_flush)(mode, out, arg, rows, a->psw ? w : NULL, id, k, n == 0, D);
            n += k;
            k = 0;
        }
    }
    if (k) {
        FE_FN(fe_pool_flush)(mode, out, arg, rows, a->psw ? w : NULL, id, k, n == 0, D);
        n += k;
    }
    if (n == 0) {  /* empty bag, or only padding: zeros (and arg-max -1) */
        memset(out, 0, (size_t)D * sizeof(float));
        if (arg)
            for (int64_t j = 0; j < D; j++)
                arg[j] = -1;
    } else if (mode == FE_BAG_MEAN) {
        const float c = (float)n;
        for (int64_t j = 0; j < D; j++)
            out[j] = out[j] / c;
    }
    return -1;
}

/* Bags [b0, b1) into out rows b0.. (B x D) and arg rows (B x D int64, max mode, or NULL).
 * Returns -1, the first bad position (bags after it are not written), or FE_BAG_NOMEM when the
 * scratch rows of another storage kind could not be allocated (nothing written). */
static int64_t FE_FN(fe_bag_range)(const fe_bag_args *a, int64_t b0, int64_t b1, float *out, int64_t *arg)
{
    const int64_t D = a->D;
    float *scratch = NULL;
    if (a->cvt && D > 0 && b1 > b0) {
        scratch = (float *)malloc((size_t)(FE_POOL_K * D) * sizeof(float));
        if (scratch == NULL)
            return FE_BAG_NOMEM;
    }
    for (int64_t b = b0; b < b1; b++) {
        int64_t lo = a->bounds ? a->bounds[b] : b * a->T;
        int64_t hi = a->bounds ? a->bounds[b + 1] : (b + 1) * a->T;
        int64_t bad = FE_FN(fe_bag_one)(a, lo, hi, out + b * D, arg ? arg + b * D : NULL, scratch);
        if (bad >= 0) {
            free(scratch);
            return bad;
        }
    }
    free(scratch);
    return -1;
}


/* Backward of sum / mean: rows[u] for u in [u0, u1), where unique id u occurs at the positions
 * order[starts[u]] .. order[starts[u+1] - 1] (ascending positions):
 *     rows[u] = +0 + c(p0) + c(p1) + ...,   c(p) = g[bag(p)]  or  psw[p] * g[bag(p)]
 * g is the (B, D) output gradient, already divided by the bag's count for the mean. Summed in
 * position order: bit-identical to np.add.at on a dense buffer. */
static void FE_FN(fe_bag_backward_rows)(const int64_t *order, const int64_t *starts, int64_t u0,
                                                int64_t u1, const int64_t *bounds, int64_t B, int64_t T,
                                                const float *g, const float *psw, int64_t D, float *rows)
{
    const float *r[FE_POOL_K];
    float w[FE_POOL_K];
    for (int64_t u = u0; u < u1; u++) {
        float *restrict acc = rows + u * D;
        int k = 0;
        memset(acc, 0, (size_t)D * sizeof(float));
        for (int64_t q = starts[u]; q < starts[u + 1]; q++) {
            int64_t p = order[q];
            r[k] = g + fe_pool_bag_of(bounds, B, T, p) * D;
            w[k] = psw ? psw[p] : 1.0f;
            if (++k == FE_POOL_K) {
                FE_FN(fe_pool_flush)(FE_BAG_SUM, acc, NULL, r, psw ? w : NULL, NULL, k, 0, D);
                k = 0;
            }
        }
        if (k)
            FE_FN(fe_pool_flush)(FE_BAG_SUM, acc, NULL, r, psw ? w : NULL, NULL, k, 0, D);
    }
}

/* Backward of max for columns [j0, j1): rows (U x D, zeroed by the caller) receive
 * rows[slot[b, j], j] += g[b, j] for bags b in order; slot -1 (empty bag) is skipped. A column
 * belongs to one thread, so the per-element order is the bag order whatever the team. */
static void FE_FN(fe_bag_max_backward_cols)(const int64_t *slot, const float *g, int64_t B, int64_t D,
                                                    int64_t j0, int64_t j1, float *rows)
{
    for (int64_t b = 0; b < B; b++) {
        const int64_t *s = slot + b * D;
        const float *gb = g + b * D;
        for (int64_t j = j0; j < j1; j++) {
            int64_t u = s[j];
            if (u >= 0)
                rows[u * D + j] = rows[u * D + j] + gb[j];
        }
    }
}
