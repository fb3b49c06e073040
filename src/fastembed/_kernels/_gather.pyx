"""Row gather kernels: lookup, fused token + position embedding, and the sparse backward scatter.

Layer 2 of 3: ``def`` wrappers take typed memoryviews that the Python layer has validated (shapes,
dtypes, contiguity, n_threads), pick the thread count, release the GIL and call ``noexcept nogil``
loops over the C helpers in ``csrc/``. Id bounds are checked inside the copy loop (one unsigned
compare per id) and the first bad position is returned for the Python layer to report.
"""
from cython.parallel cimport prange
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t)
from libc.stdlib cimport malloc, free
from libc.string cimport memset

cimport numpy as cnp
import numpy as np

cnp.import_array()

from fastembed._kernels._common cimport intp_t as fe_intp, team, first_bad
from fastembed._kernels._csrc cimport fe_ops, fe_ln_args, fe_kind_ops, fe_prefetch_row, fe_prefetch_ahead, FE_KIND_F32, fe_kind_itemsize
from fastembed._kernels._kinds cimport kind_ops, rows_of, scales_of
from fastembed._kernels._simd cimport ops

ctypedef fused id_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t


cdef inline void _prefetch(const char *row, fe_intp row_bytes) noexcept nogil:
    fe_prefetch_row(<const float *>row, (row_bytes + 3) // 4)


# ------------------------------------------------------------------------------------------ lookup

cdef fe_intp _gather_range(const fe_kind_ops *k, const char *table, const float *sc, fe_intp V, fe_intp D,
                           fe_intp row_bytes, const id_t *ids, fe_intp lo, fe_intp hi, float *out,
                           int stream) noexcept nogil:
    """Copy rows ids[lo:hi] into out[lo:hi] (converted to float32 by the kind's kernel); return the
    first position whose id is outside [0, V). The row a few ids ahead is prefetched (random rows:
    the copy waits on memory latency)."""
    cdef fe_intp i, ahead = fe_prefetch_ahead(D)
    cdef uint64_t u
    for i in range(lo, hi):
        if i + ahead < hi:
            u = <uint64_t><int64_t>ids[i + ahead]
            if u < <uint64_t>V:
                _prefetch(table + <fe_intp>u * row_bytes, row_bytes)
        # Sign-extend then compare unsigned: negative ids become huge and fail the same test.
        u = <uint64_t><int64_t>ids[i]
        if u >= <uint64_t>V:
            return i
        k.copy_row(out + i * D, table + <fe_intp>u * row_bytes, sc[u] if sc != NULL else 1.0, D, stream)
    return -1


cdef fe_intp _gather_any(const fe_kind_ops *k, fe_intp rb, int code, const char *table, const float *sc,
                         fe_intp V, fe_intp D, const void *ids, fe_intp lo, fe_intp hi, float *out,
                         int stream) noexcept nogil:
    if code == 0:
        return _gather_range(k, table, sc, V, D, rb, <const int8_t *>ids, lo, hi, out, stream)
    elif code == 1:
        return _gather_range(k, table, sc, V, D, rb, <const int16_t *>ids, lo, hi, out, stream)
    elif code == 2:
        return _gather_range(k, table, sc, V, D, rb, <const int32_t *>ids, lo, hi, out, stream)
    elif code == 3:
        return _gather_range(k, table, sc, V, D, rb, <const int64_t *>ids, lo, hi, out, stream)
    elif code == 4:
        return _gather_range(k, table, sc, V, D, rb, <const uint8_t *>ids, lo, hi, out, stream)
    elif code == 5:
        return _gather_range(k, table, sc, V, D, rb, <const uint16_t *>ids, lo, hi, out, stream)
    elif code == 6:
        return _gather_range(k, table, sc, V, D, rb, <const uint32_t *>ids, lo, hi, out, stream)
    else:
        return _gather_range(k, table, sc, V, D, rb, <const uint64_t *>ids, lo, hi, out, stream)


cdef int id_code(cnp.ndarray ids) except -1:
    """0..3: int8/16/32/64, 4..7: the unsigned ones; TypeError for anything else."""
    cdef int size = cnp.PyArray_ITEMSIZE(ids)
    cdef int base
    if not cnp.PyArray_ISINTEGER(ids):
        raise TypeError(f"ids must be an integer array, got dtype {ids.dtype}")
    base = 0 if size == 1 else 1 if size == 2 else 2 if size == 4 else 3
    return base + (4 if cnp.PyArray_ISUNSIGNED(ids) else 0)


def gather(cnp.ndarray table not None, cnp.ndarray ids not None, cnp.ndarray out not None,
           int n_threads, bint stream, int kind=FE_KIND_F32, const float[::1] scales=None):
    """out[i] = table[ids.flat[i]] for ids of any integer dtype and shape.

    Assumes validated input: table (V, D) C-contiguous rows of storage kind ``kind``
    (csrc/fe_kinds.h: float32, the uint16 bits of float16 / bfloat16, or int8 codes with their
    (V,) float32 ``scales``), converted exactly to float32; out (ids.size, D) float32 C-contiguous
    (any shape with that many elements), not overlapping table. numpy:
    ``out.reshape(-1, D)[:] = dequantize(table)[ids.ravel()]`` (fastembed.reference).

    Takes ndarrays rather than memoryviews: this is the path of 1-id lookups, where acquiring three
    buffers and a fused-type dispatch cost more than the copy.

    Returns -1 on success, else the first flat position whose id is negative or >= len(table)
    (rows before it are written, rows after it may be).
    """
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef int code = id_code(ids)
    cdef fe_intp n = cnp.PyArray_SIZE(ids)
    cdef fe_intp V = 0, D = 0
    cdef const char *tp = rows_of(table, kind, &V, &D)
    cdef const float *sc = scales_of(kind, scales, V)
    cdef fe_intp rb = D * fe_kind_itemsize[kind]
    cdef fe_intp lo, hi, res
    cdef int t, nt
    cdef fe_intp *bad
    cdef const fe_ops *o = ops()
    if (not cnp.PyArray_IS_C_CONTIGUOUS(ids) or not cnp.PyArray_ISNOTSWAPPED(ids)
            or not cnp.PyArray_ISALIGNED(ids)):
        # a fresh native-order, aligned copy: ids may be views at any byte offset (a misaligned
        # int32 load is undefined behaviour in C)
        ids = np.array(ids, dtype=ids.dtype.newbyteorder("="), order="C", copy=True)
    cdef const void *ip = cnp.PyArray_DATA(ids)
    cdef float *op = <float *>cnp.PyArray_DATA(out)
    if n == 0:
        return -1
    if D == 0:
        stream = False  # nothing to copy, but ids are still checked
    nt = team(n, n_threads)
    if nt == 1:
        with nogil:
            res = _gather_any(k, rb, code, tp, sc, V, D, ip, 0, n, op, stream)
            if stream:
                o.stream_fence()
        return res
    bad = <fe_intp *>malloc(nt * sizeof(fe_intp))
    if bad == NULL:
        raise MemoryError()
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
            lo = n * t // nt
            hi = n * (t + 1) // nt
            bad[t] = _gather_any(k, rb, code, tp, sc, V, D, ip, lo, hi, op, stream)
            if stream:
                o.stream_fence()
        res = first_bad(bad, nt)
    free(bad)
    return res


def to_float32(cnp.ndarray src not None, int kind, float[:, ::1] out not None, int n_threads,
               const float[::1] scales=None):
    """out[i] = float32 values of the (n, D) rows ``src`` of storage kind ``kind`` (with their
    ``scales`` for a scaled kind): exact for float16 / bfloat16, ``(float)code * scale`` for int8.
    Assumes validated input: out (n, D), not overlapping src. numpy: fastembed._dtypes' conversion
    (float16 NaNs come out quiet, as the x86 conversion instructions make them)."""
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp n = 0, D = 0, i
    cdef const char *sp = rows_of(src, kind, &n, &D)
    cdef const float *sc = scales_of(kind, scales, n)
    cdef fe_intp rb = D * fe_kind_itemsize[kind]
    cdef int nt = team(n, n_threads)
    if out.shape[0] != n or out.shape[1] != D:
        raise ValueError(f"out has shape {(out.shape[0], out.shape[1])}, expected {(n, D)}")
    if n == 0 or D == 0:
        return
    with nogil:
        for i in prange(n, num_threads=nt, schedule='static', use_threads_if=nt > 1):
            k.copy_row(&out[i, 0], sp + i * rb, sc[i] if sc != NULL else 1.0, D, 0)


# ------------------------------------------------------------------------------------------ embed

cdef fe_intp _embed_range(const fe_kind_ops *k, const fe_ops *o, const char *table, const float *sc, fe_intp rb,
                          fe_intp V, fe_intp D, const int64_t *ids,
                          const float *pos, const int64_t *pidx, const int64_t *poff, fe_intp T, float scale,
                          const float *types, const int64_t *tidx,
                          fe_intp lo, fe_intp hi, float *out, int stream) noexcept nogil:
    cdef fe_intp i, p, ahead = fe_prefetch_ahead(D)
    cdef uint64_t u
    for i in range(lo, hi):
        if i + ahead < hi:
            u = <uint64_t>ids[i + ahead]
            if u < <uint64_t>V:
                _prefetch(table + <fe_intp>u * rb, rb)
        u = <uint64_t>ids[i]
        if u >= <uint64_t>V:
            return i
        # the position row: given per token, or sequence i // T's offset plus i's place in it
        p = pidx[i] if pidx != NULL else poff[i // T] + i % T
        k.embed_row(out + i * D, table + <fe_intp>u * rb, sc[u] if sc != NULL else 1.0, scale, pos + p * D,
                    (types + (tidx[i] * D if tidx != NULL else 0)) if types != NULL else NULL, D, stream)
    if stream:
        o.stream_fence()
    return -1


def embed(cnp.ndarray table not None, int kind, const float[::1] scales, const int64_t[::1] ids not None,
          const float[:, ::1] pos not None, const int64_t[::1] pos_idx, float scale,
          const float[:, ::1] types, const int64_t[::1] type_idx,
          float[:, ::1] out not None, int n_threads, bint stream=False,
          const int64_t[::1] pos_offsets=None, fe_intp seq_len=0):
    """out[i] = value(table[ids[i]]) * scale + pos[p(i)] (+ types[t(i)]), one pass.

    ``table`` holds rows of storage kind ``kind`` (with ``scales`` for a scaled kind), converted
    exactly to float32 first (csrc/impl/kind.h). p(i) = ``pos_idx[i]``, or, with ``pos_idx`` None,
    ``pos_offsets[i // seq_len] + i % seq_len`` (sequences of ``seq_len`` tokens starting at their
    offsets: no (B*T,) index is built); t(i) = ``type_idx[i]``, or row 0 of ``types`` when
    ``type_idx`` is None.

    Assumes validated input: every position row within [0, len(pos)), type_idx within
    [0, len(types)) (or types None), all tables have D columns, out is (len(ids), D). numpy:
    ``rows[ids] * np.float32(scale) + pos[p] (+ types[t])`` on the float32 rows: the same
    roundings in the same order, so the results are bit-identical. ``stream``: non-temporal stores
    (large outputs).

    Returns -1 on success, else the first position whose id is outside [0, len(table)).
    """
    cdef const fe_kind_ops *k = kind_ops(kind)
    cdef fe_intp V = 0, D = 0
    cdef const char *tab = rows_of(table, kind, &V, &D)
    cdef const float *sc = scales_of(kind, scales, V)
    cdef fe_intp rb = D * fe_kind_itemsize[kind]
    cdef fe_intp n = ids.shape[0]
    cdef fe_intp lo, hi, res
    cdef int t, nt
    cdef fe_intp *bad
    cdef const float *tp = NULL
    cdef const int64_t *ti = NULL
    cdef const int64_t *pi = NULL
    cdef const int64_t *po = NULL
    cdef const fe_ops *o = ops()
    if n == 0:
        return -1
    if D == 0:
        for lo in range(n):
            if <uint64_t>ids[lo] >= <uint64_t>V:
                return lo
        return -1
    if pos_idx is not None:
        pi = &pos_idx[0]
    else:
        po = &pos_offsets[0]
    if types is not None:
        tp = &types[0, 0]
        if type_idx is not None:
            ti = &type_idx[0]
    nt = team(n, n_threads)
    bad = <fe_intp *>malloc(nt * sizeof(fe_intp))
    if bad == NULL:
        raise MemoryError()
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            lo = n * t // nt
            hi = n * (t + 1) // nt
            bad[t] = _embed_range(k, o, tab, sc, rb, V, D, &ids[0], &pos[0, 0], pi, po, seq_len, scale,
                                  tp, ti, lo, hi, &out[0, 0], stream)
        res = first_bad(bad, nt)
    free(bad)
    return res


# ------------------------------------------------------------------------------------------ embed + LayerNorm

def embed_layernorm(const float[:, ::1] table not None, const int64_t[::1] ids not None,
                    const float[:, ::1] pos not None, const int64_t[::1] pos_idx, float scale,
                    const float[:, ::1] types, const int64_t[::1] type_idx,
                    const float[::1] gamma not None, const float[::1] beta not None, float eps,
                    float[:, ::1] out not None, int n_threads, bint stream=False,
                    const int64_t[::1] pos_offsets=None, fe_intp seq_len=0):
    """out[i] = LayerNorm(table[ids[i]] * scale + pos[p(i)] (+ types[t(i)])) * gamma + beta, one pass
    over the output (csrc/impl/layernorm.h: float32 statistics in a fixed 64-lane order).

    p(i), t(i) as :func:`embed`. Assumes validated input: every position row within [0, len(pos)),
    type_idx within [0, len(types)), gamma and beta of D floats, D >= 1, out (len(ids), D).
    numpy: :func:`fastembed.reference.embed_layernorm`, bit for bit at every SIMD level.

    Returns -1 on success, else the first position whose id is outside [0, len(table)).
    """
    cdef fe_intp n = ids.shape[0], V = table.shape[0], D = table.shape[1]
    cdef fe_intp lo, hi, res
    cdef int t, nt
    cdef fe_intp *bad
    cdef float *tmp
    cdef fe_ln_args a
    cdef const fe_ops *o = ops()
    if n == 0:
        return -1
    if D == 0:
        raise ValueError("embed_layernorm needs D >= 1")
    a.table = &table[0, 0] if V else NULL
    a.V = V
    a.D = D
    a.ids = &ids[0]
    a.pos = &pos[0, 0]
    a.pidx = &pos_idx[0] if pos_idx is not None else NULL
    a.poff = &pos_offsets[0] if pos_idx is None else NULL
    a.T = seq_len
    a.scale = scale
    a.types = &types[0, 0] if types is not None else NULL
    a.tidx = &type_idx[0] if types is not None and type_idx is not None else NULL
    a.gamma = &gamma[0]
    a.beta = &beta[0]
    a.eps = eps
    a.out = &out[0, 0]
    a.stream = stream
    nt = team(n, n_threads)
    bad = <fe_intp *>malloc(nt * sizeof(fe_intp))
    tmp = <float *>malloc(nt * (D + 16) * sizeof(float))  # per thread: one row of x
    if bad == NULL or tmp == NULL:
        free(bad)
        free(tmp)
        raise MemoryError()
    with nogil:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1, use_threads_if=nt > 1):
            lo = n * t // nt
            hi = n * (t + 1) // nt
            bad[t] = o.embed_ln_range(&a, lo, hi, tmp + t * (D + 16))
        res = first_bad(bad, nt)
    free(bad)
    free(tmp)
    return res
