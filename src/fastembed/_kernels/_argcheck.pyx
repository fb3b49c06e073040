"""Compiled twins of the validation layer's hottest checks (fastembed/_validate.py calls them).

Not a kernel: no computation on the data, only the structural checks of an ``out=`` buffer, done
in one C-level pass because they run on every 1-id lookup (a pure-Python version costs ~0.65 us,
as much as the lookup itself).
"""
cimport numpy as cnp

cnp.import_array()


def out_problem(out, cnp.ndarray base, tuple shape):
    """0 if ``out`` is a writeable, C-contiguous, native float32 ndarray of ``shape`` whose memory does
    not overlap ``base``; else a code _validate.check_out turns into a message (1 type, 2 dtype,
    3 shape, 4 layout, 5 read-only, 6 overlap)."""
    cdef cnp.ndarray o
    cdef int i, nd
    cdef char *a0
    cdef char *a1
    cdef char *b0
    cdef char *b1
    if not isinstance(out, cnp.ndarray):
        return 1
    o = <cnp.ndarray>out
    if cnp.PyArray_TYPE(o) != cnp.NPY_FLOAT32 or not cnp.PyArray_ISNOTSWAPPED(o):
        return 2
    nd = cnp.PyArray_NDIM(o)
    if nd != len(shape):
        return 3
    for i in range(nd):
        if cnp.PyArray_DIM(o, i) != <Py_ssize_t>shape[i]:
            return 3
    if not cnp.PyArray_IS_C_CONTIGUOUS(o):
        return 4
    if not cnp.PyArray_ISWRITEABLE(o):
        return 5
    if cnp.PyArray_NBYTES(o) and cnp.PyArray_NBYTES(base):
        a0 = <char *>cnp.PyArray_DATA(o)
        a1 = a0 + cnp.PyArray_NBYTES(o)
        b0 = <char *>cnp.PyArray_DATA(base)
        b1 = b0 + cnp.PyArray_NBYTES(base)
        if a0 < b1 and b0 < a1:
            return 6
    return 0
