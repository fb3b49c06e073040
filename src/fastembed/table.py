"""EmbeddingTable: V rows of D values, one per token, and the operations that read them.

The table is storage: the rows (a float32 matrix, possibly read-only or memory-mapped), their
vocabulary, the padding row and a cache of inverse row norms, plus thin ``lookup``, ``embed`` and
``topk``. Word questions (:mod:`fastembed.words`), evaluation (:mod:`fastembed.evaluate`),
optimizers (:mod:`fastembed.optim`) and training are modules that take a table and use this
public API; the table keeps one-line delegations to the word questions for gensim's feel.

Thread safety (the contract the stress test in ``tests/test_concurrency.py`` holds):

* reads (``lookup``, ``embed``, ``topk``, the word questions, ``inv_norms``) may run from any
  number of threads at once; they take no lock;
* writes through the table (``scatter_add``, ``set_rows``, ``apply_sparse``, optimizers,
  training through :meth:`writing`) are serialised by the table's write lock;
* a read that overlaps a write may see, for the rows being written, their old values, their new
  values or a mix (as with numpy or torch arrays); every other row is exact;
* the norm cache is never stale: a cache filled while a write was running is discarded, so every
  read that starts after a write returns sees norms of the written rows.
"""
from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional, Sequence, TypeVar, Union, overload

import numpy as np

from fastembed import evaluate, interop, optim, pooling, search, words
from fastembed import index as fe_index
from fastembed._dtypes import BFLOAT16, FLOAT16, FLOAT32, StorageDType, of_array
from fastembed._dtypes import resolve as resolve_dtype
from fastembed._typing import (AnalogyMethod, F32Array, I64Array, IdsLike, Metric, OutArray, Pairs, PoolMode, Strategy,
                              Threads, TopK, VectorLike)
from fastembed._kernels import _gather, _topk, _train
from fastembed._threads import GRAIN_COPY_BYTES, GRAIN_ROWS_BYTES, team_size
from fastembed._validate import (as_float, as_float_matrix, as_ids, as_int, as_k, as_queries, as_restrict,
                                 as_sparse_rows, as_weights, check_id_range, check_out, raise_bad_id)
from fastembed.positions import as_position_matrix, position_rows, resolve_scale
from fastembed.vocab import Vocabulary

__all__ = ["EmbeddingTable", "STREAM_MIN_BYTES"]

_Out = TypeVar("_Out", bound=OutArray)

# From this many output bytes rows are written with non-temporal stores: measured on a 2-core AVX-512
# VM, streaming loses below ~25 MB of output (it fits caches) and wins 1.5x at 100 MB.
STREAM_MIN_BYTES = 1 << 25


class EmbeddingTable:
    """A table of ``V`` rows of ``D`` values, stored as float32, float16 or bfloat16 and computed
    with in float32; ``lookup(ids)`` copies rows (as float32).

    Parameters
    ----------
    weights : array_like, shape (V, D), floating point; or a torch tensor / module
        C-contiguous arrays of the storage dtype (including read-only arrays and ``np.memmap``) are
        used without a copy and are never written unless writeable and asked to (``apply_sparse``,
        training, ``set_rows``). Other float dtypes are converted and non-contiguous arrays copied.
        With ``dtype="bfloat16"`` a uint16 array is taken as bfloat16 bit patterns.
    copy : bool, default False
        Always take a private copy.
    dtype : None, "float32", "float16", "bfloat16" (or np.float32 / np.float16 / torch dtypes)
        The storage dtype. None: float16 arrays and float16 / bfloat16 tensors keep their dtype,
        anything else is stored as float32. Half storage halves the memory and the bytes a scan
        reads; every result is float32 and equals, bit for bit, that of ``table.astype("float32")``
        (the upcast is exact). Converting to a half dtype rounds to nearest even (float64 input is
        rounded to float32 first for bfloat16).
    vocab : Vocabulary or sequence of str, optional
        Keys for the rows, enabling ``table["cat"]`` and the word-level methods.
    padding_idx : int, optional
        PyTorch semantics: the row never receives gradient. ``zeros``/``random`` zero it at creation;
        given weights are used as they are (like ``nn.Embedding.from_pretrained``).

    Notes
    -----
    ``weights`` is a read-only view: writes go through the table's methods so cached row norms stay
    valid. If you change the underlying array yourself, call ``invalidate_norms()``.

    Half tables: ``weights`` is the stored array (float16, or the uint16 bits of bfloat16);
    ``apply_sparse`` / ``scatter_add`` / optimizers compute each updated row in float32 and round it
    back to the storage dtype (nearest even), so small updates can round away as they would in
    torch's half parameters. Pooling (``bag``, ``sentence_vectors``, ...) and training need float32
    tables (``table.astype("float32")``).
    """

    __slots__ = ("_w", "_storage", "_vocab", "_padding_idx", "_inv", "_version", "_write_lock",
                 "_watched", "_untracked_alias", "_index", "__weakref__")

    def __init__(self, weights: Any, *, copy: bool = False, vocab: Union[Vocabulary, Sequence[str], None] = None,
                 padding_idx: Optional[int] = None, dtype: Any = None) -> None:
        watch = None
        want = None if dtype is None else resolve_dtype(dtype)
        given = None  # the storage dtype the input already holds
        if interop.is_torch_tensor(weights) or hasattr(weights, "weight"):
            weights, watch, tname = interop.torch_weights(weights)
            given = resolve_dtype(tname) if tname is not None else None
        if want is BFLOAT16 and given is None and getattr(weights, "dtype", None) == np.uint16:
            w = np.asarray(weights) if type(weights) is not np.memmap else weights
            if w.ndim != 2:
                raise ValueError(f"weights must be 2-D (V, D), got shape {w.shape}")
            given = BFLOAT16  # uint16 bit patterns, as safetensors and torch hold bfloat16
        elif given is None:
            w = as_weights(weights)
            given = of_array(w)
        else:
            w = weights
        storage = want or given
        if w.dtype != given.numpy and not (given is FLOAT32 and w.dtype.kind == "f"):
            w = np.asarray(w, given.numpy)  # byte-swapped input
        if given is not storage:
            if given is FLOAT32 and storage is FLOAT16:
                w = np.asarray(w).astype(np.float16)  # float64 too: one rounding, to nearest even
            else:  # through the exact float32 upcast of half input
                w = storage.from_float32(given.to_float32(w) if given.is_half else np.asarray(w, np.float32))
            copy = False  # a fresh array already
        if copy or w.dtype != storage.numpy or not w.flags.c_contiguous or not w.dtype.isnative:
            w = np.array(w, dtype=storage.numpy, order="C", copy=True)
        self._w = w
        self._storage: StorageDType = storage
        self._inv = None           # (version, (V,) float32 inverse norms) or None
        self._index = None         # (version, search index) or None: see build_index
        self._version = 0          # odd while a write is running
        self._write_lock = threading.Lock()
        # torch tensors sharing the rows: their version counters tell when torch wrote them
        self._watched = [] if watch is None or w is not weights else [weakref.ref(watch)]
        self._untracked_alias = False  # a writable alias went out through DLPack: trust no cache
        self._padding_idx = None
        self._vocab = None
        if padding_idx is not None:
            self._padding_idx = self._check_padding_idx(padding_idx)
        if vocab is not None:
            self.vocab = vocab

    # ------------------------------------------------------------------ constructors
    @classmethod
    def random(cls, num_embeddings: int, dim: int, *, seed: Any = 0, scale: float = 0.1,
               vocab: Union[Vocabulary, Sequence[str], None] = None,
               padding_idx: Optional[int] = None) -> "EmbeddingTable":
        """Rows drawn from ``N(0, 1) * scale`` (float32), reproducible with ``seed``."""
        num_embeddings, dim = _check_shape(num_embeddings, dim)
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((num_embeddings, dim), dtype=np.float32)
        w *= np.float32(as_float(scale, "scale"))
        t = cls(w, vocab=vocab, padding_idx=padding_idx)
        if t._padding_idx is not None:
            w[t._padding_idx] = 0.0
        return t

    @classmethod
    def zeros(cls, num_embeddings: int, dim: int, *, vocab: Union[Vocabulary, Sequence[str], None] = None,
              padding_idx: Optional[int] = None) -> "EmbeddingTable":
        """A table of zeros."""
        num_embeddings, dim = _check_shape(num_embeddings, dim)
        return cls(np.zeros((num_embeddings, dim), np.float32), vocab=vocab, padding_idx=padding_idx)

    # ------------------------------------------------------------------ properties
    @property
    def num_embeddings(self) -> int:
        """V, the number of rows."""
        return self._w.shape[0]

    @property
    def dim(self) -> int:
        """D, the number of columns."""
        return self._w.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self._w.shape

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the stored rows (float32, float16, or uint16 for bfloat16 bits; see
        :attr:`storage` for the storage dtype's name)."""
        return self._w.dtype

    @property
    def storage(self) -> StorageDType:
        """The storage dtype (see :mod:`fastembed._dtypes`)."""
        return self._storage

    @property
    def nbytes(self) -> int:
        """Bytes of the stored rows: V * D * 4 (float32) or V * D * 2 (float16, bfloat16)."""
        return int(self._w.nbytes)

    @property
    def weights(self) -> F32Array:
        """A read-only (V, D) view of the stored rows (no copy): float32, float16, or for bfloat16
        tables the uint16 bit patterns (numpy has no bfloat16; ``table[:]`` or
        ``table.astype("float32")`` give float32 values)."""
        v = self._w.view(np.ndarray)
        v.flags.writeable = False
        return v

    @property
    def writeable(self) -> bool:
        """False for read-only arrays and read-only memory maps: no method will write them."""
        return bool(self._w.flags.writeable)

    @property
    def padding_idx(self) -> Optional[int]:
        return self._padding_idx

    @property
    def vocab(self) -> Optional[Vocabulary]:
        """The Vocabulary mapping keys to row ids, or None."""
        return self._vocab

    @vocab.setter
    def vocab(self, vocab: Union[Vocabulary, Sequence[str], None]) -> None:
        if vocab is None:
            self._vocab = None
            return
        if not isinstance(vocab, Vocabulary):
            vocab = Vocabulary(vocab)
        if len(vocab) != self.num_embeddings:
            raise ValueError(f"vocabulary has {len(vocab)} keys but the table has "
                             f"{self.num_embeddings} rows")
        self._vocab = vocab

    def __len__(self) -> int:
        return self._w.shape[0]

    def __repr__(self) -> str:
        extra = ""
        if self._vocab is not None:
            extra += ", vocab=True"
        if self._padding_idx is not None:
            extra += f", padding_idx={self._padding_idx}"
        if not self.writeable:
            extra += ", read_only=True"
        if isinstance(self._w, np.memmap):
            extra += ", memmap=True"
        if self._storage is not FLOAT32:
            extra = f", dtype={self._storage.name}" + extra
        idx = self._valid_index()
        if idx is not None:
            extra += f", index={idx.kind}, table_bytes={self.nbytes}, index_bytes={idx.nbytes}"
        return f"EmbeddingTable(num_embeddings={self.num_embeddings}, dim={self.dim}{extra})"

    def _check_padding_idx(self, padding_idx) -> int:
        V = self.num_embeddings
        p = as_int(padding_idx, "padding_idx")
        if not -V <= p < V:
            raise ValueError(f"padding_idx {padding_idx} is out of range for a table of {V} rows")
        return p + V if p < 0 else p

    def _ids(self, ids) -> np.ndarray:
        """Ids, or keys looked up in the vocabulary."""
        if self._vocab is None:
            return as_ids(ids, n=self.num_embeddings)
        if isinstance(ids, str) or (isinstance(ids, (list, tuple)) and ids and isinstance(ids[0], (str, list, tuple))
                                    and _holds_str(ids)):
            return np.asarray(self.encode(ids))
        if isinstance(ids, np.ndarray) and ids.dtype.kind in "UO":
            return np.asarray(self.encode(ids))
        return as_ids(ids, n=self.num_embeddings)

    # ------------------------------------------------------------------ lookup
    @overload
    def lookup(self, ids: IdsLike, out: None = None, n_threads: Threads = None) -> F32Array: ...

    @overload
    def lookup(self, ids: IdsLike, out: _Out, n_threads: Threads = None) -> _Out: ...

    def lookup(self, ids: IdsLike, out: Optional[OutArray] = None, n_threads: Threads = None) -> Any:
        """Gather rows: ``weights[ids]``.

        Parameters
        ----------
        ids : array_like of any integer dtype, any shape (scalar and empty included); with a
            vocabulary, keys (a str, or nested lists of str) are looked up first
        out : ndarray, shape (*ids.shape, D), float32, C-contiguous, optional
            Written in place and returned (reuse it: allocating a large output costs more than the
            gather). Must not overlap the table.
        n_threads : int, optional
            None: all cores (or ``OMP_NUM_THREADS``) for large outputs, one thread for small ones;
            an explicit count is obeyed; negative counts back from the cores.

        Returns
        -------
        ndarray, shape (*ids.shape, D), float32

        Raises
        ------
        IndexError : an id is negative or >= V (the first one, with its position).
        TypeError : ids are not integers.
        ValueError : ``out`` has the wrong shape, dtype, layout, is read-only or overlaps the table;
            ``n_threads`` is 0.
        """
        a = self._ids(ids)
        w = self._w
        shape = a.shape + (w.shape[1],)
        if out is None:
            out = dst = np.empty(shape, np.float32)
        else:
            dst = check_out(out, shape, w)
        nbytes = dst.nbytes
        nt = team_size(nbytes, GRAIN_COPY_BYTES, n_threads, items=max(a.size, 1))
        st = self._storage
        bad = _gather.gather(st.bits(w), a, dst, nt, nbytes >= STREAM_MIN_BYTES, st.kernel)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return out

    def __getitem__(self, key: Union[IdsLike, slice]) -> F32Array:
        """``table[ids]`` is ``lookup(ids)``; ``table[1:3]`` a (2, D) copy of those rows; with a
        vocabulary, ``table["cat"]`` and ``table[["cat", "dog"]]`` look keys up."""
        if isinstance(key, slice):
            return self._float_rows(self._w[key])
        return self.lookup(key)

    def _float_rows(self, rows: np.ndarray) -> np.ndarray:
        """A float32 copy of stored rows (an exact upcast for half storage)."""
        if not self._storage.is_half:
            return np.array(rows, np.float32)
        rows = np.ascontiguousarray(rows)
        out = np.empty(rows.shape, np.float32)
        r2 = rows.reshape(-1, rows.shape[-1]) if rows.ndim != 2 else rows
        _gather.to_float32(self._storage.bits(r2), self._storage.kernel, out.reshape(r2.shape), 1)
        return out

    def __contains__(self, key: object) -> bool:
        """``"cat" in table``: the key is in the vocabulary (False without one)."""
        return self._vocab is not None and isinstance(key, str) and key in self._vocab

    # ------------------------------------------------------------------ embed
    def embed(self, ids: IdsLike, positions: Any, *, offset: Any = 0, position_ids: Any = None,
              scale: Union[None, float, str] = None, token_types: Any = None, type_table: Any = None,
              out: Optional[OutArray] = None, n_threads: Threads = None) -> Any:
        """Token + position embedding in one pass:
        ``weights[ids] * scale + positions[p] (+ type_table[token_types])``.

        Parameters
        ----------
        ids : array_like of int, shape (B, T) or (T,) (one sequence)
        positions : (P, D) float array, or a position source (``SinusoidalPositions``,
            ``LearnedPositions``, anything with ``.weights``)
        offset : int or array_like of int, shape (B,)
            Where each sequence starts in the position table: the KV-cache length when decoding.
        position_ids : array_like of int, shape like ``ids``, optional
            Explicit positions (left padding: the attention mask's cumulative sum minus one).
            Exclusive with a nonzero ``offset``.
        scale : None, float or "sqrt"
            Factor on token rows; "sqrt" is sqrt(D) (the original Transformer). Must be finite in
            float32.
        token_types : array_like of int, shape like ``ids``, optional
            Segment ids into ``type_table`` (zeros when ``type_table`` is given without them).
        type_table : (n_types, D) float array, optional
            BERT's token-type embeddings.
        out : ndarray, shape (B, T, D) or (T, D), float32, optional; must not overlap any input

        Returns
        -------
        ndarray, shape (*ids.shape, D), float32

        Raises
        ------
        IndexError : a token id, position or token type outside its table (which row, how far).
        ValueError : D differs between tables; shapes disagree; negative offsets; scale not finite.
        """
        a = self._ids(ids)
        if a.ndim not in (1, 2):
            raise ValueError(f"ids must be (B, T) or (T,), got shape {a.shape}")
        B, T = (1, a.shape[0]) if a.ndim == 1 else a.shape
        w = self._w
        D = w.shape[1]
        pos = as_position_matrix(positions)
        if pos.shape[1] != D:
            raise ValueError(f"position table has dim {pos.shape[1]} but the token table has dim {D}")
        s = resolve_scale(scale, D)
        pos_idx, pos_off = position_rows(a.shape, B, T, pos.shape[0], offset, position_ids)
        types = tidx = None
        if type_table is not None:
            types = as_float_matrix(type_table, "type_table")
            if types.shape[1] != D:
                raise ValueError(f"type_table has dim {types.shape[1]} but the token table has dim {D}")
            if types.shape[0] == 0:
                raise ValueError("type_table has no rows")
            if token_types is not None:  # without them every token reads type row 0
                tt = as_ids(token_types, "token_types")
                if tt.shape != a.shape:
                    raise ValueError(f"token_types has shape {tt.shape}, expected {a.shape} like ids")
                check_id_range(tt, types.shape[0], "token type", "type_table")
                tidx = tt.reshape(-1).astype(np.int64)
        elif token_types is not None:
            raise ValueError("token_types given without a type_table")
        shape = a.shape + (D,)
        if out is None:
            out = dst = np.empty(shape, np.float32)
        else:
            dst = check_out(out, shape, w, others=(pos, types))
        nt = team_size(dst.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(a.size, 1))
        st = self._storage
        args = (a.reshape(-1).astype(np.int64), pos, pos_idx, float(s), types, tidx, dst.reshape(a.size, D), nt,
                dst.nbytes >= STREAM_MIN_BYTES, pos_off, T)
        if st.is_half:
            bad = _gather.embed_half(st.bits(w), st.kernel, *args)
        else:
            bad = _gather.embed(w, *args)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return out

    # ------------------------------------------------------------------ norms
    def inv_norms(self, n_threads: Threads = None) -> F32Array:
        """(V,) float32 ``1 / ||row||`` (0 for zero rows), computed once and cached until a write
        through the table's API (read-only array). Norms are summed in float64 after scaling each
        row by its largest magnitude, so rows near float32's range limits (3e38, denormals) get
        their true inverse norm."""
        cached = self._inv
        v = (self._version, self._external_version())
        if cached is not None and cached[0] == v:
            return cached[1]
        inv = np.empty(self.num_embeddings, np.float32)
        nt = team_size(self.nbytes, GRAIN_ROWS_BYTES, n_threads, items=max(self.num_embeddings, 1))
        self._row_norms(inv, nt, True)
        _check_norm_range(inv)
        inv.flags.writeable = False
        # store only if no write ran meanwhile (the version moved) and none is running (the lock
        # is held, or the version is odd); never wait for a writer
        if self._write_lock.acquire(blocking=False):
            try:
                if (self._version, self._external_version()) == v and v[0] % 2 == 0 and v[1] is not None:
                    self._inv = (v, inv)
            finally:
                self._write_lock.release()
        return inv

    def _external_version(self):
        """The sum of the watched torch tensors' version counters (None: an untracked writable
        alias exists, so no cache can be trusted)."""
        if self._untracked_alias:
            return None
        if not self._watched:
            return 0
        total = 0
        for ref in self._watched:
            t = ref()
            if t is not None:
                total += t._version
        return total

    def norms(self, n_threads: Threads = None) -> F32Array:
        """(V,) float32 Euclidean row norms (summed in float64, overflow-safe)."""
        out = np.empty(self.num_embeddings, np.float32)
        nt = team_size(self.nbytes, GRAIN_ROWS_BYTES, n_threads, items=max(self.num_embeddings, 1))
        self._row_norms(out, nt, False)
        return out

    def _row_norms(self, out: np.ndarray, nt: int, inverse: bool) -> None:
        st = self._storage
        if st.is_half:
            _topk.row_norms_half(st.bits(self._w), st.kernel, out, nt, inverse)
        else:
            _topk.row_norms(self._w, out, nt, inverse)

    def invalidate_norms(self) -> None:
        """Forget cached norms: call after changing the weights array behind the table's back."""
        with self._write_lock:
            self._version += 2
            self._inv = None

    # ------------------------------------------------------------------ search index
    def build_index(self, kind: str = "int8", *, n_threads: Threads = None) -> "fe_index._BoundedIndex":
        """Build an exact compressed search index of the rows and attach it: ``topk`` and
        ``most_similar`` then search through it (answers identical to ``strategy="scan"``, ids and
        score bits) until the table is written (any write through the table, or through a
        watched torch tensor, invalidates it; call ``build_index`` again). If you change the
        array behind the table's back, call ``invalidate_norms()``: it invalidates the index too.

        Parameters
        ----------
        kind : {"int8", "float16", "bfloat16"}
            "int8": per-row scaled int8 codes of the rows (``V * D`` bytes plus 32 bytes a row;
            the fastest search). "float16" / "bfloat16": half-precision copies of the rows, each
            scaled by a power of two (``2 V D`` bytes plus 28 a row; float16's tighter bounds
            re-score fewer rows). Held in memory beside the float32 rows, which may stay a
            memory map on disk (only the rows the bounds cannot decide are read). See
            :mod:`fastembed.index` for the bounds that make the answers exact.
        n_threads : int, optional

        Returns
        -------
        Int8Index or HalfIndex : the attached index (``table.index``, replacing any other);
            its ``last_stats`` reports the rows re-scored exactly by the last search.

        Raises
        ------
        ValueError : an unknown kind, dim 0, or (int8) a dim beyond ``fastembed.index.MAX_DIM``.
        TypeError : a table stored as float16 / bfloat16 (its own scan reads 2 bytes a value).
        """
        v = (self._version, self._external_version())
        if kind not in fe_index.KINDS:
            raise ValueError(f"unknown index kind {kind!r}; choose from {fe_index.KINDS}")
        inv = None
        if kind != "int8" and self.dtype == np.float32:  # (a half index's cosine bounds use the scan's norms)
            try:
                inv = self.inv_norms(n_threads=n_threads)
            except ValueError:  # cosine is refused for this table: its coefficients are never used
                inv = np.zeros(self.num_embeddings, np.float32)
        idx = fe_index.build(self._w, kind, n_threads, inv=inv)
        # tagged with the version seen before reading the rows: a write during the build leaves
        # it stale (never used), never silently mixed
        self._index = (v, idx)
        return idx

    def _valid_index(self):
        cur = self._index
        if cur is None:
            return None
        v = (self._version, self._external_version())
        if cur[0] == v and v[0] % 2 == 0 and v[1] is not None:
            return cur[1]
        self._index = None  # stale: free it
        return None

    @property
    def index(self) -> Optional["fe_index._BoundedIndex"]:
        """The attached search index (see :meth:`build_index`), or None when there is none or the
        table was written since it was built."""
        return self._valid_index()

    def drop_index(self) -> None:
        """Detach the search index (its memory is freed when no one else holds it)."""
        self._index = None

    def memory_usage(self) -> dict:
        """Bytes held, by part: ``{"table": rows (float32), "table_memmap": True if the rows are a
        memory map (on disk, paged in on demand), "inv_norms": the norm cache (0 if not filled),
        "index.int8": the attached index (absent without one), "in_memory": everything but a
        memory-mapped table}``."""
        out = {"table": self.nbytes, "table_memmap": isinstance(self._w, np.memmap)}
        cached = self._inv
        out["inv_norms"] = int(cached[1].nbytes) if cached is not None else 0
        idx = self._valid_index()
        if idx is not None:
            out[f"index.{idx.kind}"] = idx.nbytes
        out["in_memory"] = (0 if out["table_memmap"] else out["table"]) + out["inv_norms"] + \
            (idx.nbytes if idx is not None else 0)
        return out

    def _pick_index(self, index, strategy):
        """The index a search uses: ``index="auto"`` the attached valid one (unless
        ``strategy="gemm"``), None/False none, or the given one (which must be this table's
        valid index; search.run refuses it with strategy="gemm")."""
        if index is None or index is False:
            return None
        if isinstance(index, str) and index == "auto":
            return self._valid_index() if strategy in ("auto", "scan") else None
        if isinstance(index, fe_index._BoundedIndex):
            if self._valid_index() is not index:
                raise ValueError(f"{index!r} is not this table's current index (built for another table, "
                                 "dropped, or the table was written since): call build_index() again")
            return index
        raise TypeError(f"index must be 'auto', None or an index from build_index(), got {index!r}")

    # ------------------------------------------------------------------ search
    def topk(self, queries: Any, k: int = 10, *, metric: Metric = "cosine", exclude: Any = None,
             restrict: Any = None, strategy: Strategy = "auto", block_rows: Optional[int] = None,
             n_threads: Threads = None, index: Any = "auto") -> TopK:
        """The k rows most similar to each query, best first.

        Parameters
        ----------
        queries : array_like, shape (D,) or (Q, D), any float dtype (converted; never modified);
            with a vocabulary, a key or a list of keys
        k : int >= 1
        metric : {"cosine", "dot"}
            Cosine uses cached inverse row norms (no normalised copy of the table is made); rows of
            zero norm score 0.
        exclude : ids (or keys) to skip for every query, or a list of Q id lists (one per query)
        restrict : None, an int n (only the first n rows, e.g. the most frequent words), an array
            of row ids, or a (V,) boolean mask
        strategy : {"auto", "scan", "gemm"}
            "scan": one fused pass, our fixed-order dot products (few queries); "gemm": BLAS tiles
            over fixed blocks of ``block_rows`` rows (many queries); "auto" chooses by Q and D.
        block_rows : int, optional
            The GEMM block height (default ``fastembed.search.GEMM_BLOCK_ROWS``).
        n_threads : int, optional
        index : "auto" (default), None, or the index from :meth:`build_index`
            "auto": search through the attached index when it is valid and ``strategy`` is "auto"
            or "scan"; the answer is then that of ``strategy="scan"`` (ids and score bits), and
            ``table.index.last_stats`` counts the rows re-scored exactly. None: never.

        Returns
        -------
        scores : ndarray, (k,) or (Q, k), float32, descending
        ids : ndarray, (k,) or (Q, k), int64; ties broken by smaller id. When fewer than k rows are
            candidates, the missing slots are id -1 with score -inf.

        Raises
        ------
        ValueError : a query with zero norm (cosine) or NaN/inf values; dim mismatch; k < 1.
        IndexError : an exclude / restrict id outside the table.
        """
        if metric not in ("cosine", "dot"):
            raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
        k = as_k(k)
        if isinstance(queries, str) or (isinstance(queries, (list, tuple)) and queries
                                        and isinstance(queries[0], str)):
            queries = self.lookup(self.encode(queries))  # one key -> (D,), a list -> (n, D)
        if exclude is not None and self._vocab is not None and _holds_str(exclude):
            exclude = _encode_nested(self._vocab, exclude)
        q, single = as_queries(queries, self.dim, normalize=metric == "cosine")
        V = self.num_embeddings
        cand = search.Candidates.build(as_restrict(restrict, V), exclude, q.shape[0], V)
        inv = self.inv_norms(n_threads) if metric == "cosine" else None
        scores, ids = search.run(self._w, search.LinearScorer(q, inv), k, cand, strategy=strategy,
                                 block_rows=block_rows, n_threads=n_threads, storage=self._storage,
                                 index=self._pick_index(index, strategy))
        if single:
            return scores[0], ids[0]
        return scores, ids

    # ------------------------------------------------------------------ writes
    @contextmanager
    def writing(self) -> Iterator[F32Array]:
        """Hold the table's write lock and yield the writable (V, D) stored array (float32, float16,
        or bfloat16 bits); cached norms are invalidated when the block ends. For trusted writers
        (optimizers, training); raises ValueError for a read-only table."""
        if not self.writeable:
            raise ValueError("this table is read-only (a read-only array or memory map): copy it with "
                             "EmbeddingTable(weights, copy=True) to train it")
        with self._write_lock:
            self._version += 1  # odd: a write is running; norm caches filled now are discarded
            self._inv = None
            self._index = None  # an index of the old rows: stale (its version tag says so too)
            try:
                yield self._w
            finally:
                self._version += 1

    def scatter_add(self, unique_ids: Any, rows: Any, alpha: Any = 1.0, *, n_threads: Threads = None,
                    validated: bool = False) -> None:
        """``weights[ids] += alpha * rows`` for unique ids, in place (``alpha`` a float or a (U,)
        array of per-row factors). The padding row is never updated; cached norms are invalidated.
        Half tables: each updated row is computed in float32 (``float32(row) + float32(alpha) *
        rows``, the float32 kernel's roundings) and rounded once to the storage dtype (nearest even).

        ``validated=True`` says ``unique_ids``/``rows`` come from
        :func:`fastembed._validate.as_sparse_rows` already (optimizers validate once).

        Raises ValueError for a read-only table, repeated ids, or shapes that disagree.
        """
        if not self.writeable:
            raise ValueError("this table is read-only (a read-only array or memory map): copy it with "
                             "EmbeddingTable(weights, copy=True) to train it")
        if validated:
            ids, r = unique_ids, rows
        else:
            ids, r = as_sparse_rows(unique_ids, rows, self._w)
        steps = None
        if np.ndim(alpha) == 0:
            a = as_float(alpha, "alpha")
        else:
            steps = np.asarray(alpha, np.float32).reshape(-1)
            if steps.shape != ids.shape:
                raise ValueError(f"alpha has shape {np.shape(alpha)}, expected {ids.shape}")
            if not np.isfinite(steps).all():
                raise ValueError("alpha must be finite")
            a = 0.0
        if self._padding_idx is not None and (ids == self._padding_idx).any():
            keep = ids != self._padding_idx
            ids, r = ids[keep], np.ascontiguousarray(r[keep])
            steps = None if steps is None else np.ascontiguousarray(steps[keep])
        nt = team_size(r.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(ids.size, 1))
        st = self._storage
        with self.writing() as w:
            if st.is_half:
                # the float32 kernel's arithmetic (row + step * grad, step rounded to float32 first)
                # on the exact upcast, then one rounding to the storage dtype per element
                step = np.float32(a) if steps is None else steps[:, None]
                w[ids] = st.from_float32(st.to_float32(w[ids]) + step * r)
            else:
                # the kernel computes table[i] -= step * row: negated factors add
                _train.sparse_update(w, ids, r, -a, None if steps is None else -steps, nt)

    def apply_sparse(self, unique_ids: Any, rows: Any, lr: Optional[float] = None,
                     optimizer: Union[str, "optim.Optimizer"] = "sgd", *, n_threads: Threads = None) -> None:
        """One optimizer step on the rows ``unique_ids`` with gradient ``rows``.

        ``optimizer="sgd"`` (stateless): ``weights[ids] -= lr * rows``. For optimizers with state
        (Adagrad), pass an optimizer object that holds its state:
        ``opt = fastembed.optim.Adagrad(table, lr=0.1); table.apply_sparse(ids, rows, optimizer=opt)``
        (the same as ``opt.step(ids, rows)``). The padding row is never updated; cached norms are
        invalidated.
        """
        if isinstance(optimizer, optim.Optimizer):
            if lr is not None:
                raise ValueError("lr belongs to the optimizer object; do not pass it again")
            optimizer.step(unique_ids, rows, table=self, n_threads=n_threads)
            return
        if optimizer == "adagrad":
            raise ValueError("optimizer='adagrad' keeps per-row state, which lives in an optimizer object: "
                             "opt = fastembed.optim.Adagrad(table, lr=0.1); table.apply_sparse(ids, rows, "
                             "optimizer=opt) (or opt.step(ids, rows))")
        if optimizer != "sgd":
            raise ValueError(f"optimizer must be 'sgd' or a fastembed.optim optimizer, got {optimizer!r}")
        if lr is None:
            raise TypeError("apply_sparse with optimizer='sgd' needs lr")
        optim.SGD(self, lr=lr).step(unique_ids, rows, n_threads=n_threads)

    def set_rows(self, ids: Any, values: Any) -> None:
        """``weights[ids] = values`` for a writeable table (cached norms invalidated); half tables
        round the values to their storage dtype (via float32, nearest even)."""
        if not self.writeable:
            raise ValueError("this table is read-only: copy it with EmbeddingTable(weights, copy=True)")
        a = as_ids(ids, n=self.num_embeddings)
        check_id_range(a, self.num_embeddings)
        v = np.asarray(values)
        if v.dtype.kind not in "fiu":
            raise TypeError(f"values must be numbers, got dtype {v.dtype}")
        if self._storage.is_half:  # rounded to the storage dtype (nearest even)
            v = self._storage.from_float32(np.broadcast_to(np.asarray(v, np.float32), a.shape + (self.dim,)))
        with self.writing() as w:
            w[a] = v

    # ------------------------------------------------------------------ learning
    def backward(self, ids: Any, grad_out: Any, *, scale_grad_by_freq: bool = False,
                 n_threads: Threads = None) -> tuple[I64Array, F32Array]:
        """Sparse gradient of ``lookup(ids)`` with respect to the table.

        Parameters
        ----------
        ids : array_like of int, any shape S
        grad_out : float array, shape (*S, D): the gradient flowing into the lookup's output
        scale_grad_by_freq : bool
            PyTorch semantics: each id's gradient is divided by how often it occurs in ``ids``.

        Returns
        -------
        unique_ids : (U,) int64, sorted; the ``padding_idx`` row is left out
        rows : (U, D) float32, the summed gradient of each id

        Duplicates are summed in position order by a segmented reduction over a stable sort of the
        ids (no atomics, no V x D buffer): the result does not depend on the thread count and
        equals ``np.add.at(zeros, ids, grad_out)`` restricted to the ids, bit for bit.
        """
        a = as_ids(ids, n=self.num_embeddings)
        g = np.asarray(grad_out)
        D = self.dim
        if g.dtype.kind != "f":
            raise TypeError(f"grad_out must be a float array, got dtype {g.dtype}")
        if g.shape != a.shape + (D,):
            raise ValueError(f"grad_out has shape {g.shape}, expected {a.shape + (D,)} (ids.shape + (D,))")
        check_id_range(a, self.num_embeddings)
        flat = a.reshape(-1).astype(np.int64)
        g2 = np.ascontiguousarray(g, dtype=np.float32).reshape(flat.size, D)
        order, starts, uniq = pooling.segments(flat, skip=self._padding_idx)
        scale = None
        if scale_grad_by_freq:
            scale = (1.0 / np.diff(starts)).astype(np.float32)
        rows = np.empty((uniq.size, D), np.float32)
        nt = team_size(g2.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(uniq.size, 1))
        _train.segment_sum(g2, order, starts, scale, rows, nt)
        return uniq, rows

    # ------------------------------------------------------------------ numpy, DLPack, torch, gensim
    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        """``np.asarray(table)``: the read-only (V, D) rows without a copy (a copy with
        ``copy=True`` or another ``dtype``). A bfloat16 table gives its float32 upcast (a copy:
        numpy has no bfloat16; ``copy=False`` raises ValueError)."""
        if self._storage is BFLOAT16:
            if copy is False:
                raise ValueError("a bfloat16 table converts to numpy only as a float32 copy (numpy has no bfloat16)")
            f = self[:]
            return f if dtype is None else f.astype(dtype)
        w = self.weights
        if dtype is not None and np.dtype(dtype) != w.dtype:
            if copy is False:
                raise ValueError(f"converting the table to {np.dtype(dtype)} needs a copy")
            return w.astype(dtype)
        return np.array(w) if copy else w

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Optional[bool] = None) -> Any:
        """DLPack export of the (V, D) rows, e.g. ``torch.from_dlpack(table)``.

        A read-only table (memory map) is exported as a copy (``copy=False`` raises BufferError):
        consumers such as torch have no read-only tensors, and a write into a read-only map would
        crash the process. A writable table is shared; since the consumer's writes cannot be
        tracked, the table stops caching row norms from then on (use :meth:`to_torch` for a shared
        tensor the table does track).
        """
        if stream is not None and stream != -1:
            raise BufferError("fastembed tables live on the CPU; no stream applies")
        kw = {} if max_version is None else {"max_version": max_version}
        if self._storage is BFLOAT16:  # numpy's DLPack has no bfloat16: the float32 upcast, a copy
            if copy is False:
                raise BufferError("a bfloat16 table is exported through numpy's DLPack only as a float32 "
                                  "copy; use table.to_torch() for a shared torch.bfloat16 tensor")
            return self[:].__dlpack__(**kw)
        if not self.writeable:
            if copy is False:
                raise BufferError("this table is read-only (a memory map): it can be exported only as "
                                  "a copy (copy=None or True)")
            return np.array(self._w).__dlpack__(**kw)
        if copy:
            return np.array(self._w).__dlpack__(**kw)
        self._untracked_alias = True
        self._inv = None
        return self._w.__dlpack__(**kw)

    def __dlpack_device__(self) -> Any:
        return self._w.__dlpack_device__()

    def to_torch(self, copy: Optional[bool] = None) -> Any:
        """The rows as a (V, D) ``torch.Tensor`` of the storage dtype (float32, float16 or
        bfloat16).

        A writable table shares its memory with the tensor (zero-copy) and watches the tensor's
        version counter, so cached norms are refreshed after torch changes the rows in place (as
        optimizers do). A read-only table is copied (``copy=False`` raises ValueError).
        """
        if copy is False and not self.writeable:
            raise ValueError("this table is read-only (a memory map); torch has no read-only tensors, "
                             "so it can be handed to torch only as a copy")
        if copy or not self.writeable:
            return self._as_torch(np.array(self._w))
        t = self._as_torch(self._w)
        self._watched.append(weakref.ref(t))
        return t

    def _as_torch(self, a: np.ndarray) -> Any:
        t = interop.numpy_to_torch(a.view(np.int16) if self._storage is BFLOAT16 else a)
        return t.view(interop.torch_dtype("bfloat16")) if self._storage is BFLOAT16 else t

    @classmethod
    def from_torch(cls, x: Any, *, vocab: Union[Vocabulary, Sequence[str], None] = None,
                   padding_idx: Optional[int] = None, copy: bool = False, dtype: Any = None) -> "EmbeddingTable":
        """A table over a torch tensor or module (``nn.Embedding``, ``nn.EmbeddingBag``: their
        ``weight``; ``padding_idx`` taken from the module when it has one).

        float32, float16 and bfloat16 CPU tensors are shared without a copy (``copy=True`` for a
        private copy) and keep their dtype as the storage dtype (bfloat16 as its bit patterns);
        the table watches the tensor's version counter, so norms follow torch's in-place updates.
        float64 tensors are converted to float32. ``dtype`` converts to another storage dtype.
        """
        if padding_idx is None:
            padding_idx = getattr(x, "padding_idx", None)
        t = cls(x, vocab=vocab, padding_idx=padding_idx, dtype=dtype)
        if copy:
            return cls(t._w, copy=True, vocab=vocab, padding_idx=t._padding_idx, dtype=t._storage)
        return t

    def astype(self, dtype: Any) -> "EmbeddingTable":
        """A new table with the rows in storage dtype ``dtype`` ("float32", "float16", "bfloat16"):
        always a copy; vocabulary and padding_idx kept. To float32 the upcast is exact, so every
        score of the new table equals the old one's; to a half dtype rows round to nearest even."""
        st = resolve_dtype(dtype)
        rows = self._w if st is self._storage else self[:] if st is FLOAT32 or self._storage.is_half else self._w
        return type(self)(rows, copy=True, vocab=self._vocab, padding_idx=self._padding_idx, dtype=st)

    @classmethod
    def from_gensim(cls, kv: Any, *, copy: bool = True) -> "EmbeddingTable":
        """A table from a gensim ``KeyedVectors`` (or a model with ``.wv``), keys and counts kept.
        ``copy=False`` shares gensim's vectors (then change them only through the table)."""
        vectors, keys, counts = interop.gensim_parts(kv)
        return cls(vectors, copy=copy, vocab=Vocabulary(keys, counts))

    def to_gensim(self) -> Any:
        """A gensim ``KeyedVectors`` with a copy of the rows, the keys and the counts."""
        vocab = words.require_vocab(self)
        return interop.make_gensim(self[:] if self._storage.is_half else self._w, vocab.keys, vocab.counts)

    # ------------------------------------------------------------------ gensim's KeyedVectors surface
    @property
    def key_to_index(self) -> dict:
        """key -> row id (gensim's name; read it, do not modify it)."""
        return words.require_vocab(self)._index_map()

    @property
    def index_to_key(self) -> list:
        """row id -> key (gensim's name; read it, do not modify it)."""
        return words.require_vocab(self).keys

    def get_vector(self, key: Union[str, int], norm: bool = False) -> F32Array:
        """The (D,) float32 row of a key (or row id); unit length with ``norm=True``."""
        i = words.term_id(self, key)
        if i is None:
            raise TypeError(f"get_vector takes a key or a row id, got {type(key).__name__}")
        v = self._float_rows(self._w[i])
        if norm:
            v *= self.inv_norms()[i]
        return v

    def add_vectors(self, keys: Union[str, Sequence[str]], weights: Any, replace: bool = False) -> None:
        """Append rows for new keys (gensim's ``add_vectors``); rows of keys already present are
        kept, or overwritten with ``replace=True``. The table's storage grows (a new array: a
        memory-mapped or read-only table becomes an in-memory copy; the file is never written)."""
        vocab = words.require_vocab(self)
        if isinstance(keys, str):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        wts = as_float_matrix(weights, "weights")
        if wts.shape != (len(keys), self.dim):
            raise ValueError(f"weights has shape {wts.shape}, expected ({len(keys)}, {self.dim})")
        if len(set(keys)) != len(keys):
            raise ValueError("keys has repeated keys")
        old = np.array([vocab.get(k, -1) for k in keys], np.int64)
        new = old < 0
        wts = self._storage.from_float32(wts) if self._storage.is_half else wts  # rounded to the storage
        grown = np.concatenate([self._w, wts[new]]) if new.any() else np.array(self._w)
        if replace and (~new).any():
            grown[old[~new]] = wts[~new]
        counts = vocab.counts
        if counts is not None:
            counts = np.concatenate([counts, np.zeros(int(new.sum()), np.int64)])
        new_vocab = Vocabulary(vocab.keys + [k for k, n in zip(keys, new) if n], counts)
        with self._write_lock:
            self._version += 2
            self._inv = None
            self._w = grown
            self._watched = []
            self._untracked_alias = False
            self._vocab = new_vocab

    def distances(self, word_or_vector: VectorLike, other_words: Sequence[str] = ()) -> F32Array:
        """See :func:`fastembed.words.distances`."""
        return words.distances(self, word_or_vector, other_words)

    def closer_than(self, key1: str, key2: str) -> List[str]:
        """See :func:`fastembed.words.closer_than`."""
        return words.closer_than(self, key1, key2)

    def most_similar_to_given(self, key1: str, keys_list: Sequence[str]) -> str:
        """See :func:`fastembed.words.most_similar_to_given`."""
        return words.most_similar_to_given(self, key1, keys_list)

    # ------------------------------------------------------------------ keys
    def encode(self, keys: Any) -> Any:
        """Ids of a key, a list of keys, or a rectangular list of lists of keys (int64 array)."""
        return words.encode(self, keys)

    def decode(self, ids: Any) -> Any:
        """Keys of an id or an array of ids."""
        return words.require_vocab(self).decode(ids)

    # ------------------------------------------------------------------ word questions (see fastembed.words)
    @overload
    def most_similar(self, positive: Any = None, negative: Any = None, topn: int = 10,
                     restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> Pairs: ...

    @overload
    def most_similar(self, positive: Any, negative: Any, topn: None,
                     restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> F32Array: ...

    def most_similar(self, positive: Any = None, negative: Any = None, topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> Any:
        """See :func:`fastembed.words.most_similar`."""
        return words.most_similar(self, positive, negative, topn, restrict_vocab, n_threads)

    def most_similar_cosmul(self, positive: Any = None, negative: Any = None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> Any:
        """See :func:`fastembed.words.most_similar_cosmul`."""
        return words.most_similar_cosmul(self, positive, negative, topn, restrict_vocab, n_threads)

    @overload
    def analogy(self, a: str, b: str, c: str, topn: int = 1, *, method: AnalogyMethod = "add",
                restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> Pairs: ...

    @overload
    def analogy(self, a: Sequence[str], b: Sequence[str], c: Sequence[str], topn: int = 1, *,
                method: AnalogyMethod = "add", restrict_vocab: Optional[int] = None,
                n_threads: Threads = None) -> List[Pairs]: ...

    def analogy(self, a: Any, b: Any, c: Any, topn: int = 1, *, method: AnalogyMethod = "add",
                restrict_vocab: Optional[int] = None, n_threads: Threads = None) -> Any:
        """See :func:`fastembed.words.analogy`."""
        return words.analogy(self, a, b, c, topn, method=method, restrict_vocab=restrict_vocab,
                             n_threads=n_threads)

    def analogy_ids(self, a: Any, b: Any, c: Any, topn: int = 1, *, method: AnalogyMethod = "add",
                    restrict_vocab: Optional[int] = None, exclude: Any = None, n_threads: Threads = None,
                    strategy: Strategy = "auto") -> TopK:
        """See :func:`fastembed.words.analogy_ids`."""
        return words.analogy_ids(self, a, b, c, topn, method=method, restrict_vocab=restrict_vocab,
                                 exclude=exclude, n_threads=n_threads, strategy=strategy)

    def cosine(self, a: VectorLike, b: VectorLike) -> float:
        """See :func:`fastembed.words.similarity`."""
        return words.similarity(self, a, b)

    similarity = cosine

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """See :func:`fastembed.words.n_similarity`."""
        return words.n_similarity(self, ws1, ws2)

    def doesnt_match(self, keys: Sequence[str]) -> str:
        """See :func:`fastembed.words.doesnt_match`."""
        return words.doesnt_match(self, keys)

    def rank(self, key1: str, key2: str) -> int:
        """See :func:`fastembed.words.rank`."""
        return words.rank(self, key1, key2)

    def evaluate_analogies(self, path: Any, restrict_vocab: int = 300000, case_insensitive: bool = True,
                           method: AnalogyMethod = "add", n_threads: Threads = None) -> "evaluate.AnalogyResult":
        """See :func:`fastembed.evaluate.evaluate_analogies`."""
        return evaluate.evaluate_analogies(self, path, restrict_vocab=restrict_vocab,
                                           case_insensitive=case_insensitive, method=method, n_threads=n_threads)

    def evaluate_word_pairs(self, path: Any, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False) -> "evaluate.PairsResult":
        """See :func:`fastembed.evaluate.evaluate_word_pairs`."""
        return evaluate.evaluate_word_pairs(self, path, delimiter=delimiter, restrict_vocab=restrict_vocab,
                                            case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)

    # ------------------------------------------------------------------ pooling (fastembed.pooling)
    def bag(self, ids: Any, offsets: Any = None, *, mode: PoolMode = "mean", per_sample_weights: Any = None,
            include_last_offset: bool = False, padding_idx: Any = ..., out: Optional[OutArray] = None,
            n_threads: Threads = None, return_argmax: bool = False) -> Any:
        """See :func:`fastembed.pooling.bag` (this table's rows and vocabulary; ``padding_idx``
        defaults to the table's, ``None`` turns it off for this call)."""
        pad = self.padding_idx if padding_idx is ... else padding_idx
        return pooling.bag(self._float32_weights("bag"), ids, offsets, mode=mode, per_sample_weights=per_sample_weights,
                           include_last_offset=include_last_offset, padding_idx=pad, out=out,
                           n_threads=n_threads, vocab=self.vocab, return_argmax=return_argmax)

    def bag_backward(self, ids: Any, offsets: Any, grad_out: Any, mode: PoolMode = "mean",
                     per_sample_weights: Any = None, *, include_last_offset: bool = False, argmax: Any = None,
                     n_threads: Threads = None) -> tuple[I64Array, F32Array]:
        """See :func:`fastembed.pooling.bag_backward`: (unique ids, rows) for :meth:`apply_sparse`."""
        return pooling.bag_backward(self._float32_weights("bag_backward"), ids, offsets, grad_out, mode, per_sample_weights,
                                    include_last_offset=include_last_offset, padding_idx=self.padding_idx,
                                    argmax=argmax, vocab=self.vocab, n_threads=n_threads)

    def mean_vector(self, keys: Any, weights: Any = None, *, pre_normalize: bool = True,
                    post_normalize: bool = False, ignore_missing: bool = True) -> F32Array:
        """See :func:`fastembed.pooling.mean_vector` (gensim's ``get_mean_vector``)."""
        return pooling.mean_vector(self._float32_weights("mean_vector"), keys, weights, vocab=self.vocab, pre_normalize=pre_normalize,
                                   post_normalize=post_normalize, ignore_missing=ignore_missing)

    def sentence_vectors(self, sentences: Any, *, mode: str = "mean", ignore_missing: bool = True,
                         counts: Any = None, a: float = pooling.SIF_A, component: Any = None,
                         remove_pc: bool = True, n_threads: Threads = None) -> "pooling.SentenceVectors":
        """See :func:`fastembed.pooling.sentence_vectors` (mean / sum / max / SIF; SIF weights from
        the vocabulary's counts)."""
        return pooling.sentence_vectors(self._float32_weights("sentence_vectors"), sentences, vocab=self.vocab, mode=mode,
                                        ignore_missing=ignore_missing, counts=counts, a=a,
                                        component=component, remove_pc=remove_pc, padding_idx=self.padding_idx,
                                        n_threads=n_threads)



    def _float32_weights(self, what: str) -> np.ndarray:
        """The rows for modules that read a float32 matrix (pooling); half tables are refused by
        name rather than converted whole behind the caller's back."""
        if self._storage.is_half:
            raise TypeError(f"{what} reads float32 rows; this table is stored as {self._storage.name}: "
                            f"use table.astype('float32').{what}(...) (a float32 copy of the table)")
        return self.weights


_FLT_MAX = float(np.finfo(np.float32).max)


def _check_norm_range(inv: np.ndarray) -> None:
    """Cosine needs every nonzero row's norm and inverse norm within float32: a row whose norm
    overflows float32 would score inf (its float32 dot products overflow), and one whose inverse
    norm overflows (a denormal row) would score inf or NaN. Refused with the row named."""
    bad = np.isinf(inv) | ((inv > 0) & (inv < np.float32(1.0 / _FLT_MAX)))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        if np.isinf(inv[r]):
            why = "is so small (denormal) that its inverse norm overflows float32"
        else:
            why = f"is {1.0 / float(inv[r]):.3g}, beyond float32's range, so its dot products overflow"
        raise ValueError(f"row {r}'s norm {why}: its cosine scores would be inf or NaN; rescale the "
                         "table (e.g. weights / np.abs(weights).max()) or use metric='dot'")


def _holds_str(x) -> bool:
    """True if a (nested) list holds a str at its first leaf."""
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
    return isinstance(x, str)


def _encode_nested(vocab: Vocabulary, x):
    if isinstance(x, str):
        return vocab.key_to_id(x)
    return [_encode_nested(vocab, e) if not isinstance(e, (int, np.integer)) else e for e in x]


def _check_shape(num_embeddings, dim):
    V, D = as_int(num_embeddings, "num_embeddings"), as_int(dim, "dim")
    if V < 0 or D < 0:
        raise ValueError(f"table shape must be non-negative, got ({num_embeddings}, {dim})")
    return V, D
