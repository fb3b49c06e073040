"""Pure-numpy reference implementations: the same signatures and semantics as the compiled kernels.

This is product code, not a test helper: the tests assert the kernels equal these functions, and
``bench/`` times them as the baseline. They favour clarity over speed.
"""
from __future__ import annotations

import numpy as np

__all__ = ["lookup", "one_hot", "embed", "sinusoidal_table"]


def lookup(weights: np.ndarray, ids) -> np.ndarray:
    """``weights[ids]``: (V, D) float32, ids of any shape -> (*ids.shape, D) float32."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= weights.shape[0]):
        raise IndexError("id out of range")
    return weights[ids]


def one_hot(ids, num_classes: int) -> np.ndarray:
    """(*ids.shape, num_classes) float32 with a single 1 per id."""
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def embed(weights, ids, positions, *, offset=0, position_ids=None, scale=None, token_types=None,
          type_table=None) -> np.ndarray:
    """``weights[ids] * scale + pos[p] (+ type_table[token_types])`` in two numpy passes.

    Same arguments as :meth:`EmbeddingTable.embed`; ``p[b, t] = offset(+[b]) + t`` or
    ``position_ids[b, t]``.
    """
    from fastembed.positions import as_position_matrix, resolve_scale
    ids = np.asarray(ids)
    single = ids.ndim == 1
    ids2 = ids[None, :] if single else ids
    B, T = ids2.shape
    pos = as_position_matrix(positions)
    if position_ids is not None:
        p = np.asarray(position_ids).reshape(B, T)
    else:
        p = np.reshape(np.asarray(offset), (-1, 1)) + np.arange(T)[None, :]
        p = np.broadcast_to(p, (B, T))
    out = weights[ids2] * resolve_scale(scale, weights.shape[1]) + pos[p]
    if type_table is not None:
        tt = np.zeros((B, T), np.int64) if token_types is None else np.asarray(token_types).reshape(B, T)
        out = out + np.asarray(type_table, np.float32)[tt]
    return out[0] if single else out


def sinusoidal_table(max_len: int, dim: int, *, layout: str = "interleaved",
                     base: float = 10000.0) -> np.ndarray:
    """Element by element with Python's math in float64, then one rounding to float32."""
    import math
    out = np.zeros((max_len, dim), np.float64)
    for pos in range(max_len):
        if layout == "interleaved":
            for i in range(dim):
                angle = pos / base ** ((i - i % 2) / dim)
                out[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
        else:
            half = dim // 2
            for i in range(half):
                angle = pos * math.exp(i * -(math.log(base) / max(half - 1, 1)))
                out[pos, i] = math.sin(angle)
                out[pos, half + i] = math.cos(angle)
    return out.astype(np.float32)
