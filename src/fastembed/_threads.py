"""The one threading policy of fastembed.

Every public operation takes ``n_threads`` and turns it into a team size here, and only here:

* :func:`resolve_threads` reads the user's value (None = all cores or ``OMP_NUM_THREADS``,
  negative counts back from the cores, 0 is an error).
* :func:`team_size` applies the named work thresholds below: with ``n_threads=None`` a call too
  small to pay for starting a team runs on the calling thread; an explicit ``n_threads`` is obeyed
  (capped by the number of work items), so tests can force a team onto small inputs.
  Kernels start exactly the team they are given: they never second-guess it.
* :func:`run_parallel` runs Python-level workers (the blocked top-k, the text parser) on one
  reusable thread pool, with Ctrl-C honoured within one work item.

No call changes a process-wide setting: fastembed never caps BLAS threads (its batched scoring
has no BLAS), sets the locale or installs signal handlers.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable, Optional, Sequence

from fastembed._kernels import _config

__all__ = ["resolve_threads", "cpu_count", "team_size", "run_parallel", "Cancelled", "worker_pool",
           "GRAIN_COPY_BYTES", "GRAIN_DOT_FLOPS", "GRAIN_MERGE_SCORES", "GRAIN_ROWS_BYTES",
           "GRAIN_PARSE_BYTES", "GRAIN_FORMAT_VALUES", "GRAIN_CRC_BYTES", "GRAIN_TOKENIZE_BYTES"]

# ---------------------------------------------------------------- named work thresholds (grains)
# Work per thread below which starting (or waking) one more thread costs more than it saves;
# measured on the 2-core VMs this project runs on (an OpenMP team costs ~2-5 us to wake).
GRAIN_COPY_BYTES = 1 << 18    # gather / embed / bag / backward: bytes written per thread
GRAIN_DOT_FLOPS = 1 << 15     # scans: multiply-adds per thread (Q x rows x D)
GRAIN_MERGE_SCORES = 1 << 14  # heap merges of precomputed scores: scores per thread
GRAIN_ROWS_BYTES = 1 << 18    # row-wise passes over the table (norms, quantisation): bytes read per thread
GRAIN_PARSE_BYTES = 1 << 20   # text files: bytes parsed per thread (below: parse on the calling thread)
GRAIN_FORMAT_VALUES = 1 << 16  # text files: values formatted per thread
GRAIN_CRC_BYTES = 1 << 24     # native files: bytes checksummed per thread
GRAIN_TOKENIZE_BYTES = 1 << 15  # native WordPiece: bytes of text per thread (~1 ms of work)


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
    if isinstance(n_threads, bool) or not hasattr(n_threads, "__index__"):
        raise TypeError(f"n_threads must be an int or None, got {n_threads!r}")
    n = int(n_threads.__index__())
    if n == 0:
        raise ValueError("n_threads=0 is not a thread count: use None for all cores, or a positive "
                         "or negative int")
    if n < 0:
        return max(1, cpu_count() + 1 + n)
    return n


def team_size(work: int, grain: int, n_threads, items: Optional[int] = None) -> int:
    """Threads for a call doing ``work`` units (of the kind ``grain`` counts) over ``items``
    independent pieces (default: ``work``).

    ``n_threads=None``: at most one thread per ``grain`` units, at least 1, at most the cores.
    An explicit ``n_threads``: exactly that many, capped by ``items``.
    """
    if n_threads is None:
        most = work // grain
        if most <= 1:  # the common small call: no team, and no work to find out the cores
            return 1
        nt = min(max(1, _config.omp_max_threads()), most)
    else:
        nt = resolve_threads(n_threads)
    cap = work if items is None else items
    return nt if nt <= cap else max(1, int(cap))


# ---------------------------------------------------------------- one reusable worker pool

class Cancelled(Exception):
    """Raised inside a worker that noticed the call was interrupted (never reaches the user)."""


_pool: Optional[ThreadPoolExecutor] = None
_pool_lock = threading.Lock()
POOL_MAX_WORKERS = 64  # threads are started on demand, so the cap costs nothing until used


def worker_pool() -> ThreadPoolExecutor:
    """The one reusable pool of Python worker threads (started on demand)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(POOL_MAX_WORKERS, thread_name_prefix="fastembed")
    return _pool


def run_parallel(work: Callable[[int, threading.Event], object], n_workers: int) -> list:
    """Run ``work(w, cancel)`` for w in range(n_workers), worker 0 on the calling thread and the
    others on the shared pool; return their results in order.

    ``work`` must return soon after ``cancel`` is set (call :func:`check_cancel` between blocks).
    If any worker raises, or the caller is interrupted (Ctrl-C reaches worker 0, which runs on the
    calling thread, at its next bytecode), ``cancel`` is set, the other workers are waited for
    (they stop at their next check) and the exception propagates: no thread keeps running.
    """
    cancel = threading.Event()
    if n_workers <= 1:
        return [work(0, cancel)]
    futures = [worker_pool().submit(work, w, cancel) for w in range(1, n_workers)]
    try:
        first = work(0, cancel)
        rest = [f.result() for f in futures]  # re-raises a worker's exception; interruptible
    except BaseException:
        cancel.set()
        wait(futures)
        raise
    return [first] + rest


def check_cancel(cancel: threading.Event) -> None:
    """Raise :class:`Cancelled` in a worker when the call was interrupted."""
    if cancel.is_set():
        raise Cancelled()


def parallel_items(fn: Callable, items: Sequence, n_workers: int) -> list:
    """``[fn(x) for x in items]`` spread over ``n_workers`` contiguous runs of items on the shared
    pool (order kept), interruptible between items."""
    n = len(items)
    nw = max(1, min(n_workers, n))

    def work(w, cancel):
        out = []
        for i in range(n * w // nw, n * (w + 1) // nw):
            check_cancel(cancel)
            out.append(fn(items[i]))
        return out

    res = run_parallel(work, nw)
    return [y for part in res for y in part]
