"""Storage dtypes: how a table's rows are kept in memory, and how they become float32.

A table stores its (V, D) rows in one of :data:`STORAGE`'s dtypes and computes in float32. This
module is the one place that knows the list: the table, the file formats, the tests and the
reference ask it (``resolve(dtype)``, ``of_array(a)``, ``STORAGE``) instead of testing dtypes
themselves. The kernels' code for each dtype comes from the compiled kernels (``csrc/fe_kinds.h``,
one C enum), not from a second list here. Adding a storage dtype is one :class:`StorageDType` entry
here plus its kernel instantiation (``csrc/impl/kinds.h``).

The dtypes:

* ``float32``: numpy float32, what every kernel computes in.
* ``float16``: numpy float16 (IEEE binary16). Upcast exactly; a NaN comes out quiet (its quiet bit
  set), as the x86 conversion instructions (F16C, AVX-512) do, so every SIMD level and this module
  give the same bits.
* ``bfloat16``: numpy has none, so the rows are the uint16 bit patterns (the top half of a
  float32's bits, as torch and safetensors store them). Upcast is a 16-bit shift (exact, payloads
  kept); rounding from float32 is to nearest even, NaN kept NaN.

Overflow: a finite value beyond a half dtype's range (65504 for float16) would round to inf, and
every cosine with its row would become NaN; storing one raises ValueError naming the value (from
the constructor, ``set_rows``, ``scatter_add`` / the optimizers, ``load(dtype=...)`` and
``astype``). inf and NaN inputs are stored as they are.
* ``int8``: row-scaled codes: each row keeps one float32 ``scale = max|row| / 127`` and int8 codes
  ``round(x / scale)`` (nearest even, in [-127, 127]); a value is ``float32(code) * scale`` (one
  float32 multiply: the "dequantisation" every kernel and :func:`fastembed.reference` compute).
  ``(D + 4) / (4 D)`` of the float32 bytes (0.26x at D = 300). Rows must be finite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from fastembed._kernels._simd import storage_kinds

__all__ = ["StorageDType", "STORAGE", "resolve", "of_array", "convert", "stored_as", "FLOAT32", "FLOAT16", "BFLOAT16", "INT8"]

_KINDS = {name: (code, itemsize, scaled) for name, code, itemsize, scaled in storage_kinds()}


@dataclass(frozen=True)
class StorageDType:
    """One storage dtype.

    name : the public name (``EmbeddingTable(w, dtype=name)``, ``load(..., dtype=name)``)
    numpy : the numpy dtype of the stored elements (uint16 bit patterns for bfloat16)
    decode : (stored rows, scales or None) -> float32 values of the same shape; exact
    encode : float32 rows -> (stored rows, (V,) float32 scales or None); rounds where it must
    safetensors : the dtype's name in safetensors headers
    kernel : the compiled kernels' code for these rows (csrc/fe_kinds.h); they take the rows as
        :meth:`bits` (a view, no copy)
    scaled : whether each row carries a float32 scale (int8)
    """
    name: str
    numpy: np.dtype
    decode: Callable[[np.ndarray, Optional[np.ndarray]], np.ndarray]
    encode: Callable[[np.ndarray], Tuple[np.ndarray, Optional[np.ndarray]]]
    safetensors: str = "F32"

    @property
    def kernel(self) -> int:
        return _KINDS[self.name][0]

    @property
    def scaled(self) -> bool:
        return _KINDS[self.name][2]

    @property
    def is_float32(self) -> bool:
        """True for float32 rows: the kernels' arithmetic type, read without conversion."""
        return self.name == "float32"

    def bits(self, a: np.ndarray) -> np.ndarray:
        """The array the kernels take: ``a`` itself, or the uint16 view of bfloat16 / float16
        (no copy)."""
        return a.view(np.uint16) if self.numpy.itemsize == 2 else a

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    def to_float32(self, a: np.ndarray, scales: Optional[np.ndarray] = None) -> np.ndarray:
        """The float32 values of stored rows ``a`` (with their ``scales`` for a scaled dtype)."""
        if self.scaled and scales is None:
            raise ValueError(f"{self.name} rows need their scales")
        return self.decode(a, scales)

    def from_float32(self, x: np.ndarray) -> np.ndarray:
        """Stored rows of an unscaled dtype from float32 values (:meth:`encode` for every dtype)."""
        if self.scaled:
            raise ValueError(f"{self.name} rows carry scales: use encode(), which returns them")
        return self.encode(x)[0]


def _f32_to_f32(a: np.ndarray, scales=None) -> np.ndarray:
    return np.asarray(a, np.float32)


def _f16_to_f32(a: np.ndarray, scales=None) -> np.ndarray:
    out = np.asarray(a).astype(np.float32)
    bits = out.view(np.uint32)
    bits[np.isnan(out)] |= np.uint32(0x00400000)  # quiet NaNs, as the kernels' F16C conversion
    return out


def check_overflow(x: np.ndarray, stored: np.ndarray, name: str, largest: float) -> None:
    """ValueError naming the first finite value of ``x`` that became infinite in ``stored`` (its
    ``name`` storage, largest finite ``largest``): rounding it would change a finite weight into
    inf and every cosine with it into NaN, silently. Infinite and NaN inputs stay what they are."""
    inf = np.isinf(stored) if stored.dtype.kind == "f" else None
    if inf is None or not inf.any():
        return
    bad = inf & np.isfinite(x)
    if bad.any():
        at = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        v = float(np.asarray(x)[at])
        raise ValueError(f"the value {v!r} (at index {tuple(int(i) for i in at)} of the rows being stored) is "
                         f"beyond {name}'s largest finite value {largest:g}: it would be stored as inf; scale "
                         "the rows down or keep float32 storage")


def _f32_to_f16(a: np.ndarray):
    x = np.asarray(a, np.float32)
    with np.errstate(over="ignore"):  # beyond 65504 rounds to inf: refused below, not warned
        out = x.astype(np.float16)
    check_overflow(x, out, "float16", 65504.0)
    return out, None


def _bf16_to_f32(a: np.ndarray, scales=None) -> np.ndarray:
    return (np.asarray(a, np.uint16).astype(np.uint32) << 16).view(np.float32)


def _f32_to_bf16(a: np.ndarray):
    b = np.ascontiguousarray(a, np.float32).view(np.uint32)
    nan = (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    r = (b + (np.uint32(0x7FFF) + ((b >> 16) & np.uint32(1)))) >> 16  # nearest even; overflow -> inf
    r = np.where(nan, (b >> 16) | np.uint32(0x0040), r)
    out = r.astype(np.uint16)
    check_overflow(np.asarray(a, np.float32), _bf16_to_f32(out), "bfloat16", float(_bf16_to_f32(np.uint16(0x7F7F))))
    return out, None


def _i8_to_f32(a: np.ndarray, scales) -> np.ndarray:
    s = np.asarray(scales, np.float32)
    return np.asarray(a).astype(np.float32) * s.reshape(s.shape + (1,) * (np.ndim(a) - s.ndim))


def _f32_to_i8(a: np.ndarray):
    x = np.asarray(a, np.float32)
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 1 else x[None, :]
    fin = np.isfinite(x2).all(axis=1)
    if not fin.all():
        r = int(np.flatnonzero(~fin)[0])
        raise ValueError(f"row {r} has NaN or infinite values: int8 storage needs finite rows (its "
                         "scale is the row's largest magnitude)")
    scale = (np.abs(x2).max(axis=1, initial=0.0) / np.float32(127.0)).astype(np.float32)
    safe = np.where(scale > 0, scale, np.float32(1.0))
    codes = np.clip(np.rint(x2 / safe[:, None]), -127, 127).astype(np.int8)
    return codes.reshape(x.shape), (scale if x.ndim != 1 else scale[0:1])


FLOAT32 = StorageDType("float32", np.dtype(np.float32), _f32_to_f32, lambda a: (np.asarray(a, np.float32), None), "F32")
FLOAT16 = StorageDType("float16", np.dtype(np.float16), _f16_to_f32, _f32_to_f16, "F16")
BFLOAT16 = StorageDType("bfloat16", np.dtype(np.uint16), _bf16_to_f32, _f32_to_bf16, "BF16")
INT8 = StorageDType("int8", np.dtype(np.int8), _i8_to_f32, _f32_to_i8, "I8")

STORAGE: Dict[str, StorageDType] = {d.name: d for d in (FLOAT32, FLOAT16, BFLOAT16, INT8)}
assert set(STORAGE) == set(_KINDS), "fastembed._dtypes and csrc/fe_kinds.h list different storage kinds"


def convert(a: np.ndarray, src: StorageDType, dst: StorageDType, block_rows: int = 1 << 14,
            scales: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``(rows, scales)`` of ``dst`` holding the rows ``a`` (stored as ``src``, with their
    ``scales`` if ``src`` is scaled), converted block by block through float32 (exact from every
    dtype; rounded into the narrower ones), so the peak memory is the result plus one block."""
    out = np.empty(a.shape, dst.numpy)
    out_scales = np.empty(a.shape[0], np.float32) if dst.scaled else None
    for lo in range(0, a.shape[0], block_rows):
        hi = min(lo + block_rows, a.shape[0])
        rows, sc = dst.encode(src.to_float32(a[lo:hi], None if scales is None else scales[lo:hi]))
        out[lo:hi] = rows
        if out_scales is not None:
            out_scales[lo:hi] = sc
    return out, out_scales


def stored_as(a: np.ndarray, scales: Optional[np.ndarray], given: StorageDType,
              storage: StorageDType) -> Tuple[np.ndarray, Optional[np.ndarray], bool]:
    """``(rows, scales, fresh)``: the rows ``a`` (holding ``given``'s elements, with their ``scales``)
    in ``storage``; ``fresh`` says whether new arrays were made (no one else holds them). Other
    float dtypes given as float32 are converted (one rounding from float64 to float16); another
    storage dtype goes through the exact float32 values of the input."""
    fresh = False
    if a.dtype != given.numpy and not (given is FLOAT32 and a.dtype.kind == "f"):
        a, fresh = np.asarray(a, given.numpy), True  # byte-swapped input
    if given is not storage:
        if given is FLOAT32 and storage is FLOAT16:
            x = np.asarray(a)
            with np.errstate(over="ignore"):
                a, scales = x.astype(np.float16), None  # float64 too: one rounding, nearest even
            check_overflow(x, a, "float16", 65504.0)
        else:
            a, scales = storage.encode(given.to_float32(a, scales) if not given.is_float32 else np.asarray(a, np.float32))
        fresh = True
    return a, scales, fresh


def resolve(dtype) -> StorageDType:
    """The storage dtype named by ``dtype`` (a name, a numpy dtype or type, or a StorageDType)."""
    if isinstance(dtype, StorageDType):
        return dtype
    if isinstance(dtype, str) and dtype in STORAGE:
        return STORAGE[dtype]
    name = getattr(dtype, "name", None) if type(dtype).__module__.startswith("torch") else None
    if name is None and str(dtype).startswith("torch."):
        name = str(dtype)[len("torch."):]  # torch.bfloat16 / torch.float16 name their storage dtype
    if name is None:
        try:
            name = np.dtype(dtype).name
        except (TypeError, ValueError):
            name = None
    if name in STORAGE and name != "uint16":
        return STORAGE[name]
    shown = repr(dtype) if isinstance(dtype, str) or name is None else name
    raise ValueError(f"dtype={shown}: tables are stored as one of {sorted(STORAGE)} "
                     "(bfloat16 by its name: numpy has no bfloat16 type)")


def of_array(a: np.ndarray) -> StorageDType:
    """The storage dtype of an array given as a table's rows (floating point arrays of another
    dtype are converted by the caller; this names the ones kept as they are: float32, float16;
    bfloat16 and int8 are never inferred from an array: they are asked for by name)."""
    if a.dtype.kind != "f" or not a.dtype.isnative:
        return FLOAT32
    return STORAGE.get(a.dtype.name, FLOAT32)
