"""The one validation layer: every argument of the public API is checked here, once.

One function per kind of argument, one wording per error. Kernels and the modules above them
trust what comes out of these functions (the kernels' docstrings say "assumes validated input").
This module imports no kernel module and no other module of the package; its only compiled
helper is ``_kernels/_argcheck`` (structural checks of ``out=`` buffers, run on every lookup).

Wordings (each asserted in the tests):

* ids: ``TypeError: ids must be an integer array, got dtype float64``;
  ``IndexError: id 50257 at position (3, 17) is out of range for a table of 50257 rows``;
* scalars: ``TypeError: k must be an int, got 2.5``; ``ValueError: k must be at least 1, got 0``;
* floats: ``ValueError: scale must be finite, got inf``;
* matrices: ``TypeError: weights must be a floating-point array, got dtype int64``;
  ``ValueError: weights must be 2-D (V, D), got shape (3,)``;
* out=: ``ValueError: out has shape (3, 24), expected (2, 24)`` (dtype, layout, read-only, overlap).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np

from fastembed._kernels._argcheck import out_problem  # the compiled twin of check_out's tests

__all__ = ["as_ids", "check_id_range", "first_out_of_range", "describe_position", "raise_bad_id",
           "as_int", "as_float", "as_bool", "as_steps", "as_scales", "as_float_matrix", "as_weights",
           "ConversionWarning", "CONVERT_WARN_BYTES", "as_queries", "as_k",
           "check_out", "as_array", "as_sparse_rows", "as_restrict", "as_exclude", "as_row_ids", "Restrict", "check_range",
           "check_norm_range", "holds_keys", "writable_somewhere"]

_INT64_MIN = -(1 << 63)


# ---------------------------------------------------------------------------------------------- ids

def _huge_python_int(obj) -> Optional[Tuple[int, tuple]]:
    """For a (nested) list of Python ints that numpy could hold in no integer dtype (a value
    outside int64 next to a negative one, or beyond uint64), the first value outside int64 and its
    position; None if some item is not an int (then the dtype error stands)."""
    a = np.array(obj, dtype=object)
    flat = a.reshape(-1)
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in flat):
        return None
    for i, v in enumerate(flat):
        if not _INT64_MIN <= int(v) < 1 << 63:
            return int(v), np.unravel_index(i, a.shape)
    return None


def as_ids(ids, what: str = "ids", n: Optional[int] = None) -> np.ndarray:
    """``ids`` of any integer dtype and shape as an ndarray (no copy when already one).

    Python lists become int64 (an empty list is an empty int64 array, as ``W[[]]`` works in numpy);
    bools, floats, strings and objects are refused with a TypeError naming the dtype. A list holding
    an int that no integer dtype can hold with the others (e.g. ``[-1, 2**63]``) is an IndexError
    naming that value (and ``n``, the table's rows, when given).
    """
    if type(ids) is np.ndarray:
        a = ids
    else:
        a = np.asarray(ids)
        if a.dtype.kind == "f" and a.size == 0 and not isinstance(ids, np.ndarray):
            return np.zeros(a.shape, np.int64)
        if a.dtype.kind in "fO" and not isinstance(ids, np.ndarray):
            bad = _huge_python_int(ids)
            if bad is not None:
                value, pos = bad
                where = f"a table of {n} rows" if n is not None else "any table"
                raise IndexError(f"id {value} at position {_fmt_pos(pos)} is out of range for {where}")
    kind = a.dtype.kind
    if kind in "iu":
        return a
    if kind in "US":
        raise TypeError(f"{what} must be integers, got strings ({a.dtype}); look words up with "
                        "table[key] or table.vocab.encode(keys)")
    if kind == "b":
        raise TypeError(f"{what} must be integers, got bool; use np.flatnonzero(mask) for a mask")
    raise TypeError(f"{what} must be an integer array, got dtype {a.dtype}")


def _fmt_pos(pos) -> str:
    pos = tuple(int(p) for p in pos)
    return "(" + ", ".join(str(p) for p in pos) + (",)" if len(pos) == 1 else ")")


def describe_position(shape, flat_index) -> str:
    """``(b, t)`` for a flat index into an array of ``shape``; ``()`` for a scalar."""
    if len(shape) == 0:
        return "()"
    return _fmt_pos(np.unravel_index(int(flat_index), shape))


def raise_bad_id(ids: np.ndarray, flat_index: int, n_rows: int, what: str = "id",
                 table: Optional[str] = None):
    """IndexError naming the value at ``flat_index`` of ``ids``, its position and the table."""
    value = ids.reshape(-1)[int(flat_index)]
    where = table if table is not None else "a table"
    raise IndexError(f"{what} {int(value)} at position {describe_position(ids.shape, flat_index)} is "
                     f"out of range for {where} of {n_rows} rows")


def first_out_of_range(x: np.ndarray, n: int) -> int:
    """Flat position of the first value of the integer array ``x`` outside [0, n), or -1."""
    flat = x.reshape(-1)
    if flat.size == 0:
        return -1
    if flat.dtype.kind == "u":
        bad = flat >= n
    else:
        bad = (flat < 0) | (flat >= n)
    i = int(np.argmax(bad))
    return i if bad[i] else -1


def check_id_range(ids: np.ndarray, n: int, what: str = "id", table: Optional[str] = None) -> None:
    """IndexError naming the first value of ``ids`` outside [0, n) and its position."""
    i = first_out_of_range(ids, n)
    if i >= 0:
        raise_bad_id(ids, i, n, what=what, table=table)


check_range = check_id_range  # the name the kernels' callers used


def as_row_ids(ids, n: int, what: str = "id", table: Optional[str] = None, name: str = "ids") -> np.ndarray:
    """Flat int64 row ids, every one in [0, n)."""
    a = as_ids(ids, name)
    check_id_range(a, n, what, table)
    return a.reshape(-1).astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------------- scalars

def as_int(x, name: str, lo: Optional[int] = None, hi: Optional[int] = None) -> int:
    """A Python int from an int or numpy integer (bools, floats and strings refused)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int, got {x!r}")
    v = int(x)
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be at least {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be at most {hi}, got {v}")
    return v


def as_float(x, name: str, lo: Optional[float] = None, hi: Optional[float] = None,
             lo_open: bool = False) -> float:
    """A finite Python float (NaN and infinities refused; bools and strings refused)."""
    if isinstance(x, (bool, np.bool_, str, bytes)) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {x!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {x!r}")
    return v


def as_bool(x, name: str) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {x!r}")
    return bool(x)


def as_scales(scales, V: int) -> Optional[np.ndarray]:
    """A row-scaled table's (V,) scales as a float32 array (None stays None): finite and >= 0."""
    if scales is None:
        return None
    s = np.asarray(scales)
    if s.dtype.kind != "f":
        raise TypeError(f"scales must be a float array, got dtype {s.dtype}")
    if s.shape != (V,):
        raise ValueError(f"scales has shape {s.shape}, expected ({V},): one scale per row")
    s = s if s.dtype == np.float32 else s.astype(np.float32)
    bad = ~(np.isfinite(s) & (s >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"scales[{i}] = {s[i]!r}: row scales must be finite and >= 0")
    return s


def as_steps(alpha, shape) -> Tuple[float, Optional[np.ndarray]]:
    """A sparse update's step: ``(alpha, None)`` for a finite float, or ``(0.0, steps)`` for an
    array of per-row factors of ``shape`` (float32, all finite)."""
    if np.ndim(alpha) == 0:
        return as_float(alpha, "alpha"), None
    steps = np.asarray(alpha, np.float32).reshape(-1)
    if steps.shape != tuple(shape):
        raise ValueError(f"alpha has shape {np.shape(alpha)}, expected {tuple(shape)}")
    if not np.isfinite(steps).all():
        raise ValueError("alpha must be finite")
    return 0.0, steps


def as_k(k, name: str = "k") -> int:
    """The k of a top-k: an int >= 1."""
    return as_int(k, name, lo=1)


# ---------------------------------------------------------------------------------------------- arrays

def as_float_matrix(x, name: str, ndim: Sequence[int] = (2,), copy: bool = False) -> np.ndarray:
    """A floating-point array as C-contiguous float32 (converted/copied only when needed)."""
    a = np.asarray(x)
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {a.dtype}")
    if a.ndim not in ndim:
        want = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")
    if copy:
        return np.array(a, dtype=np.float32, order="C", copy=True)
    return np.ascontiguousarray(a, dtype=np.float32)


class ConversionWarning(UserWarning):
    """A large array given in a wider float dtype than the table stores is being copied."""


# The dtype rule: rows given as float64 (or longdouble) are rounded to the table's storage dtype
# (float32 by default), which is a copy; a copy of at least this many bytes of input is announced
# with a ConversionWarning (below it, silent: the common small-array case stays quiet)
CONVERT_WARN_BYTES = 1 << 28


def as_weights(w, name: str = "weights") -> np.ndarray:
    """A table's (V, D) floating-point matrix as an ndarray, keeping memory maps and read-only
    arrays as they are; subclasses such as ``np.matrix`` become plain ndarrays. float64 input of
    ``CONVERT_WARN_BYTES`` or more raises a :class:`ConversionWarning` (it will be copied)."""
    if isinstance(w, np.memmap):
        a = w
    elif type(w) is np.ndarray:
        a = w
    else:
        a = np.asarray(w)
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (V, D), got shape {a.shape}")
    if a.dtype.itemsize > 4 and a.nbytes >= CONVERT_WARN_BYTES:
        warnings.warn(f"{name}: a {a.shape[0]} x {a.shape[1]} {a.dtype} array ({a.nbytes / 2**20:.0f} MiB) is "
                      f"rounded to float32 storage, a {a.size * 4 / 2**20:.0f} MiB copy; pass float32 rows (or "
                      "dtype='float16' / 'int8') to avoid it", ConversionWarning, stacklevel=3)
    if a.dtype.itemsize > 4 and a.size:
        check_float32_range(a, name)
    return a


def check_float32_range(a: np.ndarray, name: str) -> None:
    """ValueError naming the first finite value of a wider float array beyond float32's range: the
    rounding to float32 storage would make it inf (and its row's cosines NaN) silently."""
    big = np.abs(a) > np.finfo(np.float32).max
    if big.any():
        bad = big & np.isfinite(a)
        if bad.any():
            at = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), a.shape))
            raise ValueError(f"{name}: the value {float(a[at])!r} at index {at} is beyond float32's largest finite "
                             f"value {float(np.finfo(np.float32).max):g}: it would be stored as inf; scale the "
                             "rows down")


def as_queries(queries, D: int, normalize: bool) -> Tuple[np.ndarray, bool]:
    """(Q, D) float32 queries as a fresh array (never the caller's), unit length if ``normalize``;
    and whether the input was a single (D,) vector.

    Norms are computed in float64 after scaling each query by its largest magnitude, so queries
    whose squared norm would overflow (x 1e200) or underflow (denormals) are still normalised
    correctly; a query that is zero, or not finite, is a ValueError naming it.
    """
    q = as_array(queries)
    if q.dtype.kind != "f":
        raise TypeError(f"queries must be floating point, got dtype {q.dtype}")
    if q.ndim not in (1, 2):
        raise ValueError(f"queries must be (D,) or (Q, D), got shape {q.shape}")
    single = q.ndim == 1
    q2 = q[None, :] if single else q
    if q2.shape[1] != D:
        raise ValueError(f"queries have dim {q2.shape[1]} but the table has dim {D}")
    q64 = q2.astype(np.float64)  # a copy: the caller's array is never touched
    if q64.size:
        finite = np.isfinite(q64).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"query {bad} has NaN or infinite values")
    if normalize and q64.shape[0]:
        big = np.abs(q64).max(axis=1) if D else np.zeros(q64.shape[0])
        if (big == 0).any():
            bad = int(np.flatnonzero(big == 0)[0])
            raise ValueError(f"query {bad} has zero norm: its cosine with any row is undefined")
        q64 /= big[:, None]
        q64 /= np.sqrt((q64 * q64).sum(axis=1))[:, None]
    elif q64.size:
        if (np.abs(q64) > np.finfo(np.float32).max).any():
            bad = int(np.flatnonzero((np.abs(q64) > np.finfo(np.float32).max).any(axis=1))[0])
            raise ValueError(f"query {bad} has values beyond float32's range (for metric='dot' the "
                             "query is used as given)")
    return np.ascontiguousarray(q64, dtype=np.float32), single


_NO_BASE = np.empty(0, np.float32)
_OUT_PROBLEMS = {2: "{name} must be float32, got {dtype}", 3: "{name} has shape {shape}, expected {want}",
                 4: "{name} must be C-contiguous", 5: "{name} is read-only",
                 6: "{name} overlaps the table's memory; pass a separate buffer"}


def _from_dlpack(x, name: str) -> np.ndarray:
    """A numpy view of a DLPack producer (e.g. a CPU torch tensor) sharing its memory."""
    try:
        return np.from_dlpack(x)
    except (BufferError, RuntimeError, TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numpy array or a CPU tensor numpy can view, got "
                        f"{type(x).__name__} ({exc})") from None


def as_array(x) -> np.ndarray:
    """``np.asarray(x)``, also for tensors numpy cannot take directly (a torch bfloat16 tensor
    is widened to float32 through its ``float()``)."""
    try:
        return np.asarray(x)
    except (TypeError, RuntimeError):
        if hasattr(x, "float") and hasattr(x, "detach"):
            return np.asarray(x.detach().float())
        raise


def check_out(out, shape, base=None, name: str = "out", others: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Validate an ``out=`` buffer: an ndarray (or a CPU tensor, viewed through DLPack), float32 in
    native byte order, exactly ``shape``, C-contiguous, writeable, and sharing no memory with
    ``base`` (the table) or ``others`` (any other input of the call). Returns the ndarray to
    write."""
    shape = tuple(shape)
    if not isinstance(out, np.ndarray) and hasattr(out, "__dlpack__"):
        out = _from_dlpack(out, name)  # a torch tensor (or any DLPack producer) on the CPU
    code = out_problem(out, _NO_BASE if base is None else base, shape)
    if code == 1:
        raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
    if code:
        raise ValueError(_OUT_PROBLEMS[code].format(name=name, dtype=out.dtype, shape=out.shape, want=shape))
    for o in others:
        if o is not None and out.size and np.may_share_memory(out, o):
            raise ValueError(f"{name} overlaps another input of this call; pass a separate buffer")
    return out


def as_sparse_rows(unique_ids, rows, table: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """A sparse row update's ``(ids (U,) int64, rows (U, D) float32)``: ids unique and within
    the table, rows finite and of shape (U, D); rows that share memory with ``table`` are copied
    (read before anything is written)."""
    V, D = table.shape
    ids = as_ids(unique_ids, "unique_ids", n=V)
    r = np.asarray(rows)
    if r.dtype.kind != "f":
        raise TypeError(f"rows must be a float array, got dtype {r.dtype}")
    if r.shape != (ids.size, D):
        raise ValueError(f"rows has shape {r.shape}, expected ({ids.size}, {D})")
    check_id_range(ids, V)
    ids = ids.reshape(-1).astype(np.int64)
    if ids.size > 1 and np.unique(ids).size != ids.size:
        raise ValueError("unique_ids has repeated ids: sum their rows first (backward does)")
    if r.size and np.may_share_memory(r, table):
        r = np.array(r, np.float32)
    else:
        r = np.ascontiguousarray(r, dtype=np.float32)
    if not np.isfinite(r).all():
        raise ValueError("rows has NaN or infinite values")
    return ids, r


# ---------------------------------------------------------------------------------------------- top-k candidates

class Restrict:
    """Validated ``restrict``: candidates are rows below ``row_hi`` and, with a mask, rows where
    ``mask`` (uint8, (V,)) is 1."""
    __slots__ = ("row_hi", "mask")

    def __init__(self, row_hi: int, mask: Optional[np.ndarray]):
        self.row_hi, self.mask = row_hi, mask

    def __repr__(self) -> str:
        mask = "None" if self.mask is None else f"{int(self.mask.sum())} of {self.mask.size} rows"
        return f"Restrict(row_hi={self.row_hi}, mask={mask})"


def as_restrict(restrict, V: int, clip: bool = False) -> Restrict:
    """``restrict``: None, an int n (only the first n rows), a 1-D array of row ids, or a (V,)
    boolean mask. ``clip``: an int larger than V means all rows (gensim's ``restrict_vocab``)."""
    if restrict is None:
        return Restrict(V, None)
    if isinstance(restrict, (numbers.Integral, np.integer)) and not isinstance(restrict, (bool, np.bool_)):
        n = int(restrict)
        if clip and n > V:
            n = V
        if not 0 <= n <= V:
            raise ValueError(f"restrict={n} must be between 0 and the table's {V} rows")
        return Restrict(n, None)
    r = np.asarray(restrict)
    if r.dtype == bool:
        if r.shape != (V,):
            raise ValueError(f"a boolean restrict mask must have shape ({V},), got {r.shape}")
        return Restrict(V, np.ascontiguousarray(r, dtype=np.uint8))
    if r.dtype.kind not in "iu" or r.ndim != 1:
        raise TypeError("restrict must be None, an int, a 1-D array of row ids or a boolean mask")
    i = first_out_of_range(r, V)
    if i >= 0:
        raise IndexError(f"restrict id {int(r[i])} is out of range for a table of {V} rows")
    mask = np.zeros(V, np.uint8)
    mask[r] = 1
    return Restrict(V, mask)


def _is_per_query(exclude) -> bool:
    if isinstance(exclude, np.ndarray):
        return exclude.dtype == object or exclude.ndim == 2
    if isinstance(exclude, (list, tuple)) and len(exclude):
        return all(isinstance(e, (list, tuple, np.ndarray, set, frozenset, range)) for e in exclude)
    return False


def _exclude_ids(e, V: int) -> np.ndarray:
    a = np.asarray(list(e) if isinstance(e, (set, frozenset)) else e)
    if a.size == 0:
        return np.zeros(0, np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"exclude must hold integer row ids, got dtype {a.dtype}")
    a = a.reshape(-1)
    i = first_out_of_range(a, V)
    if i >= 0:
        raise IndexError(f"exclude id {int(a[i])} is out of range for a table of {V} rows")
    return a.astype(np.int64, copy=False)


def as_exclude(exclude, Q: int, V: int):
    """``exclude``: ids to skip for every query, or one list of ids per query.

    Returns ``(common, per_query)``: ``common`` a sorted unique int64 array (or None),
    ``per_query`` a CSR pair ``(ptr (Q+1,), ids)`` with each query's ids sorted and unique (or
    None). A (Q, m) integer array is taken as per-query lists (sorted in one vectorised pass)."""
    if exclude is None:
        return None, None
    if isinstance(exclude, np.ndarray) and exclude.ndim == 2 and exclude.dtype.kind in "iu":
        if exclude.shape[0] != Q:
            raise ValueError(f"per-query exclude has {exclude.shape[0]} lists for {Q} queries")
        flat = exclude.reshape(-1)
        i = first_out_of_range(flat, V)
        if i >= 0:
            raise IndexError(f"exclude id {int(flat[i])} is out of range for a table of {V} rows")
        ids = np.sort(exclude.astype(np.int64), axis=1)  # duplicates are harmless to the kernels
        ptr = np.arange(Q + 1, dtype=np.int64) * exclude.shape[1]
        return None, (ptr, np.ascontiguousarray(ids.reshape(-1)))
    if _is_per_query(exclude):
        if len(exclude) != Q:
            raise ValueError(f"per-query exclude has {len(exclude)} lists for {Q} queries")
        lists = [np.unique(_exclude_ids(e, V)) for e in exclude]
        ptr = np.zeros(Q + 1, np.int64)
        ptr[1:] = np.cumsum([e.size for e in lists])
        flat = np.concatenate(lists) if lists else np.zeros(0, np.int64)
        return None, (ptr, np.ascontiguousarray(flat, dtype=np.int64))
    e = _exclude_ids(exclude, V)
    if e.size == 0:
        return None, None
    return np.unique(e), None


# ---------------------------------------------------------------------------------------------- tables

_FLT_MAX = float(np.finfo(np.float32).max)


def check_norm_range(inv: np.ndarray) -> None:
    """Cosine needs every nonzero row's norm and inverse norm within float32: a row whose norm
    overflows float32 would score inf (its float32 dot products overflow), and one whose inverse
    norm overflows (a denormal row) would score inf or NaN. Refused with the row named."""
    bad = np.isinf(inv) | ((inv > 0) & (inv < np.float32(1.0 / _FLT_MAX)))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        if np.isinf(inv[r]):
            why = "is so small (denormal) that its inverse norm overflows float32"
        else:
            why = f"is {1.0 / float(inv[r]):.3g}, beyond float32's range, so its dot products overflow"
        raise ValueError(f"row {r}'s norm {why}: its cosine scores would be inf or NaN; rescale the "
                         "table (e.g. weights / np.abs(weights).max()) or use metric='dot'")


def holds_keys(x, nested: bool = True) -> bool:
    """True for a key (str), a list of keys, a str array, or (``nested``) nested lists of keys."""
    if isinstance(x, str):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "UO" and x.size > 0 and isinstance(x.reshape(-1)[0], str)
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
        if not nested:
            return isinstance(x, str)
    return isinstance(x, str)


def writable_somewhere(a: np.ndarray) -> bool:
    """True if ``a`` or an ndarray it views is writable: someone could change its values."""
    x = a
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return True
        x = x.base
    return False
