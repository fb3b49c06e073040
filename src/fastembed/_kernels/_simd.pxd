# The one SIMD level of the process: _simd.pyx owns the pointer to the active fe_ops table; every
# other kernel module cimports ops() and calls it once per kernel call (set_level switches all).
from fastembed._kernels._csrc cimport fe_ops

cdef const fe_ops *ops() noexcept nogil
