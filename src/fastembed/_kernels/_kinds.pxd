# The storage kinds' entry points (csrc/fe_kinds.h, csrc/impl/kind.h): every kernel module that reads a
# table's rows takes (rows, kind, scales) and reaches the kind's kernels through these checks.
cimport numpy as cnp

from fastembed._kernels._common cimport intp_t as fe_intp
from fastembed._kernels._csrc cimport (fe_kind_ops, FE_KIND_COUNT, fe_kind_itemsize, fe_kind_names,
                                      fe_kind_scaled)
from fastembed._kernels._simd cimport ops


cdef inline const fe_kind_ops *kind_ops(int kind) except NULL:
    """The row kernels of storage kind ``kind`` (csrc/fe_kinds.h) at the active SIMD level."""
    if kind < 0 or kind >= FE_KIND_COUNT:
        raise ValueError(f"kind must be a storage kind code 0..{FE_KIND_COUNT - 1}, got {kind}")
    return &ops().kind[kind]


cdef inline const char *rows_of(cnp.ndarray table, int kind, fe_intp *V, fe_intp *D) except? NULL:
    """The data of a (V, D) C-contiguous table of storage kind ``kind`` (its element size checked);
    NULL for an empty table (the kernels read nothing then)."""
    if cnp.PyArray_NDIM(table) != 2 or not cnp.PyArray_IS_C_CONTIGUOUS(table):
        raise ValueError("the table must be a 2-D C-contiguous array")
    if cnp.PyArray_ITEMSIZE(table) != fe_kind_itemsize[kind]:
        raise ValueError(f"a {fe_kind_names[kind].decode()} table has {fe_kind_itemsize[kind]}-byte elements, "
                         f"got dtype {table.dtype}")
    V[0] = cnp.PyArray_DIM(table, 0)
    D[0] = cnp.PyArray_DIM(table, 1)
    return <const char *>cnp.PyArray_DATA(table) if V[0] * D[0] > 0 else NULL


cdef inline const float *scales_of(int kind, const float[::1] scales, fe_intp V) except? NULL:
    """A scaled kind's (V,) row scales (required), NULL for an unscaled kind (refused if given)."""
    if not fe_kind_scaled[kind]:
        if scales is not None:
            raise ValueError(f"{fe_kind_names[kind].decode()} rows have no scales")
        return NULL
    if scales is None or scales.shape[0] != V:
        raise ValueError(f"{fe_kind_names[kind].decode()} rows need ({V},) float32 scales")
    return &scales[0] if V > 0 else NULL
