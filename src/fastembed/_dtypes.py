"""Storage dtypes: how a table's rows are kept in memory, and how they become float32.

A table stores its (V, D) rows in one of :data:`STORAGE`'s dtypes and computes in float32. This
module is the one place that knows the list: the table, the file formats and the reference ask it
(``resolve(dtype)``, ``of_array(a)``) instead of testing dtypes themselves. Adding a storage dtype
is one :class:`StorageDType` entry here plus its kernel instantiations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np

__all__ = ["StorageDType", "STORAGE", "resolve", "of_array", "FLOAT32"]


@dataclass(frozen=True)
class StorageDType:
    """One storage dtype.

    name : the public name (``EmbeddingTable(w, dtype=name)``, ``load(..., dtype=name)``)
    numpy : the numpy dtype of the stored elements
    to_float32 : stored array -> float32 array of the same shape; exact
    from_float32 : float32 array -> stored array; rounds to nearest even where it must
    """
    name: str
    numpy: np.dtype
    to_float32: Callable[[np.ndarray], np.ndarray]
    from_float32: Callable[[np.ndarray], np.ndarray]

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize


def _f32_to_f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float32)


FLOAT32 = StorageDType("float32", np.dtype(np.float32), _f32_to_f32, _f32_to_f32)

STORAGE: Dict[str, StorageDType] = {FLOAT32.name: FLOAT32}


def resolve(dtype) -> StorageDType:
    """The storage dtype named by ``dtype`` (a name, a numpy dtype or type, or a StorageDType)."""
    if isinstance(dtype, StorageDType):
        return dtype
    if isinstance(dtype, str) and dtype in STORAGE:
        return STORAGE[dtype]
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name in STORAGE:
        return STORAGE[name]
    raise ValueError(f"dtype={dtype!r}: tables are stored as one of {sorted(STORAGE)}")


def of_array(a: np.ndarray) -> StorageDType:
    """The storage dtype of an array given as a table's rows (floating point arrays of another
    dtype are converted by the caller; this names the ones kept as they are)."""
    return STORAGE.get(a.dtype.name, FLOAT32) if a.dtype.isnative else FLOAT32
