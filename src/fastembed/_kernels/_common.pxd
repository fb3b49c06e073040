# Shared typedefs and the OpenMP helpers of every kernel module.
from fastembed._kernels._csrc cimport fe_intp, fe_openmp_enabled, fe_omp_max_threads, fe_omp_thread_num

# 64-bit signed index: every size, offset and index product in the kernels.
ctypedef fe_intp intp_t
