"""spaCy's vectors directory: what ``spacy.vectors.Vectors.to_disk`` writes (and the ``vocab/``
directory of a pipeline saved by ``nlp.to_disk``).

::

    vectors        .npy: the (n_rows, D) float32 matrix
    key2row        msgpack map: key -> row (several keys may share a row; rows may have no key)
    keys           .npy of keys, row i for keys[i] (spaCy v2 directories; read when present)
    strings.json   the strings whose hashes the keys are (JSON list)
    vectors.cfg    {"mode": "default"} ("floret" tables hash n-grams: refused)

spaCy keys are 64-bit hashes of strings (or, for ~450 reserved words such as "number", "mark",
"det", their symbol ids); spaCy's own ``StringStore`` names them, so reading needs spaCy installed
(``pip install spacy``; detection does not). Each key spaCy can name becomes one row of the table,
in spaCy's row order (ties: by key): ``table[s]`` equals ``vectors[s]`` for every string s spaCy
resolves. Rows no key maps to are left out; keys strings.json cannot name (spaCy cannot name them
either) are left out with a warning. When every row has exactly one key the matrix is used as it
is (``mmap=True`` maps it); otherwise the needed rows are gathered (a copy; shared rows repeated).

Writing builds a ``Vectors`` from the table and calls spaCy's ``to_disk``, so spaCy reads what
fastembed writes.
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Callable, Dict, List, Tuple

import numpy as np

from fastembed.io._atomic import atomic_dir
from fastembed.io._errors import FileFormatError
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._source import Source
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["detect", "read", "write", "keys_by_row", "FILES"]

FILES = ("vectors", "key2row", "keys", "strings.json", "vectors.cfg")


def _spacy():
    try:
        import spacy.strings  # optional dependency
        import srsly  # spaCy's serialisation library, installed with it
    except ImportError as exc:
        raise ImportError("spaCy vectors name their keys by spaCy's string hashes and symbols: reading or "
                          f"writing them needs spaCy (pip install spacy) ({exc})") from exc
    return spacy.strings, srsly


def vectors_dir(path: str) -> str:
    """The directory holding the vectors files: ``path`` itself, or a pipeline's ``path/vocab``."""
    for d in (path, os.path.join(path, "vocab")):
        if os.path.isfile(os.path.join(d, "vectors")) and (
                os.path.isfile(os.path.join(d, "key2row")) or os.path.isfile(os.path.join(d, "keys"))):
            return d
    return ""


def detect(src: Source) -> bool:
    return src.is_dir and bool(vectors_dir(src.path))


def keys_by_row(key2row: Dict[int, int], n_rows: int, name: Callable[[int], str], where: str
                ) -> Tuple[np.ndarray, List[str], List[int]]:
    """(rows, keys, unnamed) for a spaCy key -> row map: one entry per key spaCy can name, ordered
    by row then key; ``unnamed`` lists the keys ``name`` could not name (KeyError). Rows outside
    [0, n_rows) are a FileFormatError naming the key (``where``: the file or object)."""
    pairs = []
    unnamed = []
    for key, row in key2row.items():
        if type(row) is not int or not 0 <= row < n_rows:
            raise FileFormatError(where, f"key {key!r} maps to row {row!r}, outside the {n_rows} rows of the vectors")
        try:
            pairs.append((row, int(key), name(key)))
        except KeyError:
            unnamed.append(key)
    pairs.sort()
    rows = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
    return rows, [p[2] for p in pairs], unnamed


def warn_unnamed(unnamed: List[int], where: str) -> None:
    if unnamed:
        warnings.warn(f"{where}: {len(unnamed)} keys have no string (e.g. {unnamed[0]}): spaCy cannot name them "
                      "either; their rows are left out", stacklevel=3)


def table_from_rows(data: np.ndarray, rows: np.ndarray, keys: List[str], limit, copy: bool) -> EmbeddingTable:
    """The table of ``data[rows]`` with ``keys`` (the first ``limit`` when given): a view of the
    matrix when the rows are 0..n-1 (shared unless ``copy``), a gathered array otherwise."""
    if limit is not None:
        rows, keys = rows[:limit], keys[:limit]
    if np.array_equal(rows, np.arange(rows.size)):
        w = data[: rows.size]  # a view: a memory map stays one
    else:
        w = np.asarray(data)[rows]  # gathered: a fresh array
        copy = False
    return EmbeddingTable(w, vocab=Vocabulary(keys), copy=copy)


def read(src: Source, opts: LoadOptions) -> EmbeddingTable:
    strings_mod, srsly = _spacy()
    d = vectors_dir(src.path)
    if not d:
        raise FileFormatError(src.path, "not a spaCy vectors directory (expected the files 'vectors' and "
                              "'key2row' or 'keys')")
    cfg_path = os.path.join(d, "vectors.cfg")
    if os.path.isfile(cfg_path):
        try:
            with open(cfg_path, encoding="utf-8") as f:
                cfg = json.load(f)
        except (OSError, ValueError) as exc:
            raise FileFormatError(cfg_path, f"is not valid JSON ({exc})") from exc
        mode = cfg.get("mode", "default") if isinstance(cfg, dict) else None
        if mode != "default":
            raise FileFormatError(cfg_path, f"mode {mode!r}: only spaCy's default mode (a row per key) is "
                                  "supported; floret vectors are built from hashed character n-grams")
    vp = os.path.join(d, "vectors")
    try:
        data = np.load(vp, mmap_mode="r" if opts.mmap else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FileFormatError(vp, f"is not a .npy matrix ({exc})") from exc
    if data.ndim != 2 or data.dtype.kind != "f":
        raise FileFormatError(vp, f"expected a 2-D float matrix, got shape {data.shape} dtype {data.dtype}")
    store = strings_mod.StringStore()
    sp = os.path.join(d, "strings.json")
    if os.path.isfile(sp):
        try:
            store.from_disk(sp)
        except (OSError, ValueError) as exc:
            raise FileFormatError(sp, f"is not a spaCy string list ({exc})") from exc
    kp, kr = os.path.join(d, "keys"), os.path.join(d, "key2row")
    key2row: Dict[int, int] = {}
    if os.path.isfile(kp):  # spaCy v2: row i has key keys[i]
        try:
            keys = np.load(kp, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FileFormatError(kp, f"is not a .npy array of keys ({exc})") from exc
        if keys.ndim != 1 or keys.dtype.kind not in "iu":
            raise FileFormatError(kp, f"expected a 1-D integer array, got shape {keys.shape} dtype {keys.dtype}")
        key2row.update((int(k), i) for i, k in enumerate(keys.tolist()))
    if os.path.isfile(kr):
        try:
            loaded = srsly.read_msgpack(kr)
        except Exception as exc:  # noqa: BLE001 - msgpack's errors have no common base
            raise FileFormatError(kr, f"is not a msgpack map of keys to rows ({type(exc).__name__}: {exc})") from exc
        if not isinstance(loaded, dict):
            raise FileFormatError(kr, f"expected a msgpack map, got {type(loaded).__name__}")
        key2row.update(loaded)
    where = kr if os.path.isfile(kr) else kp
    for k in key2row:
        if type(k) is not int:
            raise FileFormatError(where, f"expected integer keys (string hashes), got {k!r}")
    rows, keys_, unnamed = keys_by_row(key2row, data.shape[0], store.__getitem__, where)
    warn_unnamed(unnamed, where)
    return table_from_rows(data, rows, keys_, opts.limit, copy=False)


def _replaceable(path: str) -> None:
    extra = sorted(set(os.listdir(path)) - set(FILES))
    if extra:
        raise FileExistsError(f"{path}: refusing to replace a directory holding files that are not part of a "
                              f"spaCy vectors directory ({', '.join(map(repr, extra[:3]))}"
                              f"{', ...' if len(extra) > 3 else ''})")


def to_vectors(table: EmbeddingTable, strings=None):
    """A ``spacy.vectors.Vectors`` holding a float32 copy of the rows, one key each (their strings
    added to ``strings``, a ``StringStore``; a new one by default)."""
    strings_mod, _ = _spacy()
    from spacy.vectors import Vectors  # optional dependency
    vocab = table.vocab
    if vocab is None:
        raise ValueError("the table has no vocabulary: spaCy vectors are looked up by key")
    keys = vocab.keys
    store = strings_mod.StringStore() if strings is None else strings
    for k in keys:
        store.add(k)
    data = np.array(table.weights, np.float32) if table.storage.is_float32 else table[:]
    return Vectors(strings=store, data=data, keys=keys)


def write(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    """spaCy's own ``Vectors.to_disk`` of :func:`to_vectors`, into a fresh directory swapped into
    place (atomic, as every fastembed save)."""
    vectors = to_vectors(table)
    with atomic_dir(path, _replaceable) as tmp:
        vectors.to_disk(tmp)
