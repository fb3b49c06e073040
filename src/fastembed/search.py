"""The one top-k engine: every search in fastembed (cosine and dot top-k, gensim-style queries,
3CosAdd and 3CosMul analogies) is a *scorer* handed to :func:`run`.

The engine owns what every search shares, in the shape of scikit-learn's ``ArgKmin.compute``:

* the strategy: ``"scan"`` (one fused pass over the rows, every query scored with our
  fixed-order dot product, per-thread heaps merged; for few queries), an exact search ``index``
  (:mod:`fastembed.index`: int8 codes scanned with rigorous bounds, the undecided rows re-scored
  by the scan's arithmetic; the answer of ``"scan"``, bit for bit) or ``"gemm"`` (rows in
  fixed blocks of ``block_rows``, a BLAS tile of scores per block merged into per-worker heaps by
  a compiled kernel; for many queries); ``"auto"`` picks by the number of queries;
* the candidates: ``restrict`` (first n rows, ids, or a mask) and exclusions (common or per query);
* the workers: one reusable pool, contiguous runs of whole blocks per worker, BLAS capped at one
  thread through a cached controller, Ctrl-C honoured between blocks;
* scratch buffers, the merge of the workers' heaps, the final order (score descending, then id
  ascending) and the padding of short answers (id -1, score -inf).

A scorer knows only how to score queries against rows: :class:`LinearScorer` (dot, and cosine
with the rows' cached inverse norms), :class:`SharedWordScorer` (3CosAdd for many questions over
few distinct words) and :class:`CosMulScorer` (3CosMul). Adding a scoring rule is one class here.

Determinism: within one strategy the answer never depends on ``n_threads`` or on how work is
split (blocks never move with the thread count; the GEMM tile shape is fixed). The two strategies
round dot products differently (BLAS vs our fixed order), so a near-tie may order differently
between a query asked alone and in a large batch.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastembed._dtypes import FLOAT32, StorageDType
from fastembed._kernels import _gather, _topk
from fastembed._threads import (GRAIN_DOT_FLOPS, blas_limit, check_cancel, resolve_threads, run_parallel,
                                team_size)
from fastembed._validate import Restrict, as_exclude, as_int

__all__ = ["run", "Candidates", "LinearScorer", "SharedWordScorer", "CosMulScorer", "STRATEGIES",
           "GEMM_MIN_QUERIES", "GEMM_BLOCK_ROWS", "EMPTY_ID", "finish"]

STRATEGIES = ("auto", "scan", "gemm")
# Crossover measured with `fastembed bench topk`: below this many queries one fused pass over the
# table beats BLAS tiles plus merging (and from 4 queries when D <= 128: 1e6x100, Q=4: 28 vs 41 ms).
GEMM_MIN_QUERIES = 16
GEMM_BLOCK_ROWS = 2048      # rows per BLAS call (fixed: see _blocked)
GEMM_TRANSPOSED_MAX_Q = 32  # up to this many queries, tiles are computed as rows @ queries.T
GEMM_TILE_FLOATS = 1 << 19  # 2 MiB of scores per tile and worker: it stays in L2 for the merge
COMMON_EXCLUDE_AS_LISTS = 64  # up to this many ids excluded for every query: per-query lists, no V-byte mask
EMPTY_ID = np.iinfo(np.int64).max


class Candidates:
    """Which rows may be answers: rows below ``row_hi``, where ``mask`` (uint8 (V,), or None) is 1,
    minus each query's sorted exclusion list (CSR ``excl_ptr`` (Q+1,), ``excl``; or None)."""
    __slots__ = ("row_hi", "mask", "excl_ptr", "excl")

    def __init__(self, row_hi: int, mask=None, excl_ptr=None, excl=None):
        self.row_hi, self.mask, self.excl_ptr, self.excl = row_hi, mask, excl_ptr, excl

    def __repr__(self) -> str:
        masked = "None" if self.mask is None else f"{int(self.mask.sum())} of {self.mask.size} rows"
        excl = "None" if self.excl is None else f"{self.excl.size} ids for {self.excl_ptr.size - 1} queries"
        return f"Candidates(row_hi={self.row_hi}, mask={masked}, exclude={excl})"

    @classmethod
    def build(cls, restrict: Restrict, exclude, Q: int, V: int) -> "Candidates":
        """From a validated ``restrict`` and a raw ``exclude`` (validated here by
        :func:`fastembed._validate.as_exclude`)."""
        common, per_query = as_exclude(exclude, Q, V)
        mask = restrict.mask
        if common is not None:
            if common.size <= COMMON_EXCLUDE_AS_LISTS and per_query is None:
                per_query = (np.arange(Q + 1, dtype=np.int64) * common.size, np.tile(common, Q))
            else:
                mask = np.ones(V, np.uint8) if mask is None else mask.copy()
                mask[common] = 0
        ptr, ids = per_query if per_query is not None else (None, None)
        if ids is not None and ids.size == 0:
            ptr = ids = None
        return cls(restrict.row_hi, mask, ptr, ids)


# ------------------------------------------------------------------------------------------ scorers

class LinearScorer:
    """score(q, r) = queries[q] . rows[r], times ``inv[r]`` when ``inv`` is given (cosine with unit
    queries and the rows' inverse norms). Supports both strategies."""
    scan_ok = True

    def __init__(self, queries: np.ndarray, inv: Optional[np.ndarray]):
        self.queries, self.inv = queries, inv
        self.n_queries = queries.shape[0]

    def __repr__(self) -> str:
        return (f"LinearScorer(n_queries={self.n_queries}, dim={self.queries.shape[1]}, "
                f"metric={'cosine' if self.inv is not None else 'dot'})")

    def prefers_gemm(self, D: int) -> bool:
        Q = self.n_queries
        return Q >= GEMM_MIN_QUERIES or (Q >= 4 and D <= 128)

    def block(self, local, weights, rows, r0, n_valid, cand, hs, hi):
        q, Q, nb = self.queries, self.n_queries, rows.shape[0]
        if Q <= GEMM_TRANSPOSED_MAX_Q:
            # skinny batches: OpenBLAS computes rows @ q.T (M = block rows) 1.2-1.45x faster than
            # q @ rows.T (M = Q) (measured, Q <= 32, D 100..768); one transposing copy per tile
            if "tile" not in local:
                local["qT"] = np.ascontiguousarray(q.T)
                local["tile"] = np.empty((Q, nb), np.float32)
                local["tileT"] = np.empty((nb, Q), np.float32)
            np.matmul(rows, local["qT"], out=local["tileT"])
            np.copyto(local["tile"], local["tileT"].T)
            _merge(local["tile"], n_valid, r0, weights, self.inv, cand, 0, hs, hi)
            return
        qb = min(Q, max(16, GEMM_TILE_FLOATS // nb))  # query tiles bound the score buffer
        tile = local.get("tile")
        if tile is None:
            tile = local["tile"] = np.empty((qb, nb), np.float32)
        for q0 in range(0, Q, qb):
            q1 = min(q0 + qb, Q)
            out = tile[: q1 - q0]
            np.matmul(q[q0:q1], rows.T, out=out)
            _merge(out, n_valid, r0, weights, self.inv, cand, q0, hs, hi)


class SharedWordScorer:
    """3CosAdd for many questions over few distinct words: cos(b - a + c, row) is linear in the
    words' dot products with the row, so one GEMM per block scores the m distinct words (``words``:
    (m, D) float32 unit vectors) and a fused kernel combines three of them per question
    (``ia``, ``ib``, ``ic`` index ``words``; ``qscale`` = 1 / ||b - a + c||) into its heap."""
    scan_ok = False

    def __init__(self, words, ia, ib, ic, qscale, inv):
        self.words, self.ia, self.ib, self.ic, self.qscale, self.inv = words, ia, ib, ic, qscale, inv
        self.n_queries = ia.shape[0]

    def __repr__(self) -> str:
        return f"SharedWordScorer(n_queries={self.n_queries}, words={self.words.shape[0]}, dim={self.words.shape[1]})"

    def prefers_gemm(self, D: int) -> bool:
        return True

    def block(self, local, weights, rows, r0, n_valid, cand, hs, hi):
        wd = local.get("wd")
        if wd is None:
            wd = local["wd"] = np.empty((self.words.shape[0], rows.shape[0]), np.float32)
        np.matmul(self.words, rows.T, out=wd)
        _topk.merge_combined(wd, n_valid, r0, weights, self.inv, cand.mask, cand.excl_ptr, cand.excl,
                             self.ia, self.ib, self.ic, self.qscale, hs, hi)


class CosMulScorer:
    """3CosMul (Levy & Goldberg 2014), as gensim: prod over positive terms of (1 + cos) / 2 divided
    by (prod over negative terms of (1 + cos) / 2 + ``eps``). ``terms``: (Q * (p + n), D) float32
    unit vectors, each query's p positive terms then its n negative ones."""
    scan_ok = False

    def __init__(self, terms: np.ndarray, p: int, n: int, inv: np.ndarray, eps: float):
        self.terms, self.p, self.n, self.inv, self.eps = terms, p, n, inv, np.float32(eps)
        self.n_queries = terms.shape[0] // (p + n) if p + n else 0

    def __repr__(self) -> str:
        return (f"CosMulScorer(n_queries={self.n_queries}, positive={self.p}, negative={self.n}, "
                f"eps={float(self.eps):g})")

    def prefers_gemm(self, D: int) -> bool:
        return True

    def block(self, local, weights, rows, r0, n_valid, cand, hs, hi):
        Q, t, nb = self.n_queries, self.p + self.n, rows.shape[0]
        qb = min(Q, max(16, GEMM_TILE_FLOATS // (nb * t)))
        if "cos" not in local:
            local["cos"] = np.empty((qb * t, nb), np.float32)
            local["out"] = np.empty((qb, nb), np.float32)
        for q0 in range(0, Q, qb):
            q1 = min(q0 + qb, Q)
            nq = q1 - q0
            cos = local["cos"][: nq * t]
            out = local["out"][:nq]
            np.matmul(self.terms[q0 * t: q1 * t], rows.T, out=cos)
            cos[:, :n_valid] *= self.inv[r0: r0 + n_valid]
            cos += 1.0
            cos *= 0.5
            c3 = cos.reshape(nq, t, nb)
            np.prod(c3[:, : self.p], axis=1, out=out)
            if self.n:
                den = np.prod(c3[:, self.p:], axis=1)
                den += self.eps
                out /= den
            _merge(out, n_valid, r0, weights, None, cand, q0, hs, hi)


def _merge(tile, n_valid, r0, weights, inv, cand, q0, hs, hi):
    _topk.merge_block(tile, n_valid, r0, weights, inv, cand.mask, cand.excl_ptr, cand.excl, q0, hs, hi, 1)


# ------------------------------------------------------------------------------------------ the engine

def run(weights: np.ndarray, scorer, k: int, cand: Candidates, *, strategy: str = "auto",
        block_rows=None, n_threads=None, storage: StorageDType = FLOAT32, index=None) -> Tuple[np.ndarray, np.ndarray]:
    """The k best rows for each of the scorer's queries: ``(scores (Q, k) float32, ids (Q, k)
    int64)``, best first; slots beyond the candidates are id -1, score -inf.

    ``weights`` is the (V, D) table as stored, in ``storage`` (float32, or float16 / bfloat16 rows
    that the scan reads directly and the GEMM path upcasts block by block, exactly: the scores of a
    half table are those of its float32 upcast, bit for bit, on either path);
    ``strategy`` one of :data:`STRATEGIES`; ``block_rows`` the GEMM block height (default
    :data:`GEMM_BLOCK_ROWS`); ``index`` a valid exact search index of ``weights``
    (:class:`fastembed.index.Int8Index` or :class:`~fastembed.index.HalfIndex`) to search through (a :class:`LinearScorer` only, with
    strategy "auto" or "scan": the answer is the scan's). Assumes validated queries, k >= 0 and
    candidates.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if index is not None:
        if strategy == "gemm":
            raise ValueError("index= answers exactly as strategy='scan'; it cannot be combined with "
                             "strategy='gemm' (pass index=None)")
        if not isinstance(scorer, LinearScorer):
            raise ValueError(f"a search index scores dot and cosine queries only, not {type(scorer).__name__}")
        return index.search(weights, scorer.inv, scorer.queries, k, cand, n_threads)
    V, D = weights.shape
    Q = scorer.n_queries
    kk = min(k, V)  # heaps never need more slots than rows
    scores = np.empty((Q, max(kk, 1)), np.float32)
    ids = np.empty((Q, max(kk, 1)), np.int64)
    use_gemm = strategy == "gemm" or (strategy == "auto" and (not scorer.scan_ok or scorer.prefers_gemm(D)))
    if strategy == "scan" and not scorer.scan_ok:
        raise ValueError(f"strategy='scan' scores dot and cosine queries only; {type(scorer).__name__} "
                         "needs strategy='gemm' or 'auto'")
    if kk == 0 or Q == 0 or cand.row_hi == 0:
        _topk.init_heaps(scores, ids)
    elif use_gemm:
        nb = GEMM_BLOCK_ROWS if block_rows is None else as_int(block_rows, "block_rows", lo=1)
        _blocked(weights, scorer, cand, scores, ids, resolve_threads(n_threads), nb, storage)
    else:
        nt = team_size(cand.row_hi * (D + 1) * Q, GRAIN_DOT_FLOPS, n_threads, items=cand.row_hi)
        if storage.is_half:
            _topk.scan_half(storage.bits(weights), storage.kernel, scorer.inv, scorer.queries, 0, cand.row_hi,
                            cand.mask, cand.excl_ptr, cand.excl, scores, ids, nt)
        else:
            _topk.scan(weights, scorer.inv, scorer.queries, 0, cand.row_hi, cand.mask, cand.excl_ptr,
                       cand.excl, scores, ids, nt)
    return finish(scores[:, :kk], ids[:, :kk], k)


def finish(scores, ids, k: int):
    """Sorted heaps (Q, kk) -> the public answer (Q, k): slots past kk and empty slots become id -1
    with score -inf."""
    Q, kk = scores.shape
    if kk < k:
        scores = np.concatenate([scores, np.full((Q, k - kk), -np.inf, np.float32)], axis=1)
        ids = np.concatenate([ids, np.full((Q, k - kk), -1, np.int64)], axis=1)
    ids[ids == EMPTY_ID] = -1
    return scores, ids


def _blocked(weights, scorer, cand, scores, ids, nt, nb, storage=FLOAT32):
    """Top-k over rows in fixed blocks of ``nb`` rows: each of ``nt`` workers takes a contiguous run
    of whole blocks with its own heaps (worker 0 fills ``scores``/``ids``), calls
    ``scorer.block(local, weights, rows, r0, n_valid, cand, hs, hi)`` per block (``rows`` always
    ``nb`` x D: zero rows pad the last block; ``local`` a dict of the worker's scratch), and the
    workers' heaps are merged at the end. Blocks are the outer loop, so each block of rows is read
    from memory once.

    Why not one BLAS team plus one OpenMP team: on the same cores they spin against each other
    between tiles (measured: 10x slower merges on 2 cores), so BLAS runs one thread per worker.
    Why fixed, padded blocks: BLAS rounds a (query, row) product differently depending on the
    tile's shape (OpenBLAS switches kernels for small tiles), so every call gets the same shape and
    block boundaries never move with the thread count: answers do not depend on n_threads.

    Half storage: each block is upcast exactly into the worker's float32 buffer first, so BLAS sees
    the float32 table's values in the same tile shapes (the scorer then gets that buffer as
    ``weights``: the merges read only its width).
    """
    D = weights.shape[1]
    row_hi = cand.row_hi
    n_blocks = -(-row_hi // nb)
    nt = max(1, min(nt, n_blocks))
    heaps = [(scores, ids)] + [(np.empty_like(scores), np.empty_like(ids)) for _ in range(nt - 1)]

    def work(w, cancel):
        hs, hi = heaps[w]
        _topk.init_heaps(hs, hi)
        local = {}
        for b in range(n_blocks * w // nt, n_blocks * (w + 1) // nt):
            check_cancel(cancel)
            r0, r1 = b * nb, min((b + 1) * nb, row_hi)
            if storage.is_half:  # upcast into a zero-padded float32 block
                rows = local.get("pad")
                if rows is None:
                    rows = local["pad"] = np.zeros((nb, D), np.float32)
                _gather.to_float32(storage.bits(weights[r0:r1]), storage.kernel, rows[: r1 - r0], 1)
                if r1 - r0 < nb:
                    rows[r1 - r0:] = 0
                scorer.block(local, rows, rows, r0, r1 - r0, cand, hs, hi)
                continue
            if r1 - r0 == nb:
                rows = weights[r0:r1]
            else:  # the last, short block: zero-padded to the common tile shape
                rows = local.get("pad")
                if rows is None:
                    rows = local["pad"] = np.zeros((nb, D), np.float32)
                rows[: r1 - r0] = weights[r0:r1]
            scorer.block(local, weights, rows, r0, r1 - r0, cand, hs, hi)

    with blas_limit(1):
        run_parallel(work, nt)
    for hs, hi in heaps[1:]:
        _topk.merge_heaps(scores, ids, hs, hi)
    _topk.sort_heaps(scores, ids)
