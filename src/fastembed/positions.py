"""Position embeddings: learned tables and sinusoidal encodings in both layouts in use.

A *position source* is anything with a ``weights`` attribute holding a (P, D) float32 matrix; a
plain (P, D) array works too. ``EmbeddingTable.embed`` adds ``positions[p]`` to each token row.
"""
from __future__ import annotations

import functools
import math

from typing import NamedTuple, Optional

import numpy as np

from fastembed._validate import as_float_matrix, as_ids, as_int, check_id_range

__all__ = ["LearnedPositions", "SinusoidalPositions", "sinusoidal_table", "resolve_scale",
           "as_position_matrix", "position_rows", "LAYOUTS"]

LAYOUTS = ("interleaved", "concat")


def sinusoidal_table(max_len: int, dim: int, *, layout: str = "interleaved",
                     base: float = 10000.0) -> np.ndarray:
    """Sinusoidal position encodings, computed in float64 and rounded once to float32.

    Parameters
    ----------
    max_len, dim : int
        Rows P and columns D of the result.
    layout : {"interleaved", "concat"}
        ``"interleaved"`` ("Attention Is All You Need", the PyTorch tutorial): column ``2i`` is
        ``sin(p / base**(2i/D))`` and column ``2i+1`` is ``cos`` of the same angle.
        ``"concat"`` (fairseq, tensor2tensor): the first ``D//2`` columns are ``sin(p * f_i)`` and
        the next ``D//2`` are ``cos(p * f_i)`` with ``f_i = base**(-i/(D//2 - 1))``; an odd D gets a
        last column of zeros (as fairseq pads).

    Returns
    -------
    ndarray, shape (max_len, dim), float32 (read-only; cached per arguments)
    """
    return _sinusoidal_cached(int(max_len), int(dim), str(layout), float(base))


@functools.lru_cache(maxsize=32)
def _sinusoidal_cached(max_len, dim, layout, base):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if max_len < 0 or dim < 0:
        raise ValueError(f"max_len and dim must be non-negative, got {max_len}, {dim}")
    if not base > 0:
        raise ValueError(f"base must be positive, got {base}")
    p = np.arange(max_len, dtype=np.float64)[:, None]
    out = np.zeros((max_len, dim), dtype=np.float64)
    if layout == "interleaved":
        freq = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)  # one per sin/cos pair
        ang = p * freq
        out[:, 0::2] = np.sin(ang)
        out[:, 1::2] = np.cos(ang[:, : dim // 2])
    else:
        half = dim // 2
        if half > 0:
            step = math.log(base) / max(half - 1, 1)
            freq = np.exp(np.arange(half, dtype=np.float64) * -step)
            ang = p * freq
            out[:, :half] = np.sin(ang)
            out[:, half: 2 * half] = np.cos(ang)
    res = out.astype(np.float32)
    res.flags.writeable = False
    return res


class SinusoidalPositions:
    """Fixed sinusoidal encodings, computed once up to ``max_len`` and cached.

    ``weights`` is the (max_len, dim) float32 table (see :func:`sinusoidal_table` for layouts).
    """

    def __init__(self, dim: int, max_len: int = 2048, *, layout: str = "interleaved",
                 base: float = 10000.0):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.dim, self.max_len, self.layout, self.base = int(dim), int(max_len), layout, float(base)

    @property
    def weights(self) -> np.ndarray:
        return sinusoidal_table(self.max_len, self.dim, layout=self.layout, base=self.base)

    def __len__(self) -> int:
        return self.max_len

    def __repr__(self) -> str:
        return (f"SinusoidalPositions(dim={self.dim}, max_len={self.max_len}, "
                f"layout={self.layout!r}, base={self.base:g})")


class LearnedPositions:
    """A learned (P, D) position table, e.g. GPT-2's ``wpe`` loaded from a checkpoint."""

    def __init__(self, weights):
        self.weights = as_float_matrix(weights, "position weights")

    @classmethod
    def random(cls, max_len: int, dim: int, *, seed=0, scale: float = 0.1) -> "LearnedPositions":
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((int(max_len), int(dim)), dtype=np.float32)
        w *= np.float32(scale)
        return cls(w)

    def __len__(self) -> int:
        return self.weights.shape[0]

    def __repr__(self) -> str:
        return f"LearnedPositions(max_len={self.weights.shape[0]}, dim={self.weights.shape[1]})"


def as_position_matrix(positions) -> np.ndarray:
    """The (P, D) float32 C-contiguous matrix behind a position source or array."""
    w = getattr(positions, "weights", positions)
    if w is None:
        raise TypeError("positions must be a (P, D) array or a position source with .weights")
    if isinstance(w, np.ndarray) and w.dtype == np.float32 and w.ndim == 2 and w.flags.c_contiguous:
        return w
    return as_float_matrix(w, "positions")


def resolve_scale(scale, dim: int) -> np.float32:
    """The float32 factor applied to token rows: None -> 1, "sqrt" -> sqrt(D), a number -> itself."""
    if scale is None:
        return np.float32(1.0)
    if isinstance(scale, str):
        if scale != "sqrt":
            raise ValueError(f"scale must be None, a number or 'sqrt', got {scale!r}")
        return np.float32(math.sqrt(dim))
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise TypeError(f"scale must be None, a number or 'sqrt', got {scale!r}") from None
    if not math.isfinite(s) or abs(s) > float(np.finfo(np.float32).max):
        raise ValueError(f"scale must be finite in float32, got {scale!r}")
    return np.float32(s)


def position_rows(shape, B: int, T: int, P: int, offset, position_ids):
    """Where each token of ``ids`` (shape (B, T) or (T,)) reads the (P, D) position table,
    bounds-checked: ``(pos_idx, offsets)``, exactly one of them not None.

    ``pos_idx``: flat (B*T,) int64 rows, when ``position_ids`` (shape like ids) are given.
    ``offsets``: (B,) int64 starts, otherwise: sequence b's token t is at ``offset[b] + t`` (no
    (B*T,) index is built). Offsets are checked in Python integers, so no offset near 2**63 can
    wrap around (an unsigned offset of 2**63 is past the table, not negative).
    """
    if position_ids is not None:
        if not (np.ndim(offset) == 0 and as_int(offset, "offset") == 0):
            raise ValueError("pass either position_ids or offset, not both")
        p = as_ids(position_ids, "position_ids")
        if p.shape != tuple(shape):
            raise ValueError(f"position_ids has shape {p.shape}, expected {tuple(shape)} like ids")
        check_id_range(p, P, "position id", "a position table")
        return p.reshape(-1).astype(np.int64), None
    off = as_ids(offset, "offset")
    if off.ndim == 0:
        off = np.full(B, off, dtype=off.dtype)
    elif off.shape != (B,):
        raise ValueError(f"offset must be an int or have shape ({B},), got shape {off.shape}")
    if B and off.dtype.kind == "i" and off.min() < 0:
        b = int(np.argmin(off))
        raise ValueError(f"offset {int(off[b])} for sequence {b} is negative")
    if B and T:
        b = int(np.argmax(off))
        first = int(off[b])            # a Python int: first + T - 1 cannot overflow
        last = first + T - 1
        if last >= P:
            raise IndexError(f"position {last} (offset {first} + length {T} - 1, sequence {b}) is beyond "
                             f"the position table of {P} rows by {last - P + 1}")
    return None, np.ascontiguousarray(off, dtype=np.int64)


class EmbedInputs(NamedTuple):
    """What the fused embed kernel reads besides the token rows (see :func:`embed_inputs`)."""
    pos: np.ndarray                  # (P, D) float32 position rows
    pos_idx: Optional[np.ndarray]    # explicit position ids, flattened, or None
    pos_off: Optional[np.ndarray]    # per-sequence offsets, or None
    scale: float                     # the token rows' factor
    types: Optional[np.ndarray]      # (n_types, D) float32 token-type rows, or None
    type_idx: Optional[np.ndarray]   # (B * T,) int64 token types, or None (every token reads row 0)
    T: int                           # tokens per sequence


def embed_inputs(shape, D: int, positions, offset, position_ids, scale, token_types, type_table) -> EmbedInputs:
    """Validate :meth:`EmbeddingTable.embed`'s arguments for ids of ``shape`` ((B, T) or (T,)) and
    a table of width ``D``; every message names the argument and the value."""
    if len(shape) not in (1, 2):
        raise ValueError(f"ids must be (B, T) or (T,), got shape {tuple(shape)}")
    B, T = (1, shape[0]) if len(shape) == 1 else shape
    pos = as_position_matrix(positions)
    if pos.shape[1] != D:
        raise ValueError(f"position table has dim {pos.shape[1]} but the token table has dim {D}")
    s = resolve_scale(scale, D)
    pos_idx, pos_off = position_rows(tuple(shape), B, T, pos.shape[0], offset, position_ids)
    types = tidx = None
    if type_table is not None:
        types = as_float_matrix(type_table, "type_table")
        if types.shape[1] != D:
            raise ValueError(f"type_table has dim {types.shape[1]} but the token table has dim {D}")
        if types.shape[0] == 0:
            raise ValueError("type_table has no rows")
        if token_types is not None:  # without them every token reads type row 0
            tt = as_ids(token_types, "token_types")
            if tt.shape != tuple(shape):
                raise ValueError(f"token_types has shape {tt.shape}, expected {tuple(shape)} like ids")
            check_id_range(tt, types.shape[0], "token type", "type_table")
            tidx = tt.reshape(-1).astype(np.int64)
    elif token_types is not None:
        raise ValueError("token_types given without a type_table")
    return EmbedInputs(pos, pos_idx, pos_off, float(s), types, tidx, int(T))
