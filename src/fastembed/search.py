"""The one top-k engine: every search in fastembed (cosine and dot top-k, gensim-style queries,
3CosAdd and 3CosMul analogies) is a *scorer* handed to :func:`run`.

The engine owns what every search shares, in the shape of scikit-learn's ``ArgKmin.compute``:

* the strategy: ``"scan"`` (one compiled pass over the rows: one query streams them, several are
  scored by register tiles of rows x queries over L2-resident row blocks; per-thread heaps
  merged), an exact search ``index`` (:mod:`fastembed.index`: int8 codes scanned with rigorous
  bounds, the undecided rows re-scored by the scan's arithmetic; the answer of ``"scan"``, bit
  for bit) or ``"gemm"`` (rows in blocks of ``block_rows`` handed by Python workers to the same
  tiled kernel, a tile of scores per block merged into per-worker heaps: what the scorers that
  combine several dot products per score use); ``"auto"`` picks the scan when the scorer has one;
* the candidates: ``restrict`` (first n rows, ids, or a mask) and exclusions (common or per query);
* the workers: one reusable pool, contiguous runs of whole blocks per worker, Ctrl-C honoured
  between blocks;
* scratch buffers, the merge of the workers' heaps, the final order (score descending, then id
  ascending) and the padding of short answers (id -1, score -inf).

A scorer knows only how to score queries against rows: :class:`LinearScorer` (dot, and cosine
with the rows' cached inverse norms), :class:`SharedWordScorer` (3CosAdd for many questions over
few distinct words) and :class:`CosMulScorer` (3CosMul). Adding a scoring rule is one class here.

Determinism: every (query, row) dot product, on every path, is the fixed-order one of
``csrc/impl/dot.h`` (the tiled kernel of ``csrc/impl/tile.h`` computes each pair in that order), so
the answer never depends on the strategy, ``block_rows``, ``n_threads``, how rows are split between
threads or shards, the SIMD level, or which other queries share the batch; and no call touches a
process-wide setting (there is no BLAS on these paths: batched scoring used to cap BLAS threads
through a global knob that concurrent calls restored over each other).
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastembed._dtypes import FLOAT32, StorageDType
from fastembed._kernels import _gather, _topk
from fastembed._threads import GRAIN_DOT_FLOPS, check_cancel, resolve_threads, run_parallel, team_size
from fastembed._validate import Restrict, as_exclude, as_int

__all__ = ["run", "Candidates", "LinearScorer", "SharedWordScorer", "CosMulScorer", "STRATEGIES",
           "GEMM_BLOCK_ROWS", "EMPTY_ID", "finish"]

STRATEGIES = ("auto", "scan", "gemm")
GEMM_BLOCK_ROWS = 2048      # rows per block of the blocked path (any value gives the same answer)
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
    """score(q, r) = queries[q] . rows[r], times the row's inverse norm when ``cosine`` (with unit
    queries: the cosine). Supports both strategies."""
    scan_ok = True

    def __init__(self, queries: np.ndarray, cosine: bool = True):
        self.queries, self.cosine = queries, bool(cosine)
        self.n_queries = queries.shape[0]

    @property
    def needs_inv(self) -> bool:
        return self.cosine

    def __repr__(self) -> str:
        return (f"LinearScorer(n_queries={self.n_queries}, dim={self.queries.shape[1]}, "
                f"metric={'cosine' if self.cosine else 'dot'})")

    def block(self, local, weights, rows, r0, n_valid, cand, inv, hs, hi):
        q, Q, n = self.queries, self.n_queries, rows.shape[0]
        qb = min(Q, max(16, GEMM_TILE_FLOATS // max(n, 1)))  # query tiles bound the score buffer
        if local.get("tile") is None or local["tile"].size < qb * n:  # flat scratch, grown as needed
            local["tile"] = np.empty(qb * n, np.float32)
        for q0 in range(0, Q, qb):
            q1 = min(q0 + qb, Q)
            out = local["tile"][: (q1 - q0) * n].reshape(q1 - q0, n)
            _topk.dots(rows, q[q0:q1], out)
            _merge(out, n_valid, r0, weights, inv, cand, q0, hs, hi)


class SharedWordScorer:
    """3CosAdd for many questions over few distinct words: cos(b - a + c, row) is linear in the
    words' dot products with the row, so one GEMM per block scores the m distinct words (``words``:
    (m, D) float32 unit vectors) and a fused kernel combines three of them per question
    (``ia``, ``ib``, ``ic`` index ``words``; ``qscale`` = 1 / ||b - a + c||) into its heap."""
    scan_ok = False
    needs_inv = True

    def __init__(self, words, ia, ib, ic, qscale):
        self.words, self.ia, self.ib, self.ic, self.qscale = words, ia, ib, ic, qscale
        self.n_queries = ia.shape[0]

    def __repr__(self) -> str:
        return f"SharedWordScorer(n_queries={self.n_queries}, words={self.words.shape[0]}, dim={self.words.shape[1]})"

    def block(self, local, weights, rows, r0, n_valid, cand, inv, hs, hi):
        m, n = self.words.shape[0], rows.shape[0]
        if local.get("wd") is None or local["wd"].size < m * n:  # flat scratch, grown as needed
            local["wd"] = np.empty(m * n, np.float32)
        wd = local["wd"][: m * n].reshape(m, n)
        _topk.dots(rows, self.words, wd)
        _topk.merge_combined(wd, n_valid, r0, weights, inv, cand.mask, cand.excl_ptr, cand.excl,
                             self.ia, self.ib, self.ic, self.qscale, hs, hi)


class CosMulScorer:
    """3CosMul (Levy & Goldberg 2014), as gensim: prod over positive terms of (1 + cos) / 2 divided
    by (prod over negative terms of (1 + cos) / 2 + ``eps``). ``terms``: (Q * (p + n), D) float32
    unit vectors, each query's p positive terms then its n negative ones."""
    scan_ok = False
    needs_inv = True

    def __init__(self, terms: np.ndarray, p: int, n: int, eps: float):
        self.terms, self.p, self.n, self.eps = terms, p, n, np.float32(eps)
        self.n_queries = terms.shape[0] // (p + n) if p + n else 0

    def __repr__(self) -> str:
        return (f"CosMulScorer(n_queries={self.n_queries}, positive={self.p}, negative={self.n}, "
                f"eps={float(self.eps):g})")

    def block(self, local, weights, rows, r0, n_valid, cand, inv, hs, hi):
        Q, t, nb = self.n_queries, self.p + self.n, rows.shape[0]
        qb = min(Q, max(16, GEMM_TILE_FLOATS // (nb * t)))
        if local.get("cos") is None or local["cos"].size < qb * t * nb:  # flat scratch, grown as needed
            local["cos"] = np.empty(qb * t * nb, np.float32)
            local["out"] = np.empty(qb * nb, np.float32)
        for q0 in range(0, Q, qb):
            q1 = min(q0 + qb, Q)
            nq = q1 - q0
            cos = local["cos"][: nq * t * n_valid].reshape(nq * t, n_valid)
            out = local["out"][: nq * n_valid].reshape(nq, n_valid)
            _topk.dots(rows, self.terms[q0 * t: q1 * t], cos)
            cos *= inv[r0: r0 + n_valid]
            cos += 1.0
            cos *= 0.5
            c3 = cos.reshape(nq, t, n_valid)
            np.prod(c3[:, : self.p], axis=1, out=out)
            if self.n:
                den = np.prod(c3[:, self.p:], axis=1)
                den += self.eps
                out /= den
            _merge(out, n_valid, r0, weights, None, cand, q0, hs, hi)


def _merge(tile, n_valid, r0, weights, inv, cand, q0, hs, hi):
    _topk.merge_block(tile, n_valid, r0, weights, inv, cand.mask, cand.excl_ptr, cand.excl, q0, hs, hi, 1)


# ------------------------------------------------------------------------------------------ the engine

def run(weights: np.ndarray, scorer, k: int, cand: Candidates, *, inv: Optional[np.ndarray] = None,
        strategy: str = "auto", block_rows=None, n_threads=None, storage: StorageDType = FLOAT32,
        scales: Optional[np.ndarray] = None, index=None) -> Tuple[np.ndarray, np.ndarray]:
    """The k best rows for each of the scorer's queries: ``(scores (Q, k) float32, ids (Q, k)
    int64)``, best first; slots beyond the candidates are id -1, score -inf.

    ``inv`` is the (V,) float32 inverse row norms, given when ``scorer.needs_inv`` (cosine);
    ``scales`` the (V,) row scales of a row-scaled ``storage`` (int8);
    ``weights`` is the (V, D) table as stored, in ``storage`` (float32, or float16 / bfloat16 rows
    that the scan reads directly and the GEMM path upcasts block by block, exactly: the scores of a
    half table are those of its float32 upcast, bit for bit, on either path);
    ``strategy`` one of :data:`STRATEGIES`; ``block_rows`` the GEMM block height (default
    :data:`GEMM_BLOCK_ROWS`); ``index`` a valid exact search index of ``weights``
    (:class:`fastembed.index.Int8Index` or :class:`~fastembed.index.HalfIndex`) to search through (a :class:`LinearScorer` only, with
    strategy "auto" or "scan": the answer is the scan's). Assumes validated queries, k >= 0 and
    candidates. ``k`` is clipped to the number of rows (as gensim clips ``topn``): the answer has
    ``min(k, V)`` columns, so a huge k allocates nothing more.
    """
    k = min(k, weights.shape[0])
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    nb = GEMM_BLOCK_ROWS if block_rows is None else as_int(block_rows, "block_rows", lo=1)
    if scorer.needs_inv and inv is None:
        raise ValueError(f"{type(scorer).__name__} scores cosines: pass the rows' inverse norms (inv=)")
    inv = inv if scorer.needs_inv else None
    if index is not None:
        if strategy == "gemm":
            raise ValueError("index= answers exactly as strategy='scan'; it cannot be combined with "
                             "strategy='gemm' (pass index=None)")
        if not isinstance(scorer, LinearScorer):
            raise ValueError(f"a search index scores dot and cosine queries only, not {type(scorer).__name__}")
        return index.search(weights, inv, scorer.queries, k, cand, n_threads)
    V, D = weights.shape
    Q = scorer.n_queries
    kk = min(k, V)  # heaps never need more slots than rows
    scores = np.empty((Q, max(kk, 1)), np.float32)
    ids = np.empty((Q, max(kk, 1)), np.int64)
    use_gemm = strategy == "gemm" or (strategy == "auto" and not scorer.scan_ok)
    if strategy == "scan" and not scorer.scan_ok:
        raise ValueError(f"strategy='scan' scores dot and cosine queries only; {type(scorer).__name__} "
                         "needs strategy='gemm' or 'auto'")
    if kk == 0 or Q == 0 or cand.row_hi == 0:
        _topk.init_heaps(scores, ids)
    elif use_gemm:
        _blocked(weights, scorer, cand, inv, scores, ids, resolve_threads(n_threads), nb, storage, scales)
    else:
        nt = team_size(cand.row_hi * (D + 1) * Q, GRAIN_DOT_FLOPS, n_threads, items=cand.row_hi)
        _topk.scan(storage.bits(weights), storage.kernel, scales, inv, scorer.queries, 0, cand.row_hi, cand.mask,
                   cand.excl_ptr, cand.excl, scores, ids, nt)
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


def _blocked(weights, scorer, cand, inv, scores, ids, nt, nb, storage=FLOAT32, scales=None):
    """Top-k over rows in blocks of ``nb`` rows: each of ``nt`` workers takes a contiguous run of
    whole blocks with its own heaps (worker 0 fills ``scores``/``ids``), calls
    ``scorer.block(local, weights, rows, r0, n_valid, cand, inv, hs, hi)`` per block (``rows`` the
    block's float32 rows, ``n_valid`` of them; ``local`` a dict of the worker's scratch), and the
    workers' heaps are merged at the end. Blocks are the outer loop, so each block of rows is read
    from memory once; the scorers score a block with the tiled kernel (``_topk.dots``, GIL
    released), whose dot products do not depend on the block's shape or place, so neither ``nb``
    nor ``nt`` changes the answer.

    Other storage dtypes: each block's float32 values go into the worker's float32 buffer first
    (the scorer then gets that buffer as ``weights``: the merges read only its width).
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
            if not storage.is_float32:  # the block's float32 values, into the worker's buffer
                buf = local.get("f32")
                if buf is None:
                    buf = local["f32"] = np.empty((nb, D), np.float32)
                rows = buf[: r1 - r0]
                _gather.to_float32(storage.bits(weights[r0:r1]), storage.kernel, rows, 1,
                                   None if scales is None else scales[r0:r1])
                scorer.block(local, buf, rows, r0, r1 - r0, cand, inv, hs, hi)
            else:
                scorer.block(local, weights, weights[r0:r1], r0, r1 - r0, cand, inv, hs, hi)

    run_parallel(work, nt)
    for hs, hi in heaps[1:]:
        _topk.merge_heaps(scores, ids, hs, hi)
    _topk.sort_heaps(scores, ids)
