"""Pooling: bags of ids to one vector (torch's ``EmbeddingBag``), its gradient, and sentence vectors.

Every function takes a table's public pieces (the (V, D) float32 ``weights``, a ``Vocabulary``, a
``padding_idx``); ``table.pool`` (:mod:`fastembed.accessors`) binds them to a table
(``table.pool.bag``, ``table.pool.bag_backward``, ``table.pool.mean_vector``, ``table.pool.sentence_vectors``).

* :func:`bag` - sum / mean / max over each bag of rows in one pass (no (B, T, D) intermediate),
  bags given as a (B, T) id matrix, as 1-D ids + offsets (CSR, ragged), as a list of id lists or
  key lists, or as :class:`Bags`. Bit-identical to :func:`fastembed.reference.bag`.
* :func:`bag_backward` - the sparse gradient (unique ids, rows) that an optimizer of
  :mod:`fastembed.optim` applies.
* :func:`encode_bags` - token lists to :class:`Bags`, dropping unknown keys and counting them.
* :func:`mean_vector` - gensim's ``KeyedVectors.get_mean_vector``, bit for bit.
* :func:`sentence_vectors` - mean / sum / max / SIF (Arora et al. 2017) sentence vectors.
"""
from __future__ import annotations

import math
from itertools import chain
from typing import NamedTuple, Optional

import numpy as np

from fastembed import _interop as interop
from fastembed._kernels import _pool
from fastembed._sparse import segments
from fastembed._threads import GRAIN_COPY_BYTES, team_size
from fastembed._validate import as_float_matrix, as_ids, check_out, first_out_of_range, raise_bad_id

__all__ = ["MODES", "Bags", "SentenceVectors", "bag", "bag_backward", "encode_bags", "mean_vector",
           "sentence_vectors", "sif_weights", "principal_component", "remove_component", "SIF_A"]

#: Pooling modes and the kernel's code for each (torch's names).
MODES = {"sum": 0, "mean": 1, "max": 2}
SENTENCE_MODES = ("mean", "sum", "max", "sif")
#: Arora et al. (2017)'s default smoothing: a word of probability p gets weight a / (a + p).
SIF_A = 1e-3


class Bags(NamedTuple):
    """Ragged bags in torch's CSR layout, and how many unknown keys were dropped from each.

    ``bag(weights, bags)`` pools them; ``F.embedding_bag(torch.from_numpy(bags.ids), W,
    torch.from_numpy(bags.offsets))`` is the same thing in torch.

    Attributes
    ----------
    ids : ndarray, (N,) int64
        The ids of all bags back to back.
    offsets : ndarray, (B,) int64
        Where each bag starts in ``ids`` (bag b is ``ids[offsets[b]:offsets[b+1]]``, the last one
        runs to the end).
    missing : ndarray, (B,) int64
        Keys of each bag that were not in the vocabulary and were left out (all 0 unless
        ``ignore_missing=True``).
    """

    ids: np.ndarray
    offsets: np.ndarray
    missing: np.ndarray

    @property
    def n_missing(self) -> int:
        """Unknown keys dropped over all bags."""
        return int(self.missing.sum())

    @property
    def lengths(self) -> np.ndarray:
        """(B,) int64 ids per bag (after dropping unknown keys)."""
        return np.diff(np.append(self.offsets, self.ids.size))


class SentenceVectors(NamedTuple):
    """What :func:`sentence_vectors` returns: unpack as ``vectors, missing, component = ...``.

    Attributes
    ----------
    vectors : ndarray, (B, D) float32
    missing : ndarray, (B,) int64
        Words of each sentence not in the vocabulary (skipped, not counted in the mean).
    component : ndarray, (D,) float32, or None
        SIF only: the principal component that was removed (pass it as ``component=`` to embed
        more sentences the same way).
    """

    vectors: np.ndarray
    missing: np.ndarray
    component: Optional[np.ndarray]

    @property
    def n_missing(self) -> int:
        """Unknown words skipped over all sentences."""
        return int(self.missing.sum())


# ------------------------------------------------------------------ argument checks

class _Spec(NamedTuple):
    """Validated bags: ``ids`` C-contiguous native integers (any dtype; ``shape`` for messages),
    ``bounds`` (B + 1,) int64 or None for fixed bags of ``T``, ``psw`` flat float32 or None."""
    ids: np.ndarray
    shape: tuple
    bounds: Optional[np.ndarray]
    T: int
    B: int
    psw: Optional[np.ndarray]
    nested: bool  # from Python lists / Bags: positions are reported as (bag, index in the bag)


def _mode_code(mode) -> int:
    code = MODES.get(mode) if isinstance(mode, str) else None
    if code is None:
        raise ValueError(f"mode must be one of {', '.join(repr(m) for m in MODES)}, got {mode!r}")
    return code


def _padding(padding_idx, V: int) -> int:
    """padding_idx as a row id in [0, V), or -1 for none (negative values count back, as torch)."""
    if padding_idx is None:
        return -1
    if isinstance(padding_idx, bool) or not hasattr(padding_idx, "__index__"):
        raise TypeError(f"padding_idx must be an int or None, got {padding_idx!r}")
    p = int(padding_idx.__index__())
    if not -V <= p < V:
        raise ValueError(f"padding_idx {p} is out of range for a table of {V} rows")
    return p + V if p < 0 else p


def _is_nested(x) -> bool:
    """A Python list/tuple of bags (lists, tuples or 1-D arrays), not an id matrix."""
    return (isinstance(x, (list, tuple)) and len(x) > 0
            and isinstance(x[0], (list, tuple, np.ndarray)))


def _short(x: list, n: int = 8) -> str:
    return "[" + ", ".join(map(str, x[:n])) + (", ...]" if len(x) > n else "]")


def _keys_to_ids(a: np.ndarray, vocab) -> np.ndarray:
    """A str array of keys as int64 ids of the same shape; KeyError naming the first unknown key."""
    if vocab is None:
        raise TypeError("ids are strings (keys): give a vocabulary (vocab=, or use a table that has one)")
    flat = a.reshape(-1).tolist()
    try:
        return vocab.encode(flat).reshape(a.shape)
    except KeyError:
        for i, k in enumerate(flat):
            if k not in vocab and vocab.unk_id is None:
                pos = np.unravel_index(i, a.shape)
                where = "(" + ", ".join(str(int(p)) for p in pos) + (",)" if len(pos) == 1 else ")")
                raise KeyError(f"key {k!r} at position {where} is not in the vocabulary; pass "
                               "ignore_missing=True to encode_bags / sentence_vectors to skip "
                               "unknown keys") from None
        raise


def _check_offsets(offsets, N: int, include_last_offset: bool) -> np.ndarray:
    """torch's rules for offsets, as ValueErrors naming the bad entry; the (B + 1,) int64 bounds."""
    if isinstance(offsets, (list, tuple)) and len(offsets) == 0:
        offsets = np.zeros(0, np.int64)  # np.asarray([]) would be float64
    o = as_ids(offsets, "offsets")
    if o.ndim != 1:
        raise ValueError(f"offsets must be 1-D, got shape {o.shape}")
    if include_last_offset and o.size == 0:
        raise ValueError("with include_last_offset=True, offsets needs at least one entry (the end)")
    if o.size:
        if o[0] != 0:
            raise ValueError(f"offsets[0] must be 0 (the first bag starts at the first id), got {int(o[0])}")
        down = np.flatnonzero(o[1:] < o[:-1])  # compared in the given dtype: no wrap-around
        if down.size:
            k = int(down[0]) + 1
            raise ValueError(f"offsets must be non-decreasing: offsets[{k}] = {int(o[k])} is less "
                             f"than offsets[{k - 1}] = {int(o[k - 1])}")
        if o[-1] > N:
            k = int(np.flatnonzero(o > N)[0])
            raise ValueError(f"offsets[{k}] = {int(o[k])} is beyond the {N} ids")
        if include_last_offset and o[-1] != N:
            raise ValueError(f"with include_last_offset=True, offsets[-1] must be the number of ids "
                             f"({N}), got {int(o[-1])}")
    bounds = o.astype(np.int64)
    if not include_last_offset:
        bounds = np.append(bounds, np.int64(N))
    return np.ascontiguousarray(bounds)


def _raise_bad(s: _Spec, pos: int, V: int):
    """IndexError for the id at flat position ``pos``: (b, t) for fixed bags, (bag, index) for
    Python lists of bags, the flat position for 1-D ids with offsets."""
    if not s.nested:
        raise_bad_id(s.ids.reshape(s.shape), pos, V)
    b = int(np.searchsorted(s.bounds, pos, side="right")) - 1
    raise IndexError(f"id {int(s.ids[pos])} at position ({b}, {pos - int(s.bounds[b])}) is out of range "
                     f"for a table of {V} rows")


def _bags(ids, offsets, include_last_offset, per_sample_weights, mode: str, vocab) -> _Spec:
    nested = False
    if isinstance(ids, Bags):
        if offsets is not None:
            raise ValueError("offsets given twice: a Bags carries its own")
        ids, offsets, include_last_offset, nested = ids.ids, ids.offsets, False, True
    elif _is_nested(ids) or (isinstance(ids, (list, tuple)) and len(ids) == 0 and offsets is None):
        if offsets is not None:
            raise ValueError("offsets must be None when ids is a list of bags")
        b = encode_bags(ids, vocab)
        if _is_nested(per_sample_weights):  # weights as lists shaped like the bags
            lengths = [len(x) for x in per_sample_weights]
            if lengths != b.lengths.tolist():
                raise ValueError(f"per_sample_weights has bags of lengths {_short(lengths)}, expected "
                                 f"{_short(b.lengths.tolist())} (those of ids)")
            per_sample_weights = np.asarray(list(chain.from_iterable(per_sample_weights)), np.float64
                                            ) if sum(lengths) else np.zeros(0, np.float32)
        ids, offsets, include_last_offset, nested = b.ids, b.offsets, False, True
    a = ids if type(ids) is np.ndarray else np.asarray(ids)
    if a.dtype.kind in "UO" and a.size:
        a = _keys_to_ids(a, vocab)
    elif a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)  # [] or np.empty((B, 0)) from a list
    a = as_ids(a)
    if a.ndim == 2:
        if offsets is not None:
            raise ValueError("offsets must be None for 2-D ids (each row is one bag of fixed "
                             "length, as torch)")
        B, T = a.shape
        bounds = None
    elif a.ndim == 1:
        if offsets is None:
            raise ValueError("1-D ids need offsets (where each bag starts); pass a (B, T) array "
                             "for bags of one length")
        bounds = _check_offsets(offsets, a.size, include_last_offset)
        B, T = bounds.size - 1, 0
    else:
        raise ValueError(f"ids must be 2-D (bags of one length) or 1-D with offsets, got shape {a.shape}")
    psw = None
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"per_sample_weights is only supported with mode='sum' (as torch), "
                             f"got mode={mode!r}")
        p = np.asarray(per_sample_weights)
        p = as_float_matrix(p, "per_sample_weights", ndim=(p.ndim,))
        if p.shape != a.shape:
            raise ValueError(f"per_sample_weights has shape {p.shape}, expected {a.shape} (the shape of ids)")
        psw = p.reshape(-1)
    flat = a if a.flags.c_contiguous and a.dtype.isnative else np.ascontiguousarray(
        a, dtype=a.dtype.newbyteorder("="))
    return _Spec(flat, a.shape, bounds, T, B, psw, nested)


# ------------------------------------------------------------------ forward

def bag(weights, ids, offsets=None, *, mode: str = "mean", per_sample_weights=None,
        include_last_offset: bool = False, padding_idx=None, out=None, n_threads=None, vocab=None,
        return_argmax: bool = False):
    """Pool each bag of rows into one vector: torch's ``F.embedding_bag`` / ``nn.EmbeddingBag``.

    One pass over the rows (no (B, T, D) intermediate), OpenMP over bags, bit-identical to
    :func:`fastembed.reference.bag`: element j of a bag's sum is ``((0 + r0[j]) + r1[j]) + ...`` in
    bag order, in float32; the mean divides it by the count once.

    Parameters
    ----------
    weights : ndarray, (V, D) float32 (other floats are converted; read-only and memory-mapped
        arrays are read in place); or an EmbeddingTable of any storage dtype (its rows read as
        stored: a bag of an int8 or half table is the bag of its float32 values, bit for bit)
    ids : one of
        - (B, T) integer array: B bags of T ids each;
        - (N,) integer array with ``offsets``: ragged bags, bag b is ``ids[offsets[b]:offsets[b+1]]``;
        - a list of B id lists (or key lists, with ``vocab``): ragged bags;
        - a :class:`Bags` (from :func:`encode_bags`).
        Any integer dtype; keys (str) need ``vocab`` and must all be known (use :func:`encode_bags`
        with ``ignore_missing=True`` to drop unknown keys and count them).
    offsets : (B,) integer array, or (B + 1,) with ``include_last_offset``
        Starts at 0, non-decreasing, at most N (torch's rules); only with 1-D ids.
    mode : {"mean", "sum", "max"}
    per_sample_weights : float array shaped like ids, optional
        ``"sum"`` only (as torch): ``acc + w[p] * row``.
    include_last_offset : bool
        offsets has B + 1 entries and the last one must be N (torch's flag; ignored for 2-D ids).
    padding_idx : int, optional
        This row is skipped: not added and not counted in the mean (a bag of only padding is zeros).
    out : ndarray, (B, D) float32, C-contiguous, optional
        Written in place and returned; must not overlap ``weights``.
    n_threads : int, optional
        None: small calls on one thread, large ones on all cores; an int is obeyed.
    vocab : Vocabulary, optional
        For keys in ``ids``.
    return_argmax : bool
        Max mode: also return the (B, D) int64 row id that won each element (-1 for empty bags),
        which :func:`bag_backward` accepts as ``argmax=``.

    Returns
    -------
    out : ndarray, (B, D) float32
        Empty bags (and bags of only padding) give zeros. A torch tensor when ``ids`` is one (torch
        in, torch out: the tensor shares the array's memory) and ``out`` is not given.
    argmax : ndarray, (B, D) int64, only with ``return_argmax=True`` (a tensor as ``out``)

    Raises
    ------
    IndexError : an id is negative or >= V (the first one, with its position).
    ValueError : a bad mode, offsets breaking torch's rules, per_sample_weights with a mode other
        than "sum" or of the wrong shape, a bad ``out=``, an out-of-range ``padding_idx``.
    TypeError : ids or offsets not integers, weights or per_sample_weights not floating point.
    KeyError : a key not in the vocabulary.
    """
    code = _mode_code(mode)
    W, kind, scales = _stored_rows(weights)
    V, D = W.shape
    if return_argmax and mode != "max":
        raise ValueError(f"return_argmax needs mode='max', got mode={mode!r}")
    s = _bags(ids, offsets, include_last_offset, per_sample_weights, mode, vocab)
    pad = _padding(padding_idx, V)
    shape = (s.B, D)
    torch_out = out is None and interop.is_torch_tensor(ids)  # torch in, torch out
    if out is None:
        out = dst = np.empty(shape, np.float32)
    else:
        dst = check_out(out, shape, W)  # a numpy view of a torch out= tensor
    argmax = np.empty(shape, np.int64) if return_argmax else None
    nt = team_size((s.ids.size + s.B) * D * 4, GRAIN_COPY_BYTES, n_threads, items=max(s.B, 1))
    bad = _pool.bag(W, s.ids, s.bounds, s.T, s.psw, pad, code, dst, argmax, nt, kind, scales)
    if bad >= 0:
        _raise_bad(s, bad, V)
    if torch_out:
        out = interop.numpy_to_torch(out)
        argmax = None if argmax is None else interop.numpy_to_torch(argmax)
    return (out, argmax) if return_argmax else out


def _stored_rows(weights):
    """(rows as the kernels take them, storage kind code, scales) of a float matrix or of a table
    (anything with ``storage``, ``weights`` and ``scales``: its rows as stored, not converted)."""
    st = getattr(weights, "storage", None)
    if st is not None and hasattr(st, "kernel"):
        return st.bits(weights.weights), st.kernel, weights.scales
    return as_float_matrix(weights, "weights"), 0, None


# ------------------------------------------------------------------ backward

def _bag_counts(flat: np.ndarray, bounds: Optional[np.ndarray], B: int, T: int, pad: int) -> np.ndarray:
    """(B,) int64 non-padding ids per bag."""
    if bounds is None:
        counts = np.full(B, T, np.int64)
        if pad >= 0 and T:
            counts -= (flat.reshape(B, T) == pad).sum(axis=1)
        return counts
    counts = np.diff(bounds)
    if pad >= 0:
        cum = np.concatenate([[0], np.cumsum(flat == pad)])
        counts = counts - (cum[bounds[1:]] - cum[bounds[:-1]])
    return counts


def bag_backward(weights, ids, offsets, grad_out, mode: str = "mean", per_sample_weights=None, *,
                 include_last_offset: bool = False, padding_idx=None, argmax=None, vocab=None,
                 n_threads=None):
    """Sparse gradient of :func:`bag` with respect to the table, to apply with an optimizer of
    :mod:`fastembed.optim`.

    Parameters
    ----------
    weights : ndarray, (V, D) float32
        The table (its shape bounds the ids; max mode recomputes the arg-max from it unless
        ``argmax`` is given).
    ids, offsets, mode, per_sample_weights, include_last_offset, padding_idx, vocab
        As given to :func:`bag`.
    grad_out : float array, (B, D)
        The gradient flowing into the bag's output.
    argmax : ndarray, (B, D) int64, optional
        Max mode: the arg-max that ``bag(..., return_argmax=True)`` returned (saves a forward pass).
    n_threads : int, optional

    Returns
    -------
    unique_ids : ndarray, (U,) int64, sorted
        The ids that occur in the bags (``padding_idx`` left out).
    rows : ndarray, (U, D) float32
        Sum / mean: each id's gradient summed over its occurrences in position order
        (``grad_out[b]``, divided by bag b's non-padding count for the mean, times the sample's
        weight when given). Max: element j of bag b's gradient goes to the row that won it (as
        torch); ids that won nothing get zeros. Equal to :func:`fastembed.reference.bag_backward`
        (a dense ``np.add.at``) bit for bit, whatever the thread count.

    Both are torch tensors (sharing the arrays' memory) when ``ids`` is a tensor. The gradient
    with respect to ``per_sample_weights`` is not computed (:class:`fastembed.torch.EmbeddingBag`
    computes it).
    """
    code = _mode_code(mode)
    V, D = _stored_rows(weights)[0].shape
    s = _bags(ids, offsets, include_last_offset, per_sample_weights, mode, vocab)
    bad = first_out_of_range(s.ids, V)
    if bad >= 0:
        _raise_bad(s, bad, V)
    pad = _padding(padding_idx, V)
    g = as_float_matrix(grad_out, "grad_out")
    if g.shape != (s.B, D):
        raise ValueError(f"grad_out has shape {g.shape}, expected ({s.B}, {D}) (bags, dim)")
    flat = s.ids.astype(np.int64, copy=False).reshape(-1)
    if code == MODES["max"]:
        return _like(ids, *_max_backward(weights, (V, D), s, flat, pad, g, argmax, n_threads))
    if argmax is not None:
        raise ValueError(f"argmax is only used with mode='max', got mode={mode!r}")
    order, starts, uniq = segments(flat, skip=pad if pad >= 0 else None)
    if code == MODES["mean"]:
        counts = _bag_counts(flat, s.bounds, s.B, s.T, pad)
        g = g / np.maximum(counts, 1).astype(np.float32)[:, None]
    rows = np.empty((uniq.size, D), np.float32)
    nt = team_size((order.size + uniq.size) * D * 4, GRAIN_COPY_BYTES, n_threads, items=max(uniq.size, 1))
    _pool.backward_rows(np.ascontiguousarray(order, dtype=np.int64), starts, s.bounds, s.B, max(s.T, 1),
                        np.ascontiguousarray(g), s.psw, rows, nt)
    return _like(ids, uniq.astype(np.int64, copy=False), rows)


def _like(ids, uniq: np.ndarray, rows: np.ndarray):
    """(unique ids, rows) as torch tensors when the ids were a tensor (torch in, torch out)."""
    if interop.is_torch_tensor(ids):
        return interop.numpy_to_torch(uniq), interop.numpy_to_torch(rows)
    return uniq, rows


def _check_argmax(am: np.ndarray, flat: np.ndarray, s: _Spec, pad: int, V: int) -> None:
    """A given (B, D) argmax holds, for each bag, one of that bag's non-padding ids, or -1 where
    the bag has none (what ``bag(..., return_argmax=True)`` returns): a row of another bag would
    take a gradient it never earned, and a negative id would drop one."""
    B, D = am.shape
    if s.bounds is None:
        bag_of = np.repeat(np.arange(B, dtype=np.int64), s.T)
        counts = np.full(B, s.T, np.int64)
    else:
        counts = np.diff(s.bounds)
        bag_of = np.repeat(np.arange(B, dtype=np.int64), counts)
    keep = flat != pad if pad >= 0 else np.ones(flat.size, bool)
    counts = np.bincount(bag_of[keep], minlength=B)
    # one sorted (bag, id) key per non-padding position; the argmax's keys must be among them
    key = np.unique(bag_of[keep] * np.int64(V) + flat[keep]) if B * V < 2 ** 62 else None
    neg = am < 0
    inside = np.zeros(am.shape, bool)
    if key is not None and key.size:
        want = np.arange(B, dtype=np.int64)[:, None] * np.int64(V) + np.where(neg | (am >= V), 0, am)
        pos = np.minimum(np.searchsorted(key, want), key.size - 1)
        inside = key[pos] == want
    elif key is None:  # B * V beyond int64 keys: bag by bag
        for b in range(B):
            ids_b = np.unique(flat[(bag_of == b) & keep])
            inside[b] = np.isin(am[b], ids_b)
    inside &= ~neg & (am < V)
    ok = inside | ((am == -1) & (counts == 0)[:, None])
    if not ok.all():
        b, j = (int(x) for x in np.unravel_index(int(np.flatnonzero(~ok)[0]), am.shape))
        v = int(am[b, j])
        if v == -1:
            why = f"-1 (no winner) but bag {b} is not empty"
        elif v < 0:
            why = "a negative id (only -1, for an empty bag, is allowed)"
        else:
            why = f"not an id of bag {b}"
        raise ValueError(f"argmax holds {'row ' if v >= 0 else ''}{v} at position ({b}, {j}), which is {why} "
                         "(pass the argmax that bag(..., return_argmax=True) returned)")


def _max_backward(weights, shape, s: _Spec, flat, pad, g, argmax, n_threads):
    V, D = shape
    given = argmax is not None
    if argmax is None:
        _, argmax = bag(weights, s.ids.reshape(s.shape), None if s.bounds is None else s.bounds, mode="max",
                        include_last_offset=True, padding_idx=pad if pad >= 0 else None,
                        n_threads=n_threads, return_argmax=True)
    else:
        argmax = np.asarray(argmax)
        if argmax.dtype.kind not in "iu":
            raise TypeError(f"argmax must be an integer array, got dtype {argmax.dtype}")
        if argmax.shape != (s.B, D):
            raise ValueError(f"argmax has shape {argmax.shape}, expected ({s.B}, {D}) (bags, dim)")
        if argmax.dtype.kind == "u" and argmax.size and int(argmax.max()) >= V:
            b, j = (int(x) for x in np.unravel_index(int(np.argmax(argmax)), argmax.shape))
            raise ValueError(f"argmax holds row {int(argmax[b, j])} at position ({b}, {j}), which is not an id "
                             f"of bag {b} (the table has {V} rows)")
    uniq = np.unique(flat if pad < 0 else flat[flat != pad])
    am = argmax.astype(np.int64, copy=False)
    if given:
        _check_argmax(am, flat, s, pad, V)
    slot = np.searchsorted(uniq, am)
    slot[am < 0] = -1
    rows = np.zeros((uniq.size, D), np.float32)
    nt = team_size(s.B * D * 8, GRAIN_COPY_BYTES, n_threads, items=max(D, 1))
    _pool.backward_max(np.ascontiguousarray(slot, dtype=np.int64), np.ascontiguousarray(g), rows, nt)
    return uniq.astype(np.int64, copy=False), rows


# ------------------------------------------------------------------ Python bags

def encode_bags(bags, vocab=None, *, ignore_missing: bool = False) -> Bags:
    """A list of id lists or key lists as :class:`Bags` (CSR ids + offsets + unknown-key counts).

    Parameters
    ----------
    bags : sequence of sequences
        Ids (ints) or keys (str; needs ``vocab``). Empty bags are kept (they pool to zeros).
    vocab : Vocabulary, optional
    ignore_missing : bool
        False: an unknown key raises KeyError naming it and its position (a vocabulary with an
        ``unk`` maps it there instead). True: unknown keys are dropped and counted in
        ``Bags.missing`` (the ``unk`` row is not used).

    Returns
    -------
    Bags
    """
    B = len(bags)
    lengths = np.fromiter((len(b) for b in bags), np.int64, count=B)
    bounds = np.zeros(B + 1, np.int64)
    np.cumsum(lengths, out=bounds[1:])
    flat = list(chain.from_iterable(bags))
    missing = np.zeros(B, np.int64)
    if flat and isinstance(flat[0], str):
        if vocab is None:
            raise TypeError("bags hold strings (keys): give a vocabulary (vocab=, or use a table "
                            "that has one)")
        if ignore_missing:
            get = vocab.get
            ids = np.fromiter((get(k, -1) if isinstance(k, str) else _not_a_key(k) for k in flat),
                              np.int64, count=len(flat))
            drop = ids < 0
            if drop.any():
                cum = np.zeros(len(flat) + 1, np.int64)
                np.cumsum(drop, out=cum[1:])
                missing = cum[bounds[1:]] - cum[bounds[:-1]]
                ids = ids[~drop]
                bounds = bounds - cum[bounds]
        else:
            try:
                ids = vocab.encode(flat)
            except KeyError:
                for i, k in enumerate(flat):
                    if vocab.get(k) is None and vocab.unk_id is None:
                        b = int(np.searchsorted(bounds, i, side="right")) - 1
                        raise KeyError(f"key {k!r} at position ({b}, {i - int(bounds[b])}) is not in "
                                       "the vocabulary; pass ignore_missing=True to skip unknown "
                                       "keys") from None
                raise
    else:
        ids = np.asarray(flat) if flat else np.zeros(0, np.int64)
        if ids.dtype.kind in "UO":
            raise TypeError("bags mix keys (str) and other values")
        ids = as_ids(ids)
    return Bags(np.ascontiguousarray(ids, dtype=np.int64), np.ascontiguousarray(bounds[:-1]), missing)


def _not_a_key(k):
    raise TypeError(f"bags mix keys (str) and other values ({type(k).__name__} {k!r})")


# ------------------------------------------------------------------ gensim's mean vector

def mean_vector(vectors, keys, weights=None, *, vocab=None, pre_normalize: bool = True,
                post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
    """gensim's ``KeyedVectors.get_mean_vector``, bit for bit.

    ``sum_k w_k * v_k / sum_k |w_k|`` over the keys found, accumulated in float32 in key order
    (one bag of the :func:`bag` kernel with per-sample weights), where ``v_k`` is the key's row
    divided by its norm (``pre_normalize``; the norm computed as gensim's
    ``np.linalg.norm(vectors, axis=1)``) or the raw row; a (D,) array key is used as it is.

    Parameters
    ----------
    vectors : ndarray, (V, D) float32
    keys : sequence of str (needs ``vocab``), int (row ids) or (D,) arrays; a str alone is one key
    weights : sequence of float, (len(keys),), optional
        Rounded to float32 (gensim does that for lists; a float64 array would make gensim compute
        in float64 and return float64: here the result is always float32).
    vocab : Vocabulary, optional
    pre_normalize, post_normalize : bool
        Unit-normalise each row first / the mean at the end (gensim's ``matutils.unitvec``).
    ignore_missing : bool
        True: keys not in the vocabulary (and ints outside [0, V)) are skipped; False: KeyError.

    Returns
    -------
    ndarray, (D,) float32
        Zeros when no key was found.

    Notes
    -----
    One deliberate difference: a row of zero norm contributes zeros with ``pre_normalize`` (the
    table's convention), where gensim divides 0 by 0 and returns NaNs.
    """
    table = getattr(vectors, "storage", None) is not None
    W = None if table else as_float_matrix(vectors, "vectors")
    V, D = vectors.shape if table else W.shape
    if isinstance(keys, str):
        keys = [keys]
    keys = list(keys)
    if len(keys) == 0:
        raise ValueError("cannot compute mean with no input")
    if weights is None:
        w = np.ones(len(keys), np.float32)
    else:
        w = np.asarray(weights)
        if w.dtype.kind not in "fiu":
            raise TypeError(f"weights must be numbers, got dtype {w.dtype}")
        w = w.astype(np.float32).reshape(-1)
        if w.size != len(keys):
            raise ValueError(f"keys and weights must have the same number of elements: "
                             f"{len(keys)} keys, {w.size} weights")
    # One matrix R of the terms in key order: rows of the table (normalised) or raw vectors.
    row_ids, pos_of_row, raw, pos_of_raw = [], [], [], []
    for k, key in enumerate(keys):
        if isinstance(key, np.ndarray):
            if key.shape != (D,):
                raise ValueError(f"a vector key must have shape ({D},), got {key.shape} at position {k}")
            raw.append(key.astype(np.float32))
            pos_of_raw.append(k)
            continue
        if isinstance(key, str):
            i = vocab.get(key) if vocab is not None else None
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = int(key) if 0 <= int(key) < V else None
        else:
            raise TypeError(f"keys must be str, int or ({D},) arrays, got {type(key).__name__} at position {k}")
        if i is None:
            if not ignore_missing:
                raise KeyError(f"key {key!r} at position {k} is not in the vocabulary")
            continue
        row_ids.append(i)
        pos_of_row.append(k)
    used = np.array(sorted(pos_of_row + pos_of_raw), np.int64)
    R = np.empty((used.size, D), np.float32)
    slot = {p: j for j, p in enumerate(used.tolist())}
    if row_ids:
        rows = vectors.lookup(np.array(row_ids, np.int64)) if table else W[np.array(row_ids, np.int64)]
        if pre_normalize:
            # gensim's norms: np.linalg.norm(vectors, axis=1) = sqrt(add.reduce(x * x, axis=1))
            norms = np.sqrt(np.add.reduce(rows * rows, axis=1))
            safe = np.where(norms > 0, norms, np.float32(1))
            rows = np.where(norms[:, None] > 0, rows / safe[:, None], np.float32(0)).astype(np.float32)
        R[[slot[p] for p in pos_of_row]] = rows
    if raw:
        R[[slot[p] for p in pos_of_raw]] = np.stack(raw)
    wu = np.ascontiguousarray(w[used])
    mean = bag(R, np.arange(used.size, dtype=np.int64)[None, :], mode="sum",
               per_sample_weights=wu[None, :], n_threads=1)[0]
    # total_weight: gensim adds abs(weight) one key at a time in float32
    total = np.add.accumulate(np.abs(wu), dtype=np.float32)[-1] if wu.size else np.float32(0)
    if total > 0:
        mean = mean / total
    if post_normalize:
        mean = _unitvec(mean)
    return mean


def _unitvec(v: np.ndarray) -> np.ndarray:
    """gensim's ``matutils.unitvec`` for a float32 vector: its BLAS calls are the float64 ones
    (``dnrm2``, ``dscal`` on a float64 copy), then the result is cast back to float32. The norm is
    the correctly rounded one here (``math.fsum`` of the squares, exact in float64); a zero vector
    is returned unchanged."""
    v64 = v.astype(np.float64)
    n = math.sqrt(math.fsum((v64 * v64).tolist()))
    if not n > 0:
        return v
    return (v64 * (1.0 / n)).astype(np.float32)


# ------------------------------------------------------------------ sentence vectors and SIF

def sif_weights(counts, a: float = SIF_A) -> np.ndarray:
    """(V,) float32 SIF weights ``a / (a + p(w))``, ``p(w) = count(w) / sum(counts)`` (computed in
    float64, rounded once)."""
    c = np.asarray(counts)
    if c.dtype.kind not in "iuf" or c.ndim != 1:
        raise TypeError(f"counts must be a 1-D array of numbers, got {c.dtype} with shape {c.shape}")
    if not a > 0:
        raise ValueError(f"a must be positive, got {a}")
    total = float(c.sum(dtype=np.float64))
    if not total > 0:
        raise ValueError("counts sum to zero: SIF weights need word frequencies")
    return (a / (a + c.astype(np.float64) / total)).astype(np.float32)


def principal_component(X) -> np.ndarray:
    """(D,) float32 first right singular vector of X (not centred, as Arora et al.'s
    ``TruncatedSVD``), in float64; sign fixed so its largest-magnitude entry is positive."""
    X = np.asarray(X)
    B, D = X.shape
    if B == 0 or D == 0:
        return np.zeros(D, np.float32)
    if B <= D:
        u = np.linalg.svd(X.astype(np.float64), full_matrices=False)[2][0]
    else:  # the Gram matrix in float64, accumulated over blocks of rows: O(D^2) memory
        G = np.zeros((D, D), np.float64)
        for lo in range(0, B, 8192):
            x = X[lo:lo + 8192].astype(np.float64)
            G += x.T @ x
        u = np.linalg.eigh(G)[1][:, -1]
    if u[np.argmax(np.abs(u))] < 0:
        u = -u
    return u.astype(np.float32)


def remove_component(X, component) -> np.ndarray:
    """``X - (X @ u)[:, None] * u`` with u the unit-normalised component, computed in float64 and
    rounded once to float32 (a new array)."""
    X = np.asarray(X)
    u = np.asarray(component, np.float64)
    if not np.isfinite(u).all():
        raise ValueError(f"component has a non-finite value {float(u[~np.isfinite(u)][0])!r}: a NaN or inf "
                         "direction cannot be removed")
    n = np.linalg.norm(u)
    if not n > 0:
        return X.astype(np.float32)
    u = u / n
    X64 = X.astype(np.float64)
    return (X64 - np.outer(X64 @ u, u)).astype(np.float32)


def _tokens(sentences):
    """Sentences as token lists: a str is split on whitespace; a token list is used as it is."""
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of sentences (str or token lists), got one str; "
                        "wrap it in a list")
    return [s.split() if isinstance(s, str) else s for s in sentences]


def sentence_vectors(weights, sentences, *, vocab, mode: str = "mean", ignore_missing: bool = True,
                     counts=None, a: float = SIF_A, component=None, remove_pc: bool = True,
                     padding_idx=None, n_threads=None) -> SentenceVectors:
    """One vector per sentence: mean / sum / max of its word vectors, or SIF.

    Parameters
    ----------
    weights : ndarray, (V, D) float32
    sentences : sequence of str (split on whitespace) or of token lists
    vocab : Vocabulary
    mode : {"mean", "sum", "max", "sif"}
        "sif" (Arora, Liang & Ma 2017, "A simple but tough-to-beat baseline for sentence
        embeddings"): the mean of ``a / (a + p(w)) * v_w`` over the sentence's known words
        (``p(w)`` from the vocabulary's counts), then the projection on the first principal
        component of those sentence vectors is removed.
    ignore_missing : bool
        True: unknown words are skipped (and counted in ``missing``); False: KeyError.
    counts : (V,) array, optional
        SIF word counts (default: the vocabulary's).
    a : float
        SIF smoothing (default 1e-3).
    component : (D,) array, optional
        SIF: remove this component instead of computing it from ``sentences`` (embed new
        sentences with the component of a reference set).
    remove_pc : bool
        SIF: False keeps the weighted means (no component removed).
    padding_idx : int, optional
        A row skipped everywhere (as in :func:`bag`).

    Returns
    -------
    SentenceVectors
        ``(vectors (B, D) float32, missing (B,) int64, component (D,) float32 or None)``;
        sentences with no known word give zeros.
    """
    if mode not in SENTENCE_MODES:
        raise ValueError(f"mode must be one of {', '.join(repr(m) for m in SENTENCE_MODES)}, got {mode!r}")
    if vocab is None:
        raise TypeError("sentence vectors need a vocabulary (vocab=, or use a table that has one)")
    W = weights if getattr(weights, "storage", None) is not None else as_float_matrix(weights, "weights")
    bags = encode_bags(_tokens(sentences), vocab, ignore_missing=ignore_missing)
    if mode != "sif":
        if component is not None:
            raise ValueError(f"component is only used with mode='sif', got mode={mode!r}")
        out = bag(W, bags, mode=mode, padding_idx=padding_idx, n_threads=n_threads)
        return SentenceVectors(out, bags.missing, None)
    if counts is None:
        counts = vocab.counts
        if counts is None:
            raise ValueError("mode='sif' needs word counts: the vocabulary has none (pass counts=)")
    sw = sif_weights(counts, a)
    if sw.shape[0] != W.shape[0]:
        raise ValueError(f"counts has {sw.shape[0]} entries but the table has {W.shape[0]} rows")
    out = bag(W, bags, mode="sum", per_sample_weights=sw[bags.ids], padding_idx=padding_idx,
              n_threads=n_threads)
    pad = _padding(padding_idx, W.shape[0])
    n = _bag_counts(bags.ids, np.append(bags.offsets, bags.ids.size), bags.offsets.size, 0, pad)
    nz = n > 0
    out[nz] = out[nz] / n[nz].astype(np.float32)[:, None]
    if component is not None:
        u = as_float_matrix(component, "component", ndim=(1,))
        if u.shape != (W.shape[1],):
            raise ValueError(f"component has shape {u.shape}, expected ({W.shape[1]},)")
        if not np.isfinite(u).all():
            j = int(np.flatnonzero(~np.isfinite(u))[0])
            raise ValueError(f"component has a non-finite value {float(u[j])!r} at index {j}: pass the finite "
                             "(D,) component that sentence_vectors(..., mode='sif') returned")
    elif remove_pc:
        u = principal_component(out)
    else:
        return SentenceVectors(out, bags.missing, None)
    return SentenceVectors(remove_component(out, u), bags.missing, u)
