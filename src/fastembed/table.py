"""EmbeddingTable: the storage core. V rows of D values, one per token, and the operations that read them.

The table holds the rows (float32, float16, bfloat16 or row-scaled int8; possibly read-only or
memory-mapped), their vocabulary, the padding row, a version counter with the write guard, the cache
of inverse row norms and an optional exact search index; it offers ``lookup``, ``embed`` and
``topk``, and the three operations of the row-source protocol (:mod:`fastembed.rows`) that every
question is written against: ``unit_rows``, ``search`` and ``cosines``. Everything else is a module that takes a table:
word questions and evaluation (``table.words``, :mod:`fastembed.words`, :mod:`fastembed.evaluate`),
pooling (``table.pool``, :mod:`fastembed.pooling`), optimizers (:mod:`fastembed.optim`), the gensim
and torch facades (:mod:`fastembed.compat.gensim`, :mod:`fastembed.torch`), files
(:mod:`fastembed.io`). This module imports none of them: imports point toward storage.

Thread safety (the contract the stress test in ``tests/test_concurrency.py`` holds):

* reads (``lookup``, ``embed``, ``topk``, the questions, ``inv_norms``) may run from any number of
  threads at once; they take no lock;
* writes through the table (``scatter_add``, ``set_rows``, optimizers, training through
  :meth:`writing`) are serialised by the table's write lock;
* a read that overlaps a write may see, for the rows being written, their old values, their new
  values or a mix (as with numpy or torch arrays); every other row is exact;
* the norm cache is never stale: a cache filled while a write was running is discarded, so every
  read that starts after a write returns sees norms of the written rows.

Who may write the rows (why the norm cache can be trusted): the table copies a writable numpy array
it is given (``copy=None``, the default), so only the table's own write paths can change its rows;
``copy=False`` shares the array, and then the caller promises to call :meth:`invalidate_norms`
after writing it behind the table's back. torch tensors are shared and watched (their version
counters), and a writable DLPack export makes the table stop trusting any cache.
"""
from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Tuple, TypeVar, Union, overload

import numpy as np

from fastembed import _interop, search
from fastembed import index as fe_index
from fastembed._dtypes import FLOAT32, StorageDType, of_array, stored_as
from fastembed._dtypes import resolve as resolve_dtype
from fastembed._kernels import _gather, _topk, _train
from fastembed._sparse import segments
from fastembed._threads import GRAIN_COPY_BYTES, GRAIN_DOT_FLOPS, GRAIN_ROWS_BYTES, team_size
from fastembed._typing import F32Array, I64Array, IdsLike, Metric, OutArray, Strategy, Threads, TopK
from fastembed._validate import (as_float, as_ids, as_int, as_k, as_queries, as_restrict, as_scales,
                                 as_sparse_rows, as_steps, as_weights, check_id_range, check_norm_range, check_out,
                                 holds_keys, raise_bad_id, writable_somewhere)
from fastembed.positions import embed_inputs
from fastembed.vocab import Vocabulary

if TYPE_CHECKING:  # for type checkers only: fastembed.accessors attaches these at import
    from fastembed.accessors import Pool, Words

__all__ = ["EmbeddingTable", "STREAM_MIN_BYTES"]

_Out = TypeVar("_Out", bound=OutArray)

# From this many output bytes rows are written with non-temporal stores: measured on a 2-core AVX-512
# VM, streaming loses below ~25 MB of output (it fits caches) and wins 1.5x at 100 MB.
STREAM_MIN_BYTES = 1 << 25

_READ_ONLY = ("this table is read-only (a read-only array or memory map): copy it with "
              "EmbeddingTable(weights, copy=True) to write it")


class EmbeddingTable:
    """A table of ``V`` rows of ``D`` values, stored as float32, float16, bfloat16 or int8 and computed
    with in float32; ``lookup(ids)`` copies rows (as float32).

    Parameters
    ----------
    weights : array_like, shape (V, D), floating point; or a torch tensor / module
        Read-only arrays and read-only memory maps are used without a copy. A writable numpy
        array is copied (see ``copy``). torch tensors are shared and watched. Other float dtypes
        are converted (float64 is rounded to float32: a copy, announced by a
        ``fastembed.ConversionWarning`` from 256 MiB of input up) and non-contiguous arrays
        copied. With ``dtype="bfloat16"`` a uint16 array
        is taken as bfloat16 bit patterns; with ``dtype="int8"`` and ``scales``, an int8 array as
        row-scaled codes.
    copy : bool or None, default None
        None: copy a writable numpy array (so nobody but the table can change its rows and the
        cached norms can never go stale); share read-only arrays, memory maps opened read-only and
        torch tensors. True: always take a private copy. False: share whatever can be shared; if
        you then write the array yourself, call :meth:`invalidate_norms` afterwards (the contract
        of gensim's ``fill_norms(force=True)``).
    dtype : None, "float32", "float16", "bfloat16", "int8" (or numpy / torch dtypes)
        The storage dtype (:mod:`fastembed._dtypes`). None: float16 arrays and float16 / bfloat16
        tensors keep their dtype, anything else is stored as float32. Half storage halves the
        memory and the bytes a scan reads; int8 (row-scaled codes, one float32 scale a row) keeps
        about a quarter. Every result is float32 and equals, bit for bit, that of the table's
        float32 values (``table.astype("float32")``). Converting to a half dtype rounds to nearest
        even (float64 input is rounded to float32 first for bfloat16); to int8, each row to its
        scale's grid (rows must be finite).
    scales : (V,) float32 array, optional
        With ``dtype="int8"`` and int8 ``weights``: the rows' scales (a value is
        ``float32(code) * scale``), as :attr:`scales` and the file formats hold them.
    vocab : Vocabulary or sequence of str, optional
        Keys for the rows, enabling ``table["cat"]`` and the word questions (``table.words``).
    padding_idx : int, optional
        PyTorch semantics: the row never receives gradient. ``zeros``/``random`` zero it at creation;
        given weights are used as they are (like ``nn.Embedding.from_pretrained``).

    Notes
    -----
    ``weights`` is a read-only view: writes go through the table's methods so cached row norms stay
    valid. Other storage dtypes: ``weights`` is the stored array (float16, the uint16 bits of
    bfloat16, int8 codes with :attr:`scales`); ``scatter_add`` / optimizers compute each updated
    row in float32 and round it back to the storage dtype (nearest even; int8 rows get a new
    scale), so small updates can round away as they would in torch's half parameters. Training
    needs float32 tables (``table.astype("float32")``).
    """

    __slots__ = ("_w", "_scales", "_storage", "_vocab", "_padding_idx", "_inv", "_version", "_write_lock",
                 "_watched", "_untracked_alias", "_index", "_closed", "__weakref__")

    if TYPE_CHECKING:
        words: Words  #: word questions and evaluation (:class:`fastembed.accessors.Words`)
        pool: Pool    #: pooling over the rows (:class:`fastembed.accessors.Pool`)

    def __init__(self, weights: Any, *, copy: Optional[bool] = None,
                 vocab: Union[Vocabulary, Sequence[str], None] = None,
                 padding_idx: Optional[int] = None, dtype: Any = None, scales: Any = None) -> None:
        watch = None
        want = None if dtype is None else resolve_dtype(dtype)
        given = None  # the storage dtype the input already holds
        sc = None     # its scales (a scaled dtype)
        if _interop.is_torch_tensor(weights) or hasattr(weights, "weight"):
            weights, watch, tname = _interop.torch_weights(weights)
            given = resolve_dtype(tname) if tname is not None else None
        raw = getattr(weights, "dtype", None)
        if want is not None and given is None and raw is not None and raw.kind in "iu" and raw == want.numpy:
            # stored elements given as they are: bfloat16 bits (uint16), int8 codes (with scales)
            w = np.asarray(weights) if type(weights) is not np.memmap else weights
            if w.ndim != 2:
                raise ValueError(f"weights must be 2-D (V, D), got shape {w.shape}")
            given = want
            sc = as_scales(scales, w.shape[0]) if want.scaled else None
            if want.scaled and sc is None:
                raise ValueError(f"{want.name} codes need their scales: pass scales=, a ({w.shape[0]},) float32 array")
        elif given is None:
            w = as_weights(weights)
            given = of_array(w)
        else:
            w = weights
        if scales is not None and sc is None:
            raise ValueError("scales= goes with dtype='int8' and int8 codes (the rows' scales)")
        storage = want or given
        w, sc, fresh = stored_as(w, sc, given, storage)  # fresh: an array nobody else holds
        if copy is None:
            # a writable array someone else holds could change under the norm cache: copy it;
            # torch tensors are watched instead (their version counters), so they are shared
            copy = watch is None and not fresh and (writable_somewhere(w) or
                                                     (sc is not None and writable_somewhere(sc)))
        if copy or w.dtype != storage.numpy or not w.flags.c_contiguous or not w.dtype.isnative:
            w = np.array(w, dtype=storage.numpy, order="C", copy=True)
        if sc is not None and (copy or not sc.flags.c_contiguous):
            sc = np.array(sc, np.float32, order="C", copy=True)
        self._w = w
        self._scales = sc
        self._storage: StorageDType = storage
        self._inv = None           # (version, (V,) float32 inverse norms) or None
        self._index = None         # (version, search index) or None: see build_index
        self._version = 0          # odd while a write is running
        self._write_lock = threading.Lock()
        # torch tensors sharing the rows: their version counters tell when torch wrote them
        self._watched = [] if watch is None or w is not weights else [weakref.ref(watch)]
        self._untracked_alias = False  # a writable alias went out through DLPack: trust no cache
        self._closed = False
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
        t = cls(w, vocab=vocab, padding_idx=padding_idx, copy=False)
        if t._padding_idx is not None:
            w[t._padding_idx] = 0.0
        return t

    @classmethod
    def zeros(cls, num_embeddings: int, dim: int, *, vocab: Union[Vocabulary, Sequence[str], None] = None,
              padding_idx: Optional[int] = None) -> "EmbeddingTable":
        """A table of zeros (float32)."""
        num_embeddings, dim = _check_shape(num_embeddings, dim)
        return cls(np.zeros((num_embeddings, dim), np.float32), vocab=vocab, padding_idx=padding_idx, copy=False)

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
    def shape(self) -> Tuple[int, int]:
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
        """Bytes of the stored rows: V * D * 4 (float32), V * D * 2 (float16, bfloat16), or
        V * D + 4 * V (int8 codes and their scales)."""
        return int(self._w.nbytes) + (0 if self._scales is None else int(self._scales.nbytes))

    @property
    def weights(self) -> F32Array:
        """A read-only (V, D) view of the stored rows (no copy): float32, float16, or for bfloat16
        tables the uint16 bit patterns (numpy has no bfloat16; ``table[:]`` or
        ``table.astype("float32")`` give float32 values)."""
        v = self._live().view(np.ndarray)
        v.flags.writeable = False
        return v

    @property
    def scales(self) -> Optional[np.ndarray]:
        """(V,) float32 row scales of a row-scaled storage dtype (int8: a value is
        ``float32(code) * scale``), read-only; None for the others."""
        if self._scales is None:
            return None
        v = self._scales.view(np.ndarray)
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
        if self._closed:
            return f"EmbeddingTable(closed, dim={self.dim})"
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

    def _live(self) -> np.ndarray:
        """The stored rows; ValueError once the table is closed."""
        if self._closed:
            raise ValueError("this table was closed (close() or the end of its with block)")
        return self._w

    def _ids(self, ids) -> np.ndarray:
        """Ids, or keys looked up in the vocabulary."""
        if self._vocab is not None and holds_keys(ids):
            return np.asarray(self._vocab.encode(ids))
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
        ndarray, shape (*ids.shape, D), float32 (a torch.Tensor sharing it when ``ids`` is a
        tensor and ``out`` is not given: torch in, torch out)

        Raises
        ------
        IndexError : an id is negative or >= V (the first one, with its position).
        TypeError : ids are not integers.
        ValueError : ``out`` has the wrong shape, dtype, layout, is read-only or overlaps the table;
            ``n_threads`` is 0.
        """
        w = self._live()
        a = self._ids(ids)
        shape = a.shape + (w.shape[1],)
        torch_out = out is None and _interop.is_torch_tensor(ids)  # torch in, torch out
        if out is None:
            out = dst = np.empty(shape, np.float32)
        else:
            dst = check_out(out, shape, w)
        nbytes = dst.nbytes
        nt = team_size(nbytes, GRAIN_COPY_BYTES, n_threads, items=max(a.size, 1))
        st = self._storage
        bad = _gather.gather(st.bits(w), a, dst, nt, nbytes >= STREAM_MIN_BYTES, st.kernel, self._scales)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return _interop.numpy_to_torch(out) if torch_out else out

    def __getitem__(self, key: Union[IdsLike, slice]) -> F32Array:
        """``table[ids]`` is ``lookup(ids)``; ``table[1:3]`` a (2, D) float32 copy of those rows;
        with a vocabulary, ``table["cat"]`` and ``table[["cat", "dog"]]`` look keys up."""
        if isinstance(key, slice):
            w = self._live()
            return self._float_rows(w[key], None if self._scales is None else self._scales[key])
        return self.lookup(key)

    def _float_rows(self, rows: np.ndarray, scales: Optional[np.ndarray] = None) -> np.ndarray:
        """A float32 copy of (n, D) stored rows (with their scales): exact for every dtype."""
        st = self._storage
        if st.is_float32:
            return np.array(rows, np.float32)
        rows = np.ascontiguousarray(rows)
        out = np.empty(rows.shape, np.float32)
        sc = None if scales is None else np.ascontiguousarray(scales, np.float32)
        _gather.to_float32(st.bits(rows), st.kernel, out, 1, sc)
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
        ndarray, shape (*ids.shape, D), float32 (a torch.Tensor when ``ids`` is a tensor and
        ``out`` is not given)

        Raises
        ------
        IndexError : a token id, position or token type outside its table (which row, how far).
        ValueError : D differs between tables; shapes disagree; negative offsets; scale not finite.
        """
        w = self._live()
        a = self._ids(ids)
        D = w.shape[1]
        e = embed_inputs(a.shape, D, positions, offset, position_ids, scale, token_types, type_table)
        shape = a.shape + (D,)
        torch_out = out is None and _interop.is_torch_tensor(ids)  # torch in, torch out
        if out is None:
            out = dst = np.empty(shape, np.float32)
        else:
            dst = check_out(out, shape, w, others=(e.pos, e.types))
        nt = team_size(dst.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(a.size, 1))
        st = self._storage
        args = (a.reshape(-1).astype(np.int64), e.pos, e.pos_idx, e.scale, e.types, e.type_idx,
                dst.reshape(a.size, D), nt, dst.nbytes >= STREAM_MIN_BYTES, e.pos_off, e.T)
        bad = _gather.embed(st.bits(w), st.kernel, self._scales, *args)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return _interop.numpy_to_torch(out) if torch_out else out

    # ------------------------------------------------------------------ norms
    def inv_norms(self, n_threads: Threads = None) -> F32Array:
        """(V,) float32 ``1 / ||row||`` (0 for zero rows), computed once and cached until a write
        through the table's API (read-only array). Norms are summed in float64 after scaling each
        row by its largest magnitude, so rows near float32's range limits (3e38, denormals) get
        their true inverse norm.

        Raises ValueError when a row's norm or inverse norm overflows float32 (its cosines would be
        inf or NaN), naming the row."""
        w = self._live()
        cached = self._inv
        v = (self._version, self._external_version())
        if cached is not None and cached[0] == v:
            return cached[1]
        inv = np.empty(w.shape[0], np.float32)
        nt = team_size(w.nbytes, GRAIN_ROWS_BYTES, n_threads, items=max(w.shape[0], 1))
        self._row_norms(inv, nt, True)
        check_norm_range(inv)
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
        w = self._live()
        out = np.empty(w.shape[0], np.float32)
        nt = team_size(w.nbytes, GRAIN_ROWS_BYTES, n_threads, items=max(w.shape[0], 1))
        self._row_norms(out, nt, False)
        return out

    def _row_norms(self, out: np.ndarray, nt: int, inverse: bool) -> None:
        st = self._storage
        _topk.row_norms(st.bits(self._w), st.kernel, self._scales, out, nt, inverse)

    def invalidate_norms(self) -> None:
        """Forget cached norms and the search index: call after changing a shared weights array
        (``copy=False``) behind the table's back."""
        with self._write_lock:
            self._version += 2
            self._inv = None
            self._index = None

    # ------------------------------------------------------------------ search index
    def build_index(self, kind: str = "int8", *, n_threads: Threads = None) -> "fe_index._BoundedIndex":
        """Build an exact compressed search index of the rows and attach it: ``topk`` and the word
        questions then search through it (answers identical to ``strategy="scan"``, ids and score
        bits) until the table is written (any write through the table, or through a watched torch
        tensor, invalidates it; call ``build_index`` again).

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
        w = self._live()
        v = (self._version, self._external_version())
        if kind not in fe_index.KINDS:
            raise ValueError(f"unknown index kind {kind!r}; choose from {fe_index.KINDS}")
        inv = None
        if kind != "int8" and w.dtype == np.float32:  # (a half index's cosine bounds use the scan's norms)
            try:
                inv = self.inv_norms(n_threads=n_threads)
            except ValueError:  # cosine is refused for this table: its coefficients are never used
                inv = np.zeros(w.shape[0], np.float32)
        idx = fe_index.build(w, kind, n_threads, inv=inv)
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
        table was written since it was built. ``table.index = None`` detaches it (its memory is
        freed when no one else holds it)."""
        return self._valid_index()

    @index.setter
    def index(self, value: None) -> None:
        if value is not None:
            raise ValueError("only None can be assigned to table.index (it detaches the index); "
                             "build one with table.build_index()")
        self._index = None

    def memory_usage(self) -> dict:
        """Bytes held, by part: ``{"table": rows, "table_memmap": True if the rows are a memory map
        (on disk, paged in on demand), "inv_norms": the norm cache (0 if not filled),
        "index.<kind>": the attached index (absent without one), "in_memory": everything but a
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
            Clipped to the number of rows (as gensim clips ``topn``): the answer has
            ``min(k, V)`` columns.
        metric : {"cosine", "dot"}
            Cosine uses cached inverse row norms (no normalised copy of the table is made); rows of
            zero norm score 0.
        exclude : ids (or keys) to skip for every query, or a list of Q id lists (one per query)
        restrict : None, an int n (only the first n rows, e.g. the most frequent words), an array
            of row ids, or a (V,) boolean mask
        strategy : {"auto", "scan", "gemm"}
            "scan": one fused pass, our fixed-order dot products (few queries); "gemm": blocked
            tiles (many queries); "auto" chooses by Q and D.
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
            candidates (exclusions, restrict), the missing slots are id -1 with score -inf.

        Raises
        ------
        ValueError : a query with zero norm (cosine) or NaN/inf values; dim mismatch; k < 1.
        IndexError : an exclude / restrict id outside the table.
        """
        if metric not in ("cosine", "dot"):
            raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
        k = min(as_k(k), max(self.num_embeddings, 1))
        if self._vocab is not None and holds_keys(queries, nested=False):
            queries = self.lookup(self._vocab.encode(queries))  # one key -> (D,), a list -> (n, D)
        if exclude is not None and self._vocab is not None and holds_keys(exclude):
            exclude = self._vocab.encode_nested(exclude)
        q, single = as_queries(queries, self.dim, normalize=metric == "cosine")
        scores, ids = self.search(search.LinearScorer(q, cosine=metric == "cosine"), k, restrict=restrict,
                                  exclude=exclude, strategy=strategy, block_rows=block_rows,
                                  n_threads=n_threads, index=index)
        if single:
            return scores[0], ids[0]
        return scores, ids

    # ------------------------------------------------------------------ the row-source protocol
    def unit_rows(self, ids: Any, n_threads: Threads = None) -> np.ndarray:
        """Row-source protocol: ``(n, D)`` float64 ``row * (1 / ||row||)`` of the row ids ``ids``
        (the float32 inverse norms of :meth:`inv_norms`; zero rows stay zero). Assumes valid ids."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        return self.lookup(ids, n_threads=n_threads).astype(np.float64) * self.inv_norms(n_threads)[ids, None]

    def search(self, scorer: Any, k: int, *, restrict: Any = None, exclude: Any = None,
               strategy: Strategy = "auto", block_rows: Optional[int] = None, n_threads: Threads = None,
               index: Any = "auto") -> Tuple[np.ndarray, np.ndarray]:
        """Row-source protocol: run a scorer of :mod:`fastembed.search` (``LinearScorer``,
        ``SharedWordScorer``, ``CosMulScorer``) over the rows by the one top-k engine, with this
        table's inverse norms when the scorer scores cosines.

        ``restrict`` and ``exclude`` as :meth:`topk`; ``k >= 0`` (not clipped here). Returns
        ``(scores (Q, k) float32, ids (Q, k) int64)``, best first, -1 / -inf past the candidates.
        The attached index is used (``index="auto"``) for linear scorers only.
        """
        w = self._live()
        V = w.shape[0]
        cand = search.Candidates.build(as_restrict(restrict, V), exclude, scorer.n_queries, V)
        inv = self.inv_norms(n_threads) if scorer.needs_inv else None
        idx = self._pick_index(index, strategy) if isinstance(scorer, search.LinearScorer) else None
        return search.run(w, scorer, k, cand, inv=inv, strategy=strategy, block_rows=block_rows,
                          n_threads=n_threads, storage=self._storage, scales=self._scales, index=idx)

    def cosines(self, queries: Any, row_hi: Optional[int] = None, n_threads: Threads = None) -> np.ndarray:
        """Row-source protocol: every cosine of unit queries with the first ``row_hi`` rows (all by
        default): ``(m, row_hi)`` float32 ``(rows @ queries.T).T * inv_norms``, for questions that
        need every score (gensim's ``most_similar(topn=None)``, ``rank``, ``distances``). Each
        cosine is the scan's fixed-order dot product times the inverse norm: the score ``topk``
        gives that row, bit for bit.

        ``queries``: (m, D) float32 unit vectors (or (D,): the result is then (row_hi,))."""
        w = self._live()
        q = np.asarray(queries, np.float32)
        single = q.ndim == 1
        q2 = np.ascontiguousarray(np.atleast_2d(q))
        if q2.ndim != 2 or q2.shape[1] != self.dim:
            raise ValueError(f"queries must be (m, {self.dim}) or ({self.dim},), got shape {q.shape}")
        n = w.shape[0] if row_hi is None else as_int(row_hi, "row_hi", lo=0, hi=w.shape[0])
        inv = self.inv_norms(n_threads)
        out = np.empty((q2.shape[0], n), np.float32)
        nt = team_size(n * (self.dim + 1) * q2.shape[0], GRAIN_DOT_FLOPS, n_threads, items=max(n, 1))
        _topk.scores(self._storage.bits(w[:n]), self._storage.kernel, inv, q2, out, nt,
                     None if self._scales is None else self._scales[:n])
        return out[0] if single else out

    # ------------------------------------------------------------------ writes
    @contextmanager
    def writing(self) -> Iterator[np.ndarray]:
        """Hold the table's write lock and yield the writable (V, D) stored array (float32, float16,
        or bfloat16 bits); cached norms and the index are invalidated when the block ends. For
        trusted writers (optimizers, training); raises ValueError for a read-only table."""
        w = self._live()
        if not w.flags.writeable:
            raise ValueError(_READ_ONLY)
        with self._write_lock:
            self._version += 1  # odd: a write is running; norm caches filled now are discarded
            self._inv = None
            self._index = None  # an index of the old rows: stale (its version tag says so too)
            try:
                yield w
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
        if not self._live().flags.writeable:
            raise ValueError(_READ_ONLY)
        if validated:
            ids, r = unique_ids, rows
        else:
            ids, r = as_sparse_rows(unique_ids, rows, self._w)
        a, steps = as_steps(alpha, ids.shape)
        if self._padding_idx is not None and (ids == self._padding_idx).any():
            keep = ids != self._padding_idx
            ids, r = ids[keep], np.ascontiguousarray(r[keep])
            steps = None if steps is None else np.ascontiguousarray(steps[keep])
        nt = team_size(r.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(ids.size, 1))
        st = self._storage
        with self.writing() as w:
            if not st.is_float32:
                # the float32 kernel's arithmetic (row + step * grad, step rounded to float32 first)
                # on the exact float32 values, then one rounding to the storage dtype
                step = np.float32(a) if steps is None else steps[:, None]
                self._store(w, ids, self._float_rows(w[ids], None if self._scales is None else self._scales[ids])
                            + step * r)
            else:
                # the kernel computes table[i] -= step * row: negated factors add
                _train.sparse_update(w, ids, r, -a, None if steps is None else -steps, nt)

    def set_rows(self, ids: Any, values: Any) -> None:
        """``weights[ids] = values`` for a writeable table (cached norms invalidated); half tables
        round the values to their storage dtype (via float32, nearest even)."""
        if not self._live().flags.writeable:
            raise ValueError(_READ_ONLY)
        a = as_ids(ids, n=self.num_embeddings)
        check_id_range(a, self.num_embeddings)
        v = np.asarray(values)
        if v.dtype.kind not in "fiu":
            raise TypeError(f"values must be numbers, got dtype {v.dtype}")
        with self.writing() as w:
            if self._storage.is_float32:
                w[a] = v
            else:  # rounded to the storage dtype (nearest even)
                self._store(w, a, np.broadcast_to(np.asarray(v, np.float32), a.shape + (self.dim,)))

    def _store(self, w: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
        """Write float32 ``values`` into rows ``ids`` of the stored array ``w`` (and their scales),
        rounded to the storage dtype. Call inside :meth:`writing`."""
        rows, sc = self._storage.encode(values.reshape(-1, self.dim))
        w[ids.reshape(-1)] = rows
        if sc is not None:
            self._scales[ids.reshape(-1)] = sc

    # ------------------------------------------------------------------ learning
    def backward(self, ids: Any, grad_out: Any, *, scale_grad_by_freq: bool = False,
                 n_threads: Threads = None) -> Tuple[I64Array, F32Array]:
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
        equals ``np.add.at(zeros, ids, grad_out)`` restricted to the ids, bit for bit. Apply it with
        an optimizer of :mod:`fastembed.optim` (``SGD(table, lr).step(unique_ids, rows)``).
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
        order, starts, uniq = segments(flat, skip=self._padding_idx)
        scale = None
        if scale_grad_by_freq:
            scale = (1.0 / np.diff(starts)).astype(np.float32)
        rows = np.empty((uniq.size, D), np.float32)
        nt = team_size(g2.nbytes, GRAIN_COPY_BYTES, n_threads, items=max(uniq.size, 1))
        _train.segment_sum(g2, order, starts, scale, rows, nt)
        return uniq, rows

    # ------------------------------------------------------------------ conversion, numpy, DLPack, torch
    def astype(self, dtype: Any) -> "EmbeddingTable":
        """A new table with the rows in storage dtype ``dtype`` ("float32", "float16", "bfloat16"):
        always a copy; vocabulary and padding_idx kept. To float32 the upcast is exact, so every
        score of the new table equals the old one's; to a half dtype rows round to nearest even."""
        st = resolve_dtype(dtype)
        w = self._live()
        if st is self._storage:
            return type(self)(w, copy=True, vocab=self._vocab, padding_idx=self._padding_idx, dtype=st,
                              scales=self._scales)
        rows = w if self._storage.is_float32 else self[:]
        return type(self)(rows, copy=True, vocab=self._vocab, padding_idx=self._padding_idx, dtype=st)

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        """``np.asarray(table)``: the read-only (V, D) rows without a copy (a copy with
        ``copy=True`` or another ``dtype``). A bfloat16 table gives its float32 upcast (a copy:
        numpy has no bfloat16; ``copy=False`` raises ValueError)."""
        return _interop.as_numpy(self, dtype, copy)

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Optional[bool] = None) -> Any:
        """DLPack export of the (V, D) rows, e.g. ``torch.from_dlpack(table)``.

        A read-only table (memory map) is exported as a copy (``copy=False`` raises BufferError):
        consumers such as torch have no read-only tensors, and a write into a read-only map would
        crash the process. A writable table is shared; since the consumer's writes cannot be
        tracked, the table stops caching row norms from then on (use :meth:`to_torch` for a shared
        tensor the table does track).
        """
        return _interop.dlpack(self, stream, max_version, copy)

    def __dlpack_device__(self) -> Any:
        return self._w.__dlpack_device__()

    def to_torch(self, copy: Optional[bool] = None) -> Any:
        """The rows as a (V, D) ``torch.Tensor`` of the storage dtype (float32, float16 or
        bfloat16).

        A writable table shares its memory with the tensor (zero-copy) and watches the tensor's
        version counter, so cached norms are refreshed after torch changes the rows in place (as
        optimizers do). A read-only table is copied (``copy=False`` raises ValueError).
        """
        return _interop.to_torch(self, copy)

    def _alias(self, tensor: Any = None) -> None:
        """A writable alias of the rows went out: watch ``tensor``'s version counter, or (None:
        an alias whose writes cannot be seen) trust no cache from now on."""
        if tensor is None:
            self._untracked_alias = True
            self._inv = None
        else:
            self._watched.append(weakref.ref(tensor))

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
        return cls(x, vocab=vocab, padding_idx=padding_idx, dtype=dtype, copy=True if copy else None)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Release the rows (a memory map's file is unmapped once no other view of it is alive:
        drop arrays taken from ``weights`` too). The table raises ValueError on any later use.
        Idempotent; ``with fe.load(path, mmap=True) as table:`` closes at the end of the block."""
        with self._write_lock:
            self._closed = True
            self._w = np.empty((0, self._w.shape[1]), self._w.dtype)
            self._scales = None if self._scales is None else np.empty(0, np.float32)
            self._inv = None
            self._index = None
            self._watched = []

    def __enter__(self) -> "EmbeddingTable":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _check_shape(num_embeddings, dim):
    V, D = as_int(num_embeddings, "num_embeddings"), as_int(dim, "dim")
    if V < 0 or D < 0:
        raise ValueError(f"table shape must be non-negative, got ({num_embeddings}, {dim})")
    return V, D
