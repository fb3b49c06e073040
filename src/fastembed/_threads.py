"""One place that turns a user's ``n_threads`` into a thread count for the kernels."""
from __future__ import annotations

import os

from fastembed._kernels import _config

__all__ = ["resolve_threads", "cpu_count"]


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_threads(n_threads) -> int:
    """Resolve ``n_threads`` as every kernel does.

    None: OpenMP's default (``OMP_NUM_THREADS`` if set, else all cores); a positive int: that many;
    a negative int counts back from the cores (-1 = all, -2 = all but one, at least 1);
    0 or a non-integer: ``ValueError`` / ``TypeError``.
    """
    if n_threads is None:
        return max(1, _config.omp_max_threads())
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) and not hasattr(n_threads, "__index__"):
        raise TypeError(f"n_threads must be an int or None, got {n_threads!r}")
    n = int(n_threads)
    if n == 0:
        raise ValueError("n_threads=0 is not a thread count: use None for all cores, or a positive "
                         "or negative int")
    if n < 0:
        return max(1, cpu_count() + 1 + n)
    return n
