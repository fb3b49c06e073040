"""Top-k kernels: row norms, a fused scan for few queries, and GEMM-block merging for many.

Assumes validated input (the Python layer in fastembed/search.py checks shapes, dtypes, k, the
restrict mask and the exclusion lists). Heaps are (Q, k) arrays initialised here; the final order
is score descending then id ascending, independent of threads and blocks.
"""
from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport malloc, free

import numpy as np

from fastembed._kernels.fe cimport (fe_intp, fe_topk_args, fe_scan_rows, fe_merge_scores, fe_merge_combined,
                                    fe_merge_heaps, fe_row_norms, fe_heap_init, fe_heap_sort)


cdef inline int _team(fe_intp work, fe_intp min_per_thread, int n_threads) noexcept nogil:
    cdef fe_intp most = work // min_per_thread
    if most < 1:
        return 1
    if most < n_threads:
        return <int>most
    return n_threads if n_threads > 0 else 1


def row_norms(const float[:, ::1] table not None, float[::1] out not None, int n_threads, bint inverse):
    """out[r] = ||table[r]|| (inverse=False) or 1/||table[r]|| with 0 for zero rows (inverse=True),
    summed in float64. numpy: ``np.sqrt((table.astype(np.float64) ** 2).sum(1))``."""
    cdef fe_intp V = table.shape[0], D = table.shape[1]
    cdef int t, nt = _team(V * D, 1 << 16, n_threads)
    if V == 0:
        return
    if D == 0:
        out[:] = 0
        return
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            fe_row_norms(&table[0, 0], D, V * t // nt, V * (t + 1) // nt, &out[0], not inverse)


cdef void _init_args(fe_topk_args *a, const float[:, ::1] table, const float[::1] inv,
                     const uint8_t[::1] mask, const int64_t[::1] excl_ptr, const int64_t[::1] excl,
                     fe_intp k) noexcept nogil:
    a.table = &table[0, 0]
    a.D = table.shape[1]
    a.inv = &inv[0] if inv is not None else NULL
    a.mask = &mask[0] if mask is not None else NULL
    a.excl_ptr = &excl_ptr[0] if excl_ptr is not None else NULL
    a.excl = &excl[0] if (excl_ptr is not None and excl.shape[0] > 0) else NULL
    if a.excl == NULL:
        a.excl_ptr = NULL
    a.k = k


def scan(const float[:, ::1] table not None, const float[::1] inv, const float[:, ::1] queries not None,
         fe_intp row_lo, fe_intp row_hi, const uint8_t[::1] mask, const int64_t[::1] excl_ptr,
         const int64_t[::1] excl, float[:, ::1] scores not None, int64_t[:, ::1] ids not None,
         int n_threads):
    """Fused top-k: one pass over rows [row_lo, row_hi) scoring every query, per-thread heaps merged.

    scores/ids: (Q, k) outputs, written sorted best first (empty slots: -inf and INT64_MAX).
    numpy: ``s = queries @ table[lo:hi].T * inv[lo:hi]``, then the k best of each row of s.
    """
    cdef fe_intp Q = queries.shape[0], k = scores.shape[1], D = table.shape[1]
    cdef fe_intp n = row_hi - row_lo, q, j
    cdef int t, nt
    cdef fe_topk_args a
    cdef float *hs
    cdef int64_t *hi
    if Q == 0 or k == 0:
        return
    for q in range(Q):
        fe_heap_init(&scores[q, 0], &ids[q, 0], k)
    if n <= 0 or table.shape[0] == 0:
        return
    _init_args(&a, table, inv, mask, excl_ptr, excl, k)
    nt = _team(n * (D + 1) * Q, 1 << 15, n_threads)
    # threads after the first get scratch heaps, merged into the output at the end
    hs = <float *>malloc((nt - 1) * Q * k * sizeof(float) + 1)
    hi = <int64_t *>malloc((nt - 1) * Q * k * sizeof(int64_t) + 1)
    if hs == NULL or hi == NULL:
        free(hs)
        free(hi)
        raise MemoryError()
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            if t == 0:  # thread 0 fills the output heaps directly
                fe_scan_rows(&a, &queries[0, 0], 0, Q, row_lo, row_lo + n // nt,
                             &scores[0, 0], &ids[0, 0])
            else:
                for j in range(Q):
                    fe_heap_init(hs + ((t - 1) * Q + j) * k, hi + ((t - 1) * Q + j) * k, k)
                fe_scan_rows(&a, &queries[0, 0], 0, Q, row_lo + n * t // nt,
                             row_lo + n * (t + 1) // nt, hs + (t - 1) * Q * k, hi + (t - 1) * Q * k)
        if nt > 1:
            for q in prange(Q, num_threads=nt, schedule='static'):
                for j in range(nt - 1):
                    fe_merge_heaps(&scores[q, 0], &ids[q, 0], hs + (j * Q + q) * k, hi + (j * Q + q) * k, k)
    free(hs)
    free(hi)
    with nogil:
        for q in range(Q):
            fe_heap_sort(&scores[q, 0], &ids[q, 0], k)


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
    cdef int nt = _team(nq * nb, 1 << 14, n_threads)
    cdef fe_topk_args a
    if nq == 0 or nb == 0 or k == 0:
        return
    _init_args(&a, table, inv, mask, excl_ptr, excl, k)
    with nogil:
        for q in prange(nq, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            fe_merge_scores(&a, &dots[q, 0], nb, r0, q0 + q, &scores[q0 + q, 0], &ids[q0 + q, 0])


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
    if Q == 0 or n_valid == 0 or k == 0:
        return
    _init_args(&a, table, inv, mask, excl_ptr, excl, k)
    buf = <float *>malloc(n_valid * sizeof(float))
    if buf == NULL:
        raise MemoryError()
    with nogil:
        for q in range(Q):
            fe_merge_combined(&a, &word_dots[ia[q], 0], &word_dots[ib[q], 0], &word_dots[ic[q], 0],
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
