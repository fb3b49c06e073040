"""Top-k search over an EmbeddingTable: validation, exclusions, and choosing the kernel path.

Two paths, one answer order (score descending, then id ascending; empty slots id -1, score -inf):

* ``scan``: few queries. One pass over the rows computing every query's score with a fixed-order
  dot product, per-thread heaps merged at the end. Memory: O(threads * Q * k).
* ``gemm``: many queries. Rows in blocks; numpy's BLAS matmul scores a (Q, block) tile, which is
  merged into per-query heaps in parallel. Memory: one tile (about ``GEMM_TILE_FLOATS`` floats).

The two paths round dot products differently (BLAS vs our fixed order), so a near-tie may order
differently between a query asked alone and in a large batch; within one path the answer never
depends on ``n_threads`` (the GEMM path uses one fixed tile shape for that reason).
"""
from __future__ import annotations

import numpy as np

from fastembed._kernels import _topk
from fastembed._threads import resolve_threads
from fastembed._validate import first_out_of_range

__all__ = ["topk", "prepare_queries", "finish_results", "GEMM_MIN_QUERIES"]

# Crossover measured in bench (fastembed bench topk): below this many queries one fused pass over
# the table beats BLAS tiles plus merging.
GEMM_MIN_QUERIES = 16  # and from 4 queries when D <= 128 (measured: 1e6x100, Q=4: 28 ms vs 41 ms)
GEMM_BLOCK_ROWS = 2048      # rows per BLAS call (fixed: see blocked_topk)
GEMM_TRANSPOSED_MAX_Q = 32  # up to this many queries, tiles are computed as rows @ queries.T
GEMM_TILE_FLOATS = 1 << 19  # 2 MiB of scores per tile and worker: it stays in L2 for the merge
EMPTY_ID = np.iinfo(np.int64).max


def prepare_queries(queries, D: int, metric: str):
    """(Q, D) float32 queries (a fresh array, never the caller's), normalised for cosine.

    Returns (queries, single) where single says the input was one (D,) vector.
    """
    q = np.asarray(queries)
    if q.dtype.kind != "f":
        raise TypeError(f"queries must be floating point, got dtype {q.dtype}")
    if q.ndim not in (1, 2):
        raise ValueError(f"queries must be (D,) or (Q, D), got shape {q.shape}")
    single = q.ndim == 1
    q2 = q[None, :] if single else q
    if q2.shape[1] != D:
        raise ValueError(f"queries have dim {q2.shape[1]} but the table has dim {D}")
    q64 = q2.astype(np.float64)  # a copy: the caller's array is never touched
    finite = np.isfinite(q64).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"query {bad} has NaN or infinite values")
    if metric == "cosine":
        norms = np.sqrt((q64 * q64).sum(axis=1))
        if q2.shape[0] and (norms == 0).any():
            bad = int(np.flatnonzero(norms == 0)[0])
            raise ValueError(f"query {bad} has zero norm: its cosine with any row is undefined")
        q64 /= norms[:, None] if q2.shape[0] else 1.0
    return np.ascontiguousarray(q64, dtype=np.float32), single


def _restrict_rows(restrict, V: int):
    """(row_hi, mask or None) for ``restrict``: None, an int n (first n rows), ids, or a bool mask."""
    if restrict is None:
        return V, None
    if isinstance(restrict, (int, np.integer)) and not isinstance(restrict, bool):
        n = int(restrict)
        if not 0 <= n <= V:
            raise ValueError(f"restrict={n} must be between 0 and the table's {V} rows")
        return n, None
    r = np.asarray(restrict)
    if r.dtype == bool:
        if r.shape != (V,):
            raise ValueError(f"a boolean restrict mask must have shape ({V},), got {r.shape}")
        return V, np.ascontiguousarray(r, dtype=np.uint8)
    if r.dtype.kind not in "iu" or r.ndim != 1:
        raise TypeError("restrict must be None, an int, a 1-D array of row ids or a boolean mask")
    _check_ids(r, V, "restrict id")
    mask = np.zeros(V, np.uint8)
    mask[r.astype(np.int64)] = 1
    return V, mask


def _check_ids(ids: np.ndarray, V: int, what: str):
    i = first_out_of_range(ids, V)
    if i >= 0:
        raise IndexError(f"{what} {int(ids.reshape(-1)[i])} is out of range for a table of {V} rows")


def _is_per_query(exclude) -> bool:
    if isinstance(exclude, np.ndarray):
        return exclude.dtype == object or exclude.ndim == 2
    if isinstance(exclude, (list, tuple)) and len(exclude):
        return all(isinstance(e, (list, tuple, np.ndarray, set, frozenset, range)) for e in exclude)
    return False


def _exclusions(exclude, Q: int, V: int, mask):
    """Fold ``exclude`` into the mask (ids for all queries) or a sorted CSR per query."""
    if exclude is None:
        return mask, None, None
    if _is_per_query(exclude):
        if len(exclude) != Q:
            raise ValueError(f"per-query exclude has {len(exclude)} lists for {Q} queries")
        lists = [np.unique(np.asarray(list(e) if isinstance(e, (set, frozenset)) else e, dtype=np.int64))
                 for e in exclude]
        for e in lists:
            _check_ids(e, V, "exclude id")
        ptr = np.zeros(Q + 1, np.int64)
        ptr[1:] = np.cumsum([e.size for e in lists])
        flat = np.concatenate(lists) if lists else np.zeros(0, np.int64)
        return mask, ptr, np.ascontiguousarray(flat, dtype=np.int64)
    e = np.asarray(exclude)
    if e.size == 0:
        return mask, None, None
    if e.dtype.kind not in "iu":
        raise TypeError(f"exclude must hold integer row ids, got dtype {e.dtype}")
    e = e.reshape(-1)
    _check_ids(e, V, "exclude id")
    mask = np.ones(V, np.uint8) if mask is None else mask.copy()
    mask[e.astype(np.int64)] = 0
    return mask, None, None


def topk(weights: np.ndarray, inv_norms, queries, k: int = 10, *, metric: str = "cosine",
         exclude=None, restrict=None, n_threads=None, path: str = "auto", block_rows=None):
    """See :meth:`EmbeddingTable.topk`. ``inv_norms`` is a callable returning the cached (V,) inverse
    norms (only called for cosine). ``path`` ("auto", "scan", "gemm") and ``block_rows`` are for
    tests and benchmarks."""
    if metric not in ("cosine", "dot"):
        raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {k!r}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    V, D = weights.shape
    q, single = prepare_queries(queries, D, metric)
    Q = q.shape[0]
    row_hi, mask = _restrict_rows(restrict, V)
    mask, excl_ptr, excl = _exclusions(exclude, Q, V, mask)
    nt = resolve_threads(n_threads)
    inv = inv_norms() if metric == "cosine" else None
    kk = min(k, V)  # heaps never need more slots than rows
    scores = np.empty((Q, max(kk, 1)), np.float32)
    ids = np.empty((Q, max(kk, 1)), np.int64)
    if path not in ("auto", "scan", "gemm"):
        raise ValueError(f"path must be 'auto', 'scan' or 'gemm', got {path!r}")
    use_gemm = path == "gemm" or (path == "auto" and (Q >= GEMM_MIN_QUERIES or (Q >= 4 and D <= 128)))
    if kk == 0 or Q == 0:
        _topk.init_heaps(scores, ids)
    elif use_gemm:
        _gemm_topk(weights, inv, q, row_hi, mask, excl_ptr, excl, scores, ids, nt, block_rows)
    else:
        _topk.scan(weights, inv, q, 0, row_hi, mask, excl_ptr, excl, scores, ids, nt)
    scores, ids = finish_results(scores[:, :kk], ids[:, :kk], k)
    if single:
        return scores[0], ids[0]
    return scores, ids


def finish_results(scores, ids, k: int):
    """Heaps (Q, kk) -> the public answer (Q, k): slots past kk and empty slots become id -1 with
    score -inf."""
    Q, kk = scores.shape
    if kk < k:
        scores = np.concatenate([scores, np.full((Q, k - kk), -np.inf, np.float32)], axis=1)
        ids = np.concatenate([ids, np.full((Q, k - kk), -1, np.int64)], axis=1)
    ids[ids == EMPTY_ID] = -1
    return scores, ids


def _gemm_topk(weights, inv, q, row_hi, mask, excl_ptr, excl, scores, ids, nt, block_rows):
    """Many queries: BLAS tiles of dot products, scaled by the rows' inverse norms in the merge."""
    Q = q.shape[0]
    nb = int(block_rows) if block_rows else GEMM_BLOCK_ROWS
    qb = min(Q, max(16, GEMM_TILE_FLOATS // nb))  # query tiles bound the score buffer

    if Q <= GEMM_TRANSPOSED_MAX_Q:
        qT = np.ascontiguousarray(q.T)

        def score_block(local, r0, r1, rows, hs, hi):
            # skinny batches: OpenBLAS computes rows @ q.T (M = block rows) 1.2-1.45x faster than
            # q @ rows.T (M = Q) (measured, Q <= 32, D 100..768); one transposing copy per tile
            if "tile" not in local:
                local["tile"] = np.empty((Q, nb), np.float32)
                local["tileT"] = np.empty((nb, Q), np.float32)
            np.matmul(rows, qT, out=local["tileT"])
            np.copyto(local["tile"], local["tileT"].T)
            _topk.merge_block(local["tile"], r1 - r0, r0, weights, inv, mask, excl_ptr, excl, 0, hs, hi, 1)

        blocked_topk(weights, score_block, row_hi, scores, ids, nt, nb)
        return

    def score_block(local, r0, r1, rows, hs, hi):
        tile = local.get("tile")
        if tile is None:
            tile = local["tile"] = np.empty((qb, nb), np.float32)
        for q0 in range(0, Q, qb):
            q1 = min(q0 + qb, Q)
            out = tile[: q1 - q0]
            np.matmul(q[q0:q1], rows.T, out=out)
            _topk.merge_block(out, r1 - r0, r0, weights, inv, mask, excl_ptr, excl, q0, hs, hi, 1)

    blocked_topk(weights, score_block, row_hi, scores, ids, nt, nb)


def blocked_topk(weights, score_block, row_hi, scores, ids, nt, block_rows=None):
    """Top-k over rows in fixed blocks: ``score_block(local, r0, r1, rows, hs, hi)`` scores every
    query against table rows r0..r1-1, given as ``rows`` (always ``block_rows`` x D; zero rows pad
    the last block), and merges them into the worker's heaps ``hs``/``hi``; ``local`` is a dict
    private to the worker (scratch buffers).

    Each of nt workers takes a contiguous run of whole blocks with its own heaps, computing on its
    own thread (numpy releases the GIL in matmul; BLAS is limited to one thread) and merging with
    GIL-free kernels; the workers' heaps are merged at the end. Blocks are the outer loop, so each
    block of rows is read from memory once.

    Why not one BLAS team plus one OpenMP team: on the same cores they spin against each other
    between tiles (measured: 10x slower merges on 2 cores).
    Why fixed, padded blocks: BLAS rounds a (query, row) product differently depending on the
    tile's shape (OpenBLAS switches kernels for small tiles), so every call gets the same shape and
    block boundaries never move with the thread count: answers do not depend on n_threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits
    D = weights.shape[1]
    nb = int(block_rows) if block_rows else GEMM_BLOCK_ROWS
    n_blocks = -(-row_hi // nb)
    nt = max(1, min(nt, n_blocks))
    heaps = [(scores, ids)] + [(np.empty_like(scores), np.empty_like(ids)) for _ in range(nt - 1)]

    def work(w):
        hs, hi = heaps[w]
        _topk.init_heaps(hs, hi)
        local = {}
        b0, b1 = n_blocks * w // nt, n_blocks * (w + 1) // nt
        for b in range(b0, b1):
            r0, r1 = b * nb, min((b + 1) * nb, row_hi)
            if r1 - r0 == nb:
                rows = weights[r0:r1]
            else:  # the last, short block: zero-padded to the common tile shape
                rows = local.get("pad")
                if rows is None:
                    rows = local["pad"] = np.zeros((nb, D), np.float32)
                rows[: r1 - r0] = weights[r0:r1]
            score_block(local, r0, r1, rows, hs, hi)

    with threadpool_limits(limits=1, user_api="blas"):
        if nt == 1:
            work(0)
        else:
            with ThreadPoolExecutor(nt) as ex:
                list(ex.map(work, range(nt)))
    for hs, hi in heaps[1:]:
        _topk.merge_heaps(scores, ids, hs, hi)
    _topk.sort_heaps(scores, ids)
