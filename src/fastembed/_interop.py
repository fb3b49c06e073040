"""Arrays in and out of PyTorch and gensim, without importing either unless they are used.

The functions here turn the other libraries' objects into numpy pieces (and back); the table's
torch constructor and exporters (:meth:`EmbeddingTable.from_torch`, ``to_torch``, ``__dlpack__``)
and the conversions of :mod:`fastembed.interop` build on them. This module knows nothing of the
table (the table imports it).

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

__all__ = ["is_torch_tensor", "torch_weights", "torch_dtype", "numpy_to_torch", "gensim_parts", "make_gensim",
           "as_numpy", "dlpack", "to_torch"]


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


# ------------------------------------------------------------------ a table's rows out (numpy, DLPack, torch)
# ``table`` is an EmbeddingTable: these are its __array__, __dlpack__ and to_torch (this module cannot
# import the table; the table calls in). A writable alias that goes out is reported back through
# table._alias(tensor or None), so the norm cache follows writes it can see and stops where it cannot.

def as_numpy(table, dtype, copy):
    """``np.asarray(table)``: see ``EmbeddingTable.__array__``."""
    if table.storage.name == "bfloat16":
        if copy is False:
            raise ValueError("a bfloat16 table converts to numpy only as a float32 copy (numpy has no bfloat16)")
        f = table[:]
        return f if dtype is None else f.astype(dtype)
    w = table.weights
    if dtype is not None and np.dtype(dtype) != w.dtype:
        if copy is False:
            raise ValueError(f"converting the table to {np.dtype(dtype)} needs a copy")
        return w.astype(dtype)
    return np.array(w) if copy else w


def dlpack(table, stream, max_version, copy):
    """``table.__dlpack__``: see ``EmbeddingTable.__dlpack__``."""
    if stream is not None and stream != -1:
        raise BufferError("fastembed tables live on the CPU; no stream applies")
    kw = {} if max_version is None else {"max_version": max_version}
    w = table._live()
    if table.storage.name == "bfloat16":  # numpy's DLPack has no bfloat16: the float32 upcast, a copy
        if copy is False:
            raise BufferError("a bfloat16 table is exported through numpy's DLPack only as a float32 "
                              "copy; use table.to_torch() for a shared torch.bfloat16 tensor")
        return table[:].__dlpack__(**kw)
    if not w.flags.writeable:
        if copy is False:
            raise BufferError("this table is read-only (a memory map): it can be exported only as "
                              "a copy (copy=None or True)")
        return np.array(w).__dlpack__(**kw)
    if copy:
        return np.array(w).__dlpack__(**kw)
    table._alias(None)
    return w.__dlpack__(**kw)


def to_torch(table, copy):
    """``table.to_torch``: see ``EmbeddingTable.to_torch``."""
    w = table._live()
    if copy is False and not w.flags.writeable:
        raise ValueError("this table is read-only (a memory map); torch has no read-only tensors, "
                         "so it can be handed to torch only as a copy")
    bf = table.storage.name == "bfloat16"
    a = np.array(w) if copy or not w.flags.writeable else w
    t = numpy_to_torch(a.view(np.int16) if bf else a)
    if bf:
        t = t.view(torch_dtype("bfloat16"))
    if a is w:
        table._alias(t)
    return t
