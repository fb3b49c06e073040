"""EmbeddingTable: a (V, D) float32 matrix of rows, one per token, and the operations on it."""
from __future__ import annotations

import numpy as np

from fastembed._kernels import _gather
from fastembed._threads import resolve_threads
from fastembed._validate import as_ids, check_out, check_range, raise_bad_id
from fastembed.keyed import KeyedMixin
from fastembed import pooling

__all__ = ["EmbeddingTable"]

# Below this many output bytes a lookup runs on the calling thread: starting a team costs more.
PARALLEL_MIN_BYTES = 1 << 18
# From this many output bytes rows are written with non-temporal stores: measured on a 2-core AVX-512
# VM, streaming loses below ~25 MB of output (it fits caches) and wins 1.5x at 100 MB.
STREAM_MIN_BYTES = 1 << 25


class EmbeddingTable(KeyedMixin):
    """A table of ``V`` rows of ``D`` float32 values; ``lookup(ids)`` copies rows.

    Parameters
    ----------
    weights : array_like, shape (V, D), floating point
        float32 C-contiguous arrays (including read-only arrays and ``np.memmap``) are used without
        a copy and are never written unless writeable and asked to (``apply_sparse``, training,
        ``set_rows``). Other float dtypes are converted and non-contiguous arrays copied.
    copy : bool, default False
        Always take a private copy.
    vocab : Vocabulary or sequence of str, optional
        Keys for the rows, enabling ``table["cat"]`` and the word-level methods.
    padding_idx : int, optional
        PyTorch semantics: the row never receives gradient. ``zeros``/``random`` zero it at creation;
        given weights are used as they are (like ``nn.Embedding.from_pretrained``).

    Notes
    -----
    ``weights`` is a read-only view: writes go through the table's methods so cached row norms stay
    valid. If you change the underlying array yourself, call ``invalidate_norms()``.
    """

    __slots__ = ("_w", "_vocab", "_padding_idx", "_inv_norms", "_optim_state", "__weakref__")

    def __init__(self, weights, *, copy: bool = False, vocab=None, padding_idx=None):
        w = weights
        if not isinstance(w, np.ndarray):
            w = np.asarray(w)
        if w.dtype.kind != "f":
            raise TypeError(f"weights must be a floating-point array, got dtype {w.dtype}")
        if w.ndim != 2:
            raise ValueError(f"weights must be 2-D (V, D), got shape {w.shape}")
        if copy or w.dtype != np.float32 or not w.flags.c_contiguous:
            w = np.array(w, dtype=np.float32, order="C", copy=True)
        self._w = w
        self._inv_norms = None
        self._optim_state = {}
        self._padding_idx = None
        self._vocab = None
        if padding_idx is not None:
            self._padding_idx = self._check_padding_idx(padding_idx)
        if vocab is not None:
            self.vocab = vocab

    # ------------------------------------------------------------------ constructors
    @classmethod
    def random(cls, num_embeddings: int, dim: int, *, seed=0, scale: float = 0.1, vocab=None,
               padding_idx=None) -> "EmbeddingTable":
        """Rows drawn from ``N(0, 1) * scale`` (float32), reproducible with ``seed``."""
        num_embeddings, dim = _check_shape(num_embeddings, dim)
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((num_embeddings, dim), dtype=np.float32)
        w *= np.float32(scale)
        t = cls(w, vocab=vocab, padding_idx=padding_idx)
        if t._padding_idx is not None:
            w[t._padding_idx] = 0.0
        return t

    @classmethod
    def zeros(cls, num_embeddings: int, dim: int, *, vocab=None, padding_idx=None) -> "EmbeddingTable":
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
    def shape(self) -> tuple:
        return self._w.shape

    @property
    def weights(self) -> np.ndarray:
        """A read-only (V, D) float32 view of the rows (no copy)."""
        v = self._w.view(np.ndarray)
        v.flags.writeable = False
        return v

    @property
    def writeable(self) -> bool:
        """False for read-only arrays and read-only memory maps: no method will write them."""
        return bool(self._w.flags.writeable)

    @property
    def padding_idx(self):
        return self._padding_idx

    @property
    def vocab(self):
        """The Vocabulary mapping keys to row ids, or None."""
        return self._vocab

    @vocab.setter
    def vocab(self, vocab):
        if vocab is None:
            self._vocab = None
            return
        from fastembed.vocab import Vocabulary
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
        return f"EmbeddingTable(num_embeddings={self.num_embeddings}, dim={self.dim}{extra})"

    def _check_padding_idx(self, padding_idx) -> int:
        V = self.num_embeddings
        p = int(padding_idx)
        if not -V <= p < V:
            raise ValueError(f"padding_idx {padding_idx} is out of range for a table of {V} rows")
        return p + V if p < 0 else p

    # ------------------------------------------------------------------ lookup
    def lookup(self, ids, out=None, n_threads=None) -> np.ndarray:
        """Gather rows: ``weights[ids]``.

        Parameters
        ----------
        ids : array_like of any integer dtype, any shape (scalar and empty included)
        out : ndarray, shape (*ids.shape, D), float32, C-contiguous, optional
            Written in place and returned (reuse it: allocating a large output costs more than the
            gather). Must not overlap the table.
        n_threads : int, optional
            None: all cores (or ``OMP_NUM_THREADS``); negative counts back from the cores.

        Returns
        -------
        ndarray, shape (*ids.shape, D), float32

        Raises
        ------
        IndexError : an id is negative or >= V (the first one, with its position).
        TypeError : ids are not integers.
        ValueError : ``out`` has the wrong shape, dtype, layout, is read-only or overlaps the table;
            ``n_threads == 0``.
        """
        a = ids if type(ids) is np.ndarray else np.asarray(ids)
        if a.dtype.kind in "UO" and self._vocab is not None:
            a = np.asarray(self.encode(ids))
        a = as_ids(a)
        w = self._w
        D = w.shape[1]
        shape = a.shape + (D,)
        if out is None:
            out = np.empty(shape, np.float32)
        else:
            check_out(out, shape, w)
        nbytes = out.nbytes
        nt = 1 if nbytes < PARALLEL_MIN_BYTES and n_threads is None else resolve_threads(n_threads)
        bad = _gather.gather(w, a, out, nt, nbytes >= STREAM_MIN_BYTES)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return out

    # ------------------------------------------------------------------ embed
    def embed(self, ids, positions, *, offset=0, position_ids=None, scale=None, token_types=None,
              type_table=None, out=None, n_threads=None) -> np.ndarray:
        """Token rows plus position rows in one pass over memory.

        ``out[b, t] = weights[ids[b, t]] * scale + pos[p(b, t)] (+ type_table[token_types[b, t]])``
        with ``p(b, t) = offset + t`` (``offset[b] + t`` for per-sequence offsets) or
        ``position_ids[b, t]``. Bit-identical to :func:`fastembed.reference.embed`.

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
            Factor on token rows; "sqrt" is sqrt(D) (the original Transformer).
        token_types : array_like of int, shape like ``ids``, optional
            Segment ids into ``type_table`` (zeros when ``type_table`` is given without them).
        type_table : (n_types, D) float array, optional
            BERT's token-type embeddings.
        out : ndarray, shape (B, T, D) or (T, D), float32, optional

        Returns
        -------
        ndarray, shape (*ids.shape, D), float32

        Raises
        ------
        IndexError : a token id, position or token type outside its table (which row, how far).
        ValueError : D differs between tables; shapes disagree; negative offsets.
        """
        from fastembed.positions import as_position_matrix, resolve_scale
        a = np.asarray(ids)
        if a.dtype.kind in "UO" and self._vocab is not None:
            a = np.asarray(self.encode(ids))
        a = as_ids(a)
        if a.ndim not in (1, 2):
            raise ValueError(f"ids must be (B, T) or (T,), got shape {a.shape}")
        B, T = (1, a.shape[0]) if a.ndim == 1 else a.shape
        w = self._w
        D = w.shape[1]
        pos = as_position_matrix(positions)
        if pos.shape[1] != D:
            raise ValueError(f"position table has dim {pos.shape[1]} but the token table has dim {D}")
        P = pos.shape[0]
        s = resolve_scale(scale, D)
        pos_idx = _position_index(a.shape, B, T, P, offset, position_ids)
        types = tidx = None
        if type_table is not None:
            from fastembed._validate import as_float_matrix
            types = as_float_matrix(type_table, "type_table")
            if types.shape[1] != D:
                raise ValueError(f"type_table has dim {types.shape[1]} but the token table has dim {D}")
            if types.shape[0] == 0:
                raise ValueError("type_table has no rows")
            if token_types is None:
                tidx = np.zeros(a.size, np.int64)
            else:
                tt = as_ids(token_types, "token_types")
                if tt.shape != a.shape:
                    raise ValueError(f"token_types has shape {tt.shape}, expected {a.shape} like ids")
                check_range(tt, types.shape[0], "token type", "type_table")
                tidx = tt.reshape(-1).astype(np.int64)
        elif token_types is not None:
            raise ValueError("token_types given without a type_table")
        shape = a.shape + (D,)
        if out is None:
            out = np.empty(shape, np.float32)
        else:
            check_out(out, shape, w)
        nt = 1 if out.nbytes < PARALLEL_MIN_BYTES and n_threads is None else resolve_threads(n_threads)
        bad = _gather.embed(w, a.reshape(-1).astype(np.int64), pos, pos_idx, float(s), types, tidx,
                            out.reshape(a.size, D), nt, out.nbytes >= STREAM_MIN_BYTES)
        if bad >= 0:
            raise_bad_id(a, bad, w.shape[0])
        return out

    # ------------------------------------------------------------------ norms and search
    def inv_norms(self) -> np.ndarray:
        """(V,) float32 ``1 / ||row||`` (0 for zero rows), computed once and cached until a write
        through the table's API. Read-only."""
        inv = self._inv_norms
        if inv is None:
            from fastembed._kernels import _topk
            inv = np.empty(self.num_embeddings, np.float32)
            _topk.row_norms(self._w, inv, resolve_threads(None), True)
            inv.flags.writeable = False
            self._inv_norms = inv
        return inv

    def norms(self, n_threads=None) -> np.ndarray:
        """(V,) float32 Euclidean row norms (summed in float64)."""
        from fastembed._kernels import _topk
        out = np.empty(self.num_embeddings, np.float32)
        _topk.row_norms(self._w, out, resolve_threads(n_threads), False)
        return out

    def invalidate_norms(self) -> None:
        """Forget cached norms: call after changing the weights array behind the table's back."""
        self._inv_norms = None

    def topk(self, queries, k: int = 10, *, metric: str = "cosine", exclude=None, restrict=None,
             n_threads=None):
        """The k rows most similar to each query, best first.

        Parameters
        ----------
        queries : array_like, shape (D,) or (Q, D), any float dtype (converted; never modified)
        k : int >= 1
        metric : {"cosine", "dot"}
            Cosine uses cached inverse row norms (no normalised copy of the table is made); rows of
            zero norm score 0.
        exclude : ids to skip for every query, or a list of Q id lists (one per query)
        restrict : None, an int n (only the first n rows, e.g. the most frequent words), an array
            of row ids, or a (V,) boolean mask
        n_threads : int, optional

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
        from fastembed.search import topk
        if isinstance(queries, str) or (isinstance(queries, (list, tuple)) and queries
                                        and isinstance(queries[0], str)):
            queries = self._w[self.encode(queries)]  # one key -> (D,), a list -> (n, D)
        return topk(self._w, self.inv_norms, queries, k, metric=metric, exclude=exclude,
                    restrict=restrict, n_threads=n_threads)

    def _as_vector(self, x) -> np.ndarray:
        """A row id, a key, or a (D,) vector as float32 (D,)."""
        if isinstance(x, str):
            return self._w[self._require_vocab().key_to_id(x)]
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
            return self.lookup(x)
        v = np.asarray(x)
        if v.dtype.kind != "f" or v.shape != (self.dim,):
            raise ValueError(f"expected a row id, a key or a ({self.dim},) float vector, got "
                             f"{type(x).__name__} with shape {np.shape(x)}")
        return v.astype(np.float32)

    def cosine(self, a, b) -> float:
        """Cosine similarity of two rows / keys / vectors (0 if either has zero norm)."""
        va = self._as_vector(a).astype(np.float64)
        vb = self._as_vector(b).astype(np.float64)
        na, nb = np.linalg.norm(va), np.linalg.norm(vb)
        if na == 0 or nb == 0:
            return 0.0
        return float(va @ vb / (na * nb))

    similarity = cosine

    # ------------------------------------------------------------------ learning
    def backward(self, ids, grad_out, *, scale_grad_by_freq: bool = False, n_threads=None):
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
        from fastembed._kernels import _train
        a = as_ids(ids)
        g = np.asarray(grad_out)
        D = self.dim
        if g.dtype.kind != "f":
            raise TypeError(f"grad_out must be a float array, got dtype {g.dtype}")
        if g.shape != a.shape + (D,):
            raise ValueError(f"grad_out has shape {g.shape}, expected {a.shape + (D,)} (ids.shape + (D,))")
        check_range(a, self.num_embeddings)
        flat = a.reshape(-1).astype(np.int64)
        g2 = np.ascontiguousarray(g.reshape(-1, D), dtype=np.float32)
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        if sorted_ids.size:
            cut = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
            starts = np.concatenate([[0], cut, [sorted_ids.size]]).astype(np.int64)
        else:
            starts = np.zeros(1, np.int64)
        uniq = sorted_ids[starts[:-1]]
        if self._padding_idx is not None:
            keep = uniq != self._padding_idx
            if not keep.all():
                j = int(np.flatnonzero(~keep)[0])
                order = np.concatenate([order[: starts[j]], order[starts[j + 1]:]])
                width = starts[j + 1] - starts[j]
                starts = np.concatenate([starts[: j + 1], starts[j + 2:] - width])
                uniq = uniq[keep]
        scale = None
        if scale_grad_by_freq:
            scale = (1.0 / np.diff(starts)).astype(np.float32)
        rows = np.empty((uniq.size, D), np.float32)
        _train.segment_sum(g2, order, starts, scale, rows, resolve_threads(n_threads))
        return uniq, rows

    def apply_sparse(self, unique_ids, rows, lr: float, optimizer: str = "sgd", *, eps: float = 1e-10,
                     n_threads=None) -> None:
        """Update rows in place: ``weights[ids] -= lr * rows`` ("sgd"), or row-wise Adagrad
        ("adagrad": one accumulator per row, ``state += mean(g**2)``, step ``lr / (sqrt(state) +
        eps)``; O(V) state, never V x D). The padding row is never updated. Cached norms are
        invalidated.

        Raises ValueError for a read-only table, repeated ids, or shapes that disagree.
        """
        from fastembed._kernels import _train
        if not self.writeable:
            raise ValueError("this table is read-only (a read-only array or memory map): copy it with "
                             "EmbeddingTable(weights, copy=True) to train it")
        ids = as_ids(unique_ids, "unique_ids").reshape(-1).astype(np.int64)
        r = np.asarray(rows)
        if r.dtype.kind != "f":
            raise TypeError(f"rows must be a float array, got dtype {r.dtype}")
        if r.shape != (ids.size, self.dim):
            raise ValueError(f"rows has shape {r.shape}, expected ({ids.size}, {self.dim})")
        V = self.num_embeddings
        check_range(ids, V)
        if ids.size:
            if ids.size > 1 and (np.diff(ids) <= 0).any() and np.unique(ids).size != ids.size:
                raise ValueError("unique_ids has repeated ids: sum their rows first (backward does)")
        r = np.ascontiguousarray(r, dtype=np.float32)
        if self._padding_idx is not None and (ids == self._padding_idx).any():
            keep = ids != self._padding_idx
            ids, r = ids[keep], np.ascontiguousarray(r[keep])
        nt = resolve_threads(n_threads)
        if optimizer == "sgd":
            _train.sparse_update(self._w, ids, r, float(lr), None, nt)
        elif optimizer == "adagrad":
            state = self._optim_state.get("adagrad")
            if state is None:
                state = self._optim_state["adagrad"] = np.zeros(V, np.float64)
            # O(U * D) bookkeeping in numpy; the O(U * D) row update in the kernel
            state[ids] += (r.astype(np.float64) ** 2).sum(axis=1) / max(self.dim, 1)
            steps = (float(lr) / (np.sqrt(state[ids]) + eps)).astype(np.float32)
            _train.sparse_update(self._w, ids, r, float(lr), steps, nt)
        else:
            raise ValueError(f"optimizer must be 'sgd' or 'adagrad', got {optimizer!r}")
        self._inv_norms = None

    # ------------------------------------------------------------------ pooling (fastembed.pooling)
    def bag(self, ids, offsets=None, **kw):
        """:func:`fastembed.pooling.bag` on this table's rows, vocabulary and padding_idx."""
        return pooling.bag(self.weights, ids, offsets, **{"padding_idx": self.padding_idx, "vocab": self.vocab, **kw})

    def bag_backward(self, ids, offsets, grad_out, mode="mean", per_sample_weights=None, **kw):
        """:func:`fastembed.pooling.bag_backward`: (unique ids, rows) for :meth:`apply_sparse`."""
        return pooling.bag_backward(self.weights, ids, offsets, grad_out, mode, per_sample_weights, **{"padding_idx": self.padding_idx, "vocab": self.vocab, **kw})

    def mean_vector(self, keys, weights=None, **kw) -> np.ndarray:
        """:func:`fastembed.pooling.mean_vector` (gensim's ``get_mean_vector``) over this table."""
        return pooling.mean_vector(self.weights, keys, weights, **{"vocab": self.vocab, **kw})

    def sentence_vectors(self, sentences, **kw):
        """:func:`fastembed.pooling.sentence_vectors` (mean / sum / max / SIF) over this table."""
        return pooling.sentence_vectors(self.weights, sentences, **{"vocab": self.vocab, "padding_idx": self.padding_idx, **kw})

    def set_rows(self, ids, values) -> None:
        """``weights[ids] = values`` for a writeable table (cached norms invalidated)."""
        if not self.writeable:
            raise ValueError("this table is read-only: copy it with EmbeddingTable(weights, copy=True)")
        a = as_ids(ids)
        check_range(a, self.num_embeddings)
        self._w[a] = values
        self._inv_norms = None

    def __getitem__(self, key):
        """``table[ids]`` is ``lookup(ids)``; with a vocabulary, ``table["cat"]`` and
        ``table[["cat", "dog"]]`` look keys up."""
        return self.lookup(key)

    def _require_vocab(self):
        if self._vocab is None:
            raise TypeError("this table has no vocabulary: pass vocab= or load vectors with keys")
        return self._vocab


def _check_shape(num_embeddings, dim):
    V, D = int(num_embeddings), int(dim)
    if V < 0 or D < 0:
        raise ValueError(f"table shape must be non-negative, got ({num_embeddings}, {dim})")
    return V, D


def _position_index(shape, B, T, P, offset, position_ids) -> np.ndarray:
    """Flat int64 row numbers into the position table for every token, bounds-checked."""
    if position_ids is not None:
        if not (np.ndim(offset) == 0 and int(offset) == 0):
            raise ValueError("pass either position_ids or offset, not both")
        p = as_ids(position_ids, "position_ids")
        if p.shape != tuple(shape):
            raise ValueError(f"position_ids has shape {p.shape}, expected {tuple(shape)} like ids")
        check_range(p, P, "position id", "a position table")
        return p.reshape(-1).astype(np.int64)
    off = as_ids(offset, "offset")
    if off.ndim == 0:
        off = np.full(B, int(off), dtype=np.int64)
    elif off.shape != (B,):
        raise ValueError(f"offset must be an int or have shape ({B},), got shape {off.shape}")
    else:
        off = off.astype(np.int64)
    if B and off.min() < 0:
        b = int(np.argmin(off))
        raise ValueError(f"offset {int(off[b])} for sequence {b} is negative")
    if B and T:
        last = off + (T - 1)
        b = int(np.argmax(last))
        if last[b] >= P:
            raise IndexError(f"position {int(last[b])} (offset {int(off[b])} + length {T} - 1, "
                             f"sequence {b}) is beyond the position table of {P} rows by "
                             f"{int(last[b]) - P + 1}")
    return (off[:, None] + np.arange(T, dtype=np.int64)[None, :]).reshape(-1)
