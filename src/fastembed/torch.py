"""``nn.Embedding`` and ``nn.EmbeddingBag`` whose forward and backward run fastembed's kernels.

:class:`Embedding` and :class:`EmbeddingBag` are ``torch.nn.Embedding`` / ``torch.nn.EmbeddingBag``
subclasses: the same constructor arguments, ``from_pretrained``, ``state_dict``, ``torch.save``,
optimizers (``SGD``, ``Adam`` on dense gradients, ``SparseAdam`` / ``SGD`` with ``sparse=True``).
Only ``forward`` differs: it calls an ``autograd.Function`` whose forward is fastembed's gather
(:meth:`EmbeddingTable.lookup`) or bag kernel (:func:`fastembed.pooling.bag`) and whose backward is
fastembed's segmented gradient sum (:meth:`EmbeddingTable.backward`,
:func:`fastembed.pooling.bag_backward`). The module's ``weight`` is an ``nn.Parameter``; ``.table``
is an :class:`~fastembed.EmbeddingTable` over the same memory (no copy), which watches the
parameter's version counter, so its cached norms follow the optimizer's in-place steps.

This module imports torch (``pip install 'fastembed-engine[torch]'``); ``import fastembed`` never
does.

Equality with torch (tests/test_torch.py holds each line):

* forward: ``Embedding`` and ``EmbeddingBag`` ``sum`` / ``max`` equal torch bit for bit; ``mean``
  too (both divide the sum by the count); ``per_sample_weights`` differs by the rounding of one
  multiply-add per id (torch's CPU kernel fuses ``acc + w * row`` into one FMA, ours rounds the
  product first: no ``-ffp-contract``, so every SIMD level gives the same bits).
* weight gradients: fastembed sums each row's occurrences in position order (as
  ``np.add.at``). ``Embedding``'s dense and sparse gradients equal torch's bit for bit
  (``grad.to_dense()``: torch's ``coalesce()`` re-orders duplicates through an unstable sort).
  ``EmbeddingBag`` ``sum`` / ``mean`` / ``max`` gradients equal torch's ``sparse=True`` gradient
  bit for bit, and torch's dense one (which sums duplicates in the order of an unstable sort of the
  ids) within the reassociation bound ``2 (k - 1) eps sum |terms|`` for an id occurring k times.
  ``scale_grad_by_freq`` (each id's gradient divided by its frequency in the batch, as
  ``nn.Embedding`` documents it): torch fuses each ``acc + g / count`` into one FMA, so within
  ``2 k eps sum |terms|``. torch 2.13's ``EmbeddingBag`` divides some ids by another id's count
  (its CPU dense backward, pytorch/pytorch#190063); ours follows the documented rule.
* ``max_norm`` renormalises the referenced rows in place with torch's own
  ``torch.embedding_renorm_`` (as ``F.embedding`` does), so the bits are torch's.

Beyond torch: ``scale_grad_by_freq`` works with ``sparse=True`` (torch raises), ``mode="max"``
gives sparse gradients (torch raises), the gradient is coalesced (one row per id, ids sorted), and
``from_pretrained`` also takes an :class:`~fastembed.EmbeddingTable` (shared, keys kept on
``.table``) or a numpy array. Weights are float32 CPU tensors (others are refused by name).
"""
from __future__ import annotations

import logging
import weakref
from typing import Any, Optional, Tuple

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - the tests run with torch, or skip this module
    raise ImportError(f"fastembed.torch needs PyTorch: pip install 'fastembed-engine[torch]' ({exc})") from exc

from fastembed import pooling
from fastembed._validate import as_int, check_id_range
from fastembed.table import EmbeddingTable

__all__ = ["Embedding", "EmbeddingBag"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ tensors <-> arrays

def _ids(x: Any, what: str) -> Tuple[torch.Tensor, np.ndarray]:
    """A CPU integer tensor (array-likes converted) and a numpy view of it (no copy)."""
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.layout != torch.strided or getattr(t, "is_nested", False):
        raise TypeError(f"{what} must be a dense (strided) tensor, got layout {t.layout}")
    if t.device.type != "cpu":
        raise ValueError(f"{what} is on {t.device}; fastembed's kernels run on the CPU (move it with .cpu())")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{what} must be an integer tensor (torch.long or torch.int), got {t.dtype}")
    return t, t.detach().numpy()


def _float_array(t: torch.Tensor) -> np.ndarray:
    """A float32 C-contiguous numpy view (or copy) of a CPU tensor, e.g. a gradient (torch hands
    expanded gradients with zero strides: materialised here)."""
    return t.detach().contiguous().to(torch.float32).numpy()


def _check_dtype(w: torch.Tensor) -> None:
    if w.dtype != torch.float32:
        raise TypeError(f"fastembed.torch modules hold float32 weights, got {w.dtype} (module.float() "
                        "converts it)")


def _check_weight(w: torch.Tensor) -> None:
    """The weight the kernels can share (checked at each forward: modules may be built on the
    meta device and moved, or converted, later)."""
    if w.device.type != "cpu":
        raise ValueError(f"the weight is on {w.device}; fastembed's kernels run on the CPU (module.cpu())")
    _check_dtype(w)
    if w.dim() != 2:
        raise ValueError(f"the weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}")
    if not w.is_contiguous():
        raise ValueError("the weight must be C-contiguous to be shared with a fastembed table "
                         "(pass embeddings.contiguous())")


def _pretrained(embeddings: Any, padding_idx: Optional[int]):
    """(tensor, vocab, padding_idx) for ``from_pretrained``: a tensor as torch takes it (shared), an
    EmbeddingTable (shared when writable) or a numpy array (shared when float32 and contiguous)."""
    vocab = None
    if isinstance(embeddings, EmbeddingTable):
        if embeddings.storage.name != "float32":
            raise TypeError(f"fastembed.torch modules hold float32 weights; this table is stored as "
                            f"{embeddings.storage.name}: pass table.astype('float32')")
        vocab = embeddings.vocab
        if padding_idx is None:
            padding_idx = embeddings.padding_idx
        w = embeddings.to_torch()  # shared; a read-only (memory-mapped) table is copied
    elif isinstance(embeddings, np.ndarray):
        w = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))
    elif isinstance(embeddings, torch.Tensor):
        w = embeddings
    else:
        raise TypeError(f"embeddings must be a torch.Tensor, a numpy array or an EmbeddingTable, "
                        f"got {type(embeddings).__name__}")
    if w.dim() != 2:
        raise ValueError(f"embeddings must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}")
    return w, vocab, padding_idx


def _renorm(weight: torch.Tensor, ids: torch.Tensor, ids_np: np.ndarray, max_norm: float,
            norm_type: float) -> None:
    """torch's max_norm: rows referenced by ``ids`` with a norm above ``max_norm`` are scaled down
    in place, by torch's own ``embedding_renorm_`` (as ``F.embedding`` does), after our id check."""
    check_id_range(ids_np, weight.shape[0])
    with torch.no_grad():
        torch.embedding_renorm_(weight, ids.contiguous().reshape(-1), max_norm, norm_type)


# ------------------------------------------------------------------ the shared table

class _Shared:
    """The fastembed table over a module's ``weight`` (built on first use, rebuilt when the
    parameter or its storage changes: ``module.weight = ...``, ``module.to(...)``, ``load_state_dict(
    assign=True)``). Dropped when pickling: the table is a view, rebuilt after ``torch.load``."""

    def _fe_table(self) -> EmbeddingTable:
        w = self.weight
        key = (w.data_ptr(), tuple(w.shape), tuple(w.stride()), w.dtype, w.device, self.padding_idx)
        cached = self.__dict__.get("_fe_cache")
        if cached is not None and cached[0] == key and cached[1]() is w:
            return cached[2]
        _check_weight(w)
        t = EmbeddingTable.from_torch(w, padding_idx=self.padding_idx, vocab=self.__dict__.get("_fe_vocab"),
                                      copy=False)
        if t.weights.__array_interface__["data"][0] != w.data_ptr():
            raise RuntimeError("the fastembed table does not share the weight's memory; this is a bug")
        self.__dict__["_fe_cache"] = (key, weakref.ref(w), t)
        log.debug("%s: fastembed table over the weight (%d x %d at 0x%x)%s", type(self).__name__, w.shape[0],
                  w.shape[1], w.data_ptr(), " rebuilt: the parameter or its storage changed" if cached else "")
        return t

    @property
    def table(self) -> EmbeddingTable:
        """The :class:`~fastembed.EmbeddingTable` over this module's weight (the same memory: no
        copy). It follows torch's in-place updates (its norm cache watches the parameter's version
        counter), so ``fastembed.words.most_similar(module.table, ...)`` sees the trained rows.
        Writes through the table (``set_rows``) are not seen by autograd's version checks: prefer
        writing the parameter under ``torch.no_grad()``."""
        return self._fe_table()

    def __getstate__(self):
        state = super().__getstate__()  # type: ignore[misc]
        state = dict(state)
        state.pop("_fe_cache", None)
        return state


def _sparse_or_dense(u: np.ndarray, rows: np.ndarray, V: int, D: int, sparse: bool) -> torch.Tensor:
    """The weight gradient: a coalesced sparse COO tensor (one row per id, ids ascending) or a
    dense (V, D) tensor with zeros elsewhere."""
    tu, tr = torch.from_numpy(u), torch.from_numpy(rows)
    if sparse:
        # valid by construction (unique sorted ids in range): torch's invariant checks add a pass
        return torch.sparse_coo_tensor(tu.unsqueeze(0), tr, (V, D), is_coalesced=True, check_invariants=False)
    g = torch.zeros(V, D, dtype=torch.float32)
    if u.size:
        g.index_copy_(0, tu, tr)
    return g


# ------------------------------------------------------------------ Embedding

class _LookupFn(torch.autograd.Function):
    """``weight[ids]`` by fastembed's gather; the weight's gradient by its segmented sum."""

    @staticmethod
    def forward(ctx, weight, ids, ids_np, table, scale_grad_by_freq, sparse, n_threads):  # type: ignore[override]
        out = torch.empty(ids_np.shape + (table.dim,), dtype=torch.float32)
        table.lookup(ids_np, out=out.numpy(), n_threads=n_threads)
        ctx.save_for_backward(ids)  # autograd then refuses a backward after ids changed in place
        ctx.fe = (ids_np, table, scale_grad_by_freq, sparse, n_threads)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):  # type: ignore[override]
        ctx.saved_tensors  # noqa: B018 - raises if ids were modified in place since the forward
        if not ctx.needs_input_grad[0]:
            return (None,) * 7
        ids_np, table, sgf, sparse, nt = ctx.fe
        u, rows = table.backward(ids_np, _float_array(grad_out), scale_grad_by_freq=sgf, n_threads=nt)
        return (_sparse_or_dense(u, rows, table.num_embeddings, table.dim, sparse),) + (None,) * 6


class Embedding(_Shared, nn.Embedding):
    """``torch.nn.Embedding`` computed by fastembed's kernels (see :mod:`fastembed.torch`).

    Parameters
    ----------
    num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
    device, dtype
        As ``torch.nn.Embedding`` (weights are float32 CPU tensors).
    n_threads : int, optional
        Threads for the forward and backward kernels (None: fastembed's policy, all cores for large
        calls; independent of ``torch.set_num_threads``).

    Examples
    --------
    >>> emb = Embedding(1000, 16, padding_idx=0, sparse=True)
    >>> opt = torch.optim.SparseAdam(emb.parameters())
    >>> emb(torch.tensor([[1, 2, 0]])).sum().backward(); opt.step()
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Optional[int] = None,
                 max_norm: Optional[float] = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Optional[torch.Tensor] = None, _freeze: bool = False,
                 device: Any = None, dtype: Any = None, *, n_threads: Optional[int] = None) -> None:
        super().__init__(num_embeddings, embedding_dim, padding_idx=padding_idx, max_norm=max_norm,
                         norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                         _weight=_weight, _freeze=_freeze, device=device, dtype=dtype)
        self.n_threads = None if n_threads is None else as_int(n_threads, "n_threads")
        _check_dtype(self.weight)  # the rest when the kernels first run (meta-device modules move later)

    def forward(self, input: Any) -> torch.Tensor:
        """``weight[input]``: (*input.shape, embedding_dim) float32."""
        ids, ids_np = _ids(input, "input")
        if self.max_norm is not None:
            _renorm(self.weight, ids, ids_np, self.max_norm, self.norm_type)
        table = self._fe_table()
        return _LookupFn.apply(self.weight, ids, ids_np, table, self.scale_grad_by_freq, self.sparse,
                               self.n_threads)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: Optional[int] = None,
                        max_norm: Optional[float] = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False, *,
                        n_threads: Optional[int] = None) -> "Embedding":
        """As ``nn.Embedding.from_pretrained`` (the tensor is shared, not copied); ``embeddings`` may
        also be an :class:`~fastembed.EmbeddingTable` (shared; its vocabulary and padding_idx
        carried over to ``.table``) or a numpy array."""
        w, vocab, padding_idx = _pretrained(embeddings, padding_idx)
        m = cls(w.shape[0], w.shape[1], padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=w, _freeze=freeze,
                n_threads=n_threads)
        m._fe_vocab = vocab
        return m


# ------------------------------------------------------------------ EmbeddingBag

def _bag_counts(ids_np: np.ndarray, bounds: Optional[np.ndarray], pad: Optional[int]) -> np.ndarray:
    """(B,) non-padding ids per bag (the count a mean divides by, as torch's bag_size)."""
    if bounds is None:  # (B, T) bags
        B, T = ids_np.shape
        return np.full(B, T, np.int64) - ((ids_np == pad).sum(axis=1) if pad is not None else 0)
    counts = np.diff(bounds)
    if pad is not None:
        cum = np.concatenate([[0], np.cumsum(ids_np.reshape(-1) == pad)])
        counts = counts - (cum[bounds[1:]] - cum[bounds[:-1]])
    return counts


def _bounds(ids_np: np.ndarray, offsets_np: Optional[np.ndarray], include_last_offset: bool):
    """(B + 1,) int64 bag bounds for 1-D ids (validated by the forward already), None for 2-D."""
    if ids_np.ndim == 2:
        return None
    o = offsets_np.astype(np.int64).reshape(-1)
    return o if include_last_offset else np.append(o, np.int64(ids_np.size))


class _BagFn(torch.autograd.Function):
    """torch's ``embedding_bag`` by fastembed's bag kernel; the weight's gradient by its segmented
    sum, ``per_sample_weights``' gradient (sum mode) as torch's: the dot of each bag's gradient with
    each sample's row."""

    @staticmethod
    def forward(ctx, weight, per_sample_weights, ids, offsets, ids_np, offsets_np, table, mode,  # type: ignore[override]
                include_last_offset, sparse, scale_grad_by_freq, n_threads):
        psw_np = None if per_sample_weights is None else per_sample_weights.detach().numpy()
        res = pooling.bag(table.weights, ids_np, offsets_np, mode=mode, per_sample_weights=psw_np,
                          include_last_offset=include_last_offset, padding_idx=table.padding_idx,
                          n_threads=n_threads, return_argmax=mode == "max")
        out, argmax = res if mode == "max" else (res, None)
        saved = [t for t in (ids, offsets, per_sample_weights) if t is not None]
        if per_sample_weights is not None and per_sample_weights.requires_grad:
            saved.append(weight)  # its gradient reads the rows: a later in-place step is refused
        ctx.save_for_backward(*saved)
        ctx.fe = (ids_np, offsets_np, psw_np, table, mode, include_last_offset, sparse, scale_grad_by_freq,
                  n_threads, argmax)
        return torch.from_numpy(out)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):  # type: ignore[override]
        ctx.saved_tensors  # noqa: B018 - raises if an input was modified in place since the forward
        ids_np, offsets_np, psw_np, table, mode, last, sparse, sgf, nt, argmax = ctx.fe
        g = _float_array(grad_out)
        pad = table.padding_idx
        W = table.weights
        bounds = _bounds(ids_np, offsets_np, last)
        gw = gp = None
        if ctx.needs_input_grad[0]:
            if mode == "max":
                u, rows = pooling.bag_backward(W, ids_np, offsets_np, g, "max", include_last_offset=last,
                                               padding_idx=pad, argmax=argmax, n_threads=nt)
            else:
                # torch's order of roundings (its sparse path): each bag's gradient times the
                # float32 reciprocal of its count (mean), times the sample's weight, summed in
                # position order; scale_grad_by_freq divides each term by its id's count
                if mode == "mean":
                    inv = np.float32(1) / np.maximum(_bag_counts(ids_np, bounds, pad), 1).astype(np.float32)
                    g = g * inv[:, None]
                w = psw_np
                if sgf:
                    flat = ids_np.reshape(-1).astype(np.int64)
                    _, where, freq = np.unique(flat, return_inverse=True, return_counts=True)
                    scale = np.float32(1) / freq[where].astype(np.float32)
                    w = scale if w is None else (w.reshape(-1).astype(np.float32) * scale)
                    w = w.reshape(ids_np.shape)
                u, rows = pooling.bag_backward(W, ids_np, offsets_np, g, "sum", w, include_last_offset=last,
                                               padding_idx=pad, n_threads=nt)
            gw = _sparse_or_dense(u, rows, table.num_embeddings, table.dim, sparse)
        if ctx.needs_input_grad[1]:
            gp = torch.from_numpy(_psw_grad(table, ids_np, bounds, g, pad, nt))
        return (gw, gp) + (None,) * 10


def _psw_grad(table: EmbeddingTable, ids_np: np.ndarray, bounds: Optional[np.ndarray], g: np.ndarray,
              pad: Optional[int], n_threads) -> np.ndarray:
    """d out / d per_sample_weights (sum mode): ``dot(grad_out[bag of p], weight[ids[p]])`` for each
    sample p, 0 for padding samples (as torch), shaped like ids."""
    rows = table.lookup(ids_np, n_threads=n_threads)  # (*ids.shape, D)
    if bounds is None:
        dots = np.einsum("btd,bd->bt", rows, g)
    else:
        bag_of = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
        dots = np.einsum("nd,nd->n", rows, g[bag_of])
    if pad is not None:
        dots[ids_np == pad] = 0
    return dots.astype(np.float32)


class EmbeddingBag(_Shared, nn.EmbeddingBag):
    """``torch.nn.EmbeddingBag`` computed by fastembed's kernels (see :mod:`fastembed.torch`).

    Parameters
    ----------
    num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
    include_last_offset, padding_idx, device, dtype
        As ``torch.nn.EmbeddingBag`` (weights are float32 CPU tensors). ``mode="max"`` may also be
        ``sparse``; ``scale_grad_by_freq`` may be ``sparse``.
    n_threads : int, optional
        Threads for the kernels (None: fastembed's policy).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Optional[float] = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Optional[torch.Tensor] = None, include_last_offset: bool = False,
                 padding_idx: Optional[int] = None, device: Any = None, dtype: Any = None, *,
                 n_threads: Optional[int] = None) -> None:
        if mode not in pooling.MODES:
            raise ValueError(f"mode must be one of {', '.join(repr(m) for m in pooling.MODES)}, got {mode!r}")
        if mode == "max" and scale_grad_by_freq:
            raise ValueError("mode='max' does not support scale_grad_by_freq (as torch): a max has no "
                             "frequency to scale by")
        super().__init__(num_embeddings, embedding_dim, max_norm=max_norm, norm_type=norm_type,
                         scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse, _weight=_weight,
                         include_last_offset=include_last_offset, padding_idx=padding_idx, device=device,
                         dtype=dtype)
        self.n_threads = None if n_threads is None else as_int(n_threads, "n_threads")
        _check_dtype(self.weight)  # the rest when the kernels first run (meta-device modules move later)

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Pool each bag: (B, embedding_dim) float32. ``input`` (B, T) (offsets None) or (N,) with
        ``offsets``; ``per_sample_weights`` shaped like ``input``, ``mode="sum"`` only."""
        ids, ids_np = _ids(input, "input")
        offs = offs_np = None
        if offsets is not None:
            offs, offs_np = _ids(offsets, "offsets")
        if per_sample_weights is not None:
            if not isinstance(per_sample_weights, torch.Tensor):
                per_sample_weights = torch.as_tensor(np.asarray(per_sample_weights, np.float32))
            if per_sample_weights.dtype != torch.float32:
                raise TypeError(f"per_sample_weights must be float32 like the weight, got {per_sample_weights.dtype}")
            if per_sample_weights.device.type != "cpu":
                raise ValueError(f"per_sample_weights is on {per_sample_weights.device}; move it with .cpu()")
        if self.max_norm is not None:
            _renorm(self.weight, ids, ids_np, self.max_norm, self.norm_type)
        table = self._fe_table()
        return _BagFn.apply(self.weight, per_sample_weights, ids, offs, ids_np, offs_np, table, self.mode,
                            self.include_last_offset, self.sparse, self.scale_grad_by_freq, self.n_threads)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, max_norm: Optional[float] = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: Optional[int] = None, *, n_threads: Optional[int] = None) -> "EmbeddingBag":
        """As ``nn.EmbeddingBag.from_pretrained``; ``embeddings`` may also be an
        :class:`~fastembed.EmbeddingTable` (shared) or a numpy array."""
        w, vocab, padding_idx = _pretrained(embeddings, padding_idx)
        m = cls(w.shape[0], w.shape[1], max_norm=max_norm, norm_type=norm_type,
                scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse, _weight=w,
                include_last_offset=include_last_offset, padding_idx=padding_idx, n_threads=n_threads)
        m.weight.requires_grad = not freeze
        m._fe_vocab = vocab
        return m
