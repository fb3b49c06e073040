"""Timing and table utilities shared by every benchmark section: interleaved best-of-rounds timing
with a settle pause, paired single-call timing, Zipf ids, and the markdown tables the sections print."""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import numpy as np

from fastembed import simd as _simd

__all__ = ["zipf_ids", "best_time", "print_table", "SETTLE_SECONDS", "QUICK"]


def _optional(name):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001 - any failure to import a peer means "not installed"
        return None


def zipf_ids(rng, V: int, shape, s: float = 1.0) -> np.ndarray:
    """Ids with Zipf-distributed frequencies over ranks 0..V-1 (rank r has weight 1/(r+1)**s)."""
    w = 1.0 / np.arange(1, V + 1, dtype=np.float64) ** s
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(shape)), V - 1).astype(np.int64)


SETTLE_SECONDS = 0.15
# --quick (``fastembed bench --quick``, under a minute): fewer cases, two rounds, a shorter settle
QUICK = dict(rounds=2, settle=0.05)


def best_time(fns: Dict[str, Callable], rounds: int = 5, min_time: float = 0.02,
              settle: float = SETTLE_SECONDS) -> Dict[str, float]:
    """Seconds per call of each function: best of ``rounds`` interleaved rounds.

    Before each contender's batch the machine settles for ``settle`` seconds: OpenBLAS worker
    threads keep spinning after a numpy matmul returns and slow whatever runs next on the same
    cores (measured: a 19 ms top-k takes 31 ms right after a gemv), so without the pause each
    contender would be charged for the previous one's threads."""
    numbers = {}
    for k, f in fns.items():
        f()  # warm up (page in, allocate caches)
        n, t = 1, 0.0
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            t = time.perf_counter() - t0
            if t >= min_time or n >= 1 << 20:
                break
            n *= 2 if t == 0 else max(2, min(10, int(min_time / max(t, 1e-9)) + 1))
        numbers[k] = n
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = numbers[k]
            if settle:
                time.sleep(settle)
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return best


def _fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f}us"
    if t < 1:
        return f"{t * 1e3:.2f}ms"
    return f"{t:.2f}s"


def print_table(title: str, header: List[str], rows: List[List[str]], notes: Optional[List[str]] = None):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n### {title} [simd {_simd.get_level()}]\n")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    for n in notes or []:
        print(f"\n{n}")


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def _paired_times(fns: Dict[str, Callable], rounds: int) -> Dict[str, np.ndarray]:
    """Seconds of single calls, contenders interleaved call by call for ``rounds`` rounds (after one
    warm-up call each): on a shared machine a slow moment hits all contenders of its round alike,
    so per-round ratios (and the best single calls) stay comparable when batch means do not."""
    for f in fns.values():
        f()
    times = {k: np.empty(rounds) for k in fns}
    for r in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k][r] = time.perf_counter() - t0
    return times
