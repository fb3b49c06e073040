"""The arguments of :func:`fastembed.load` and :func:`fastembed.save`, validated once."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

from fastembed._dtypes import StorageDType
from fastembed._threads import resolve_threads

__all__ = ["LoadOptions", "SaveOptions", "check_limit"]

DUPLICATES = ("error", "first")


def _check_bool_or_none(name: str, value) -> Optional[bool]:
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{name} must be True, False or None, got {value!r}")


def check_limit(limit) -> Optional[int]:
    """None or a non-negative int (bools and floats are refused: ``limit=1.7`` is not 1)."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not hasattr(limit, "__index__"):
        raise TypeError(f"limit must be an int or None, got {limit!r}")
    n = int(limit.__index__())
    if n < 0:
        raise ValueError(f"limit must be non-negative, got {n}")
    return n


@dataclass(frozen=True)
class LoadOptions:
    """Validated arguments of :func:`fastembed.load` (see its docstring)."""

    limit: Optional[int] = None
    encoding: str = "utf-8"
    unicode_errors: str = "strict"
    progress: Optional[bool] = None
    mmap: bool = False
    duplicates: str = "error"
    tensor: Optional[str] = None
    vocab: Any = None
    n_threads: Optional[int] = None
    verify: Optional[bool] = None
    dtype: Optional[StorageDType] = None  # None: the file's own (float32 for text formats)

    def __post_init__(self):
        check_limit(self.limit)
        if self.duplicates not in DUPLICATES:
            raise ValueError(f"duplicates must be 'error' or 'first', got {self.duplicates!r}")
        if not isinstance(self.encoding, str) or not isinstance(self.unicode_errors, str):
            raise TypeError("encoding and unicode_errors must be str")
        "".encode(self.encoding)  # LookupError for an unknown codec, before any reading
        _check_bool_or_none("progress", self.progress)
        _check_bool_or_none("verify", self.verify)
        if not isinstance(self.mmap, bool):
            raise TypeError(f"mmap must be True or False, got {self.mmap!r}")
        if self.n_threads is not None:
            resolve_threads(self.n_threads)
        if self.tensor is not None and not isinstance(self.tensor, str):
            raise TypeError(f"tensor must be a str, got {self.tensor!r}")
        if self.vocab is not None and not isinstance(self.vocab, (str, os.PathLike, list, tuple)):
            raise TypeError(f"vocab must be a path or a list of keys, got {type(self.vocab).__name__}")


@dataclass(frozen=True)
class SaveOptions:
    """Validated arguments of :func:`fastembed.save` (see its docstring)."""

    tensor: str = "weight"
    progress: Optional[bool] = None
    n_threads: Optional[int] = None

    def __post_init__(self):
        if not isinstance(self.tensor, str) or not self.tensor:
            raise TypeError(f"tensor must be a non-empty str, got {self.tensor!r}")
        _check_bool_or_none("progress", self.progress)
        if self.n_threads is not None:
            resolve_threads(self.n_threads)
