"""Side-by-side timing of fastembed's kernels against numpy (and torch / faiss when installed).

Every contender of a row is timed in the same run, interleaved round by round, and the best round is
kept, so a noisy machine slows all of them alike. Used by ``bench/compare.py`` and ``fastembed bench``.

Tooling, not product: nothing in fastembed imports this package at start-up; the CLI's ``bench``
command imports it when it runs. One module per topic: :mod:`~fastembed.bench.timing` (the timing
and table utilities), :mod:`~fastembed.bench.kernels`, :mod:`~fastembed.bench.files`,
:mod:`~fastembed.bench.training`, :mod:`~fastembed.bench.distributed`.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from fastembed._config import show_config
from fastembed import simd as _simd
from fastembed.bench.distributed import bench_distributed
from fastembed.bench.files import bench_io, bench_save
from fastembed.bench.kernels import (bench_analogy, bench_backward, bench_embed, bench_half, bench_index,
                                     bench_lookup, bench_pooling, bench_simd, bench_topk)
from fastembed.bench.timing import _optional, best_time, print_table, zipf_ids
from fastembed.bench.training import bench_glove, bench_word2vec

__all__ = ["run", "zipf_ids", "best_time", "print_table", "SECTIONS"]


SECTIONS = {"lookup": bench_lookup, "embed": bench_embed, "topk": bench_topk, "analogy": bench_analogy,
            "io": bench_io, "save": bench_save, "backward": bench_backward, "word2vec": bench_word2vec,
            "glove": bench_glove, "pooling": bench_pooling, "distributed": bench_distributed, "simd": bench_simd,
            "half": bench_half, "index": bench_index}


def run(sections=None, quick: bool = False, n_threads: int = 2, seed: int = 0, simd: Optional[str] = None) -> None:
    """Print the comparison tables for the chosen sections (all by default), at SIMD level ``simd``
    (default: the active one; the ``simd`` section compares every supported level)."""
    previous = _simd.set_level(simd) if simd is not None else None
    try:
        _run(sections, quick, n_threads, seed)
    finally:
        if previous is not None:
            _simd.set_level(previous)


def _run(sections, quick: bool, n_threads: int, seed: int) -> None:
    torch = _optional("torch")
    if torch:
        torch.set_num_threads(n_threads)
    info = show_config(print_out=False)
    print(f"fastembed {info['fastembed']} | numpy {np.__version__} | torch "
          f"{getattr(torch, '__version__', 'not installed')} | faiss "
          f"{getattr(_optional('faiss'), '__version__', 'not installed')} | threads {n_threads} | "
          f"simd {info['simd']} (this CPU: {info['simd_supported']}) | {time.strftime('%Y-%m-%d')}")
    rng = np.random.default_rng(seed)
    for name in sections or list(SECTIONS):
        if name not in SECTIONS:
            raise ValueError(f"unknown benchmark section {name!r}; choose from {sorted(SECTIONS)}")
        SECTIONS[name](quick, n_threads, rng)
