"""The machine's limits, measured in the same run as the rows they bound (issue 28).

Three numbers, each the best of several interleaved rounds after a settle pause:

* ``read_gbs``: a two-thread read of a large float32 array (``np.max`` over each half in its own
  thread; numpy releases the GIL in the reduction) -- the rate a memory-bound scan can reach with
  ``n_threads=2``. A one-thread ``np.sum`` reads at well under half of this and is not a limit.
* ``copy_gbs``: a two-thread ``np.copyto`` (bytes read + bytes written per second), the limit of
  a gather / bag whose output is as large as its input.
* ``sgemm_gflops``: what numpy's BLAS reaches on a large square float32 product (n = 2048 and
  4096 tried, the better kept) -- the compute limit of a many-query top-k.

``limit_time(read_bytes=..., flops=..., copy_bytes=...)`` turns a row's work into the time the
limits allow (the largest of the three bounds), and ``frac(limit, t)`` prints limit / t.
"""
from __future__ import annotations

import threading
from typing import Callable, Dict, Optional

import numpy as np

SETTLE = 0.25


def _two_threads(f0: Callable[[], object], f1: Callable[[], object]) -> None:
    out = [None]
    th = threading.Thread(target=lambda: out.__setitem__(0, f1()))
    th.start()
    f0()
    th.join()


def best_of(fns: Dict[str, Callable[[], object]], rounds: int = 5, settle: float = SETTLE,
            min_time: float = 0.05) -> Dict[str, float]:
    """Seconds per call, best of ``rounds`` interleaved rounds, ``settle`` seconds of sleep before
    each contender's batch (so no contender pays for another library's spinning BLAS threads):
    :func:`fastembed.bench.timing.best_time` with this module's pause."""
    from fastembed.bench.timing import best_time
    return best_time(fns, rounds=rounds, min_time=min_time, settle=settle)


class Limits:
    """The measured limits (see the module docstring)."""

    def __init__(self, read_gbs: float, copy_gbs: float, sgemm_gflops: float, sgemm_n: int):
        self.read_gbs, self.copy_gbs, self.sgemm_gflops, self.sgemm_n = read_gbs, copy_gbs, sgemm_gflops, sgemm_n

    def limit_time(self, read_bytes: float = 0.0, flops: float = 0.0, copy_bytes: float = 0.0) -> float:
        """Seconds the limits allow for a call that reads ``read_bytes``, does ``flops`` float32
        multiply-adds x 2 and copies ``copy_bytes`` (read + write counted): the largest bound."""
        return max(read_bytes / (self.read_gbs * 1e9), flops / (self.sgemm_gflops * 1e9),
                   copy_bytes / (self.copy_gbs * 1e9))

    def row(self):
        return [f"{self.read_gbs:.1f} GB/s", f"{self.copy_gbs:.1f} GB/s",
                f"{self.sgemm_gflops:.0f} GFLOP/s (n={self.sgemm_n})"]

    def __repr__(self) -> str:
        return (f"Limits(read {self.read_gbs:.1f} GB/s, copy {self.copy_gbs:.1f} GB/s, "
                f"sgemm {self.sgemm_gflops:.0f} GFLOP/s)")


def frac(limit: Optional[float], t: Optional[float]) -> str:
    """limit / t as a fraction of the limit reached ("-" when unknown)."""
    return "-" if limit is None or t is None or t <= 0 else f"{limit / t:.2f}"


def measure(n_threads: int = 2, read_mb: int = 400, rounds: int = 5, quick: bool = False) -> Limits:
    """Measure the three limits now (about 10-20 s; ``quick``: smaller arrays, fewer rounds)."""
    if quick:
        read_mb, rounds = 200, 3
    n = read_mb * (1 << 20) // 4
    a = np.ones(n, np.float32)
    dst = np.empty_like(a)
    h = n // 2

    def read2():
        if n_threads >= 2:
            _two_threads(lambda: np.max(a[:h]), lambda: np.max(a[h:]))
        else:
            np.max(a)

    def copy2():
        if n_threads >= 2:
            _two_threads(lambda: np.copyto(dst[:h], a[:h]), lambda: np.copyto(dst[h:], a[h:]))
        else:
            np.copyto(dst, a)

    t = best_of({"read": read2, "copy": copy2}, rounds=rounds)
    read_gbs = a.nbytes / t["read"] / 1e9
    copy_gbs = 2 * a.nbytes / t["copy"] / 1e9
    del a, dst
    best, best_n = 0.0, 0
    rng = np.random.default_rng(0)
    for m in ((2048,) if quick else (2048, 4096)):
        A = rng.standard_normal((m, m), dtype=np.float32)
        B = rng.standard_normal((m, m), dtype=np.float32)
        C = np.empty((m, m), np.float32)
        tt = best_of({"sgemm": lambda: np.matmul(A, B, out=C)}, rounds=rounds, min_time=0.2)["sgemm"]
        g = 2.0 * m ** 3 / tt / 1e9
        if g > best:
            best, best_n = g, m
    return Limits(read_gbs, copy_gbs, best, best_n)


if __name__ == "__main__":
    print(measure())
