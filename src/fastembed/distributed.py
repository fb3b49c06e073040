"""Tables sharded across a Dask cluster: :class:`ShardedTable` and :func:`save_sharded`.

Rows are split into shards of contiguous id ranges. Each shard is an :class:`EmbeddingTable` on a
Dask worker, opened there memory-mapped from one file per shard on storage the workers share (or
scattered from an array the client holds). The client keeps the vocabulary and the shard ranges;
the workers run fastembed's own kernels on their rows and send back only what the answer needs:

* ``lookup`` / ``embed``: the client sends each shard the sorted distinct ids that fall in it and
  gets their rows back; one local gather (or the fused position addition) puts them in order.
* ``topk``, ``most_similar``, ``most_similar_cosmul``, ``analogy_ids``: every shard runs the scorer
  one table would use (:mod:`fastembed.search`) over its own rows; the (score, id) lists are
  merged (score descending, then the smaller id), so the answer is the one a single table holding
  all rows gives, bit for bit (see "Identical answers" below).

Dask is what users at that scale already run: scheduling, data movement and recovery are its job.
A shard task whose worker dies is run again elsewhere from the shard's file (scattered shards
have no file to come back from: save them with :func:`save_sharded` when that matters).

Identical answers
-----------------
Cosine scores use each row's own inverse norm, which a shard computes exactly as one table does;
the client prepares the queries once, the way one table does, and every shard runs the same
scorer. Every (query, row) dot product, on every path and whatever the batch, is computed in one
fixed order (``csrc/impl/tile.h``), wherever the row sits: so the shard boundaries can fall
anywhere and the merged answer is one table's, bit for bit.

Needs the optional dependency ``dask[distributed]``: ``pip install "fastembed-engine[distributed]"``.
:func:`save_sharded` works without it.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fastembed import accessors, search, words
from fastembed._threads import resolve_threads
from fastembed._validate import (as_exclude, as_ids, as_int, as_queries, as_restrict, check_id_range, check_out,
                                 first_out_of_range)
from fastembed.io import load, save
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["ShardedTable", "save_sharded", "shard_bounds", "merge_topk", "MANIFEST"]

MANIFEST = "manifest.json"
_FORMAT, _VERSION = "fastembed-sharded", 1
_SHARD_FORMATS = ("native", "safetensors")
# Above this many bytes of per-shard (score, id) lists, top-k merges on the cluster in a tree
# instead of on the client: the client then receives only the final (Q, k) answer.
CLIENT_MERGE_MAX_BYTES = 64 << 20
# Task arguments (queries, a shard's ids, exclusions, masks) larger than this are scattered rather
# than embedded in the task (Dask relays those through the scheduler and warns from 10 MB).
SCATTER_MIN_BYTES = 1 << 20
_CHECKSUM_CHUNK = 1 << 24


# ------------------------------------------------------------------------------------------ layout

def shard_bounds(n_rows: int, n_shards: int, align: Optional[int] = None) -> np.ndarray:
    """Row boundaries of ``n_shards`` contiguous shards: ``(n_shards + 1,)`` int64, from 0 to
    ``n_rows``, each inner boundary the multiple of ``align`` (default 1: an even split) nearest an
    even split. Answers do not depend on where the boundaries fall; ``align`` is for layouts that
    want round shard sizes.

    Raises ValueError when a shard would be empty (too many shards for the rows at that alignment).
    """
    V, n = int(n_rows), int(n_shards)
    a = 1 if align is None else int(align)
    if n < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    if a < 1:
        raise ValueError(f"align must be at least 1, got {align}")
    inner = [min(V, a * int(round(i * V / (n * a)))) for i in range(1, n)]
    bounds = np.array([0] + inner + [V], np.int64)
    sizes = np.diff(bounds)
    if (sizes <= 0).any():
        i = int(np.flatnonzero(sizes <= 0)[0])
        raise ValueError(f"{n} shards of a table of {V} rows with boundaries at multiples of {a} rows "
                         f"leave shard {i} empty; use fewer shards or a smaller align")
    return bounds


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHECKSUM_CHUNK)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def _shard_name(i: int, fmt: str) -> str:
    return f"shard-{i:05d}" + (".safetensors" if fmt == "safetensors" else "")


def _data_file(path: str, fmt: str) -> str:
    return os.path.join(path, "vectors.npy") if fmt == "native" else path


def save_sharded(table, path, n_shards: int, *, format: str = "native", align: Optional[int] = None) -> dict:
    """Write a table as ``n_shards`` shard files plus a manifest, for :meth:`ShardedTable.open`.

    Parameters
    ----------
    table : EmbeddingTable (V, D)
        With a vocabulary, the keys (and counts) are written once, for the client.
    path : str or PathLike
        A directory (created): ``manifest.json``, ``shard-00000`` ... (native directories, or
        ``shard-00000.safetensors`` files), and ``vocab/`` when the table has keys.
    n_shards : int >= 1
    format : "native" (memory-mapped by the workers) or "safetensors"
    align : int, optional
        Shard boundaries are multiples of it (default 1: an even split; answers are one table's
        wherever the boundaries fall). See :func:`shard_bounds`.

    Returns
    -------
    dict : the manifest (also written to ``path/manifest.json``): rows, dim, dtype, align, and
        per shard its file, id range, row count, size in bytes and SHA-256.

    The manifest is written last, so an interrupted save leaves no manifest to open.
    """
    if not isinstance(table, EmbeddingTable):
        raise TypeError(f"save_sharded takes an EmbeddingTable, got {type(table).__name__}")
    if format not in _SHARD_FORMATS:
        raise ValueError(f"format must be one of {_SHARD_FORMATS}, got {format!r}")
    V, D = table.shape
    bounds = shard_bounds(V, n_shards, align)
    root = os.fspath(path)
    os.makedirs(root, exist_ok=True)
    W = table.weights
    shards = []
    for i in range(len(bounds) - 1):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        name = _shard_name(i, format)
        save(EmbeddingTable(W[lo:hi], dtype=table.storage, copy=False), os.path.join(root, name), format=format)
        data = _data_file(os.path.join(root, name), format)
        shards.append({"path": name, "lo": lo, "hi": hi, "rows": hi - lo,
                       "file": os.path.relpath(data, root), "bytes": os.path.getsize(data),
                       "sha256": _sha256(data)})
    vocab_dir = None
    if table.vocab is not None:
        # the keys as a native table of zero columns: fastembed's own key format and checks
        vocab_dir = "vocab"
        save(EmbeddingTable(np.zeros((V, 0), np.float32), vocab=table.vocab), os.path.join(root, vocab_dir),
             format="native")
    manifest = {"format": _FORMAT, "version": _VERSION, "rows": int(V), "dim": int(D), "dtype": "float32",
                "align": int(1 if align is None else align), "shard_format": format,
                "padding_idx": table.padding_idx, "vocab": vocab_dir, "shards": shards}
    tmp = os.path.join(root, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(root, MANIFEST))
    return manifest


def _read_manifest(root: str) -> dict:
    mp = os.path.join(root, MANIFEST)
    if not os.path.isfile(mp):
        raise FileNotFoundError(f"{mp}: no sharded-table manifest (write one with save_sharded)")
    with open(mp, encoding="utf-8") as f:
        try:
            m = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{mp}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(m, dict) or m.get("format") != _FORMAT or m.get("version") != _VERSION:
        got = (m.get("format"), m.get("version")) if isinstance(m, dict) else (None, None)
        raise ValueError(f"{mp}: expected format {_FORMAT!r} version {_VERSION}, got {got[0]!r} version {got[1]!r}")
    for field in ("rows", "dim", "dtype", "shard_format", "shards"):
        if field not in m:
            raise ValueError(f"{mp}: the manifest has no {field!r}")
    if m["dtype"] != "float32" or m["shard_format"] not in _SHARD_FORMATS:
        raise ValueError(f"{mp}: expected dtype 'float32' and shard_format in {_SHARD_FORMATS}, "
                         f"got {m['dtype']!r} and {m['shard_format']!r}")
    for field in ("rows", "dim"):
        if type(m[field]) is not int or m[field] < 0:
            raise ValueError(f"{mp}: {field!r} must be a non-negative int, got {m[field]!r}")
    if not isinstance(m["shards"], list) or not m["shards"]:
        raise ValueError(f"{mp}: 'shards' must be a non-empty list of shard entries, got {m['shards']!r}")
    types = {"lo": int, "hi": int, "rows": int, "path": str, "bytes": int, "sha256": str}
    for i, s in enumerate(m["shards"]):
        if not isinstance(s, dict):
            raise ValueError(f"{mp}: shard {i} must be an object with {', '.join(types)}, got {s!r}")
        for field, typ in types.items():
            if type(s.get(field)) is not typ:
                raise ValueError(f"{mp}: shard {i}'s {field!r} must be a {typ.__name__}, got {s.get(field)!r}")
        if os.path.isabs(s["path"]) or ".." in s["path"].replace("\\", "/").split("/"):
            raise ValueError(f"{mp}: shard {i}'s path {s['path']!r} must be relative to the manifest's directory")
    lo = 0
    for i, s in enumerate(m["shards"]):
        if s.get("lo") != lo or s.get("hi", -1) - lo != s.get("rows") or s["rows"] <= 0:
            raise ValueError(f"{mp}: shard {i} has range {s.get('lo')}..{s.get('hi')} with {s.get('rows')} "
                             f"rows; expected it to start at row {lo} and hold at least one row")
        lo = s["hi"]
    if lo != m["rows"] or not m["shards"]:
        raise ValueError(f"{mp}: the shards cover {lo} rows but the table has {m['rows']}")
    return m


# ------------------------------------------------------------------------------------------ shards

# Tables opened from files in this (worker) process: shard token -> EmbeddingTable. Each table keeps
# its memory map and its cached row norms between tasks.
_OPEN: Dict[str, EmbeddingTable] = {}


class _FileShard:
    """A shard as its tasks carry it: where its rows are and what the manifest promises about the
    file. Pickles as that recipe (a few hundred bytes), so Dask may run its tasks on any worker,
    and a worker that replaces a lost one opens the file again."""

    __slots__ = ("index", "lo", "hi", "dim", "path", "format", "nbytes", "sha256", "manifest")

    def __init__(self, index, lo, hi, dim, path, format, nbytes, sha256, manifest):
        self.index, self.lo, self.hi, self.dim = int(index), int(lo), int(hi), int(dim)
        self.path, self.format, self.nbytes, self.sha256 = path, format, int(nbytes), sha256
        self.manifest = manifest

    def __reduce__(self):
        return (_FileShard, (self.index, self.lo, self.hi, self.dim, self.path, self.format, self.nbytes,
                             self.sha256, self.manifest))

    def __dask_tokenize__(self):
        return ("fastembed-file-shard", self.path, self.sha256, self.lo, self.hi)

    @property
    def token(self) -> str:
        return f"{self.path}:{self.sha256}"

    @property
    def data_file(self) -> str:
        return _data_file(self.path, self.format)

    def _where(self) -> str:
        return f"shard {self.index} (rows {self.lo}..{self.hi - 1}) of {self.manifest}"

    def table(self) -> EmbeddingTable:
        t = _OPEN.get(self.token)
        if t is None:
            t = _OPEN[self.token] = self._open()
        return t

    def _open(self) -> EmbeddingTable:
        data = self.data_file
        if not os.path.exists(data):
            raise FileNotFoundError(f"{data}: the file of {self._where()} is missing")
        size = os.path.getsize(data)
        if size != self.nbytes:
            raise ValueError(f"{data}: {size} bytes where the manifest says {self.nbytes} "
                             f"({self._where()} is truncated or was replaced)")
        try:
            t = load(self.path, format=self.format, mmap=True, verify=False)  # checksums: verify()
        except (ValueError, OSError) as exc:
            raise ValueError(f"{data}: cannot read {self._where()}: {exc}") from exc
        if t.shape != (self.hi - self.lo, self.dim):
            raise ValueError(f"{data}: {self._where()} holds a {t.shape[0]}x{t.shape[1]} table, "
                             f"expected {self.hi - self.lo}x{self.dim}")
        return t

    def verify(self) -> None:
        """Compare the file's SHA-256 with the manifest's (reads the whole file)."""
        got = _sha256(self.data_file)
        if got != self.sha256:
            raise ValueError(f"{self.data_file}: SHA-256 {got} differs from the manifest's {self.sha256} "
                             f"({self._where()} is corrupt)")


class _MemoryShard:
    """A shard scattered from the client: the rows themselves live in the worker's memory."""

    __slots__ = ("index", "lo", "hi", "_table")

    def __init__(self, index, lo, hi, weights):
        self.index, self.lo, self.hi = int(index), int(lo), int(hi)
        self._table = EmbeddingTable(weights, copy=False)

    def __reduce__(self):
        return (_MemoryShard, (self.index, self.lo, self.hi, self._table.weights))

    def __sizeof__(self) -> int:  # what Dask counts as this worker's managed memory
        return object.__sizeof__(self) + self._table.weights.nbytes + 4 * len(self._table)

    def table(self) -> EmbeddingTable:
        return self._table


def _here() -> str:
    """The address of the worker running this task."""
    from distributed import get_worker  # optional dependency: imported where tasks run
    return get_worker().address


def _forget(tokens) -> int:
    """Drop opened shard tables (their memory maps and norms) from this process."""
    return sum(_OPEN.pop(t, None) is not None for t in tokens)


def _opened() -> List[str]:
    """Tokens of the shard tables this process holds open (tests: which worker holds what)."""
    return sorted(_OPEN)


# The task bodies: each runs on a worker against one shard and names where it ran, so the client
# can keep sending that shard's work to the same worker after Dask moved it.

def _t_probe(shard, verify: bool):
    t = shard.table()
    if verify:
        shard.verify()
    return t.shape, _here()


def _t_rows(shard, local_ids, n_threads):
    return shard.table().lookup(local_ids, n_threads=n_threads), _here()


def _global(shard, s, i):
    s, i = np.atleast_2d(s), np.atleast_2d(i)
    return s, np.where(i >= 0, i + shard.lo, -1), {shard.index: _here()}


def _t_search(shard, scorer, k, exclude, restrict, strategy, block_rows, n_threads):
    """One shard's part of a search: the scorer one table would use, run by the same engine over
    this shard's rows with this shard's inverse norms."""
    t = shard.table()
    s, i = t.search(scorer, k, restrict=restrict, exclude=_local_exclude(exclude), strategy=strategy,
                    block_rows=block_rows, n_threads=n_threads)
    return _global(shard, s, i)


def _t_cosines(shard, q, row_hi, n_threads):
    """Every cosine of the queries with the shard's first row_hi rows."""
    return shard.table().cosines(q, row_hi, n_threads), _here()


def _t_merge(k, *parts):
    where = {}
    for p in parts:
        where.update(p[2])
    s, i = merge_topk([(p[0], p[1]) for p in parts], k)
    return s, i, where


def _t_weights(shard):
    return shard.table().weights


# ------------------------------------------------------------------------------------------ merging

def merge_topk(parts: Sequence[Tuple[np.ndarray, np.ndarray]], k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Merge top-k lists of disjoint row sets into one: the k best of all, score descending, then
    the smaller id (the order of :meth:`EmbeddingTable.topk`); empty slots (id -1, score -inf) last.

    Parameters
    ----------
    parts : sequence of (scores (Q, k_i) float32, ids (Q, k_i) int64) with global ids
    k : int

    Returns
    -------
    scores (Q, k) float32, ids (Q, k) int64: entries of the inputs, bits unchanged
    """
    scores = np.concatenate([np.asarray(p[0], np.float32) for p in parts], axis=1)
    ids = np.concatenate([np.asarray(p[1], np.int64) for p in parts], axis=1)
    Q, m = scores.shape
    if m < k:
        scores = np.concatenate([scores, np.full((Q, k - m), -np.inf, np.float32)], axis=1)
        ids = np.concatenate([ids, np.full((Q, k - m), -1, np.int64)], axis=1)
        m = k
    empty = ids < 0
    if ids.size == 0 or ids.max() < _KEY_ID_MASK:
        # one uint64 key per entry: (order-reversed score bits, id); argpartition then needs no
        # second key (measured 64 lists of 10000 x 10: 15x faster than a three-key lexsort)
        s = np.where(empty, np.float32(-np.inf), scores) + np.float32(0)  # -0.0 ties with 0.0, as in one table
        bits = s.view(np.uint32)
        up = np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))  # float order as uint order
        key = ((~up).astype(np.uint64) << np.uint64(32)) | np.where(empty, _KEY_ID_MASK, ids).astype(np.uint64)
        if k < m:
            top = np.argpartition(key, k - 1, axis=1)[:, :k]
            order = np.take_along_axis(top, np.argsort(np.take_along_axis(key, top, 1), axis=1), 1)
        else:
            order = np.argsort(key, axis=1)
    else:
        order = np.lexsort((np.where(empty, np.iinfo(np.int64).max, ids), -scores, empty), axis=1)[:, :k]
    return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)


_KEY_ID_MASK = np.uint64(0xFFFFFFFF)  # ids below this fit the low half of a merge key


# ------------------------------------------------------------------------------------------ routing

def _route_exclude(exclude, Q: int, V: int, bounds: np.ndarray):
    """Validate ``exclude`` against the whole table (one table's checks and messages) and give
    each shard its part in local ids: per shard None, a 1-D array (skipped for every query), or
    ``(ptr, flat)``, per-query lists in CSR form (query q's ids are ``flat[ptr[q]:ptr[q + 1]]``),
    compact to ship and split into lists on the worker."""
    n = len(bounds) - 1
    common, per_query = as_exclude(exclude, Q, V)
    if common is not None:
        cuts = np.searchsorted(common, bounds)
        return [common[cuts[s]:cuts[s + 1]] - bounds[s] if cuts[s + 1] > cuts[s] else None for s in range(n)]
    if per_query is None:
        return [None] * n
    ptr, flat = per_query
    owner = np.repeat(np.arange(Q), np.diff(ptr))
    out = []
    for s in range(n):
        sel = (flat >= bounds[s]) & (flat < bounds[s + 1])
        if not sel.any():
            out.append(None)
            continue
        local_ptr = np.zeros(Q + 1, np.int64)
        np.cumsum(np.bincount(owner[sel], minlength=Q), out=local_ptr[1:])
        out.append((local_ptr, flat[sel] - bounds[s]))
    return out


def _local_exclude(exclude):
    """A shard's exclusions as its table's ``topk`` reads them (CSR back to per-query lists)."""
    if isinstance(exclude, tuple):
        ptr, flat = exclude
        return np.split(flat, ptr[1:-1])
    return exclude


_SKIP = object()  # a shard that restrict leaves without candidates


def _route_restrict(restrict, V: int, bounds: np.ndarray):
    """Validate ``restrict`` against the whole table (one table's checks and messages); per shard
    None (every row), its local form, or _SKIP. Row ids stay ids: no V-byte mask on the client."""
    n = len(bounds) - 1
    r = np.asarray(restrict) if restrict is not None and not np.isscalar(restrict) else None
    if r is not None and r.dtype != bool:
        if r.dtype.kind not in "iu" or r.ndim != 1 or first_out_of_range(r, V) >= 0:
            as_restrict(r, V)  # raises one table's TypeError / IndexError (before any allocation)
        r = np.unique(r.astype(np.int64))
        cuts = np.searchsorted(r, bounds)
        return [r[cuts[s]:cuts[s + 1]] - bounds[s] if cuts[s + 1] > cuts[s] else _SKIP for s in range(n)]
    checked = as_restrict(restrict, V)
    if checked.mask is not None:
        m = checked.mask.view(bool)
        return [m[bounds[s]:bounds[s + 1]] if m[bounds[s]:bounds[s + 1]].any() else _SKIP for s in range(n)]
    hi = checked.row_hi
    return [_SKIP if hi <= bounds[s] else (None if hi >= bounds[s + 1] else int(hi - bounds[s]))
            for s in range(n)]


class ShardedTable:
    """A (V, D) float32 table whose rows are split over the workers of a Dask cluster.

    Create it with :meth:`open` (shard files written by :func:`save_sharded` on storage every
    worker sees) or :meth:`from_array` (rows scattered from the client). Answers equal those of one
    :class:`EmbeddingTable` holding all rows: ``lookup`` and ``embed`` bit for bit, ``topk`` bit
    for bit in scores and ids (see the module notes).

    ``n_threads`` of every method is the thread count of each shard's kernel on its worker
    (None: the worker's ``OMP_NUM_THREADS``, which Dask sets to 1 per worker thread) and of the
    final local gather on the client.

    Results come straight from the workers (Dask's ``direct`` gather: half the time of a relay
    through the scheduler for a (64, 512) x 768 lookup). A client that cannot reach the workers
    should be created with ``Client(..., direct_to_workers=False)``; this table follows that.
    """

    def __init__(self, client, shards, bounds, dim: int, *, vocab=None, homes=None, source=None):
        self._client = client
        self._direct = client.direct_to_workers is not False
        self._shards = list(shards)     # _FileShard objects, or futures of _MemoryShard objects
        self._bounds = np.asarray(bounds, np.int64)
        self._bounds.flags.writeable = False
        self._dim = int(dim)
        self._homes = list(homes) if homes is not None else [None] * len(self._shards)
        self._source = source
        self._vocab = None
        if vocab is not None:
            if not isinstance(vocab, Vocabulary):
                vocab = Vocabulary(vocab)
            if len(vocab) != self.num_embeddings:
                raise ValueError(f"vocabulary has {len(vocab)} keys but the table has {self.num_embeddings} rows")
            self._vocab = vocab
        self._empty = EmbeddingTable(np.zeros((0, self._dim), np.float32))  # validates like one table

    # ------------------------------------------------------------------ constructors
    @classmethod
    def open(cls, path, client, *, verify: bool = False) -> "ShardedTable":
        """Open a table written by :func:`save_sharded`; every worker must see ``path``.

        Each shard is opened (memory-mapped) on its home worker, checked against the manifest (file
        present, size, shape) and, with ``verify=True``, its SHA-256 computed (reads every byte).

        Raises
        ------
        FileNotFoundError : no manifest, or a shard file is missing (named).
        ValueError : a malformed manifest, or a shard file that is truncated, unreadable, of the
            wrong shape, or (``verify=True``) whose checksum differs (named).
        """
        root = os.path.abspath(os.fspath(path))
        m = _read_manifest(root)
        mp = os.path.join(root, MANIFEST)
        shards = [_FileShard(i, s["lo"], s["hi"], m["dim"], os.path.join(root, s["path"]), m["shard_format"],
                             s["bytes"], s["sha256"], mp) for i, s in enumerate(m["shards"])]
        bounds = [0] + [s["hi"] for s in m["shards"]]
        vocab = None
        if m.get("vocab"):
            vocab = load(os.path.join(root, m["vocab"]), format="native").vocab
        homes = _spread(client, len(shards))
        t = cls(client, shards, bounds, m["dim"], vocab=vocab, homes=homes, source=root)
        futures = [t._submit(_t_probe, i, verify, name="open") for i in range(len(shards))]
        for i, (_, where) in enumerate(client.gather(futures, direct=t._direct)):
            t._homes[i] = where
        return t

    @classmethod
    def from_array(cls, weights, client, *, n_shards: Optional[int] = None, vocab=None,
                   align: Optional[int] = None) -> "ShardedTable":
        """Scatter the rows of an array (or an :class:`EmbeddingTable`, with its vocabulary) to the
        workers, one shard per worker by default.

        Scattered shards live only in their workers' memory: if a worker is lost, its shard is lost
        (Dask raises). For recovery, write the table with :func:`save_sharded` and :meth:`open` it.
        """
        if isinstance(weights, EmbeddingTable):
            vocab = weights.vocab if vocab is None else vocab
            W = weights.weights
        else:
            W = EmbeddingTable(weights, copy=False).weights  # the same dtype / shape rules as one table
        workers = _spread(client, None)
        n = len(workers) if n_shards is None else int(n_shards)
        bounds = shard_bounds(W.shape[0], n, align)
        shards, homes = [], []
        for i in range(n):
            home = workers[i % len(workers)]
            part = _MemoryShard(i, bounds[i], bounds[i + 1], W[bounds[i]:bounds[i + 1]])
            shards.append(client.scatter(part, workers=[home], hash=False,
                                         direct=client.direct_to_workers is not False))
            homes.append(home)
        return cls(client, shards, bounds, W.shape[1], vocab=vocab, homes=homes)

    # ------------------------------------------------------------------ properties
    @property
    def num_embeddings(self) -> int:
        """V, the number of rows."""
        return int(self._bounds[-1])

    @property
    def dim(self) -> int:
        """D, the number of columns."""
        return self._dim

    @property
    def shape(self) -> tuple:
        return (self.num_embeddings, self._dim)

    @property
    def n_shards(self) -> int:
        return len(self._shards)

    @property
    def bounds(self) -> np.ndarray:
        """(n_shards + 1,) int64 row boundaries: shard s holds rows ``bounds[s]`` .. ``bounds[s+1] - 1``."""
        return self._bounds

    @property
    def vocab(self) -> Optional[Vocabulary]:
        """The vocabulary (kept on the client), or None."""
        return self._vocab

    @property
    def client(self):
        return self._client

    def __len__(self) -> int:
        return self.num_embeddings

    def __repr__(self) -> str:
        extra = ", vocab=True" if self._vocab is not None else ""
        src = f", path={self._source!r}" if self._source else ", scattered=True"
        return f"ShardedTable(num_embeddings={self.num_embeddings}, dim={self._dim}, n_shards={self.n_shards}{src}{extra})"

    def __reduce__(self):
        # a ShardedTable is a handle on a Dask client and on rows held by its workers: a copy in
        # another process would have neither. Refused with the way to do it instead.
        raise TypeError("a ShardedTable cannot be pickled or copied: it holds a Dask client and rows that live "
                        "on the workers; send the directory written by save_sharded and call "
                        "ShardedTable.open(path, client) where it is needed (or run the work through its "
                        "methods, which ship each shard's part to its worker)")

    def close(self) -> None:
        """Release the shards: scattered rows are dropped, opened files unmapped on the workers."""
        tokens = [s.token for s in self._shards if isinstance(s, _FileShard)]
        if tokens and self._client.status == "running":
            self._client.run(_forget, tokens)
        self._shards = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ tasks
    def _submit(self, fn, i, *args, name):
        home = self._homes[i]
        return self._client.submit(fn, self._shards[i], *args, key=f"fastembed-{name}-{i}-{uuid.uuid4().hex}",
                                   workers=[home] if home else None, allow_other_workers=bool(home),
                                   pure=False)

    def _ship(self, x, i=None):
        """An argument for shard i's task (None: for every shard): arrays over
        ``SCATTER_MIN_BYTES`` are scattered (to the shard's worker) instead of riding in the task,
        which Dask warns about from 10 MB and relays through the scheduler."""
        if isinstance(x, tuple):
            return tuple(self._ship(y, i) for y in x)
        if not isinstance(x, np.ndarray) or x.nbytes <= SCATTER_MIN_BYTES:
            return x
        home = self._homes[i] if i is not None else None
        return self._client.scatter(x, workers=[home] if home else None, hash=False, direct=self._direct)

    def _moved(self, where: dict) -> None:
        """Keep sending a shard's work where Dask last ran it (after a worker was lost)."""
        for i, addr in where.items():
            self._homes[i] = addr

    def _fetch_rows(self, uniq: np.ndarray, n_threads) -> np.ndarray:
        """Rows of sorted distinct valid ids, fetched from their shards: (len(uniq), D) float32."""
        b = self._bounds
        cuts = np.searchsorted(uniq, b)
        jobs = [(s, cuts[s], cuts[s + 1]) for s in range(self.n_shards) if cuts[s + 1] > cuts[s]]
        futures = [self._submit(_t_rows, s, self._ship(uniq[c0:c1] - b[s], s), n_threads, name="rows")
                   for s, c0, c1 in jobs]
        results = self._client.gather(futures, direct=self._direct)
        self._moved({s: where for (s, _, _), (_, where) in zip(jobs, results)})
        if len(results) == 1:
            return results[0][0]
        R = np.empty((uniq.size, self._dim), np.float32)
        for (_, c0, c1), (rows, _) in zip(jobs, results):
            R[c0:c1] = rows
        return R

    def _check_call(self, n_threads) -> None:
        """Before any work is sent: the table is open and n_threads is a thread count (each worker
        resolves it against its own cores)."""
        if not self._shards:
            raise ValueError("this ShardedTable is closed")
        if n_threads is not None:
            resolve_threads(n_threads)

    def _route_ids(self, ids, n_threads):
        """Validated ids (keys encoded), their distinct values and each id's index among them."""
        self._check_call(n_threads)
        a = ids if type(ids) is np.ndarray else np.asarray(ids)
        if a.dtype.kind in "UO" and self._vocab is not None:
            a = np.asarray(self._vocab.encode(ids))
        a = as_ids(a)
        check_id_range(a, self.num_embeddings)
        uniq, inv = np.unique(a.reshape(-1), return_inverse=True)
        return a, uniq.astype(np.int64), inv.reshape(a.shape)

    # ------------------------------------------------------------------ lookup and embed
    def lookup(self, ids, out=None, n_threads=None) -> np.ndarray:
        """Gather rows: ``weights[ids]``, as :meth:`EmbeddingTable.lookup` (bit for bit).

        Each shard sends the distinct rows asked of it once (repeated ids cost no transfer); the
        client puts them in order with one local gather.

        Parameters
        ----------
        ids : array_like of any integer dtype (or keys, with a vocabulary), any shape
        out : ndarray, shape (*ids.shape, D), float32, C-contiguous, optional
        n_threads : int, optional

        Returns
        -------
        ndarray, shape (*ids.shape, D), float32

        Raises
        ------
        IndexError : an id outside the table (the first one, with its position), before any work
            is sent to the cluster.
        TypeError, ValueError : as :meth:`EmbeddingTable.lookup`.
        """
        a, uniq, inv = self._route_ids(ids, n_threads)
        shape = a.shape + (self._dim,)
        if out is not None:
            check_out(out, shape)
        if uniq.size == 0:
            return np.empty(shape, np.float32) if out is None else out
        R = self._fetch_rows(uniq, n_threads)
        return EmbeddingTable(R, copy=False).lookup(inv, out=out, n_threads=n_threads)

    def __getitem__(self, key):
        return self.lookup(key)

    def embed(self, ids, positions, *, offset=0, position_ids=None, scale=None, token_types=None,
              type_table=None, out=None, n_threads=None) -> np.ndarray:
        """Token rows plus position rows, as :meth:`EmbeddingTable.embed` (bit for bit).

        The shards send the distinct token rows; the client adds positions (and token types) in
        the same fused pass that puts rows in order, so no more than ``lookup`` crosses the network.
        Parameters, returns and errors are those of :meth:`EmbeddingTable.embed`.
        """
        a, uniq, inv = self._route_ids(ids, n_threads)
        R = self._fetch_rows(uniq, n_threads) if uniq.size else np.zeros((0, self._dim), np.float32)
        return EmbeddingTable(R, copy=False).embed(inv, positions, offset=offset, position_ids=position_ids, scale=scale,
                                       token_types=token_types, type_table=type_table, out=out,
                                       n_threads=n_threads)

    # ------------------------------------------------------------------ search
    def topk(self, queries, k: int = 10, *, metric: str = "cosine", exclude=None, restrict=None,
             strategy: str = "auto", block_rows=None, n_threads=None, merge: str = "auto"):
        """The k rows most similar to each query, best first: :meth:`EmbeddingTable.topk` over all
        shards, the same answer bit for bit.

        Parameters
        ----------
        queries : array_like, shape (D,) or (Q, D), any float dtype; or a key / list of keys
        k : int >= 1 (clipped to the number of rows)
        metric : {"cosine", "dot"}
        exclude : ids to skip for every query, or a list of Q id lists (global ids)
        restrict : None, an int n (only the first n rows), an array of row ids, or a (V,) bool mask
        strategy, block_rows : as :meth:`EmbeddingTable.topk`, applied on every shard (the answer
            does not depend on them)
        n_threads : int, optional
        merge : {"auto", "client", "tree"}
            Where the per-shard lists are merged: on the client, or in a binary tree of Dask tasks
            (the client receives one (Q, k) answer). "auto" merges on the client while the lists
            total at most ``CLIENT_MERGE_MAX_BYTES``. The answer is the same.

        Returns
        -------
        scores : (k,) or (Q, k) float32, descending
        ids : (k,) or (Q, k) int64, global; ties by the smaller id; -1 (score -inf) when fewer
            than k rows are candidates

        Raises
        ------
        ValueError, TypeError, IndexError : as :meth:`EmbeddingTable.topk`, raised on the client
            before any work is sent.
        """
        if isinstance(queries, str) or (isinstance(queries, (list, tuple)) and queries
                                        and isinstance(queries[0], str)):
            queries = self.lookup(words.require_vocab(self).encode(queries))
        self._check_call(n_threads)
        q = np.asarray(queries)
        # one table's checks and messages (queries, k, metric, strategy, block_rows), on no rows
        self._empty.topk(q, k, metric=metric, strategy=strategy, block_rows=block_rows)
        k = min(int(k), max(self.num_embeddings, 1))
        qs, single = as_queries(q, self._dim, normalize=metric == "cosine")
        scores, ids = self.search(search.LinearScorer(qs, cosine=metric == "cosine"), k, restrict=restrict,
                                  exclude=exclude, strategy=strategy, block_rows=block_rows,
                                  n_threads=n_threads, merge=merge)
        return (scores[0], ids[0]) if single else (scores, ids)

    # ------------------------------------------------------------------ the row-source protocol
    # fastembed.words and fastembed.evaluate run on these three, as they do on one table's: the
    # questions are written once, and a sharded table answers them bit for bit like one table.

    def unit_rows(self, ids, n_threads=None) -> np.ndarray:
        """(n, D) float64 ``row * (1 / ||row||)`` of valid ids, as :meth:`EmbeddingTable.unit_rows`
        (the rows fetched in one lookup; their inverse norms by the same kernel, row by row)."""
        rows = self.lookup(np.asarray(ids, np.int64).reshape(-1), n_threads=n_threads)
        return rows.astype(np.float64) * EmbeddingTable(rows, copy=False).inv_norms()[:, None]

    def search(self, scorer, k: int, *, restrict=None, exclude=None, strategy: str = "auto", block_rows=None,
               n_threads=None, index=None, merge: str = "auto"):
        """Run a scorer of :mod:`fastembed.search` on every shard (with that shard's inverse
        norms) and merge: :meth:`EmbeddingTable.search` over all rows, bit for bit. ``index`` is
        accepted for the protocol and ignored (shards hold no index)."""
        if merge not in ("auto", "client", "tree"):
            raise ValueError(f"merge must be 'auto', 'client' or 'tree', got {merge!r}")
        self._check_call(n_threads)
        V = self.num_embeddings
        Q = scorer.n_queries
        k = min(k, V)  # clipped to the rows, as one table's search
        excl = _route_exclude(exclude, Q, V, self._bounds)
        restr = _route_restrict(restrict, V, self._bounds)
        jobs = [s for s in range(self.n_shards) if restr[s] is not _SKIP]
        if not jobs or Q == 0 or k == 0:
            return merge_topk([(np.zeros((Q, 0), np.float32), np.zeros((Q, 0), np.int64))], k)
        shipped = self._ship(scorer)
        futures = [self._submit(_t_search, s, shipped, k, self._ship(excl[s], s), self._ship(restr[s], s),
                                strategy, block_rows, n_threads, name="topk") for s in jobs]
        if merge == "tree" or (merge == "auto" and len(jobs) * Q * k * 12 > CLIENT_MERGE_MAX_BYTES):
            while len(futures) > 1:
                nxt = [self._client.submit(_t_merge, k, futures[j], futures[j + 1],
                                           key=f"fastembed-merge-{uuid.uuid4().hex}", pure=False)
                       for j in range(0, len(futures) - 1, 2)]
                futures = nxt + futures[len(futures) - len(futures) % 2:]
            scores, ids, where = self._client.gather(futures[0], direct=self._direct)
        else:
            parts = self._client.gather(futures, direct=self._direct)
            where = {}
            for p in parts:
                where.update(p[2])
            scores, ids = merge_topk([(p[0], p[1]) for p in parts], k)
        self._moved(where)
        return scores, ids

    def cosines(self, queries, row_hi=None, n_threads=None) -> np.ndarray:
        """Every cosine of unit queries with the first ``row_hi`` rows, shard by shard:
        :meth:`EmbeddingTable.cosines` over all rows."""
        self._check_call(n_threads)
        q = np.asarray(queries, np.float32)
        V = self.num_embeddings
        n = V if row_hi is None else as_int(row_hi, "row_hi", lo=0, hi=V)
        b = self._bounds
        jobs = [(s, int(min(n, b[s + 1]) - b[s])) for s in range(self.n_shards) if n > b[s]]
        futures = [self._submit(_t_cosines, s, q, m, n_threads, name="cosines") for s, m in jobs]
        results = self._client.gather(futures, direct=self._direct)
        self._moved({s: where for (s, _), (_, where) in zip(jobs, results)})
        parts = [c for c, _ in results]
        if not parts:
            return np.zeros(q.shape[:-1] + (0,), np.float32)
        return np.concatenate(parts, axis=-1)

    # ------------------------------------------------------------------ dask.array
    def to_dask(self):
        """A ``dask.array`` view of the rows, one chunk per shard, read where the shard lives.

        Map your own functions over shards with ``map_blocks`` (global row ids: ``bounds``). A
        chunk computed into worker memory counts as its full size there; a memory-mapped shard is
        read from its file when the chunk's task runs.
        """
        import dask
        import dask.array as da
        self._check_call(None)
        name = f"fastembed-shard-{uuid.uuid4().hex}"
        chunks = []
        for i, shard in enumerate(self._shards):
            with dask.annotate(workers=[self._homes[i]], allow_other_workers=True):
                d = dask.delayed(_t_weights, pure=True)(shard, dask_key_name=f"{name}-{i}")
            rows = int(self._bounds[i + 1] - self._bounds[i])
            chunks.append(da.from_delayed(d, shape=(rows, self._dim), dtype=np.float32,
                                          meta=np.empty((0, 0), np.float32)))
        return da.concatenate(chunks, axis=0)


def _spread(client, n: Optional[int]) -> List[str]:
    """Worker addresses, sorted; with n, the home of each of n shards (round robin)."""
    workers = sorted(client.ncores())
    if not workers:
        raise ValueError("the Dask cluster has no workers")
    return workers if n is None else [workers[i % len(workers)] for i in range(n)]


accessors.register(ShardedTable, "words", accessors.Words)
