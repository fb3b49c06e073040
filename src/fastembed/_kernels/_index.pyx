"""Kernels of the exact int8 search index (fastembed/index.py): quantisation and the bounded scan
with exact re-scoring.

Assumes validated input: fastembed/index.py checks shapes, dtypes, k, the candidates and builds
the per-query parameters; csrc/impl/int8.h has the SIMD-level loops and csrc/fe_int8.h the state.
"""
from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport prange
from libc.math cimport INFINITY, isfinite, ldexp, sqrt
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t
from libc.stdlib cimport malloc, calloc, free

from fastembed._kernels._common cimport intp_t as fe_intp, team
from fastembed._kernels._csrc cimport (fe_ops, fe_topk_args, fe_i8_args, fe_i8_query, fe_i8_state,
                                       fe_i8_merge_lb, fe_merge_heaps, fe_heap_init, fe_heap_sort)
from fastembed._kernels._simd cimport ops

# Passes run in chunks of about this much work (bytes of codes times queries), the GIL taken
# between chunks to check for Ctrl-C (a few milliseconds each).
cdef fe_intp CHUNK_WORK = 1 << 26
cdef enum:
    ROW_ALIGN = 16  # thread shares start on multiples of the scan's row block (FE_I8_BLOCK)


cdef inline fe_intp _split(fe_intp lo, fe_intp n, int t, int nt) noexcept nogil:
    if t >= nt:
        return lo + n
    return lo + (n * t // nt) // ROW_ALIGN * ROW_ALIGN


def kernel_name():
    """Which integer dot-product kernel the active SIMD level runs on this CPU."""
    return ops().i8_kernel().decode()


def quantize(const float[:, ::1] table not None, int8_t[::1] codes not None, int32_t[::1] rowsum not None,
             float[::1] scale not None, double[:, ::1] st not None, int n_threads):
    """Per-row int8 quantisation (csrc/impl/int8.h fe_i8_quantize).

    table (V, D) float32; codes (ceil(V/16) * 16 * 4 * ceil(D/4),) int8, zeroed, written in the
    blocked layout of csrc/fe_int8.h; rowsum (>= V,) int32 the codes' sums; scale (V,) float32 =
    max|row| / 127; st (V, 3) float64 = (sum of squared errors, sum of squared codes, sum of
    squares of the row). numpy: :func:`fastembed.reference.int8_quantize`. Interruptible.
    """
    cdef fe_intp V = table.shape[0], D = table.shape[1], c0, c1, per_chunk
    cdef int t, nt = team(V, n_threads)
    cdef const fe_ops *o = ops()
    if V == 0 or D == 0:
        return
    per_chunk = max(<fe_intp>ROW_ALIGN * nt, CHUNK_WORK // (4 * D)) // ROW_ALIGN * ROW_ALIGN
    c0 = 0
    while c0 < V:
        c1 = min(V, c0 + per_chunk)
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                o.i8_quantize(&table[0, 0], D, _split(c0, c1 - c0, t, nt), _split(c0, c1 - c0, t + 1, nt),
                              &codes[0], &rowsum[0], &scale[0], &st[0, 0])
        PyErr_CheckSignals()
        c0 = c1


def search(const float[:, ::1] table not None, const float[::1] inv, const int8_t[::1] codes not None,
           const int32_t[::1] rowsum not None, const float[::1] coef not None,
           const float[:, ::1] queries not None, const int32_t[:, ::1] qp4 not None,
           const int32_t[:, ::1] qpabs4 not None, const int32_t[:, ::1] qpu4 not None,
           const float[:, ::1] qpar not None, fe_intp row_hi, const uint8_t[::1] mask,
           const int64_t[::1] excl_ptr, const int64_t[::1] excl, float[:, ::1] scores not None,
           int64_t[:, ::1] ids not None, int64_t[::1] rescored not None, float[::1] thresholds not None,
           int n_threads, int kind=0):
    """Exact top-k through the int8 index: the bounded scan of rows [0, row_hi) then the exact
    re-scoring of every row whose upper bound reaches the k-th best lower bound.

    table (V, D) float32 and inv (V,) (cosine) or None (dot): the rows the answer is scored on;
    codes (blocked, see quantize), rowsum (ceil(V/16) * 16,) int32 and coef (ceil(V/16) * 48,)
    float32 (per block of 16 rows: 16 cent, 16 ra, 16 rb): the index for this metric; queries (Q, D) float32 (unit rows for cosine): the queries as the
    float32 scan takes them; qp4/qpabs4/qpu4 (Q, G) int32: their int8 codes, |codes| and
    codes + 128 (as uint8) four to an int32 (zero past D; G = ceil(D/4)); qpar (Q, 4) float32 =
    (tau, fn, qn, abs_err). Writes scores/ids (Q, k) sorted best first
    (empty slots -inf and INT64_MAX), rescored (Q,) = rows scored exactly, thresholds (Q,) = the
    k-th best lower bound. numpy: :func:`fastembed.reference.int8_search`. Interruptible between
    chunks (KeyboardInterrupt; the outputs are then incomplete).

    kind 1 / 2: a half index (float16 / bfloat16): ``codes`` holds its (ceil(V/16) * 16, D) half
    rows as bytes, the queries' own float32 values are dotted with them (qp4, qpabs4, qpu4 unused),
    qpar = (1, 0, qn, abs_err); rowsum unused.
    """
    cdef fe_intp Q = queries.shape[0], k = scores.shape[1], D = table.shape[1]
    cdef fe_intp q, j, c0, c1, per_chunk, n_st
    cdef int t, u, nt, failed = 0
    cdef fe_i8_args a
    cdef fe_i8_query *qs = NULL
    cdef fe_i8_state *st = NULL
    cdef float *lb = NULL
    cdef float *hs = NULL
    cdef int64_t *hi = NULL
    cdef int64_t *cnt = NULL
    cdef int *rc = NULL
    cdef const fe_ops *o = ops()
    cdef int (*scan)(const fe_i8_args *, const fe_i8_query *, int64_t, int64_t, int64_t, fe_i8_state *) noexcept nogil
    if Q == 0 or k == 0:
        return
    for q in range(Q):
        fe_heap_init(&scores[q, 0], &ids[q, 0], k)
        rescored[q] = 0
        thresholds[q] = -INFINITY
    if row_hi <= 0 or D == 0:
        return
    if kind not in (0, 1, 2):
        raise ValueError(f"kind={kind}: 0 (int8), 1 (float16) or 2 (bfloat16)")
    scan = o.i8_scan if kind == 0 else (o.hx_scan_f16 if kind == 1 else o.hx_scan_bf16)
    a.codes = &codes[0]
    a.rowsum = &rowsum[0]
    a.G = qp4.shape[1]
    a.block_bytes = ROW_ALIGN * 4 * a.G if kind == 0 else ROW_ALIGN * 2 * D
    a.coef = &coef[0]
    a.t.table = &table[0, 0]
    a.t.rows = a.t.table
    a.t.scales = NULL
    a.t.D = D
    a.t.inv = &inv[0] if inv is not None else NULL
    a.t.mask = &mask[0] if mask is not None else NULL
    a.t.excl_ptr = &excl_ptr[0] if (excl_ptr is not None and excl is not None and excl.shape[0] > 0) else NULL
    a.t.excl = &excl[0] if a.t.excl_ptr != NULL else NULL
    a.t.k = k
    nt = team(row_hi, n_threads)
    n_st = nt * Q
    qs = <fe_i8_query *>malloc(Q * sizeof(fe_i8_query))
    st = <fe_i8_state *>calloc(n_st, sizeof(fe_i8_state))
    lb = <float *>malloc(n_st * k * sizeof(float))
    hs = <float *>malloc((nt - 1) * Q * k * sizeof(float) + 1)
    hi = <int64_t *>malloc((nt - 1) * Q * k * sizeof(int64_t) + 1)
    cnt = <int64_t *>calloc(n_st, sizeof(int64_t))
    rc = <int *>calloc(nt, sizeof(int))
    try:
        if qs == NULL or st == NULL or lb == NULL or hs == NULL or hi == NULL or cnt == NULL or rc == NULL:
            raise MemoryError()
        for q in range(Q):
            qs[q].p4 = &qp4[q, 0]
            qs[q].pabs4 = &qpabs4[q, 0]
            qs[q].pu4 = &qpu4[q, 0]
            qs[q].tau = qpar[q, 0]
            qs[q].fn = qpar[q, 1]
            qs[q].qn = qpar[q, 2]
            qs[q].abs_err = qpar[q, 3]
            qs[q].qf = &queries[q, 0]
            qs[q].q = q
        for j in range(n_st * k):
            lb[j] = -INFINITY
        for j in range(n_st):
            st[j].lb = lb + j * k
        for j in range((nt - 1) * Q):
            fe_heap_init(hs + j * k, hi + j * k, k)
        per_chunk = max(<fe_intp>ROW_ALIGN * nt, CHUNK_WORK // (D * Q + 1)) // ROW_ALIGN * ROW_ALIGN
        c0 = 0
        while c0 < row_hi:
            c1 = min(row_hi, c0 + per_chunk)
            with nogil:
                for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                    if scan(&a, qs, Q, _split(c0, c1 - c0, t, nt), _split(c0, c1 - c0, t + 1, nt), st + t * Q) < 0:
                        rc[t] = -1
            for u in range(nt):
                failed = failed or rc[u] < 0
            if failed:
                raise MemoryError()
            PyErr_CheckSignals()
            c0 = c1
        with nogil:
            # the k best lower bounds over every thread: the threshold of each query
            for q in range(Q):
                for u in range(1, nt):
                    fe_i8_merge_lb(st[q].lb, st[u * Q + q].lb, k)
                thresholds[q] = st[q].lb[0]
            # each thread re-scores its own candidates (rows it scanned) into its own heaps
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                for q in range(Q):
                    if t == 0:
                        cnt[q] = o.i8_rescore(&a.t, &queries[q, 0], q, &st[q], thresholds[q],
                                              &scores[q, 0], &ids[q, 0])
                    else:
                        cnt[t * Q + q] = o.i8_rescore(&a.t, &queries[q, 0], q, &st[t * Q + q], thresholds[q],
                                                      hs + ((t - 1) * Q + q) * k, hi + ((t - 1) * Q + q) * k)
            for q in range(Q):
                for u in range(1, nt):
                    fe_merge_heaps(&scores[q, 0], &ids[q, 0], hs + ((u - 1) * Q + q) * k,
                                   hi + ((u - 1) * Q + q) * k, k)
                fe_heap_sort(&scores[q, 0], &ids[q, 0], k)
                for u in range(nt):
                    rescored[q] += cnt[u * Q + q]
    finally:
        if st != NULL:
            for j in range(n_st):
                free(st[j].ids)
                free(st[j].ub)
        free(qs)
        free(st)
        free(lb)
        free(hs)
        free(hi)
        free(cnt)
        free(rc)


cdef inline float _up32(double x) noexcept nogil:
    # float64 -> a float32 >= x for x >= 0 (NaN -> inf): x (1 + 2^-21) + 2^-149 (fastembed/index.py)
    cdef float f = <float>(x * (1.0 + 4.76837158203125e-07) + 1.401298464324817e-45)  # 2^-21, 2^-149
    return INFINITY if f != f else f


def coefficients(const float[::1] scale not None, const double[:, ::1] st not None, double gamma,
                 float[::1] coef_cos not None, float[::1] coef_dot not None, int n_threads):
    """The bound's per-row coefficients of both metrics (fastembed/index.py's docstring), written
    in the codes' block layout: per block of 16 rows, 16 cent, 16 ra, 16 rb (float32).

    scale (V,) float32 and st (V, 3) float64 from :func:`quantize`; gamma the scan's relative
    error gamma_m for this D; coef_cos / coef_dot (ceil(V/16) * 48,) float32, zeroed. The
    inverse norms are the table's (``(float)(1 / sqrt(sum x^2))``, 0 for a zero row). The same
    float64 operations in the same order as :func:`fastembed.reference.int8_coefficients`, so
    the same bits."""
    cdef fe_intp V = scale.shape[0], r, o
    cdef double K = 1.0 + 1.52587890625e-05, u = 5.9604644775390625e-08, INV_MAX = 1.2379400392853803e+27  # 2^-16, 2^-24, 2^90
    cdef double s, e, g, n, iv, st0, st1, st2
    cdef float inv
    cdef bint bad, bad_cos
    cdef int nt = team(V, n_threads)
    with nogil:
        for r in prange(V, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            st0 = st[r, 0]
            st1 = st[r, 1]
            st2 = st[r, 2]
            o = (r // 16) * 48 + r % 16
            s = <double>scale[r]
            e = sqrt(st0) * K
            g = s * sqrt(st1) * K
            n = sqrt(st2) * K
            bad = not isfinite(st0) or not isfinite(st2)
            inv = <float>(1.0 / sqrt(st2)) if st2 > 0 else 0.0
            iv = <double>inv
            bad_cos = bad or iv > INV_MAX or not isfinite(iv) or (iv == 0 and st2 > 0)
            if bad_cos:
                coef_cos[o], coef_cos[o + 16], coef_cos[o + 32] = 0.0, INFINITY, INFINITY
            else:
                coef_cos[o] = <float>(s * iv)
                coef_cos[o + 16] = _up32(g * iv * K)
                coef_cos[o + 32] = _up32((e * iv + (gamma + 2 * u) * n * iv) * K)
            if bad:
                coef_dot[o], coef_dot[o + 16], coef_dot[o + 32] = 0.0, INFINITY, INFINITY
            else:
                coef_dot[o] = scale[r]
                coef_dot[o + 16] = _up32(g * K)
                coef_dot[o + 32] = _up32((e + gamma * n) * K)


def hx_build(const float[:, ::1] table not None, uint16_t[::1] h not None, int32_t[::1] shift not None,
             double[:, ::1] st not None, bint bf, int n_threads):
    """A half index's rows (csrc/impl/int8.h fe_hx_build): h ((V rounded up to 16) * D,) uint16,
    zeroed, gets the float16 (bf false) / bfloat16 bits of each row times 2^shift[r] (shift (V,)
    int32: max|row| scaled into [1, 2)); st (V, 3) float64 = (sum of squared errors, sum of squares
    of the rounded row, sum of squares of the row), unscaled. numpy:
    :func:`fastembed.reference.half_index_rows`. Interruptible."""
    cdef fe_intp V = table.shape[0], D = table.shape[1], c0, c1, per_chunk
    cdef int t, nt = team(V, n_threads)
    cdef const fe_ops *o = ops()
    if V == 0 or D == 0:
        return
    per_chunk = max(<fe_intp>nt, CHUNK_WORK // (16 * D))
    c0 = 0
    while c0 < V:
        c1 = min(V, c0 + per_chunk)
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                o.hx_build(&table[0, 0], D, c0 + (c1 - c0) * t // nt, c0 + (c1 - c0) * (t + 1) // nt, bf,
                            &h[0], &shift[0], &st[0, 0])
        PyErr_CheckSignals()
        c0 = c1


def hx_coefficients(const int32_t[::1] shift not None, const double[:, ::1] st not None,
                    const float[::1] inv not None, double gamma, float[::1] coef_cos not None,
                    float[::1] coef_dot not None, int n_threads):
    """A half index's bound coefficients (fastembed/index.py, "The half index"), blocked as the
    int8 index's: cent = 2^-shift (times inv for cosine), ra = 0, rb = K (e + (gamma [+ 2u]) (n + h))
    (times inv) rounded up, e / n / h = K times the roots of st's sums. inv (V,) float32: the
    table's inverse norms. The operations of :func:`fastembed.reference.half_index_coefficients`
    in its order (the same bits)."""
    cdef fe_intp V = shift.shape[0], r, o
    cdef double K = 1.0 + 1.52587890625e-05, u = 5.9604644775390625e-08, INV_MAX = 1.2379400392853803e+27
    cdef double sc, e, n, hn, iv, st0, st2
    cdef bint bad
    cdef int nt = team(V, n_threads)
    with nogil:
        for r in prange(V, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            st0 = st[r, 0]
            st2 = st[r, 2]
            o = (r // 16) * 48 + r % 16
            sc = ldexp(1.0, -shift[r])
            e = sqrt(st0) * K
            hn = sqrt(st[r, 1]) * K
            n = sqrt(st2) * K
            bad = not isfinite(st0) or not isfinite(st2)
            iv = <double>inv[r]
            coef_cos[o + 16] = 0.0
            coef_dot[o + 16] = 0.0
            if bad or iv > INV_MAX or not isfinite(iv) or (iv == 0 and st2 > 0):
                coef_cos[o], coef_cos[o + 16], coef_cos[o + 32] = 0.0, INFINITY, INFINITY
            else:
                coef_cos[o] = <float>(iv * sc)
                coef_cos[o + 32] = _up32((e * iv + (gamma + 2 * u) * (n + hn) * iv) * K)
            if bad:
                coef_dot[o], coef_dot[o + 16], coef_dot[o + 32] = 0.0, INFINITY, INFINITY
            else:
                coef_dot[o] = <float>sc
                coef_dot[o + 32] = _up32((e + gamma * (n + hn)) * K)
