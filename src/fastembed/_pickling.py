"""Pickling and copying an :class:`~fastembed.EmbeddingTable` (issue 26, finding 9).

:func:`reduce_table` is registered for :class:`~fastembed.EmbeddingTable` with :mod:`copyreg` when
this module is imported (``fastembed`` imports it), so ``pickle``, ``copy.copy``,
``copy.deepcopy``, spawn-based ``multiprocessing``, ``torch`` DataLoader workers, joblib and
``dask``'s ``client.submit(fn, table)`` all work:

* a table in memory pickles **by value**: its stored rows (float32, float16, bfloat16 bits or int8
  codes with their scales), vocabulary and ``padding_idx``. The unpickled table owns its rows (it
  is writable, and nobody else can change them under its norm cache).
* a table over a **read-only memory map** of a file (``fastembed.load(..., mmap=True)``, a
  read-only ``np.memmap``) pickles **by path and offset** (a few hundred bytes): the receiving
  process maps the same bytes of the same file. The file's size and modification time are
  recorded, and a file that changed since raises ``ValueError`` naming it on unpickling (it would
  hold other rows). Pickle ``fastembed.io.by_value(table)`` to send the rows themselves (another
  machine, a file about to change).
* ``copy.copy(t)`` and ``copy.deepcopy(t)`` are independent tables: writes to one never reach the
  other, and their norm caches are their own. (A memory-mapped table's copy maps the same
  read-only file: neither can write it.)

Caches (inverse norms, a search index) are not pickled: the receiver computes them again when
needed. A closed table cannot be pickled.

The registration lives here rather than as ``EmbeddingTable.__reduce__`` to keep the storage core
within its line budget (``copyreg``'s table is what ``pickle``, ``copy``, ``multiprocessing`` and
cloudpickle consult; subclasses of EmbeddingTable are registered with :func:`register`).
"""
from __future__ import annotations

import copyreg
import mmap
import os
from typing import Any, Optional, Tuple

import numpy as np

from fastembed.table import EmbeddingTable

__all__ = ["reduce_table", "rebuild_table", "by_value", "register", "STATE_VERSION"]

STATE_VERSION = 1  # the layout of the state dict below; a newer one is refused with a clear message


class _Rows:
    """The stored rows inside a pickled state. ``fresh`` says that nobody else holds the array:
    True after unpickling or a deep copy (the array was made for us), False when ``copy.copy``
    passes the original object along (then the rebuilt table must copy the rows)."""

    __slots__ = ("array", "fresh")

    def __init__(self, array: np.ndarray, fresh: bool = False):
        self.array = array
        self.fresh = fresh

    def __reduce__(self):
        return (_fresh_rows, (self.array,))


def _fresh_rows(array) -> _Rows:
    return _Rows(np.asarray(array), True)


class _ByValue:
    """What :func:`by_value` returns: pickles as the table with its rows copied into the pickle."""

    __slots__ = ("table",)

    def __init__(self, table):
        self.table = table

    def __reduce__(self):
        return reduce_table(self.table, by_path=False)


def by_value(table) -> Any:
    """An object that pickles as ``table`` with its rows in the pickle, even when the table
    memory-maps a file (``pickle.dumps(fastembed.io.by_value(t))`` unpickles to an
    :class:`~fastembed.EmbeddingTable`); for a process on another machine, or a file about to be
    replaced."""
    return _ByValue(table)


def _mapped_file(w: np.ndarray) -> Optional[Tuple[str, int]]:
    """(file name, byte offset of ``w[0, 0]`` in it) when ``w`` is a read-only view of a
    ``np.memmap`` of a file; None otherwise (then the rows go by value)."""
    if w.flags.writeable or not w.flags.c_contiguous:
        return None
    a = w
    while a is not None:
        if isinstance(a, np.memmap) and isinstance(a.base, mmap.mmap) and getattr(a, "filename", None):
            if getattr(a, "mode", "r") not in ("r", "readonly"):
                return None  # a writable mapping: its rows can change; send them by value
            if w.size and not (a.ctypes.data <= w.ctypes.data < a.ctypes.data + max(a.nbytes, 1)):
                return None
            return os.fspath(a.filename), int(a.offset) + (w.ctypes.data - a.ctypes.data if w.size else 0)
        a = getattr(a, "base", None)
    return None


def reduce_table(table, by_path: bool = True):
    """The table's pickle reduction: ``(rebuild_table, (cls, state))``; see the module docstring.

    ``by_path=False`` puts the rows of a memory-mapped table into the state too."""
    w = table.weights  # read-only view of the stored rows; raises for a closed table
    state = {"version": STATE_VERSION, "storage": table.storage.name, "shape": tuple(int(n) for n in w.shape),
             "vocab": table.vocab, "padding_idx": table.padding_idx,
             "scales": None if table.scales is None else np.array(table.scales, np.float32)}
    where = _mapped_file(w) if by_path else None
    if where is not None:
        path, offset = where
        st = os.stat(path)
        state["file"] = {"path": path, "offset": offset, "dtype": w.dtype.str, "size": st.st_size,
                         "mtime_ns": st.st_mtime_ns}
    else:
        state["rows"] = _Rows(w)
    return (rebuild_table, (type(table), state))


def rebuild_table(cls, state: dict):
    """Unpickle / copy: the table that :func:`reduce_table` described."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        got = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"cannot unpickle this EmbeddingTable: state version {got!r}, this fastembed reads "
                         f"version {STATE_VERSION} (pickled by another fastembed version?)")
    kw = {"vocab": state["vocab"], "padding_idx": state["padding_idx"], "dtype": state["storage"]}
    if state["scales"] is not None:
        kw["scales"] = state["scales"]
    f = state.get("file")
    if f is not None:
        rows = _map(f, state["shape"])
        return cls(rows, copy=False, **kw)
    rows: _Rows = state["rows"]
    # fresh rows (unpickled, deep-copied) are nobody else's: share them; copy.copy's are the
    # original table's: copy them, so that writes to one table never reach the other
    return cls(rows.array, copy=not rows.fresh, **kw)


def _map(f: dict, shape) -> np.memmap:
    path = f["path"]
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileNotFoundError(f"{path}: cannot map the file of a pickled memory-mapped EmbeddingTable "
                                f"({exc.strerror}); pickle fastembed.io.by_value(table) to send its rows") from exc
    if st.st_size != f["size"] or st.st_mtime_ns != f["mtime_ns"]:
        raise ValueError(f"{path}: the file changed since the memory-mapped EmbeddingTable was pickled "
                         f"(size {f['size']} -> {st.st_size} bytes, or modified): its rows would not be the table's; "
                         "pickle fastembed.io.by_value(table) to send the rows themselves")
    dt = np.dtype(f["dtype"])
    need = f["offset"] + int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if need > st.st_size:
        raise ValueError(f"{path}: {st.st_size} bytes, the pickled table needs {need}")
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dt)
    return np.memmap(path, dtype=dt, mode="r", offset=f["offset"], shape=tuple(shape))


def register(cls) -> None:
    """Pickle instances of ``cls`` (EmbeddingTable or a subclass whose constructor takes the same
    arguments) with :func:`reduce_table`."""
    copyreg.pickle(cls, reduce_table)


register(EmbeddingTable)
