"""The row-source protocol: what every question asks of a table.

:mod:`fastembed.words` and :mod:`fastembed.evaluate` are written once against this protocol, and
both :class:`~fastembed.EmbeddingTable` (rows in this process) and
:class:`~fastembed.distributed.ShardedTable` (rows on a Dask cluster) implement it, the way faiss's
``IndexShards`` is an ``Index``: a sharded table answers every question with the same code as one
table, bit for bit, and a new kind of table (rows behind a service, on a GPU, in a database) gets
every question by implementing these few members.

The protocol
------------
``vocab``, ``dim``, ``len(source)``
    The vocabulary (or None), the row width, the number of rows.
``lookup(ids, n_threads=None)``
    ``(*ids.shape, D)`` float32 rows.
``unit_rows(ids, n_threads=None)``
    ``(n, D)`` float64 ``row * inv_norm``: the unit vectors of rows, from the same float32 inverse
    norms the searches use.
``search(scorer, k, *, restrict=None, exclude=None, strategy="auto", block_rows=None, n_threads=None, index="auto")``
    Run a scorer of :mod:`fastembed.search` (``LinearScorer``, ``SharedWordScorer``,
    ``CosMulScorer``: picklable descriptions of the queries) over every row by the one top-k
    engine, the source supplying its inverse norms; ``(scores (Q, k) float32, ids (Q, k) int64)``,
    best first (score descending, then id ascending), -1 / -inf past the candidates.
``cosines(queries, row_hi=None, n_threads=None)``
    Every cosine of unit queries with the first ``row_hi`` rows: ``(m, row_hi)`` float32, the one
    place a full cosine is computed (gensim's ``most_similar(topn=None)``, ``rank``, ``distances``).
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Tuple, runtime_checkable

import numpy as np

__all__ = ["RowSource"]


@runtime_checkable
class RowSource(Protocol):
    """What :mod:`fastembed.words` and :mod:`fastembed.evaluate` need of a table (see the module
    docstring); ``isinstance(x, RowSource)`` checks that the members exist."""

    @property
    def vocab(self) -> Any: ...

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def lookup(self, ids: Any, out: Any = None, n_threads: Optional[int] = None) -> np.ndarray: ...

    def unit_rows(self, ids: Any, n_threads: Optional[int] = None) -> np.ndarray: ...

    def search(self, scorer: Any, k: int, *, restrict: Any = None, exclude: Any = None, strategy: str = "auto",
               block_rows: Optional[int] = None, n_threads: Optional[int] = None,
               index: Any = "auto") -> Tuple[np.ndarray, np.ndarray]: ...

    def cosines(self, queries: Any, row_hi: Optional[int] = None, n_threads: Optional[int] = None) -> np.ndarray: ...
