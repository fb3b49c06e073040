"""Arrays in and out of PyTorch and gensim, without importing either unless they are used.

The functions here turn the other libraries' objects into numpy pieces (and back); the table's
constructors (:meth:`EmbeddingTable.from_torch`, :meth:`EmbeddingTable.from_gensim`) and
exporters (``to_torch``, ``to_gensim``, ``__dlpack__``) build on them.

Sharing memory with torch, and the norm cache:

* a torch tensor a table is built on (``from_torch``) or handed out by ``to_torch()`` shares the
  table's memory; the table watches the tensor's version counter (torch bumps it on every
  in-place change, which is how optimizers update parameters), so its cached row norms are
  refreshed after torch writes the rows;
* read-only tables (memory maps) are never handed to torch as an alias (torch has no read-only
  tensors: a write would crash the process); ``to_torch()`` copies them.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["is_torch_tensor", "torch_weights", "torch_dtype", "numpy_to_torch", "gensim_parts", "make_gensim"]


def is_torch_tensor(x) -> bool:
    """True for a torch.Tensor (or Parameter), without importing torch."""
    t = type(x)
    return t.__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "_version")


def torch_weights(x) -> Tuple[np.ndarray, Optional[object], Optional[str]]:
    """The (V, D) rows of a torch tensor, ``nn.Embedding`` / ``nn.EmbeddingBag`` (or any module with
    a 2-D ``weight``) as a numpy array, the tensor to watch when the array shares its memory, and
    the storage dtype the array holds (None: float32 or another numpy float dtype).

    float32 and float16 CPU tensors are shared (zero-copy when contiguous); bfloat16 tensors are
    shared as their uint16 bit patterns (storage "bfloat16": numpy has no bfloat16); float64 is
    returned as it is (the table converts it). GPU tensors are refused: move them with ``.cpu()``.
    """
    w = getattr(x, "weight", x)
    if not is_torch_tensor(w):
        raise TypeError(f"expected a torch tensor or a module with a .weight tensor, got {type(x).__name__}")
    if w.device.type != "cpu":
        raise ValueError(f"the tensor is on {w.device}; move it to the CPU first (tensor.cpu())")
    if w.dim() != 2:
        raise ValueError(f"expected a 2-D (V, D) tensor, got shape {tuple(w.shape)}")
    d = w.detach()
    name = str(d.dtype).replace("torch.", "")
    if name not in ("float32", "float16", "bfloat16", "float64"):
        raise TypeError(f"expected a floating-point tensor, got {d.dtype}")
    shared = d.is_contiguous()
    if not shared:
        d = d.contiguous()
    if name == "bfloat16":  # numpy has no bfloat16: the 16 bits, shared
        return d.view(_torch().int16).numpy().view(np.uint16), (w if shared else None), "bfloat16"
    return d.numpy(), (w if shared else None), ("float16" if name == "float16" else None)


def numpy_to_torch(a: np.ndarray):
    """``torch.from_numpy`` of a writable C-contiguous array (shares memory)."""
    return _torch().from_numpy(a)


def torch_dtype(name: str):
    """The torch dtype called ``name`` ("bfloat16", "float16", ...)."""
    return getattr(_torch(), name)


def _torch():
    import torch  # optional dependency: imported only when torch objects are used
    return torch


def gensim_parts(kv):
    """(vectors (V, D), keys, counts or None) of a gensim ``KeyedVectors`` (or a model with ``.wv``)."""
    kv = getattr(kv, "wv", kv)
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise TypeError(f"expected a gensim KeyedVectors (or a model with .wv), got {type(kv).__name__}")
    keys = [str(k) for k in kv.index_to_key]
    counts = None
    expandos = getattr(kv, "expandos", {}) or {}
    if "count" in expandos:
        c = np.asarray(expandos["count"])
        if c.shape == (len(keys),) and c.dtype.kind in "iu" and c.any():
            counts = c.astype(np.int64)
    return np.asarray(kv.vectors), keys, counts


def make_gensim(weights: np.ndarray, keys, counts):
    """A gensim ``KeyedVectors`` holding a copy of ``weights`` with ``keys`` (and counts)."""
    from gensim.models import KeyedVectors  # optional dependency
    kv = KeyedVectors(vector_size=weights.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(list(keys), np.array(weights, np.float32))
    if counts is not None:
        for k, c in zip(keys, np.asarray(counts).tolist()):
            kv.set_vecattr(k, "count", int(c))
    return kv
