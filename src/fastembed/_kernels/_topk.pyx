"""Top-k kernels: row norms, a fused scan for few queries, and GEMM-block merging for many.

Assumes validated input (the Python layer in fastembed/search.py checks shapes, dtypes, k, the
restrict mask and the exclusion lists). Heaps are (Q, k) arrays initialised here; the final order
is score descending then id ascending, independent of threads and blocks.
"""
from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t, uint16_t
from libc.stdlib cimport malloc, free

import numpy as np

from fastembed._kernels._common cimport intp_t as fe_intp, team
from fastembed._kernels._csrc cimport (fe_ops, fe_kind_ops, fe_topk_args, fe_merge_heaps, fe_heap_init, fe_heap_sort,
                                      FE_KIND_F32, fe_kind_itemsize)
from fastembed._kernels._kinds cimport kind_ops, rows_of, scales_of
from fastembed._kernels._simd cimport ops

cimport numpy as cnp

cnp.import_array()

# Long passes run in chunks of about this much work (multiply-adds, or floats read), with the GIL
# taken between chunks to check for Ctrl-C: a few milliseconds each, so an interrupt stops a scan
# within well under 0.5 s (even in a sanitizer build) for well under 1% overhead.
cdef fe_intp CHUNK_WORK = 1 << 25
# what a (V, 0) table or (Q, 0) queries point at: the kernels read nothing from it, and pointer
# arithmetic on it (row * 0) stays defined, as it would not on NULL
cdef float _EMPTY[1]
cdef enum:
    ROW_ALIGN = 8  # thread shares of a row range start on multiples of the widest level's row block

ctypedef void (*scan_fn)(const fe_topk_args *a, const float *queries, int64_t q0, int64_t nq,
                         int64_t r0, int64_t r1, float *hs, int64_t *hi) noexcept nogil


cdef inline fe_intp _split(fe_intp lo, fe_intp n, int t, int nt) noexcept nogil:
    """Start of thread t's share of n rows from lo (thread nt: the end), on a ROW_ALIGN boundary."""
    if t >= nt:
        return lo + n
    return lo + (n * t // nt) // ROW_ALIGN * ROW_ALIGN


def row_norms(cnp.ndarray table not None, int kind, const float[::1] scales, float[::1] out not None,
              int n_threads, bint inverse):
    """out[r] = ||table[r]|| (inverse=False) or 1/||table[r]|| with 0 for zero rows (inverse=True),
    for rows of storage kind ``kind`` (with ``scales`` for a scaled kind) taken as their float32
    values.

    Sums of squares in float64 in the fixed 16-lane order of csrc/impl/norms.h (the same bits at
    every SIMD level and in :func:`fastembed.reference.row_norms`). numpy:
    ``np.sqrt((rows.astype(np.float64) ** 2).sum(1))`` up to the summation order. Interruptible
    (Ctrl-C) between chunks of rows.
    """
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp V = 0, D = 0, c0, c1, per_chunk
    cdef const char *tp = rows_of(table, kind, &V, &D)
    cdef const float *sc = scales_of(kind, scales, V)
    cdef int t, nt = team(V, n_threads)
    if out.shape[0] != V:
        raise ValueError(f"out has {out.shape[0]} entries, expected {V}")
    if V == 0:
        return
    if D == 0:
        out[:] = 0
        return
    per_chunk = max(<fe_intp>ROW_ALIGN * nt, CHUNK_WORK // D)
    c0 = 0
    while c0 < V:
        c1 = min(V, c0 + per_chunk)
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                k.row_norms(tp, sc, D, _split(c0, c1 - c0, t, nt), _split(c0, c1 - c0, t + 1, nt),
                            &out[0], not inverse)
        PyErr_CheckSignals()
        c0 = c1


cdef void _init_args(fe_topk_args *a, const float[:, ::1] table, const float[::1] inv,
                     const uint8_t[::1] mask, const int64_t[::1] excl_ptr, const int64_t[::1] excl,
                     fe_intp k) noexcept nogil:
    # a (V, 0) table has no element to take the address of: the kernels never read it then
    a.table = &table[0, 0] if table is not None and table.shape[0] * table.shape[1] > 0 else &_EMPTY[0]
    a.rows = a.table
    a.scales = NULL
    a.D = table.shape[1] if table is not None else 0
    a.inv = &inv[0] if inv is not None else NULL
    a.mask = &mask[0] if mask is not None else NULL
    a.excl_ptr = &excl_ptr[0] if excl_ptr is not None else NULL
    a.excl = &excl[0] if (excl_ptr is not None and excl.shape[0] > 0) else NULL
    if a.excl == NULL:
        a.excl_ptr = NULL
    a.k = k


def scan(cnp.ndarray table not None, int kind, const float[::1] scales, const float[::1] inv,
         const float[:, ::1] queries not None, fe_intp row_lo, fe_intp row_hi, const uint8_t[::1] mask,
         const int64_t[::1] excl_ptr, const int64_t[::1] excl, float[:, ::1] scores not None,
         int64_t[:, ::1] ids not None, int n_threads):
    """Fused top-k: one pass over rows [row_lo, row_hi) scoring every query, per-thread heaps merged.

    ``table``: (V, D) rows of storage kind ``kind`` (with ``scales`` for a scaled kind), converted
    exactly in registers; every (query, row) score is the float32 kernel's on the row's float32
    values, bit for bit. scores/ids: (Q, k) outputs, written sorted best first (empty slots: -inf
    and INT64_MAX). numpy: ``s = queries @ rows[lo:hi].T * inv[lo:hi]``, then the k best of each
    row of s.

    Rows are scanned in chunks (each split between the threads, each thread keeping its heaps
    across chunks); Ctrl-C between chunks raises KeyboardInterrupt and leaves the outputs
    initialised but incomplete.
    """
    cdef fe_topk_args a
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp V = 0, D = 0
    cdef const char *tp = rows_of(table, kind, &V, &D)
    cdef const float *sc = scales_of(kind, scales, V)
    if queries.shape[1] != D:
        raise ValueError(f"queries have {queries.shape[1]} columns, the table {D}")
    _init_args(&a, None, inv, mask, excl_ptr, excl, scores.shape[1])
    a.D = D
    a.rows = tp if tp != NULL else <const void *>&_EMPTY[0]
    a.table = <const float *>a.rows if kind == FE_KIND_F32 else NULL
    a.scales = sc
    _scan(k.scan_rows, &a, V, queries, row_lo, row_hi, scores, ids, n_threads)


cdef int _scan(scan_fn f, fe_topk_args *ap, fe_intp V, const float[:, ::1] queries, fe_intp row_lo,
               fe_intp row_hi, float[:, ::1] scores, int64_t[:, ::1] ids, int n_threads) except -1:
    cdef fe_topk_args a = ap[0]
    cdef fe_intp Q = queries.shape[0], k = scores.shape[1], D = a.D
    cdef fe_intp n = row_hi - row_lo, q, j, c0, c1, per_chunk
    cdef int t, nt
    cdef float *hs
    cdef int64_t *hi
    cdef const float *qp
    if Q == 0 or k == 0:
        return 0
    for q in range(Q):
        fe_heap_init(&scores[q, 0], &ids[q, 0], k)
    if n <= 0 or V == 0:
        return 0
    qp = &queries[0, 0] if D > 0 else &_EMPTY[0]
    nt = team(n, n_threads)
    # threads after the first get scratch heaps, merged into the output at the end
    hs = <float *>malloc((nt - 1) * Q * k * sizeof(float) + 1)
    hi = <int64_t *>malloc((nt - 1) * Q * k * sizeof(int64_t) + 1)
    if hs == NULL or hi == NULL:
        free(hs)
        free(hi)
        raise MemoryError()
    try:
        for j in range((nt - 1) * Q):
            fe_heap_init(hs + j * k, hi + j * k, k)
        per_chunk = max(<fe_intp>ROW_ALIGN * nt, CHUNK_WORK // ((D + 1) * Q))
        c0 = row_lo
        while c0 < row_hi:
            c1 = min(row_hi, c0 + per_chunk)
            with nogil:
                for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
                    if t == 0:  # thread 0 fills the output heaps directly
                        f(&a, qp, 0, Q, c0, _split(c0, c1 - c0, 1, nt), &scores[0, 0], &ids[0, 0])
                    else:
                        f(&a, qp, 0, Q, _split(c0, c1 - c0, t, nt), _split(c0, c1 - c0, t + 1, nt),
                          hs + (t - 1) * Q * k, hi + (t - 1) * Q * k)
            PyErr_CheckSignals()
            c0 = c1
        with nogil:
            if nt > 1:
                for q in prange(Q, num_threads=nt, schedule='static'):
                    for j in range(nt - 1):
                        fe_merge_heaps(&scores[q, 0], &ids[q, 0], hs + (j * Q + q) * k, hi + (j * Q + q) * k, k)
            for q in range(Q):
                fe_heap_sort(&scores[q, 0], &ids[q, 0], k)
    finally:
        free(hs)
        free(hi)
    return 0


def init_heaps(float[:, ::1] scores not None, int64_t[:, ::1] ids not None):
    """Empty heaps: every slot (-inf, INT64_MAX)."""
    cdef fe_intp q
    for q in range(scores.shape[0]):
        fe_heap_init(&scores[q, 0], &ids[q, 0], scores.shape[1])


def merge_block(const float[:, ::1] dots not None, fe_intp n_valid, fe_intp r0,
                const float[:, ::1] table not None,
                const float[::1] inv, const uint8_t[::1] mask, const int64_t[::1] excl_ptr,
                const int64_t[::1] excl, fe_intp q0, float[:, ::1] scores not None,
                int64_t[:, ::1] ids not None, int n_threads):
    """Merge a tile of dot products (nq, >= n_valid) of queries q0.. with rows r0 .. r0+n_valid-1
    into heaps (Q, k); tile columns past n_valid (padding) are ignored.

    numpy: for each q, keep the k best of ``dots[q, :n_valid] * inv[r0:r0+n_valid]`` and the heap.
    """
    cdef fe_intp nq = dots.shape[0], nb = n_valid, k = scores.shape[1], q
    cdef int nt = team(nq, n_threads)
    cdef fe_topk_args a
    cdef const fe_ops *o = ops()
    if nq == 0 or nb == 0 or k == 0:
        return
    _init_args(&a, table, inv, mask, excl_ptr, excl, k)
    with nogil:
        for q in prange(nq, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            o.merge_scores(&a, &dots[q, 0], nb, r0, q0 + q, &scores[q0 + q, 0], &ids[q0 + q, 0])


def merge_combined(const float[:, ::1] word_dots not None, fe_intp n_valid, fe_intp r0,
                   const float[:, ::1] table not None, const float[::1] inv, const uint8_t[::1] mask,
                   const int64_t[::1] excl_ptr, const int64_t[::1] excl, const int64_t[::1] ia not None,
                   const int64_t[::1] ib not None, const int64_t[::1] ic not None,
                   const float[::1] qscale not None, float[:, ::1] scores not None,
                   int64_t[:, ::1] ids not None):
    """Analogy top-k from dot products of the distinct question words with a block of rows.

    word_dots: (m, >= n_valid) dots of m distinct words with rows r0 .. r0+n_valid-1; question q
    scores ``((word_dots[ib[q]] - word_dots[ia[q]]) + word_dots[ic[q]]) * qscale[q]`` (times
    inv[row] for cosine), merged into heap q. numpy: the same expression on the (Q, n) tile.
    """
    cdef fe_intp Q = ia.shape[0], k = scores.shape[1], q
    cdef fe_topk_args a
    cdef float *buf
    cdef const fe_ops *o = ops()
    if Q == 0 or n_valid == 0 or k == 0:
        return
    _init_args(&a, table, inv, mask, excl_ptr, excl, k)
    buf = <float *>malloc(n_valid * sizeof(float))
    if buf == NULL:
        raise MemoryError()
    with nogil:
        for q in range(Q):
            o.merge_combined(&a, &word_dots[ia[q], 0], &word_dots[ib[q], 0], &word_dots[ic[q], 0],
                              qscale[q], n_valid, r0, q, &scores[q, 0], &ids[q, 0], buf)
    free(buf)


def merge_heaps(float[:, ::1] scores not None, int64_t[:, ::1] ids not None,
                const float[:, ::1] other_scores not None, const int64_t[:, ::1] other_ids not None):
    """Fold the (Q, k) heaps ``other`` into ``scores``/``ids`` (heap order kept)."""
    cdef fe_intp q
    with nogil:
        for q in range(scores.shape[0]):
            fe_merge_heaps(&scores[q, 0], &ids[q, 0], &other_scores[q, 0], &other_ids[q, 0], scores.shape[1])


def sort_heaps(float[:, ::1] scores not None, int64_t[:, ::1] ids not None):
    """Sort each (k,) heap best first: score descending, then id ascending."""
    cdef fe_intp q
    with nogil:
        for q in range(scores.shape[0]):
            fe_heap_sort(&scores[q, 0], &ids[q, 0], scores.shape[1])


# rows per block when rows of another kind are converted to float32 for the tiled kernel (a block stays in L2)
cdef fe_intp HALF_BLOCK = 256


def dots(const float[:, ::1] rows not None, const float[:, ::1] queries not None, float[:, ::1] out not None):
    """``out[c, r] = dot(rows[r], queries[c])`` for the (n, D) rows and (m, D) queries into the first
    n columns of the (m, >= n) ``out``, on the calling thread with the GIL released.

    The tiled kernel of csrc/impl/tile.h: each dot product in the fixed order of impl/dot.h, the
    bits a single-query scan gives the same pair (never BLAS). numpy: ``queries @ rows.T``."""
    cdef fe_intp n = rows.shape[0], D = rows.shape[1], m = queries.shape[0]
    cdef const fe_ops *o = ops()
    if queries.shape[1] != D:
        raise ValueError(f"rows have {D} columns, queries {queries.shape[1]}")
    if out.shape[0] != m or out.shape[1] < n:
        raise ValueError(f"out has shape {(out.shape[0], out.shape[1])}, expected ({m}, >= {n})")
    if n == 0 or m == 0:
        return
    if D == 0:
        out[:, :n] = 0
        return
    with nogil:
        o.dots_block(&rows[0, 0], D, n, &queries[0, 0], m, &out[0, 0], out.shape[1])


def scores(cnp.ndarray table not None, int kind, const float[::1] inv, const float[:, ::1] queries not None,
           float[:, ::1] out not None, int n_threads, const float[::1] scales=None):
    """Every score: ``out[q, r] = dot(table[r], queries[q]) (* inv[r])`` for the (R, D) rows of
    storage kind ``kind`` (with ``scales`` for a scaled kind; float32 values exactly as the other
    kernels see them) and (Q, D) queries into (Q, R) ``out``.

    The tiled kernel (csrc/impl/tile.h): each dot product is the scan's fixed-order one, so each
    score equals, bit for bit, the score the top-k engine gives that (query, row) pair. numpy:
    ``queries @ rows.T * inv`` up to the summation order. Threads split the rows.
    """
    cdef const fe_ops *o = ops()
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp R = 0, D = 0, Q = queries.shape[0], r0, r1, b0, b1, u
    cdef const char *tp = rows_of(table, kind, &R, &D)
    cdef const float *sc = scales_of(kind, scales, R)
    cdef fe_intp rb = D * fe_kind_itemsize[kind]
    cdef int t, nt
    cdef float *blk
    if queries.shape[1] != D:
        raise ValueError(f"table has {D} columns, queries {queries.shape[1]}")
    if out.shape[0] != Q or out.shape[1] != R:
        raise ValueError(f"out has shape {(out.shape[0], out.shape[1])}, expected {(Q, R)}")
    if inv is not None and inv.shape[0] < R:
        raise ValueError(f"inv has {inv.shape[0]} entries, expected at least {R}")
    if Q == 0 or R == 0:
        return
    if D == 0:
        out[:, :] = 0
        return
    nt = team(R, n_threads)
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            r0 = _split(0, R, t, nt)
            r1 = _split(0, R, t + 1, nt)
            if kind == FE_KIND_F32:
                if r1 > r0:
                    o.dots_block(<const float *>tp + r0 * D, D, r1 - r0, &queries[0, 0], Q, &out[0, r0], R)
            else:  # each block of rows converted once to float32, then the tiled kernel
                blk = <float *>malloc(HALF_BLOCK * D * sizeof(float))
                if blk != NULL:
                    b0 = r0
                    while b0 < r1:
                        b1 = min(r1, b0 + HALF_BLOCK)
                        for u in range(b0, b1):
                            k.copy_row(blk + (u - b0) * D, tp + u * rb, sc[u] if sc != NULL else 1.0, D, 0)
                        o.dots_block(blk, D, b1 - b0, &queries[0, 0], Q, &out[0, b0], R)
                        b0 = b1
                    free(blk)
                else:  # no scratch: pair by pair, the same bits
                    for u in range(r0, r1):
                        for b0 in range(Q):
                            out[b0, u] = k.dot(tp + u * rb, sc[u] if sc != NULL else 1.0, &queries[b0, 0], D)
    if inv is not None:
        res = np.asarray(out)
        np.multiply(res, np.asarray(inv)[None, :R], out=res)  # float32 products: the scan's score bits
