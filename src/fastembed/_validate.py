"""Input checks shared by the Python API: one place for dtypes, shapes and messages."""
from __future__ import annotations

import numpy as np

from fastembed._kernels._gather import out_problem

__all__ = ["as_ids", "check_out", "describe_position", "raise_bad_id", "as_float_matrix",
           "first_out_of_range", "check_range"]

_ID_KINDS = ("i", "u")


def as_ids(ids, what: str = "ids") -> np.ndarray:
    """ids of any integer dtype and shape as an ndarray (no copy when already an array)."""
    a = ids if type(ids) is np.ndarray else np.asarray(ids)
    if a.dtype.kind not in _ID_KINDS:
        if a.dtype.kind in "US":
            raise TypeError(f"{what} must be integers, got strings ({a.dtype}); look words up with "
                            "table[key] or table.encode(keys)")
        if a.dtype.kind == "b":
            raise TypeError(f"{what} must be integers, got bool; use np.flatnonzero(mask) for a mask")
        raise TypeError(f"{what} must be an integer array, got dtype {a.dtype}")
    return a


def describe_position(shape, flat_index) -> str:
    if len(shape) == 0:
        return "()"
    pos = np.unravel_index(int(flat_index), shape)
    return "(" + ", ".join(str(int(p)) for p in pos) + (",)" if len(pos) == 1 else ")")


def raise_bad_id(ids: np.ndarray, flat_index: int, n_rows: int, what: str = "id", table: str = "a table"):
    value = ids.reshape(-1)[flat_index]
    raise IndexError(f"{what} {int(value)} at position {describe_position(ids.shape, flat_index)} is "
                     f"out of range for {table} of {n_rows} rows")


def first_out_of_range(x, n: int) -> int:
    """Flat position of the first value of the integer array x outside [0, n), or -1."""
    flat = np.asarray(x).reshape(-1)
    if flat.size == 0:
        return -1
    bad = np.flatnonzero((flat < 0) | (flat >= n))
    return int(bad[0]) if bad.size else -1


def check_range(x: np.ndarray, n: int, what: str = "id", table: str = "a table") -> None:
    """IndexError naming the first value of x outside [0, n) and its position."""
    i = first_out_of_range(x, n)
    if i >= 0:
        raise_bad_id(x, i, n, what=what, table=table)


def check_out(out, shape, base=None, name: str = "out") -> np.ndarray:
    """Validate an ``out=`` buffer: ndarray, float32, exact shape, C-contiguous, writeable, and not
    overlapping ``base`` (the table). Raises TypeError / ValueError naming the problem."""
    shape = tuple(shape)
    code = out_problem(out, base if base is not None else _EMPTY, shape)
    if code == 0:
        return out
    if code == 1:
        raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
    if code == 2:
        raise ValueError(f"{name} must be float32, got {out.dtype}")
    if code == 3:
        raise ValueError(f"{name} has shape {out.shape}, expected {shape}")
    if code == 4:
        raise ValueError(f"{name} must be C-contiguous")
    if code == 5:
        raise ValueError(f"{name} is read-only")
    raise ValueError(f"{name} overlaps the table's memory; pass a separate buffer")


_EMPTY = np.empty(0, np.float32)


def as_float_matrix(x, name: str, ndim=(2,), copy: bool = False) -> np.ndarray:
    """A float array as C-contiguous float32 (converted/copied only when needed)."""
    a = np.asarray(x)
    if a.dtype.kind not in "f":
        if a.dtype.kind in "iub":
            raise TypeError(f"{name} must be a floating-point array, got {a.dtype}")
        raise TypeError(f"{name} must be a floating-point array, got dtype {a.dtype}")
    if a.ndim not in ndim:
        want = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    if copy:
        return np.array(a, dtype=np.float32, order="C", copy=True)
    return np.ascontiguousarray(a, dtype=np.float32)
