"""Pooling kernels: bags of ids to one vector (sum / mean / max, EmbeddingBag) and their gradients.

Layer 2 of 3: ``def`` wrappers over typed memoryviews that the Python layer (``fastembed.pooling``)
has validated: shapes, dtypes, contiguity, offsets, per-sample weights, out= buffers and the team
size. They release the GIL and run the plain C loops of ``csrc/fe_pool.h`` over contiguous ranges
of bags, one range per OpenMP thread (``prange(..., schedule='static')``). Id bounds are checked
inside the loop (one unsigned compare per id) and the first bad position is returned for the Python
layer to report.
"""
from cython.parallel cimport prange

from fastembed._kernels._common cimport intp_t as fe_intp, lower_bound
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

cimport numpy as cnp

cnp.import_array()

from fastembed._kernels._csrc cimport fe_bag_args, fe_ops, fe_kind_ops, FE_BAG_NOMEM, FE_KIND_F32, fe_kind_itemsize
from fastembed._kernels._kinds cimport kind_ops, rows_of, scales_of
from fastembed._kernels._simd cimport ops

MODES = {"sum": 0, "mean": 1, "max": 2}
cdef float _NO_FLOAT = 0  # out= of a zero-width bag: a valid address the kernel never writes


cdef int _id_code(cnp.ndarray ids) except -1:
    """0..3: int8/16/32/64, 4..7: the unsigned ones."""
    cdef int size = cnp.PyArray_ITEMSIZE(ids)
    cdef int base = 0 if size == 1 else 1 if size == 2 else 2 if size == 4 else 3
    return base + (4 if cnp.PyArray_ISUNSIGNED(ids) else 0)


def bag(cnp.ndarray table not None, cnp.ndarray ids not None, const int64_t[::1] bounds,
        int64_t T, const float[::1] psw, int64_t padding, int mode, float[:, ::1] out not None,
        int64_t[:, ::1] argmax, int n_threads, int kind=FE_KIND_F32, const float[::1] scales=None):
    """out[b] = pool(table[ids[lo_b:hi_b]]) for every bag b, in one pass (no (B, T, D) buffer).

    Assumes validated input: ``table`` (V, D) rows of storage kind ``kind`` (float32, or another
    kind with its ``scales``: each row's float32 values, exactly as lookup gives them); ``ids`` a C-contiguous native-order integer
    array holding the N ids of all bags back to back; either ``bounds`` (B + 1,) int64,
    non-decreasing from 0 to N (bag b is ``ids[bounds[b]:bounds[b+1]]``), or ``bounds`` None and
    fixed bags of ``T`` ids (N = B * T); ``psw`` (N,) float32 or None (sum mode); ``padding`` a row
    id or -1; ``mode`` 0 sum, 1 mean, 2 max; ``out`` (B, D) float32 not overlapping the table;
    ``argmax`` (B, D) int64 or None (max mode only); ``n_threads`` >= 1, the exact team.

    numpy (sum): ``acc = 0; for r in bag: acc = acc + table[r]`` per bag, in float32, padding rows
    skipped; mean divides by the non-padding count; empty bags give zeros (arg-max -1).

    Returns -1 on success, else the first flat position whose id is outside [0, V) (some bags
    may then be written, others not).
    """
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp V = 0, D = 0
    cdef const char *tp = rows_of(table, kind, &V, &D)
    cdef const float *sc = scales_of(kind, scales, V)
    cdef int64_t B = out.shape[0], N = cnp.PyArray_SIZE(ids)
    cdef fe_bag_args a
    cdef const fe_ops *o = ops()
    cdef int64_t *bad
    cdef int64_t *cuts
    cdef int64_t res = -1
    cdef int t, nt
    cdef float *op
    cdef int64_t *ap = NULL
    if B == 0:
        return -1
    a.rows = tp
    a.scales = sc
    a.cvt = NULL if kind == FE_KIND_F32 else k.copy_row
    a.row_bytes = D * fe_kind_itemsize[kind]
    a.V = V
    a.D = D
    a.ids = cnp.PyArray_DATA(ids)
    a.id_code = _id_code(ids)
    a.bounds = &bounds[0] if bounds is not None else NULL
    a.T = T
    a.psw = &psw[0] if psw is not None and psw.shape[0] > 0 else NULL
    a.padding = padding
    a.mode = mode
    # a (B, 0) output has no element 0: the kernel writes nothing there, and still checks the ids
    op = &out[0, 0] if D > 0 else &_NO_FLOAT
    if argmax is not None and D > 0:
        ap = &argmax[0, 0]
    nt = n_threads if n_threads < B else <int>B
    if nt < 1:
        nt = 1
    bad = <int64_t *>malloc(nt * sizeof(int64_t))
    cuts = <int64_t *>malloc((nt + 1) * sizeof(int64_t))
    if bad == NULL or cuts == NULL:
        free(bad)
        free(cuts)
        raise MemoryError()
    # Contiguous ranges of bags, one per thread, holding about N / nt ids each (ragged bags differ
    # in length; fixed bags split evenly). Bag order inside a range is kept, so the first bad
    # position is the first one found by the lowest thread that found one.
    cuts[0] = 0
    cuts[nt] = B
    for t in range(1, nt):
        if a.bounds == NULL:
            cuts[t] = B * t // nt
        else:
            cuts[t] = lower_bound(a.bounds, B, N * t // nt)
            if cuts[t] < cuts[t - 1]:
                cuts[t] = cuts[t - 1]
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            bad[t] = o.bag_range(&a, cuts[t], cuts[t + 1], op, ap)
        for t in range(nt):
            if bad[t] == FE_BAG_NOMEM:
                res = FE_BAG_NOMEM
                break
        if res != FE_BAG_NOMEM:
            for t in range(nt):
                if bad[t] >= 0:
                    res = bad[t]
                    break
    free(bad)
    free(cuts)
    if res == FE_BAG_NOMEM:
        raise MemoryError("no memory for the scratch rows of the bag kernel")
    return res


def backward_rows(const int64_t[::1] order not None, const int64_t[::1] starts not None,
                  const int64_t[::1] bounds, int64_t B, int64_t T, const float[:, ::1] grad not None,
                  const float[::1] psw, float[:, ::1] rows not None, int n_threads):
    """Sum / mean backward: rows[u] = sum over the positions p of unique id u (ascending) of
    ``grad[bag(p)]`` (times ``psw[p]`` when given), starting from +0, in float32.

    Assumes validated input: ``order`` the positions sorted stably by id (padding positions left
    out), ``starts`` (U + 1,) the segment bounds in ``order``; ``bounds`` (B + 1,) int64 or None for
    fixed bags of ``T``; ``grad`` (B, D) float32, already divided by the bag counts for the mean;
    ``rows`` (U, D) float32. numpy: ``np.add.at(dense, ids, grad[bag_of] (* psw[:, None]))``.
    """
    cdef int64_t U = rows.shape[0], D = rows.shape[1]
    cdef int t, nt
    cdef const int64_t *bp = &bounds[0] if bounds is not None else NULL
    cdef const float *pp = &psw[0] if psw is not None and psw.shape[0] > 0 else NULL
    cdef const float *gp
    if U == 0 or D == 0:
        return
    gp = &grad[0, 0]
    nt = n_threads if n_threads < U else <int>U
    if nt < 1:
        nt = 1
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            ops().bag_backward_rows(&order[0], &starts[0], U * t // nt, U * (t + 1) // nt, bp, B, T,
                                    gp, pp, D, &rows[0, 0])


def backward_max(const int64_t[:, ::1] slot not None, const float[:, ::1] grad not None,
                 float[:, ::1] rows not None, int n_threads):
    """Max backward: ``rows[slot[b, j], j] += grad[b, j]`` for bags b in order (slot -1 skipped).

    Assumes validated input: ``slot`` (B, D) int64 indices into ``rows`` (U, D) float32, zeroed by
    the caller; ``grad`` (B, D) float32. Threads own column ranges, so the result does not depend
    on the team. numpy: ``np.add.at(rows, (slot[m], cols[m]), grad[m])`` with ``m = slot >= 0``.
    """
    cdef int64_t B = grad.shape[0], D = grad.shape[1]
    cdef int t, nt
    if B == 0 or D == 0 or rows.shape[0] == 0:
        return
    nt = n_threads if n_threads < D else <int>D
    if nt < 1:
        nt = 1
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            ops().bag_max_backward_cols(&slot[0, 0], &grad[0, 0], B, D, D * t // nt, D * (t + 1) // nt,
                                        &rows[0, 0])
