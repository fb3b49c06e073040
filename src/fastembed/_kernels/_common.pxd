# Shared typedefs and the OpenMP helpers of every kernel module.
from libc.stdint cimport int64_t
from fastembed._kernels._csrc cimport fe_intp, fe_openmp_enabled, fe_omp_max_threads, fe_omp_thread_num

# 64-bit signed index: every size, offset and index product in the kernels.
ctypedef fe_intp intp_t


cdef inline int team(fe_intp items, int n_threads) noexcept nogil:
    """The team a kernel starts: the ``n_threads`` the Python layer chose
    (fastembed._threads.team_size holds every "too small for a team" rule), never more threads
    than work items, at least one."""
    if n_threads < 1 or items < 2:
        return 1
    return <int>items if items < n_threads else n_threads


cdef inline fe_intp first_bad(fe_intp *bad, int nt) noexcept nogil:
    """The first of nt threads' "first bad position" results (-1 where a thread had none)."""
    cdef int t
    for t in range(nt):
        if bad[t] >= 0:
            return bad[t]
    return -1


cdef inline int64_t lower_bound(const int64_t *a, int64_t n, int64_t x) noexcept nogil:
    """First i in [0, n) with a[i] >= x (n if none); a non-decreasing."""
    cdef int64_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo
