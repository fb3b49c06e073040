"""Storage dtypes: how a table's rows are kept in memory, and how they become float32.

A table stores its (V, D) rows in one of :data:`STORAGE`'s dtypes and computes in float32. This
module is the one place that knows the list: the table, the file formats and the reference ask it
(``resolve(dtype)``, ``of_array(a)``) instead of testing dtypes themselves. Adding a storage dtype
is one :class:`StorageDType` entry here plus its kernel instantiations.

The dtypes:

* ``float32``: numpy float32, what every kernel computes in.
* ``float16``: numpy float16 (IEEE binary16). Upcast exactly; a NaN comes out quiet (its quiet bit
  set), as the x86 conversion instructions (F16C, AVX-512) do, so every SIMD level and this module
  give the same bits.
* ``bfloat16``: numpy has none, so the rows are the uint16 bit patterns (the top half of a
  float32's bits, as torch and safetensors store them). Upcast is a 16-bit shift (exact, payloads
  kept); rounding from float32 is to nearest even, NaN kept NaN, overflow to inf.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np

__all__ = ["StorageDType", "STORAGE", "resolve", "of_array", "convert", "FLOAT32", "FLOAT16", "BFLOAT16"]


@dataclass(frozen=True)
class StorageDType:
    """One storage dtype.

    name : the public name (``EmbeddingTable(w, dtype=name)``, ``load(..., dtype=name)``)
    numpy : the numpy dtype of the stored elements (uint16 bit patterns for bfloat16)
    to_float32 : stored array -> float32 array of the same shape; exact
    from_float32 : float32 array -> stored array; rounds to nearest even where it must
    kernel : the compiled kernels' code for these rows (0 float32, 1 float16 bits, 2 bfloat16
        bits): half rows reach the kernels as a uint16 view (:meth:`bits`)
    safetensors : the dtype's name in safetensors headers
    """
    name: str
    numpy: np.dtype
    to_float32: Callable[[np.ndarray], np.ndarray]
    from_float32: Callable[[np.ndarray], np.ndarray]
    kernel: int = 0
    safetensors: str = "F32"

    @property
    def is_half(self) -> bool:
        return self.kernel != 0

    def bits(self, a: np.ndarray) -> np.ndarray:
        """The array the kernels take: ``a`` itself (float32) or its uint16 view (no copy)."""
        return a.view(np.uint16) if self.kernel else a

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize


def _f32_to_f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32)


def _f16_to_f32(a: np.ndarray) -> np.ndarray:
    out = np.asarray(a).astype(np.float32)
    bits = out.view(np.uint32)
    bits[np.isnan(out)] |= np.uint32(0x00400000)  # quiet NaNs, as the kernels' F16C conversion
    return out


def _f32_to_f16(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # beyond 65504: inf, as IEEE rounding says
        return np.asarray(a, np.float32).astype(np.float16)


def _bf16_to_f32(a: np.ndarray) -> np.ndarray:
    return (np.asarray(a, np.uint16).astype(np.uint32) << 16).view(np.float32)


def _f32_to_bf16(a: np.ndarray) -> np.ndarray:
    b = np.ascontiguousarray(a, np.float32).view(np.uint32)
    nan = (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    r = (b + (np.uint32(0x7FFF) + ((b >> 16) & np.uint32(1)))) >> 16  # nearest even; overflow -> inf
    r = np.where(nan, (b >> 16) | np.uint32(0x0040), r)
    return r.astype(np.uint16)


FLOAT32 = StorageDType("float32", np.dtype(np.float32), _f32_to_f32, _f32_to_f32, 0, "F32")
FLOAT16 = StorageDType("float16", np.dtype(np.float16), _f16_to_f32, _f32_to_f16, 1, "F16")
BFLOAT16 = StorageDType("bfloat16", np.dtype(np.uint16), _bf16_to_f32, _f32_to_bf16, 2, "BF16")

STORAGE: Dict[str, StorageDType] = {d.name: d for d in (FLOAT32, FLOAT16, BFLOAT16)}


def convert(a: np.ndarray, src: StorageDType, dst: StorageDType, block_rows: int = 1 << 14) -> np.ndarray:
    """A fresh (V, D) array of ``dst`` holding the rows ``a`` (stored as ``src``), converted block
    by block through float32 (exact from half; rounded to nearest even into half), so the peak
    memory is the result plus one block, not a float32 copy of the whole table."""
    out = np.empty(a.shape, dst.numpy)
    for lo in range(0, a.shape[0], block_rows):
        hi = min(lo + block_rows, a.shape[0])
        out[lo:hi] = dst.from_float32(src.to_float32(a[lo:hi]))
    return out


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
    bfloat16 has no numpy dtype, so it is never inferred from an array)."""
    if a.dtype.kind != "f" or not a.dtype.isnative:
        return FLOAT32
    return STORAGE.get(a.dtype.name, FLOAT32)
