"""gensim 4.x's word-vector API over fastembed: change one import, keep the script.

::

    from fastembed.compat.gensim import KeyedVectors   # was: from gensim.models import KeyedVectors
    kv = KeyedVectors.load_word2vec_format("vectors.bin", binary=True)
    kv.most_similar(positive=["king", "woman"], negative=["man"])
    kv.table                                           # the fastembed EmbeddingTable underneath

:class:`KeyedVectors`, :class:`Word2Vec`, :func:`load_facebook_vectors` and
:func:`load_facebook_model` (with :class:`FastTextKeyedVectors`, :class:`FastText` and
:class:`LineSentence`) take gensim 4.4's arguments and return what gensim returns, raising the
exceptions gensim raises. They are facades: each holds fastembed objects and translates.

* ``KeyedVectors`` holds an :class:`~fastembed.table.EmbeddingTable` (``kv.table``) over the same
  memory as ``kv.vectors`` (no copy). Word questions go to :mod:`fastembed.words` (one top-k engine,
  cached inverse norms, the table's exact int8 index when ``kv.table.build_index()`` was called),
  evaluation to :mod:`fastembed.words` batched analogies, files to :mod:`fastembed.io`.
  ``kv.vectors`` is writable, as gensim's: after writing it directly, call ``kv.fill_norms(force=True)``
  (gensim's contract) so cached norms follow; the facade's own writes (``add_vectors``,
  ``__setitem__``, ``unit_normalize_all``...) do that themselves.
* ``Word2Vec`` holds a :class:`fastembed.training.Word2Vec` trainer; ``model.wv`` is a
  ``KeyedVectors`` over the rows the trainer writes.
* ``save`` / ``load`` write and read fastembed's native directory (memory-mappable with
  ``mmap='r'``); a gensim pickle is loaded through gensim when it is installed (else ImportError
  naming gensim) and converted.

gensim is never imported unless a gensim pickle is loaded; scipy only by ``evaluate_word_pairs``
(p-values) and POT only by ``wmdistance``, each raising an ImportError naming the package when it
is missing.

What fastembed does not do raises an error naming the argument (``hs=1``, ``null_word=1``,
``datatype=np.float64``, ...), never a silent substitute. Deliberate differences from gensim 4.4,
where gensim's behaviour is a defect:

* ``most_similar_cosmul`` honours ``restrict_vocab`` (gensim ignores it), takes row ids as keys
  and normalises vector terms (gensim uses them raw, so their scores are not cosines);
* ``evaluate_word_analogies(similarity_function="most_similar_cosmul")`` uses 3CosMul (gensim
  ignores the argument);
* a vocabulary file missing a word raises ValueError naming it (gensim crashes with a TypeError
  about dtypes after logging a warning); an analogy file without questions scores 0.0 (gensim
  divides by zero);
* word2vec text files: a last line without its newline is refused (it may be cut; fastembed's
  file rule), keys holding whitespace cannot be saved (the file would not read back);
* ``vectors`` are float32 or float16 (the table's storage dtypes); float64 ``datatype`` / ``dtype``
  raise NotImplementedError, a float64 array assigned to ``vectors`` is converted with a warning.
"""
from __future__ import annotations

import bz2
import gzip
import itertools
import json
import logging
import math
import os
import platform
import sys
import time
import warnings
from copy import deepcopy
from datetime import datetime
from numbers import Integral
from typing import Any, Iterable, List, Optional

import numpy as np

from fastembed import corpus as fe_corpus
from fastembed import io as fe_io
from fastembed import pooling, training
from fastembed import words as fe_words
from fastembed._files import open_binary
from fastembed._version import __version__
from fastembed.io._atomic import atomic_dir
from fastembed.io.native import FILES as NATIVE_FILES
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["KeyedVectors", "Word2Vec", "FastTextKeyedVectors", "FastText", "LineSentence",
           "load_facebook_vectors", "load_facebook_model", "load_word2vec_format", "REAL"]

logger = logging.getLogger(__name__)

REAL = np.float32
_KEY_TYPES = (str, int, np.integer)
_EXTENDED_KEY_TYPES = (str, int, np.integer, np.ndarray)
PICKLE_PROTOCOL = 4
MAX_WORDS_IN_BATCH = 10000           # gensim's default batch_words (and its longest sentence)
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2  # gensim.utils' trim_rule answers

# most_similar builds the table's exact int8 index (fastembed.index: the scan's answer, bit for bit,
# reading a quarter of the bytes) at the AUTO_INDEX_AFTER-th query since the last write, for tables
# of at least AUTO_INDEX_MIN_VALUES values: gensim scripts loop over most_similar, and the build
# (about 2 scans' time) pays for itself from the third query. kv.auto_index = None turns it off
# (the index costs V * D bytes beside the float32 rows).
AUTO_INDEX = "int8"
AUTO_INDEX_MIN_VALUES = 1 << 22
AUTO_INDEX_AFTER = 2

META_FILE = "gensim.json"            # the facade's state, beside the native table files
META_FORMAT = "fastembed-gensim"
META_VERSION = 1
NGRAMS_FILE = "vectors_ngrams.npy"   # FastTextKeyedVectors' n-gram rows


# ------------------------------------------------------------------------------------------ helpers

def _storage_of(dtype, name: str):
    """gensim's ``dtype`` / ``datatype`` as one of the table's storage dtypes (np.float32, np.float16)."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}={dtype!r} is not a numpy dtype") from None
    if d == np.float32:
        return np.float32
    if d == np.float16:
        return np.float16
    raise NotImplementedError(f"{name}={d.name}: fastembed tables store float32 or float16 (gensim's other "
                              f"dtypes are not supported); use np.float32")


def _ensure_list(value):
    """gensim's rule: one key or one (D,) vector is a list of one; a (n, D) array is n vectors."""
    if value is None:
        return []
    if isinstance(value, _KEY_TYPES) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return list(value)
    return value


class _Slot(str):
    """The table-side key of a row whose gensim key is not a str (an unfilled slot of a
    preallocated KeyedVectors, or an int key): results map it back to the gensim key."""
    __slots__ = ("row",)

    def __new__(cls, row: int):
        s = super().__new__(cls, f"\x00<row {row}>")
        s.row = row
        return s


def _unicode_error(cause: UnicodeDecodeError, where: str) -> UnicodeDecodeError:
    """gensim raises UnicodeDecodeError for undecodable keys: the same, with the file and line in
    its reason."""
    return UnicodeDecodeError(cause.encoding, cause.object, cause.start, cause.end, f"{cause.reason} ({where})")


def _as_gensim_error(exc: "fe_io.FileFormatError") -> BaseException:
    """The exception gensim raises for what a FileFormatError reports: EOFError for a file shorter
    than its header says, UnicodeDecodeError for an undecodable key, else the FileFormatError (a
    ValueError naming the file and line)."""
    cause = exc.__cause__
    if isinstance(cause, EOFError):
        return EOFError(f"unexpected end of input: {exc}")
    if isinstance(cause, UnicodeDecodeError):
        return _unicode_error(cause, str(exc))
    return exc


def _open_write(path: str, mode: str):
    """A binary file for writing or appending, compressed by extension as gensim's utils.open."""
    if path.endswith(".gz"):
        return gzip.open(path, mode)
    if path.endswith(".bz2"):
        return bz2.open(path, mode)
    return open(path, mode)


def _read_fvocab(fvocab, unicode_errors: str) -> dict:
    """A word2vec.c ``-save-vocab`` file: ``word count`` lines (decoded as UTF-8, as gensim)."""
    counts = {}
    p = os.fspath(fvocab)
    with open_binary(p) as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8", unicode_errors)
            except UnicodeDecodeError as exc:
                raise _unicode_error(exc, f"{p}, line {lineno}") from None
            parts = line.strip().split()
            if len(parts) != 2:
                raise ValueError(f"{p}, line {lineno}: expected 'word count', got {line.strip()[:80]!r}")
            try:
                counts[parts[0]] = int(parts[1])
            except ValueError:
                raise ValueError(f"{p}, line {lineno}: the count {parts[1]!r} is not an integer") from None
    return counts


def _header_count(path) -> Optional[int]:
    """The vector count of a word2vec file's header line (None if it has none)."""
    with open_binary(os.fspath(path)) as f:
        line = f.readline(4096)
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0])
    return None


def _writable_rows(table: EmbeddingTable) -> np.ndarray:
    """The (V, D) rows of a table this module built or owns, as a writable array sharing its
    memory (``table.weights`` is a read-only view of a writable array; a read-only table or memory
    map stays read-only). Whoever writes it invalidates the table's norms."""
    w = table.weights
    if table.writeable:
        w.flags.writeable = True
    return w


def _file_meta(path: str) -> Optional[dict]:
    mp = os.path.join(path, META_FILE)
    if not os.path.isfile(mp):
        return None
    with open(mp, encoding="utf-8") as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{mp}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if meta.get("format") != META_FORMAT or meta.get("version") != META_VERSION:
        raise ValueError(f"{mp}: expected format {META_FORMAT!r} version {META_VERSION}, got "
                         f"{meta.get('format')!r} version {meta.get('version')!r}")
    return meta


def _gensim_pickle(fname, mmap, what: str):
    """Load a gensim pickle through gensim (ImportError naming gensim when it is missing)."""
    try:
        from gensim.utils import SaveLoad
    except ImportError:
        raise ImportError(f"{fname} is a pickle (gensim's .save() format): loading it needs gensim "
                          f"(pip install gensim). fastembed's {what}.save() writes a native directory "
                          "that loads without it") from None
    return SaveLoad.load(os.fspath(fname), mmap=mmap)


def _replaceable(extra: Iterable[str]):
    allowed = set(NATIVE_FILES) | {META_FILE} | set(extra)

    def check(p: str) -> None:
        other = sorted(n for n in os.listdir(p) if n not in allowed and not n.startswith("expando."))
        if other:
            raise FileExistsError(f"{p}: refusing to replace a directory holding files that are not part of a "
                                  f"saved model ({', '.join(map(repr, other[:3]))})")
    return check


def _check_save_args(fname_or_handle, separately, sep_limit, ignore, pickle_protocol):
    if not isinstance(fname_or_handle, (str, os.PathLike)):
        raise TypeError("save writes a fastembed native directory: pass a path, not "
                        f"{type(fname_or_handle).__name__}")
    for name, value, default in (("separately", separately, None), ("sep_limit", sep_limit, 10 * 1024 ** 2),
                                 ("pickle_protocol", pickle_protocol, PICKLE_PROTOCOL)):
        if value != default:
            raise NotImplementedError(f"{name}={value!r}: fastembed saves a native directory (each array its own "
                                      "memory-mappable .npy), not a pickle; leave it at its default")
    if ignore:
        raise NotImplementedError(f"ignore={ignore!r}: fastembed saves every attribute a model needs; leave it empty")
    p = os.path.abspath(os.fspath(fname_or_handle))
    if os.path.lexists(p) and not os.path.isdir(p):
        raise FileExistsError(f"{p} exists and is a file (a gensim pickle?); save writes a fastembed native "
                              "directory: remove the file or choose another name")
    return p


def _event(obj, event_name: str, log_level=logging.INFO, **event) -> None:
    """gensim's ``SaveLoad.add_lifecycle_event``: append an event dict to ``obj.lifecycle_events``."""
    d = deepcopy(event)
    d["datetime"] = datetime.now().isoformat()
    d["fastembed"] = __version__
    d["python"] = sys.version
    d["platform"] = platform.platform()
    d["event"] = event_name
    if getattr(obj, "lifecycle_events", None) is None:
        obj.lifecycle_events = []
    if log_level:
        logger.log(log_level, "%s lifecycle event %s", type(obj).__name__, d)
    obj.lifecycle_events.append(d)


def _jsonable_events(events) -> list:
    out = []
    for e in events or []:
        try:
            json.dumps(e)
            out.append(e)
        except TypeError:
            out.append({k: (v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)) for k, v in e.items()})
    return out


def _prep_vectors(shape, prior: Optional[np.ndarray], seed: int, dtype=REAL) -> np.ndarray:
    """gensim 4's ``prep_vectors``: uniform(-1, 1) / D rows from ``default_rng(seed)`` (the full
    shape drawn), the prior rows copied in; the prior itself if the shape is unchanged."""
    if prior is not None and prior.shape == tuple(shape):
        return prior
    rng = np.random.default_rng(seed=seed)
    new = rng.random(shape, dtype=dtype)
    new *= 2.0
    new -= 1.0
    new /= shape[1]
    if prior is not None:
        new[: prior.shape[0], : prior.shape[1]] = prior
    return new


# ------------------------------------------------------------------------------------------ KeyedVectors

class KeyedVectors:
    """gensim 4.x's ``KeyedVectors`` over a fastembed :class:`~fastembed.table.EmbeddingTable`.

    Parameters
    ----------
    vector_size : int
        Dimensions of every vector.
    count : int, optional
        Rows preallocated (filled by :meth:`add_vector`).
    dtype : np.float32 (default) or np.float16
        The storage dtype of :attr:`vectors` (float64 raises NotImplementedError).
    mapfile_path : unused (gensim's).

    Attributes
    ----------
    vectors : (V, D) ndarray, float32 or float16
        The rows, writable and shared with :attr:`table` (no copy). Write it, then call
        ``fill_norms(force=True)``, as gensim's contract says.
    table : EmbeddingTable
        The fastembed table over ``vectors`` with the keys as its vocabulary.
    index_to_key : list, key_to_index : dict, vector_size : int, norms : (V,) array or None,
    expandos : dict of per-key attribute arrays (``get_vecattr`` / ``set_vecattr``), next_index : int
    auto_index : "int8" (default) or None
        ``most_similar`` builds the table's exact int8 index for large tables once queries repeat
        (answers identical to the scan; the index costs V * D bytes); None: never.
    """

    auto_index = AUTO_INDEX

    def __init__(self, vector_size, count=0, dtype=np.float32, mapfile_path=None):
        if isinstance(vector_size, bool) or not isinstance(vector_size, Integral) or vector_size < 0:
            raise ValueError(f"vector_size must be a non-negative int, got {vector_size!r}")
        if isinstance(count, bool) or not isinstance(count, Integral) or count < 0:
            raise ValueError(f"count must be a non-negative int, got {count!r}")
        storage = _storage_of(dtype, "dtype")
        self._init_state(int(vector_size), np.zeros((int(count), int(vector_size)), storage), [None] * int(count))
        self.mapfile_path = mapfile_path

    def _init_state(self, vector_size: int, vectors: np.ndarray, index_to_key: list, key_to_index=None,
                    table: Optional[EmbeddingTable] = None) -> None:
        self.vector_size = vector_size
        self.index_to_key = index_to_key
        self.next_index = 0
        self.key_to_index = {} if key_to_index is None else key_to_index
        self.expandos = {}
        self.mapfile_path = None
        self._vectors = vectors
        self._norms = None
        self._table = table
        self._table_keys = index_to_key if table is not None else None
        self._table_len = len(index_to_key)
        self._slots = False
        self._unindexed_queries = 0

    @classmethod
    def _from_table(cls, table: EmbeddingTable, counts=None) -> "KeyedVectors":
        """A KeyedVectors over a table's rows and keys (sharing both); ``counts``: the 'count'
        attribute (int64 array)."""
        kv = cls.__new__(cls)
        kv._adopt(table, counts)
        return kv

    def _adopt(self, table: EmbeddingTable, counts=None) -> None:
        """Hold ``table`` (its rows become :attr:`vectors`, its keys the index): this object's state
        is replaced in place, so references to it (``wv = model.wv``) follow a new vocabulary."""
        events = getattr(self, "lifecycle_events", None)
        keys = table.vocab.keys
        self._init_state(table.dim, _writable_rows(table), keys, dict(zip(keys, range(len(keys)))), table)
        self.next_index = len(keys)
        if counts is not None:
            self.expandos["count"] = np.asarray(counts, np.int64)
        if events is not None:
            self.lifecycle_events = events

    # -------------------------------------------------------------- the table and the rows
    @property
    def vectors(self) -> np.ndarray:
        """The (V, D) rows, shared with :attr:`table` (see the class docstring)."""
        return self._vectors

    @vectors.setter
    def vectors(self, value) -> None:
        a = value if isinstance(value, np.ndarray) else np.asarray(value)
        if a.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array, got shape {a.shape}")
        if a.dtype.kind != "f":
            raise TypeError(f"vectors must be a float array, got dtype {a.dtype}")
        if a.dtype not in (np.float32, np.float16) or not a.flags.c_contiguous or not a.dtype.isnative:
            if a.dtype not in (np.float32, np.float16):
                warnings.warn(f"fastembed tables store float32 or float16: the {a.dtype} array assigned to "
                              "vectors is held as a float32 copy", UserWarning, stacklevel=2)
            a = np.ascontiguousarray(a, np.float16 if a.dtype == np.float16 else np.float32)
        self._vectors = a
        self._table = None
        self._norms = None

    @property
    def table(self) -> EmbeddingTable:
        """The :class:`~fastembed.table.EmbeddingTable` over :attr:`vectors` (no copy), with the keys
        (and the 'count' attribute, when set) as its vocabulary."""
        t = self._table
        if (t is None or self._table_keys is not self.index_to_key or len(self.index_to_key) != self._table_len
                or len(t) != self._vectors.shape[0]):
            t = self._make_table()
        return t

    def _make_table(self) -> EmbeddingTable:
        w, keys = self._vectors, self.index_to_key
        if len(keys) != w.shape[0]:
            raise ValueError(f"index_to_key has {len(keys)} keys but vectors has {w.shape[0]} rows; change them "
                             "together (add_vectors, resize_vectors)")
        self._slots = not all(type(k) is str for k in keys)
        vkeys = [k if type(k) is str else _Slot(i) for i, k in enumerate(keys)] if self._slots else keys
        counts = self.expandos.get("count")
        if counts is not None and (counts.dtype.kind not in "iu" or counts.shape != (len(keys),) or
                                   (len(keys) and int(counts.min()) < 0)):
            counts = None
        t = EmbeddingTable(w, vocab=Vocabulary(vkeys, counts), copy=False)
        self._table, self._table_keys, self._table_len = t, keys, len(keys)
        return t

    def _values_changed(self) -> None:
        """After a write into :attr:`vectors`: cached norms (ours, the table's, its index) are stale."""
        self._norms = None
        self._unindexed_queries = 0
        if self._table is not None:
            self._table.invalidate_norms()

    def _keys_changed(self) -> None:
        """After keys or the rows' array changed: the table is rebuilt on next use (and the old one,
        which others may hold, forgets its norms: its rows may have been written too)."""
        self._norms = None
        self._unindexed_queries = 0
        if self._table is not None:
            self._table.invalidate_norms()
        self._table = None

    def _maybe_index(self, t: EmbeddingTable) -> None:
        """Build the table's exact search index when queries repeat on a large float32 table (see
        AUTO_INDEX); a table the index cannot serve just keeps scanning."""
        kind = self.auto_index
        if not kind or t.index is not None or t.dtype != np.float32 or len(t) * t.dim < AUTO_INDEX_MIN_VALUES:
            return
        self._unindexed_queries = getattr(self, "_unindexed_queries", 0) + 1
        if self._unindexed_queries >= AUTO_INDEX_AFTER:
            self._unindexed_queries = 0
            try:
                t.build_index(kind)
            except (ValueError, TypeError):  # e.g. a dim beyond the int8 index's limit
                self.auto_index = None

    def _out_key(self, k):
        return self.index_to_key[k.row] if self._slots and isinstance(k, _Slot) else k

    def _out_pairs(self, pairs):
        if not self._slots:
            return pairs
        return [(self._out_key(k), s) for k, s in pairs]

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_table"] = d["_table_keys"] = None  # rebuilt on use (the table holds a lock)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)

    # -------------------------------------------------------------- gensim's protocol
    def __str__(self) -> str:
        return f"{self.__class__.__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    __repr__ = __str__

    def __len__(self) -> int:
        return len(self.index_to_key)

    def add_lifecycle_event(self, event_name, log_level=logging.INFO, **event) -> None:
        """Append an event dict (with datetime, versions, platform) to ``self.lifecycle_events``."""
        _event(self, event_name, log_level, **event)

    def allocate_vecattrs(self, attrs=None, types=None) -> None:
        """Ensure arrays for the given per-key attributes exist at ``len(index_to_key)``."""
        if attrs is None:
            attrs = list(self.expandos.keys())
            types = [self.expandos[a].dtype for a in attrs]
        target = len(self.index_to_key)
        for attr, t in zip(attrs, types):
            if t is int:
                t = np.int64
            if t is str:
                t = object
            if attr not in self.expandos:
                self.expandos[attr] = np.zeros(target, dtype=t)
                continue
            prev = self.expandos[attr]
            if not np.issubdtype(t, prev.dtype):
                raise TypeError(f"Can't allocate type {t} for attribute {attr}, conflicts with its existing type "
                                f"{prev.dtype}")
            if len(prev) == target:
                continue
            grown = np.zeros(target, dtype=prev.dtype)
            n = min(len(prev), target)
            grown[:n] = prev[:n]
            self.expandos[attr] = grown

    def set_vecattr(self, key, attr, val) -> None:
        """Set the attribute ``attr`` of ``key`` (e.g. 'count')."""
        self.allocate_vecattrs(attrs=[attr], types=[type(val)])
        self.expandos[attr][self.get_index(key)] = val
        if attr == "count":
            self._table = None  # the table's vocabulary carries the counts

    def get_vecattr(self, key, attr):
        """The attribute ``attr`` of ``key``."""
        return self.expandos[attr][self.get_index(key)]

    def resize_vectors(self, seed=0) -> None:
        """Make :attr:`vectors` match ``index_to_key`` in length; new rows drawn as gensim 4."""
        target = (len(self.index_to_key), self.vector_size)
        self._vectors = _prep_vectors(target, self._vectors, seed)  # float32, as gensim's prep_vectors
        self.allocate_vecattrs()
        self._keys_changed()

    def get_index(self, key, default=None):
        """The row of ``key``; an int not among the keys is taken as a row number; else ``default``
        or KeyError."""
        val = self.key_to_index.get(key, -1)
        if val >= 0:
            return val
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self.index_to_key):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def get_vector(self, key, norm=False) -> np.ndarray:
        """The key's vector (a read-only view of its row; a unit-length copy with ``norm=True``)."""
        index = self.get_index(key)
        if norm:
            self.fill_norms()
            result = self._vectors[index] / self._norms[index]
        else:
            result = self._vectors[index]
        result.setflags(write=False)
        return result

    def word_vec(self, *args, **kwargs):
        """Deprecated alias of :meth:`get_vector` (as gensim)."""
        warnings.warn("Call to deprecated `word_vec` (Use get_vector instead).", DeprecationWarning, stacklevel=2)
        return self.get_vector(*args, **kwargs)

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, _KEY_TYPES):
            return self.get_vector(key_or_keys)
        ids = [self._row_of(k) for k in key_or_keys]
        if not ids:
            raise ValueError("need at least one array to concatenate")
        if any(isinstance(i, np.ndarray) for i in ids):  # subclasses' vectors for unknown keys
            return np.vstack([i if isinstance(i, np.ndarray) else self._vectors[i] for i in ids])
        a = np.array(ids, np.int64)
        if self._vectors.dtype == np.float32:
            return self.table.lookup(a)  # the parallel gather
        return self._vectors[a]

    def _row_of(self, key):
        """Row of a key (subclasses answer unknown keys with a vector)."""
        return self.get_index(key)

    def get_mean_vector(self, keys, weights=None, pre_normalize=True, post_normalize=False,
                        ignore_missing=True) -> np.ndarray:
        """gensim's weighted mean of the keys' (unit, with ``pre_normalize``) vectors and of (D,)
        array keys, over the sum of the absolute weights; unit length with ``post_normalize``."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        if isinstance(weights, list):
            weights = np.array(weights, dtype=self._vectors.dtype)
        if weights is None:
            weights = np.ones(len(keys), dtype=self._vectors.dtype)
        if len(keys) != weights.shape[0]:
            raise ValueError("keys and weights array must have same number of elements")
        rows, terms = [], []
        for key in keys:
            if isinstance(key, np.ndarray):
                terms.append(key)
            elif key in self:
                r = self._row_of(key) if self.has_index_for(key) else None
                if r is None or isinstance(r, np.ndarray):  # a subclass' vector for an unknown key
                    terms.append(np.asarray(self.get_vector(key, norm=pre_normalize), np.float32))
                else:
                    terms.append(len(rows))
                    rows.append(r)
            elif not ignore_missing:
                raise KeyError(f"Key '{key}' not present in vocabulary")
            else:
                terms.append(-1)  # skipped (out of range for the gathered rows)
        R = (np.asarray(self._vectors[np.array(rows, np.int64)], np.float32) if rows
             else np.zeros((0, self.vector_size), np.float32))
        return pooling.mean_vector(R, terms, weights, pre_normalize=pre_normalize, post_normalize=post_normalize,
                                   ignore_missing=True)

    # -------------------------------------------------------------- adding and changing vectors
    def add_vector(self, key, vector) -> int:
        """Add one vector at ``key``: into the next preallocated slot, else appended (costly, as in
        gensim). Returns its row."""
        target = self.next_index
        if target >= len(self) or self.index_to_key[target] is not None:
            target = len(self)
            warnings.warn("Adding single vectors to a KeyedVectors which grows by one each time can be costly. "
                          "Consider adding in batches or preallocating to the required size.", UserWarning,
                          stacklevel=2)
            self.add_vectors([key], [vector])
            self.allocate_vecattrs()
            self.next_index = target + 1
        else:
            self.index_to_key[target] = key
            self.key_to_index[key] = target
            self._vectors[target] = vector
            self.next_index += 1
            self._keys_changed()
        return target

    def add_vectors(self, keys, weights, extras=None, replace=False) -> None:
        """Append keys and their vectors; a key already present keeps its vector unless ``replace``."""
        if isinstance(keys, _KEY_TYPES):
            keys = [keys]
            weights = np.array(weights).reshape(1, -1)
        elif isinstance(weights, list):
            weights = np.array(weights)
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights has shape {weights.shape}, expected ({len(keys)}, {self.vector_size})")
        extras = {} if extras is None else extras
        self.allocate_vecattrs(list(extras.keys()), [np.asarray(e).dtype for e in extras.values()])
        in_vocab = np.array([k in self.key_to_index for k in keys], bool).reshape(-1)
        for idx in np.flatnonzero(~in_vocab):
            key = keys[idx]
            self.key_to_index[key] = len(self.index_to_key)
            self.index_to_key.append(key)
        new = weights[~in_vocab].astype(self._vectors.dtype)
        if len(new):
            self._vectors = np.ascontiguousarray(np.vstack((self._vectors, new)))
        for attr, extra in extras.items():
            extra = np.asarray(extra)
            self.expandos[attr] = np.concatenate([self.expandos[attr], extra[~in_vocab]])
        self.allocate_vecattrs()
        if replace and in_vocab.any():
            rows = [self.get_index(keys[i]) for i in np.flatnonzero(in_vocab)]
            self._vectors[rows] = weights[in_vocab]
            for attr, extra in extras.items():
                self.expandos[attr][rows] = np.asarray(extra)[in_vocab]
        self._keys_changed()

    def __setitem__(self, keys, weights) -> None:
        """``kv[key] = vector`` / ``kv[keys] = vectors``: add, or replace existing keys' vectors."""
        if not isinstance(keys, list):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    def sort_by_descending_frequency(self) -> None:
        """Reorder keys (and rows, attributes) by descending 'count' (gensim's order: ties latest first)."""
        if not len(self):
            return
        counts = np.asarray(self.expandos["count"], dtype=np.int64)
        order = np.lexsort((-np.arange(len(counts)), -counts))
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.allocate_vecattrs()
        for k in self.expandos:
            self.expandos[k] = self.expandos[k][order]
        if len(self._vectors):
            logger.warning("sorting after vectors have been allocated is expensive & error-prone")
            self._vectors = np.ascontiguousarray(self._vectors[order])
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self._keys_changed()

    # -------------------------------------------------------------- norms
    @property
    def norms(self):
        """(V,) row norms once :meth:`fill_norms` ran (None before, as gensim)."""
        return self._norms

    @norms.setter
    def norms(self, value) -> None:
        if value is not None:
            raise ValueError("fastembed computes norms from the vectors: set kv.norms = None (or call "
                             "fill_norms(force=True)) after changing kv.vectors")
        self._values_changed()

    def fill_norms(self, force=False) -> None:
        """Compute the row norms if missing, or again with ``force`` (after writing ``vectors``)."""
        if self._norms is None or force:
            if force:
                self._values_changed()
            self._norms = self.table.norms()

    def get_normed_vectors(self) -> np.ndarray:
        """(V, D) copy of the rows scaled to unit length."""
        self.fill_norms()
        return self._vectors / self._norms[..., np.newaxis]

    def unit_normalize_all(self) -> None:
        """Scale every row to unit length, in place."""
        self.fill_norms()
        self._vectors /= self._norms[..., np.newaxis]
        self._values_changed()
        self._norms = np.ones((len(self._vectors),), np.float32)

    def init_sims(self, replace=False) -> None:
        """Deprecated (gensim): :meth:`fill_norms`, and :meth:`unit_normalize_all` with ``replace``."""
        warnings.warn("Call to deprecated `init_sims` (Use fill_norms() instead. See "
                      "https://github.com/RaRe-Technologies/gensim/wiki/Migrating-from-Gensim-3.x-to-4).",
                      DeprecationWarning, stacklevel=2)
        self.fill_norms()
        if replace:
            logger.warning("destructive init_sims(replace=True) deprecated & no longer required for space-efficiency")
            self.unit_normalize_all()

    @property
    def vectors_norm(self):
        raise AttributeError("The `.vectors_norm` attribute is computed dynamically since Gensim 4.0.0. "
                             "Use `.get_normed_vectors()` instead.\n"
                             "See https://github.com/RaRe-Technologies/gensim/wiki/Migrating-from-Gensim-3.x-to-4")

    @property
    def index2entity(self):
        raise AttributeError("The index2entity attribute has been replaced by index_to_key since Gensim 4.0.0.\n"
                             "See https://github.com/RaRe-Technologies/gensim/wiki/Migrating-from-Gensim-3.x-to-4")

    @property
    def index2word(self):
        raise AttributeError("The index2word attribute has been replaced by index_to_key since Gensim 4.0.0.\n"
                             "See https://github.com/RaRe-Technologies/gensim/wiki/Migrating-from-Gensim-3.x-to-4")

    @property
    def vocab(self):
        raise AttributeError("The vocab attribute was removed from KeyedVector in Gensim 4.0.0.\n"
                             "Use KeyedVector's .key_to_index dict, .index_to_key list, and methods "
                             ".get_vecattr(key, attr) and .set_vecattr(key, attr, new_val) instead.\n"
                             "See https://github.com/RaRe-Technologies/gensim/wiki/Migrating-from-Gensim-3.x-to-4")

    # -------------------------------------------------------------- similarity questions
    def _term(self, key):
        """A query term for :mod:`fastembed.words`: the row id of a key (or a subclass' unit vector
        for an unknown one); KeyError naming a missing key."""
        i = self.get_index(key, -1)
        if i < 0:
            raise KeyError(f"Key '{key}' not present in vocabulary")
        return i

    def _terms(self, items) -> list:
        out = []
        for item in items:
            if isinstance(item, np.ndarray):
                out.append(item)
            elif isinstance(item, _KEY_TYPES):
                out.append(self._term(item))
            else:  # gensim's weighted term (key or vector, weight)
                key, w = item[0], item[1]
                out.append((key if isinstance(key, np.ndarray) else self._term(key), w))
        return out

    def most_similar(self, positive=None, negative=None, topn=10, clip_start=0, clip_end=None,
                     restrict_vocab=None, indexer=None):
        """The ``topn`` keys most similar (cosine) to the weighted mean of the unit vectors of
        ``positive`` (weight 1) and ``negative`` (weight -1) keys, vectors, or ``(key, weight)``
        pairs; the keys asked about are left out. ``topn=None``: the array of every cosine
        (rows ``clip_start:clip_end``, or the first ``restrict_vocab``)."""
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive = _ensure_list(positive)
        negative = _ensure_list(negative)
        if not len(positive) and not len(negative):
            raise ValueError("cannot compute mean with no input")
        pos, neg = self._terms(positive), self._terms(negative)
        if indexer is not None and isinstance(topn, int):
            keys = list(positive) + list(negative)
            wts = np.concatenate((np.ones(len(positive)), -1.0 * np.ones(len(negative))))
            for idx, item in enumerate(keys):
                if not isinstance(item, _EXTENDED_KEY_TYPES):
                    keys[idx], wts[idx] = item[0], item[1]
            mean = self.get_mean_vector(keys, wts, pre_normalize=True, post_normalize=True, ignore_missing=False)
            return indexer.most_similar(mean, topn)
        V = len(self)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_end = clip_end or V
        clip_end = max(0, V + clip_end) if clip_end < 0 else min(clip_end, V)
        t = self.table
        if clip_start == 0:
            if topn is not None:
                self._maybe_index(t)
            res = fe_words.most_similar(t, pos, neg, topn=topn, restrict_vocab=clip_end)
            return res if topn is None else self._out_pairs(res)
        dists = fe_words.most_similar(t, pos, neg, topn=None, restrict_vocab=clip_end)[clip_start:]
        if not topn:
            return dists
        used = {x for x in pos + neg if isinstance(x, int)} | {x[0] for x in pos + neg
                                                               if isinstance(x, tuple) and isinstance(x[0], int)}
        order = np.argsort(-dists, kind="stable")
        out = []
        for j in order.tolist():
            if j + clip_start in used:
                continue
            out.append((self._out_key(self.index_to_key[j + clip_start]), float(dists[j])))
            if len(out) == topn:
                break
        return out

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """Alias of :meth:`similar_by_key`."""
        return self.similar_by_key(word, topn, restrict_vocab)

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """3CosMul (Levy & Goldberg 2014) as gensim's, over the first ``restrict_vocab`` rows."""
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive = _ensure_list(positive)
        negative = _ensure_list(negative)
        if not len(positive):
            raise ValueError("cannot compute similarity with no input")
        pos = [x if isinstance(x, np.ndarray) else self._term(x) for x in positive]
        neg = [x if isinstance(x, np.ndarray) else self._term(x) for x in negative]
        res = fe_words.most_similar_cosmul(self.table, pos, neg, topn=topn, restrict_vocab=restrict_vocab or None)
        return res if topn is None else self._out_pairs(res)

    def rank_by_centrality(self, words, use_norm=True):
        """(similarity to the centroid, key) pairs, most central first; unknown keys are ignored."""
        self.fill_norms()
        used = [w for w in words if w in self]
        if len(used) != len(words):
            logger.warning("vectors for words %s are not present in the model, ignoring these words",
                           set(words) - set(used))
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(REAL)
        mean = self.get_mean_vector(list(vectors), post_normalize=True)
        dists = vectors @ mean
        return sorted(zip(dists, used), reverse=True)

    def doesnt_match(self, words):
        """The key furthest from the centroid of the keys' unit vectors."""
        return self.rank_by_centrality(words)[-1][1]

    @staticmethod
    def cosine_similarities(vector_1, vectors_all):
        """Cosines between a (D,) vector and each row of a (n, D) array."""
        norm = np.linalg.norm(vector_1)
        all_norms = np.linalg.norm(vectors_all, axis=1)
        return np.dot(vectors_all, vector_1) / (norm * all_norms)

    def distances(self, word_or_vector, other_words=()):
        """Cosine distances from a key or vector to ``other_words`` (every key when empty)."""
        q = self._term(word_or_vector) if isinstance(word_or_vector, _KEY_TYPES) else word_or_vector
        if len(other_words) == 0:
            return fe_words.distances(self.table, q)
        rows = np.array([self.get_index(w) for w in other_words], np.int64)
        v = self._vectors[q] if isinstance(q, int) else np.asarray(q)
        return 1 - self.cosine_similarities(v, self._vectors[rows])

    def distance(self, w1, w2):
        """1 - :meth:`similarity`."""
        return 1 - self.similarity(w1, w2)

    def similarity(self, w1, w2):
        """Cosine similarity of two keys (np.float32, computed in float64 and rounded once)."""
        a = self._row_of(w1)
        b = self._row_of(w2)
        return np.float32(fe_words.similarity(self.table, a, b))

    def n_similarity(self, ws1, ws2):
        """Cosine between the means of two lists of keys (raw vectors; unknown keys ignored)."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        m1 = self.get_mean_vector(ws1, pre_normalize=False).astype(np.float64)
        m2 = self.get_mean_vector(ws2, pre_normalize=False).astype(np.float64)
        n1, n2 = np.linalg.norm(m1), np.linalg.norm(m2)
        m1 = m1 / n1 if n1 > 0 else m1
        m2 = m2 / n2 if n2 > 0 else m2
        return np.float32(m1 @ m2)

    def most_similar_to_given(self, key1, keys_list):
        """The key of ``keys_list`` most similar to ``key1`` (the first on ties)."""
        return keys_list[int(np.argmax([self.similarity(key1, key) for key in keys_list]))]

    def closer_than(self, key1, key2):
        """Keys closer to ``key1`` than ``key2`` is, in row order."""
        all_distances = self.distances(key1)
        e1 = self.get_index(key1)
        e2 = self.get_index(key2)
        closer = np.flatnonzero(all_distances < all_distances[e2])
        return [self._out_key(self.index_to_key[i]) for i in closer.tolist() if i != e1]

    def words_closer_than(self, word1, word2):
        warnings.warn("Call to deprecated `words_closer_than` (Use closer_than instead).", DeprecationWarning,
                      stacklevel=2)
        return self.closer_than(word1, word2)

    def rank(self, key1, key2) -> int:
        """1 + the number of keys closer to ``key1`` than ``key2`` (1 for ``rank(k, k)``)."""
        if self.get_index(key1) == self.get_index(key2):
            return 1
        return len(self.closer_than(key1, key2)) + 1

    def relative_cosine_similarity(self, wa, wb, topn=10):
        """similarity(wa, wb) over the sum of wa's ``topn`` best similarities (Leeuwenberg et al.)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("Cannot calculate relative cosine similarity without any similar words.")
        return float(self.similarity(wa, wb)) / (sum(sim for _, sim in sims))

    def wmdistance(self, document1, document2, norm=True):
        """Word Mover's Distance between two lists of keys (needs POT, as gensim's)."""
        try:
            from ot import emd2
        except ImportError:
            raise ImportError("wmdistance needs POT, the Python Optimal Transport library (pip install POT), "
                              "as gensim's does") from None
        n1, n2 = len(document1), len(document2)
        document1 = [t for t in document1 if t in self]
        document2 = [t for t in document2 if t in self]
        if n1 - len(document1) > 0 or n2 - len(document2) > 0:
            logger.info("Removed %d and %d OOV words from document 1 and 2 (respectively).",
                        n1 - len(document1), n2 - len(document2))
        if not document1 or not document2:
            logger.warning("At least one of the documents had no words that were in the vocabulary.")
            return float("inf")
        vocab = {}
        for t in itertools.chain(document1, document2):
            vocab.setdefault(t, len(vocab))
        n = len(vocab)
        if n == 1:
            return 0.0
        doc1, doc2 = list(dict.fromkeys(document1)), list(dict.fromkeys(document2))
        v1 = np.array([self.get_vector(t, norm=norm) for t in doc1], np.float64)
        v2 = np.array([self.get_vector(t, norm=norm) for t in doc2], np.float64)
        dist = np.zeros((n, n), np.float64)
        dist[np.ix_([vocab[t] for t in doc1], [vocab[t] for t in doc2])] = \
            np.sqrt(((v1[:, None, :] - v2[None, :, :]) ** 2).sum(axis=2))
        if abs(np.sum(dist)) < 1e-8:
            logger.info("The distance matrix is all zeros. Aborting (returning inf).")
            return float("inf")

        def nbow(doc):
            d = np.zeros(n, np.float64)
            for t in doc:
                d[vocab[t]] += 1.0
            return d / float(len(doc))
        return emd2(nbow(document1), nbow(document2), dist)

    def similarity_unseen_docs(self, *args, **kwargs):
        raise NotImplementedError("Call similarity_unseen_docs on a Doc2Vec model instead.")

    # -------------------------------------------------------------- evaluation
    @staticmethod
    def _log_evaluate_word_analogies(section) -> float:
        correct, incorrect = len(section["correct"]), len(section["incorrect"])
        if correct + incorrect == 0:
            return 0.0
        score = correct / (correct + incorrect)
        logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct, correct + incorrect)
        return score

    @staticmethod
    def log_accuracy(section) -> None:
        correct, incorrect = len(section["correct"]), len(section["incorrect"])
        if correct + incorrect > 0:
            logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * correct / (correct + incorrect),
                        correct, correct + incorrect)

    @staticmethod
    def log_evaluate_word_pairs(pearson, spearman, oov, pairs) -> None:
        logger.info("Pearson correlation coefficient against %s: %.4f", pairs, pearson[0])
        logger.info("Spearman rank-order correlation coefficient against %s: %.4f", pairs, spearman[0])
        logger.info("Pairs with unknown words ratio: %.1f%%", oov)

    def _ok_vocab(self, restrict_vocab, case_insensitive) -> dict:
        """gensim's: key (upper-cased) -> row of its first form among the first restrict_vocab keys."""
        ok_keys = self.index_to_key[:restrict_vocab]
        if case_insensitive:
            return {k.upper(): i for i, k in zip(range(len(ok_keys) - 1, -1, -1), reversed(ok_keys))}
        return {k: i for i, k in zip(range(len(ok_keys) - 1, -1, -1), reversed(ok_keys))}

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, similarity_function="most_similar"):
        """Accuracy on an analogy file (``: section`` lines, then ``a b c expected``), as gensim's:
        returns ``(score, sections)``, each section ``{'section', 'correct': [(a, b, c, d)...],
        'incorrect': [...]}``, the last one 'Total accuracy'. The questions are answered in one
        batched pass (:func:`fastembed.words.analogy_ids`); each takes the best of its top 5 whose
        key is none of a, b, c in any case, as gensim does."""
        if similarity_function not in ("most_similar", "most_similar_cosmul"):
            raise ValueError(f"similarity_function must be 'most_similar' or 'most_similar_cosmul', got "
                             f"{similarity_function!r}")
        method = "add" if similarity_function == "most_similar" else "mul"
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        oov = quadruplets = 0
        sections, section = [], None
        asked = []  # (a, b, c, expected) answered by the model
        order = []  # per section, in file order: (question, index into asked, or -1 for a dummy)
        p = os.fspath(analogies)
        with open_binary(p) as fin:
            for line_no, raw in enumerate(fin):
                line = raw.decode("utf-8")
                if line.startswith(": "):
                    if section:
                        sections.append(section)
                    section = {"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []}
                    order.append([])
                    continue
                if not section:
                    raise ValueError("Missing section header before line #%i in %s" % (line_no, p))
                try:
                    a, b, c, expected = [w.upper() for w in line.split()] if case_insensitive else line.split()
                except ValueError:
                    logger.info("Skipping invalid line #%i in %s", line_no, p)
                    continue
                quadruplets += 1
                if a not in ok_vocab or b not in ok_vocab or c not in ok_vocab or expected not in ok_vocab:
                    oov += 1
                    if dummy4unknown:
                        order[-1].append(((a, b, c, expected), -1))
                    continue
                order[-1].append(((a, b, c, expected), len(asked)))
                asked.append((a, b, c, expected))
        if section:
            sections.append(section)
        hit = []
        if asked:
            ia, ib, ic = (np.array([ok_vocab[q[j]] for q in asked], np.int64) for j in (0, 1, 2))
            _, top = fe_words.analogy_ids(self.table, ia, ib, ic, topn=5, method=method,
                                          restrict_vocab=restrict_vocab or None)
            keys = self.index_to_key
            for (a, b, c, expected), row in zip(asked, top.tolist()):
                ignore = {a, b, c}
                predicted = None
                for i in row:  # gensim: the first of the top 5 that is none of a, b, c in any case
                    if i < 0:
                        break
                    predicted = keys[i].upper() if case_insensitive else keys[i]
                    if predicted in ok_vocab and predicted not in ignore:
                        break
                hit.append(predicted == expected)
        for sec, qs in zip(sections, order):
            for q, j in qs:
                sec["correct" if j >= 0 and hit[j] else "incorrect"].append(q)
        for s in sections:
            self._log_evaluate_word_analogies(s)
        total = {"section": "Total accuracy",
                 "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
                 "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections))}
        if quadruplets:
            logger.info("Quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / quadruplets)
        score = self._log_evaluate_word_analogies(total)
        sections.append(total)
        return score, sections

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """Pearson and Spearman correlation (with p-values, from scipy) of the keys' cosines with
        human scores, and the percentage of pairs with unknown words: ``((r, p), (rho, p), oov)``."""
        try:
            from scipy import stats
        except ImportError:
            raise ImportError("evaluate_word_pairs returns p-values as gensim's does, which needs scipy (pip "
                              "install scipy); fastembed.evaluate.evaluate_word_pairs gives the correlations "
                              "without it") from None
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        gold, model = [], []
        oov = 0
        t = self.table
        with open(os.fspath(pairs), encoding=encoding) as fin:
            for line_no, line in enumerate(fin):
                if not line or line.startswith("#"):
                    continue
                try:
                    if case_insensitive:
                        a, b, sim = [w.upper() for w in line.split(delimiter)]
                    else:
                        a, b, sim = line.split(delimiter)
                    sim = float(sim)
                except (ValueError, TypeError):
                    logger.info("Skipping invalid line #%d in %s", line_no, pairs)
                    continue
                if a not in ok_vocab or b not in ok_vocab:
                    oov += 1
                    if dummy4unknown:
                        model.append(0.0)
                        gold.append(sim)
                    continue
                gold.append(sim)
                model.append(np.float32(fe_words.similarity(t, ok_vocab[a], ok_vocab[b])))
        if not gold:
            raise ValueError(f"No valid similarity judgements found in {pairs}: either invalid format or all are "
                             f"out-of-vocabulary in {self}")
        spearman = stats.spearmanr(gold, model)
        pearson = stats.pearsonr(gold, model)
        # gensim 4.4: OOV pairs over all pairs (with dummy4unknown they are in gold already)
        oov_ratio = float(oov) / len(gold) * 100 if dummy4unknown else float(oov) / (len(gold) + oov) * 100
        self.log_evaluate_word_pairs(pearson, spearman, oov_ratio, pairs)
        return pearson, spearman, oov_ratio

    # -------------------------------------------------------------- word2vec files
    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8", unicode_errors="strict",
                             limit=None, datatype=REAL, no_header=False, binary_chunk_size=100 * 1024):
        """Load a word2vec.c file (text, or ``binary``; ``no_header``: text without the count line),
        parsed by fastembed's compiled readers. ``fvocab``: a ``-save-vocab`` file of counts (else
        gensim's made-up descending counts). A repeated key keeps its first vector (as gensim).

        ``binary_chunk_size`` (the read size of gensim's private loader) is accepted and checked;
        fastembed's readers choose their own.

        Raises
        ------
        EOFError : the file holds fewer vectors than its header says.
        UnicodeDecodeError : an undecodable key with ``unicode_errors='strict'`` (file and line in
            its reason).
        ValueError (fastembed.io.FileFormatError) : any other malformed file, naming file and line.
        NotImplementedError : ``datatype`` other than float32 / float16; ``no_header`` with ``binary``.
        """
        storage = _storage_of(datatype, "datatype")
        if isinstance(binary_chunk_size, bool) or not isinstance(binary_chunk_size, Integral) or binary_chunk_size < 1:
            raise ValueError(f"binary_chunk_size must be a positive int, got {binary_chunk_size!r}")
        if no_header and binary:
            raise NotImplementedError("no_header only available for text-format files")
        counts = _read_fvocab(fvocab, unicode_errors) if fvocab is not None else None
        fmt = "word2vec-binary" if binary else ("glove" if no_header else "word2vec")
        try:
            table = fe_io.load(fname, format=fmt, limit=limit or None, encoding=encoding,
                               unicode_errors=unicode_errors, duplicates="first", progress=False,
                               dtype="float16" if storage is np.float16 else None)
        except fe_io.FileFormatError as exc:
            raise _as_gensim_error(exc) from exc
        V = len(table)
        if counts is None:
            total = _header_count(fname) if not no_header else V
            total = V if total is None else total
            if limit:
                total = min(total, limit)
            c = total - np.arange(V, dtype=np.int64)
        else:
            keys = table.vocab.keys
            missing = next((k for k in keys if k not in counts), None)
            if missing is not None:
                raise ValueError(f"{fvocab}: the vocabulary file has no count for {missing!r} (gensim's files "
                                 "list every word)")
            c = np.fromiter((counts[k] for k in keys), np.int64, V)
        kv = cls._from_table(table, c)
        kv.add_lifecycle_event("load_word2vec_format", msg=f"loaded {kv.vectors.shape} matrix of type "
                               f"{kv.vectors.dtype} from {fname}", binary=binary, encoding=encoding)
        return kv

    def save_word2vec_format(self, fname, fvocab=None, binary=False, total_vec=None, write_header=True,
                             prefix="", append=False, sort_attr="count"):
        """Write the word2vec.c format (text, or ``binary``) through fastembed's writers: rows in
        descending ``sort_attr`` (when the attribute exists, else row order), keys with ``prefix``;
        ``fvocab``: also a ``word count`` file; ``append``: add to the files; ``write_header=False``:
        no count line; ``total_vec``: the count the header states.

        Raises ValueError for a key the format cannot hold (whitespace, newline, empty), naming it.
        """
        if total_vec is None:
            total_vec = len(self.index_to_key)
        mode = "ab" if append else "wb"
        if sort_attr in self.expandos:
            ids = np.fromiter(self.key_to_index.values(), np.int64, len(self.key_to_index))
            vals = np.asarray(self.expandos[sort_attr])[ids]
            order = ids[np.argsort(-vals, kind="stable")]
        else:
            if fvocab is not None:
                raise ValueError(f"Cannot store vocabulary with '{sort_attr}' because that attribute does not exist")
            logger.warning("attribute %s not present in %s; will store in internal index_to_key order", sort_attr,
                           self)
            order = np.arange(len(self.index_to_key), dtype=np.int64)
        keys = [f"{prefix}{self.index_to_key[i]}" for i in order.tolist()]
        if fvocab is not None:
            with _open_write(os.fspath(fvocab), mode) as vout:
                vals = self.expandos[sort_attr]
                vout.write("".join(f"{k} {vals[i]}\n" for k, i in zip(keys, order.tolist())).encode("utf8"))
        rows = self._vectors if np.array_equal(order, np.arange(len(order))) else self._vectors[order]
        out = EmbeddingTable(np.ascontiguousarray(rows), vocab=Vocabulary(keys), copy=False)
        fmt = "word2vec-binary" if binary else "word2vec"
        path = os.fspath(fname)
        if write_header and not append and total_vec == len(keys):
            fe_io.save(out, path, format=fmt, progress=False)
            return
        tmp = path + f".fastembed-tmp-{os.getpid()}"
        try:
            fe_io.save(out, tmp, format=fmt, progress=False)
            with open(tmp, "rb") as src, _open_write(path, mode) as dst:
                src.readline()  # fastembed's header
                if write_header:
                    dst.write(f"{total_vec} {self.vector_size}\n".encode("utf8"))
                while True:
                    block = src.read(1 << 22)
                    if not block:
                        break
                    dst.write(block)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def intersect_word2vec_format(self, fname, lockf=0.0, binary=False, encoding="utf8", unicode_errors="strict"):
        """Take the vectors of a word2vec file for the keys this model has (no key is added).

        ``lockf`` (gensim's per-word learning-rate factor for later training) must be 1.0:
        fastembed's trainer has no lock factors (NotImplementedError otherwise)."""
        if lockf != 1.0:
            raise NotImplementedError(f"lockf={lockf!r}: fastembed's trainer has no per-word lock factors; pass "
                                      "lockf=1.0 to take the vectors (they then train like the others)")
        other = type(self).load_word2vec_format(fname, binary=binary, encoding=encoding,
                                                unicode_errors=unicode_errors)
        if other.vector_size != self.vector_size:
            raise ValueError("incompatible vector size %d in file %s" % (other.vector_size, fname))
        pairs = [(self.key_to_index[k], i) for i, k in enumerate(other.index_to_key) if k in self.key_to_index]
        if pairs:
            dst, src = (np.array(x, np.int64) for x in zip(*pairs))
            self._vectors[dst] = other.vectors[src]
            self._values_changed()
        self.add_lifecycle_event("intersect_word2vec_format",
                                 msg=f"merged {len(pairs)} vectors into {self._vectors.shape} matrix from {fname}")

    def vectors_for_all(self, keys: Iterable, allow_inference: bool = True,
                        copy_vecattrs: bool = False) -> "KeyedVectors":
        """A new KeyedVectors of the given keys (deduplicated, in order) that this model has vectors for."""
        vocab, seen = [], set()
        for key in keys:
            if key not in seen:
                seen.add(key)
                if key in (self if allow_inference else self.key_to_index):
                    vocab.append(key)
        kv = KeyedVectors(self.vector_size, 0, dtype=self._vectors.dtype)
        if vocab:
            kv._vectors = np.ascontiguousarray(self[vocab], self._vectors.dtype)
        kv.index_to_key = list(vocab)
        kv.key_to_index = {k: i for i, k in enumerate(vocab)}
        kv.next_index = len(vocab)
        kv.expandos["count"] = len(vocab) - np.arange(len(vocab), dtype=np.int64)
        if copy_vecattrs:
            for attr in self.expandos:
                for key in vocab:
                    try:
                        kv.set_vecattr(key, attr, self.get_vecattr(key, attr))
                    except KeyError:
                        pass
        kv._keys_changed()
        return kv

    # -------------------------------------------------------------- save / load
    def _extra_files(self, d: str) -> dict:
        """Subclasses' extra arrays (name -> file in d) and fields."""
        return {}

    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024 ** 2, ignore=frozenset(),
             pickle_protocol=PICKLE_PROTOCOL) -> None:
        """Save to a fastembed native directory (``vectors.npy`` memory-mappable, keys, counts,
        the other per-key attributes and this facade's fields), atomically: a failure leaves any
        previous save whole. ``KeyedVectors.load`` reads it; ``fastembed.load`` opens it as a table.

        gensim's pickle options (``separately``, ``sep_limit``, ``ignore``, ``pickle_protocol``)
        must stay at their defaults (NotImplementedError naming the one given).
        """
        p = _check_save_args(fname_or_handle, separately, sep_limit, ignore, pickle_protocol)
        self.add_lifecycle_event("saved", fname_or_handle=p)
        with atomic_dir(p, replaceable=_replaceable([NGRAMS_FILE])) as tmp:
            self._write_dir(tmp)

    def _write_dir(self, d: str) -> None:
        keys = self.index_to_key
        if not all(type(k) is str for k in keys):
            bad = next(k for k in keys if type(k) is not str)
            raise TypeError(f"save writes str keys; key {bad!r} is a {type(bad).__name__}")
        counts = self.expandos.get("count")
        vcounts = counts if counts is not None and counts.dtype.kind in "iu" and counts.shape == (len(keys),) else None
        if vcounts is not None and len(vcounts) and int(vcounts.min()) < 0:
            vcounts = None
        t = EmbeddingTable(self._vectors, vocab=Vocabulary(keys, vcounts), copy=False)
        fe_io.save(t, d, format="native", progress=False)
        expandos = {}
        for name, arr in self.expandos.items():
            if name == "count" and vcounts is not None:
                expandos[name] = {"in": "counts.npy"}
                continue
            a = np.asarray(arr)
            if a.dtype == object:
                vals = a.tolist()
                json.dumps(vals)  # TypeError for values JSON cannot hold
                expandos[name] = {"values": vals}
            else:
                fn = f"expando.{len(expandos)}.npy"
                np.save(os.path.join(d, fn), a, allow_pickle=False)
                expandos[name] = {"file": fn}
        meta = {"format": META_FORMAT, "version": META_VERSION, "class": type(self).__name__,
                "vector_size": self.vector_size, "next_index": self.next_index,
                "mapfile_path": self.mapfile_path if isinstance(self.mapfile_path, (str, type(None))) else None,
                "expandos": expandos, "lifecycle_events": _jsonable_events(getattr(self, "lifecycle_events", None))}
        meta.update(self._extra_files(d))
        with open(os.path.join(d, META_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)

    @classmethod
    def load(cls, fname, mmap=None):
        """Load what :meth:`save` wrote (or any fastembed native directory); ``mmap='r'`` maps the
        rows read-only. A gensim pickle is loaded through gensim when it is installed (ImportError
        naming gensim otherwise) and converted.

        Raises
        ------
        NotImplementedError : ``mmap`` other than None, 'r' or 'c'.
        ValueError : a file that is neither (naming what it is).
        """
        if mmap not in (None, "r", "c"):
            raise NotImplementedError(f"mmap={mmap!r}: fastembed maps saved rows read-only (mmap='r') or loads "
                                      "them into memory (None, or 'c' for a private writable copy)")
        p = os.fspath(fname)
        if os.path.isdir(p):
            return cls._load_dir(p, mmap)
        kind = fe_io.detect_format(p)
        if kind == "pickle":
            return cls._from_gensim(_gensim_pickle(p, mmap, "KeyedVectors"))
        raise ValueError(f"{p} is a {kind} file, not a saved model: use KeyedVectors.load_word2vec_format"
                         if kind in ("word2vec", "word2vec-binary", "glove") else
                         f"{p} is a {kind} file, not a saved KeyedVectors (a directory) or a gensim pickle")

    @classmethod
    def _load_dir(cls, p: str, mmap):
        meta = _file_meta(p)
        if meta is not None and meta.get("class") not in (None, cls.__name__) and cls is not KeyedVectors:
            raise ValueError(f"{p} holds a saved {meta.get('class')}, not a {cls.__name__}")
        table = fe_io.load(p, format="native", mmap=mmap == "r")
        if table.vocab is None:
            raise ValueError(f"{p}: the saved vectors have no keys")
        cls_ = cls
        if meta is not None and meta.get("class") == "FastTextKeyedVectors" and cls is KeyedVectors:
            cls_ = FastTextKeyedVectors
        kv = cls_._from_table(table, table.vocab.counts)
        if meta is not None:
            kv.vector_size = meta.get("vector_size", kv.vector_size)
            kv.next_index = meta.get("next_index", kv.next_index)
            kv.mapfile_path = meta.get("mapfile_path")
            kv.lifecycle_events = list(meta.get("lifecycle_events", []))
            for name, spec in meta.get("expandos", {}).items():
                if "file" in spec:
                    kv.expandos[name] = np.load(os.path.join(p, spec["file"]), allow_pickle=False)
                elif "values" in spec:
                    kv.expandos[name] = np.array(spec["values"], dtype=object)
                elif spec.get("in") == "counts.npy" and table.vocab.counts is not None:
                    kv.expandos[name] = np.asarray(table.vocab.counts, np.int64)
            kv._load_extra(p, meta, mmap)
        return kv

    def _load_extra(self, p: str, meta: dict, mmap) -> None:
        """Subclasses read their extra files."""

    @classmethod
    def _from_gensim(cls, obj):
        """A facade over a loaded gensim KeyedVectors (or a model's ``.wv``): its arrays are taken over."""
        if hasattr(obj, "wv") and not hasattr(obj, "index_to_key"):
            obj = obj.wv
        if not hasattr(obj, "index_to_key") or not hasattr(obj, "vectors"):
            raise TypeError(f"the pickle holds a {type(obj).__name__}, not gensim KeyedVectors")
        target = FastTextKeyedVectors if hasattr(obj, "vectors_ngrams") and cls is KeyedVectors else cls
        kv = target.__new__(target)
        vectors = np.asarray(obj.vectors)
        if vectors.dtype not in (np.float32, np.float16):
            _storage_of(vectors.dtype, "the pickle's vectors dtype")
        keys = list(obj.index_to_key)
        kv._init_state(int(obj.vector_size), np.ascontiguousarray(vectors) if vectors.flags.writeable else vectors,
                       keys, dict(obj.key_to_index))
        kv.next_index = getattr(obj, "next_index", len(keys))
        kv.expandos = {k: np.asarray(v) for k, v in getattr(obj, "expandos", {}).items()}
        kv.lifecycle_events = list(getattr(obj, "lifecycle_events", None) or [])
        kv._adopt_gensim_extra(obj)
        return kv

    def _adopt_gensim_extra(self, obj) -> None:
        """Subclasses take over their extra arrays."""


def load_word2vec_format(*args, **kwargs) -> KeyedVectors:
    """Alias of :meth:`KeyedVectors.load_word2vec_format` (as gensim's module function)."""
    return KeyedVectors.load_word2vec_format(*args, **kwargs)


# ------------------------------------------------------------------------------------------ fastText

class FastTextKeyedVectors(KeyedVectors):
    """gensim's ``FastTextKeyedVectors``: a fastText model's word vectors plus its character n-gram
    rows (:attr:`vectors_ngrams`), so any word has a vector (the mean of its n-gram rows), over a
    :class:`fastembed.io.FastTextVectors`.

    ``key in kv`` is True for any str when the model has n-grams (as gensim); ``has_index_for`` /
    ``key_to_index`` tell the known words. Unknown words work as queries (``most_similar``,
    ``similarity``, ``distances``...) with their n-gram vectors.
    """

    def __init__(self, vector_size, min_n, max_n, bucket, count=0, dtype=REAL):
        super().__init__(vector_size, count=count, dtype=dtype)
        self.min_n, self.max_n, self.bucket = int(min_n), int(max_n), int(bucket)
        self.vectors_ngrams = np.zeros((self.bucket, int(vector_size)), np.float32)
        self._eos_subwords, self._encoding, self._ft = True, "utf-8", None

    @classmethod
    def _from_ft(cls, ft: "fe_io.FastTextVectors") -> "FastTextKeyedVectors":
        kv = cls._from_table(ft.table, ft.table.vocab.counts)
        kv.min_n, kv.max_n, kv.bucket = ft.minn, ft.maxn, ft.bucket
        kv.vectors_ngrams = ft.ngrams
        kv._eos_subwords = ft.args.eos_subwords if ft.args is not None else True
        kv._encoding = "utf-8"
        kv._ft = ft
        return kv

    def _fasttext(self) -> "fe_io.FastTextVectors":
        """The fastembed FastTextVectors over the current table and n-gram rows."""
        ft = getattr(self, "_ft", None)
        t = self.table
        if ft is None or ft.table is not t or ft.ngrams is not self.vectors_ngrams:
            ft = fe_io.FastTextVectors(t, self.vectors_ngrams, minn=self.min_n, maxn=self.max_n,
                                       eos_subwords=getattr(self, "_eos_subwords", True),
                                       encoding=getattr(self, "_encoding", "utf-8"))
            self._ft = ft
        return ft

    def __getstate__(self):
        d = super().__getstate__()
        d["_ft"] = None
        return d

    def __contains__(self, word) -> bool:
        if self.bucket == 0:
            return word in self.key_to_index
        return True

    def get_vector(self, word, norm=False) -> np.ndarray:
        """A known word's row, or an unknown word's mean n-gram vector (zeros, with a warning, when
        it has no n-gram; KeyError when the model has none)."""
        if self.has_index_for(word):
            return super().get_vector(word, norm=norm)
        if self.bucket == 0:
            raise KeyError("cannot calculate vector for OOV word without ngrams")
        ft = self._fasttext()
        if not len(ft.ngram_ids(word)):
            logger.warning("could not extract any ngrams from %r, returning origin vector", word)
            return np.zeros(self.vector_size, np.float32)
        v = ft.vectors([word])[0]
        if norm:
            return (v / np.linalg.norm(v)).astype(np.float32)
        return v

    def _row_of(self, key):
        if self.has_index_for(key):
            return self.get_index(key)
        return self.get_vector(key)

    def _term(self, key):
        if self.has_index_for(key):
            return self.get_index(key)
        return self.get_vector(key, norm=True)

    def get_sentence_vector(self, sentence) -> np.ndarray:
        """The mean of the words' unit vectors (fastText's ``get_sentence_vector``)."""
        return self.get_mean_vector(sentence)

    @property
    def vectors_vocab(self):
        raise AttributeError("vectors_vocab: fastembed keeps the word vectors fastText computes (vectors) and the "
                             "n-gram rows (vectors_ngrams), not the raw word rows, which only training uses")

    def resize_vectors(self, seed=0):
        raise NotImplementedError("resize_vectors: fastembed does not train fastText models, whose vectors are "
                                  "derived from the n-gram rows")

    def _extra_files(self, d: str) -> dict:
        np.save(os.path.join(d, NGRAMS_FILE), np.ascontiguousarray(self.vectors_ngrams, np.float32),
                allow_pickle=False)
        return {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.bucket,
                "eos_subwords": bool(getattr(self, "_eos_subwords", True)),
                "encoding": getattr(self, "_encoding", "utf-8")}

    def _load_extra(self, p: str, meta: dict, mmap) -> None:
        self.min_n, self.max_n, self.bucket = int(meta["min_n"]), int(meta["max_n"]), int(meta["bucket"])
        self._eos_subwords, self._encoding = bool(meta.get("eos_subwords", True)), meta.get("encoding", "utf-8")
        self.vectors_ngrams = np.load(os.path.join(p, NGRAMS_FILE), mmap_mode="r" if mmap == "r" else None,
                                      allow_pickle=False)
        self._ft = None

    def _adopt_gensim_extra(self, obj) -> None:
        self.min_n, self.max_n, self.bucket = int(obj.min_n), int(obj.max_n), int(obj.bucket)
        self.vectors_ngrams = np.ascontiguousarray(obj.vectors_ngrams, np.float32)
        self._eos_subwords, self._encoding, self._ft = True, "utf-8", None  # gensim n-grams every word


def load_facebook_vectors(path, encoding="utf-8") -> FastTextKeyedVectors:
    """A fastText ``.bin`` model's word vectors and n-gram rows (gensim's ``load_facebook_vectors``),
    read by fastembed's compiled reader: ``vectors`` equal gensim's bit for bit.

    Raises fastembed.io.FileFormatError (a ValueError naming the file and byte) for a file that is
    not a fastText model, a quantised one (.ftz) or a truncated one; EOFError where it is shorter than
    its header says.
    """
    try:
        ft = fe_io.load_fasttext(path, encoding=encoding, progress=False)
    except fe_io.FileFormatError as exc:
        raise _as_gensim_error(exc) from exc
    return FastTextKeyedVectors._from_ft(ft)


class FastText:
    """A fastText model loaded by :func:`load_facebook_model`: its settings and :attr:`wv`
    (:class:`FastTextKeyedVectors`). fastembed does not train fastText models: constructing one to
    train, ``build_vocab`` and ``train`` raise NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("FastText training: fastembed does not train fastText models; load a trained "
                                  "one with load_facebook_model(path) (its .wv answers word questions)")

    @classmethod
    def _from_ft(cls, ft: "fe_io.FastTextVectors") -> "FastText":
        m = cls.__new__(cls)
        a = ft.args
        m.wv = FastTextKeyedVectors._from_ft(ft)
        m.vector_size = a.dim
        m.window, m.epochs, m.negative, m.min_count = a.ws, a.epoch, a.neg, a.min_count
        m.sample, m.word_ngrams, m.bucket, m.min_n, m.max_n = a.t, a.word_ngrams, a.bucket, a.minn, a.maxn
        m.sg = 1 if a.model == 2 else 0
        m.hs = 1 if a.loss == 1 else 0
        m.corpus_total_words = a.ntokens
        m.nwords = m.vocab_size = len(m.wv)
        m.lifecycle_events = []
        return m

    def build_vocab(self, *args, **kwargs):
        raise NotImplementedError("FastText.build_vocab: fastembed does not train fastText models")

    def train(self, *args, **kwargs):
        raise NotImplementedError("FastText.train: fastembed does not train fastText models")

    def __str__(self) -> str:
        return f"FastText<vocab={len(self.wv)}, vector_size={self.vector_size}>"

    __repr__ = __str__


def load_facebook_model(path, encoding="utf-8") -> FastText:
    """A fastText ``.bin`` model (gensim's ``load_facebook_model``) for its word vectors: ``.wv`` and
    the model's settings; fastembed does not continue training it (``train`` raises
    NotImplementedError). Errors as :func:`load_facebook_vectors`."""
    try:
        ft = fe_io.load_fasttext(path, encoding=encoding, progress=False)
    except fe_io.FileFormatError as exc:
        raise _as_gensim_error(exc) from exc
    return FastText._from_ft(ft)


# ------------------------------------------------------------------------------------------ Word2Vec

class LineSentence:
    """gensim's ``LineSentence``: a text file (``.gz`` / ``.bz2`` too) of one sentence a line,
    tokens separated by whitespace, sentences longer than ``max_sentence_length`` cut into pieces;
    ``limit``: only the first lines. Given to :class:`Word2Vec`, the file is streamed by fastembed's
    reader."""

    def __init__(self, source, max_sentence_length=MAX_WORDS_IN_BATCH, limit=None):
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"LineSentence reads a file path, got {type(source).__name__}")
        self.source = os.fspath(source)
        if not os.path.isfile(self.source):
            raise FileNotFoundError(f"no such corpus file: {self.source}")
        self.max_sentence_length = int(max_sentence_length)
        self.limit = limit

    def __repr__(self) -> str:
        return (f"LineSentence({self.source!r}, max_sentence_length={self.max_sentence_length}, "
                f"limit={self.limit})")

    def __iter__(self):
        with open_binary(self.source) as f:
            for line in itertools.islice(f, self.limit):
                toks = line.decode("utf-8").split()
                i = 0
                while i < len(toks):
                    yield toks[i: i + self.max_sentence_length]
                    i += self.max_sentence_length

    def _as_path(self) -> Optional[str]:
        """The file, when fastembed's own reader gives the same sentences (its cut is 10000 words)."""
        if self.limit is None and self.max_sentence_length == fe_corpus.MAX_SENTENCE_WORDS:
            return self.source
        return None


def _keep_vocab_item(word, count, min_count, trim_rule) -> bool:
    """gensim's rule: count >= min_count, unless ``trim_rule(word, count, min_count)`` says
    RULE_KEEP (2) or RULE_DISCARD (1)."""
    default = count >= min_count
    if trim_rule is None:
        return default
    rule = trim_rule(word, count, min_count)
    if rule == RULE_KEEP:
        return True
    if rule == RULE_DISCARD:
        return False
    return default


def _gensim_callback_noop(cb, name: str) -> bool:
    """True when a callback's ``name`` method is absent or gensim's base no-op."""
    m = getattr(type(cb), name, None)
    return m is None or getattr(m, "__qualname__", "").startswith("CallbackAny2Vec.")


class Word2Vec:
    """gensim 4.x's ``Word2Vec`` (skip-gram / CBOW with negative sampling) over fastembed's trainer
    (:class:`fastembed.training.Word2Vec`, a compiled Hogwild kernel).

    Takes gensim's constructor arguments with gensim's defaults (CBOW, ``vector_size=100``,
    ``workers=3``...). Given ``sentences`` or ``corpus_file`` it builds the vocabulary and trains, as
    gensim does. :attr:`wv` is a :class:`KeyedVectors` over the rows the trainer writes.

    Not implemented, each raising NotImplementedError naming the argument: ``hs=1`` (hierarchical
    softmax), ``null_word``, ``max_vocab_size`` smaller than the corpus'
    distinct words (gensim prunes while counting), ``word_count`` in :meth:`train`, batch callbacks
    (``on_batch_begin`` / ``on_batch_end``). ``hashfxn`` only seeds :meth:`seeded_vector` (gensim's
    training does not use it either); ``batch_words`` and ``queue_factor`` / ``report_delay`` tune
    gensim's job queue and do not change what is learnt.

    Reproducibility: with ``workers=1`` a run is reproducible bit for bit; the random streams are
    fastembed's, so vectors differ from gensim's run for run (quality is measured in bench/).
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
                 max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None,
                 sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=True):
        if hs:
            raise NotImplementedError(f"hs={hs!r}: fastembed trains with negative sampling only (hierarchical "
                                      "softmax is not implemented); use hs=0 with negative > 0")
        if null_word:
            raise NotImplementedError(f"null_word={null_word!r}: fastembed adds no null word; use null_word=0")
        if isinstance(batch_words, bool) or not isinstance(batch_words, Integral) or batch_words < 1:
            raise ValueError(f"batch_words must be a positive int, got {batch_words!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, Integral) or min_count < 0:
            raise ValueError(f"min_count must be a non-negative int, got {min_count!r}")
        for name, v in (("max_vocab_size", max_vocab_size), ("max_final_vocab", max_final_vocab)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, Integral) or v < 1):
                raise ValueError(f"{name} must be None or a positive int, got {v!r}")
        self.vector_size = int(vector_size)
        self.layer1_size = self.vector_size
        self.alpha, self.min_alpha = float(alpha), float(min_alpha)
        self.window, self.min_count, self.sample, self.seed = int(window), int(min_count), float(sample), seed
        self.max_vocab_size, self.max_final_vocab = max_vocab_size, max_final_vocab
        self.workers = int(workers)
        self.sg, self.hs, self.negative = int(bool(sg)), 0, int(negative)
        self.ns_exponent, self.cbow_mean = float(ns_exponent), int(bool(cbow_mean))
        self.hashfxn, self.epochs, self.null_word = hashfxn, int(epochs), 0
        self.sorted_vocab, self.batch_words, self.compute_loss = sorted_vocab, int(batch_words), bool(compute_loss)
        self.comment, self.shrink_windows = comment, bool(shrink_windows)
        self.train_count, self.total_train_time = 0, 0
        self.running_training_loss = 0
        self.min_alpha_yet_reached = float(alpha)
        self.corpus_count = self.corpus_total_words = 0
        self.effective_min_count = self.min_count
        self.raw_vocab = None
        self.lifecycle_events = []
        self._trainer = training.Word2Vec(dim=self.vector_size, window=self.window, negative=self.negative,
                                          min_count=1, sample=self.sample, epochs=max(self.epochs, 1),
                                          alpha=self.alpha, min_alpha=self.min_alpha, sg=self.sg,
                                          cbow_mean=bool(self.cbow_mean), init="gensim", workers=self.workers,
                                          seed=seed, progress=False, compute_loss=self.compute_loss,
                                          ns_exponent=self.ns_exponent, shrink_windows=self.shrink_windows)
        self.wv = KeyedVectors(self.vector_size)
        if sentences is not None or corpus_file is not None:
            self._check_corpus_sanity(sentences, corpus_file, passes=self.epochs + 1)
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file, trim_rule=trim_rule)
            self.train(corpus_iterable=sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                       total_words=self.corpus_total_words, epochs=self.epochs, start_alpha=self.alpha,
                       end_alpha=self.min_alpha, compute_loss=self.compute_loss, callbacks=callbacks)
        else:
            if trim_rule is not None:
                logger.warning("The rule, if given, is only used to prune vocabulary during build_vocab() and is not "
                               "stored as part of the model. Model initialized without sentences. trim_rule provided, "
                               "if any, will be ignored.")
            if callbacks:
                logger.warning("Callbacks are no longer retained by the model, so must be provided whenever training "
                               "is triggered, as in initialization with a corpus or calling `train()`. The callbacks "
                               "provided in this initialization without triggering train will be ignored.")
        self.add_lifecycle_event("created", params=str(self))

    # -------------------------------------------------------------- plumbing
    def __str__(self) -> str:
        return f"{self.__class__.__name__}<vocab={len(self.wv.index_to_key)}, vector_size={self.wv.vector_size}, " \
               f"alpha={self.alpha}>"

    __repr__ = __str__

    def add_lifecycle_event(self, event_name, log_level=logging.INFO, **event) -> None:
        _event(self, event_name, log_level, **event)

    @property
    def syn1neg(self) -> Optional[np.ndarray]:
        """(V, vector_size) float32 output vectors (negative sampling), written by training."""
        return self._trainer.syn1neg

    @syn1neg.setter
    def syn1neg(self, value) -> None:
        a = np.ascontiguousarray(value, np.float32)
        if a.ndim != 2 or a.shape[1] != self.vector_size:
            raise ValueError(f"syn1neg must be (V, {self.vector_size}), got shape {a.shape}")
        self._trainer.syn1neg = a

    @property
    def trainer(self) -> "training.Word2Vec":
        """The fastembed trainer underneath."""
        return self._trainer

    def __getstate__(self):
        d = dict(self.__dict__)
        t = self._trainer
        d["_trainer"] = None
        d["_trainer_state"] = {k: v for k, v in t.__dict__.items() if k not in ("table", "callbacks", "_counted")}
        return d

    def __setstate__(self, d):
        state = d.pop("_trainer_state")
        self.__dict__.update(d)
        t = training.Word2Vec.__new__(training.Word2Vec)
        t.__dict__.update(state)
        t.table, t.callbacks, t._counted = None, [], None
        self._trainer = t
        if len(self.wv):
            t.table = self.wv.table

    @staticmethod
    def _check_corpus_sanity(corpus_iterable=None, corpus_file=None, passes=1):
        if corpus_file is None and corpus_iterable is None:
            raise TypeError("Either one of corpus_file or corpus_iterable value must be provided")
        if corpus_file is not None and corpus_iterable is not None:
            raise TypeError("Both corpus_file and corpus_iterable must not be provided at the same time")
        if corpus_iterable is None and not os.path.isfile(corpus_file):
            raise TypeError("Parameter corpus_file must be a valid path to a file, got %r instead" % corpus_file)
        if corpus_iterable is not None:
            if isinstance(corpus_iterable, (str, bytes, os.PathLike)):
                raise TypeError("corpus_iterable must be an iterable of lists of str, got a "
                                f"{type(corpus_iterable).__name__}: pass a file as corpus_file=... (or "
                                "LineSentence(path))")
            if not isinstance(corpus_iterable, Iterable):
                raise TypeError(f"The corpus_iterable must be an iterable of lists of strings, got {corpus_iterable!r} "
                                "instead")
            if iter(corpus_iterable) is corpus_iterable and passes > 1:
                raise TypeError(f"Using a generator as corpus_iterable can't support {passes} passes. Try a "
                                "re-iterable sequence.")

    @staticmethod
    def _corpus(corpus_iterable, corpus_file):
        """What fastembed's trainer reads: a path (a corpus_file, or a LineSentence's own file when its
        reader gives the same sentences) or the re-iterable."""
        if corpus_file is not None:
            return os.fspath(corpus_file)
        if isinstance(corpus_iterable, LineSentence) and corpus_iterable._as_path() is not None:
            return corpus_iterable._as_path()
        return corpus_iterable

    def _sync(self) -> None:
        """Push the gensim attributes (which scripts may change between calls) to the trainer,
        validated by its rules, and bind it to ``wv``'s current rows."""
        t = self._trainer
        check = training.Word2Vec(dim=self.vector_size, window=self.window, negative=self.negative, min_count=1,
                                  sample=self.sample, epochs=max(int(self.epochs or 1), 1), alpha=self.alpha,
                                  min_alpha=min(self.min_alpha, self.alpha), sg=int(bool(self.sg)),
                                  cbow_mean=bool(self.cbow_mean), workers=self.workers, seed=t.seed, progress=False,
                                  compute_loss=bool(self.compute_loss), ns_exponent=self.ns_exponent,
                                  shrink_windows=bool(self.shrink_windows))
        for k in ("window", "negative", "sample", "alpha", "min_alpha", "sg", "cbow_mean", "workers", "compute_loss",
                  "ns_exponent", "shrink_windows"):
            setattr(t, k, getattr(check, k))
        table = self.wv.table
        if table is not t.table:
            if t.syn1neg is None or t.syn1neg.shape[0] != len(table):
                raise RuntimeError(f"wv has {len(table)} keys but the model's output layer has "
                                   f"{0 if t.syn1neg is None else t.syn1neg.shape[0]} rows: build the vocabulary with "
                                   "build_vocab() (vectors loaded into wv cannot be trained without it)")
            if table.vocab.counts is None:
                raise RuntimeError("wv has no 'count' attribute for its keys: build the vocabulary with build_vocab()")
            t.table = table

    # -------------------------------------------------------------- vocabulary
    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Count the corpus and choose the vocabulary as gensim does: ``min_count`` (raised to what
        ``max_final_vocab`` needs), ``trim_rule``, sorted by descending count (ties: the word seen
        later first) with ``sorted_vocab``; ``update=True`` appends new words to a trained model."""
        if kwargs:
            raise TypeError(f"build_vocab() got unexpected keyword arguments {sorted(kwargs)}")
        self._check_corpus_sanity(corpus_iterable, corpus_file, passes=1)
        corpus = self._corpus(corpus_iterable, corpus_file)
        one_shot = not isinstance(corpus, str) and iter(corpus) is corpus
        wc = fe_corpus.count_words(corpus if one_shot else fe_corpus.Sentences(corpus))
        raw = wc.counts
        if self.max_vocab_size is not None and len(raw) > self.max_vocab_size:
            raise NotImplementedError(f"max_vocab_size={self.max_vocab_size}: the corpus has {len(raw)} distinct words "
                                      "and gensim would prune rare ones while counting; fastembed counts every word: "
                                      "pass max_vocab_size=None (max_final_vocab caps the vocabulary)")
        self.corpus_count, self.corpus_total_words = wc.sentences, wc.words
        if update and not len(self.wv):
            raise RuntimeError("You cannot do an online vocabulary-update of a model which has no prior vocabulary. "
                               "First build the vocabulary of your model with a corpus before doing an online update.")
        vocab = self._prepare_vocab(raw, update, trim_rule)
        self.raw_vocab = raw if keep_raw_vocab else None
        if len(vocab) == 0:
            logger.warning("the vocabulary is empty: no word occurs min_count=%d times", self.effective_min_count)
            self.wv._adopt(EmbeddingTable(np.zeros((0, self.vector_size), np.float32),
                                          vocab=Vocabulary([], np.zeros(0, np.int64)), copy=False),
                           np.zeros(0, np.int64))
            return
        self._trainer.set_vocab(vocab, update=update, corpus=None if one_shot else corpus, corpus_words=wc.words)
        self.wv._adopt(self._trainer.table, vocab.counts)
        self.add_lifecycle_event("build_vocab", msg=f"collected {len(raw)} word types from a corpus of {wc.words} raw "
                                 f"words and {wc.sentences} sentences; kept {len(vocab)}")

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None,
                              update=False):
        """The vocabulary from a ``{word: count}`` dict (gensim's), chosen as :meth:`build_vocab` does."""
        raw = dict(word_freq)
        if update and not len(self.wv):
            raise RuntimeError("You cannot do an online vocabulary-update of a model which has no prior vocabulary. "
                               "First build the vocabulary of your model with a corpus before doing an online update.")
        self.corpus_count = corpus_count if corpus_count else 0
        self.corpus_total_words = int(sum(raw.values()))
        vocab = self._prepare_vocab(raw, update, trim_rule)
        self.raw_vocab = raw if keep_raw_vocab else None
        if len(vocab):
            self._trainer.set_vocab(vocab, update=update)
            self.wv._adopt(self._trainer.table, vocab.counts)

    def _prepare_vocab(self, raw: dict, update: bool, trim_rule) -> Vocabulary:
        eff = self.min_count
        if self.max_final_vocab is not None:
            by_count = sorted(raw, key=lambda w: raw[w], reverse=True)
            calc = raw[by_count[self.max_final_vocab]] + 1 if self.max_final_vocab < len(by_count) else 1
            eff = max(calc, self.min_count)
        self.effective_min_count = eff
        if not update:
            keep = [w for w, c in raw.items() if _keep_vocab_item(w, c, eff, trim_rule)]
            counts = np.fromiter((raw[w] for w in keep), np.int64, len(keep))
            if self.sorted_vocab and len(keep):
                order = np.lexsort((-np.arange(len(keep)), -counts))  # gensim: by count, ties latest first
                keep = [keep[i] for i in order.tolist()]
                counts = counts[order]
            return Vocabulary(keep, counts)
        old = list(self.wv.index_to_key)
        old_counts = np.asarray(self.wv.expandos["count"], np.int64)
        known = self.wv.key_to_index
        new = [w for w, c in raw.items() if w not in known and _keep_vocab_item(w, c, eff, trim_rule)]
        merged = old_counts + np.fromiter((raw.get(w, 0) for w in old), np.int64, len(old))
        return Vocabulary(old + new, np.concatenate([merged, np.fromiter((raw[w] for w in new), np.int64, len(new))]))

    # -------------------------------------------------------------- training
    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0, compute_loss=False,
              callbacks=(), **kwargs):
        """Train ``epochs`` passes (gensim's rules: ``total_examples`` or ``total_words`` and ``epochs``
        are required); the learning rate falls linearly from ``start_alpha`` to ``end_alpha`` over the
        call. Returns ``(effective words trained, raw words read)``."""
        if kwargs:
            raise TypeError(f"train() got unexpected keyword arguments {sorted(kwargs)}")
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        self.epochs = epochs
        if word_count:
            raise NotImplementedError(f"word_count={word_count!r}: fastembed's schedule starts each train() call at "
                                      "start_alpha; use word_count=0")
        if not self.negative:
            raise ValueError("You must set either 'hs' or 'negative' to be positive for proper training. When both "
                             "'hs=0' and 'negative=0', there will be no training.")
        if self.hs:
            raise NotImplementedError("hs=1: this model uses hierarchical softmax, which fastembed does not train")
        if not len(self.wv.key_to_index):
            raise RuntimeError("you must first build vocabulary before training the model")
        if total_words is None and total_examples is None:
            raise ValueError("You must specify either total_examples or total_words, for proper learning-rate and "
                             "progress calculations. If you've just built the vocabulary using the same corpus, using "
                             "the count cached in the model is sufficient: total_examples=model.corpus_count.")
        if epochs is None or epochs <= 0:
            raise ValueError("You must specify an explicit epochs count. The usual value is epochs=model.epochs.")
        self._check_corpus_sanity(corpus_iterable, corpus_file, passes=epochs)
        for cb in callbacks:
            for name in ("on_batch_begin", "on_batch_end"):
                if not _gensim_callback_noop(cb, name):
                    raise NotImplementedError(f"callbacks: {type(cb).__name__}.{name} is not called by fastembed's "
                                              "trainer (it trains batches in compiled code); epoch and train "
                                              "callbacks are")
        if self.alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
        self.compute_loss = bool(compute_loss)
        self.running_training_loss = 0
        self._sync()
        t = self._trainer
        corpus = self._corpus(corpus_iterable, corpus_file)
        done = {"epoch": 0, "effective": 0, "raw": 0}

        def epoch_end(info):
            done["epoch"] += 1
            done["effective"] += info["effective_words"]
            done["raw"] += info["raw_words"]
            if self.compute_loss:
                self.running_training_loss += info["loss"] * info["effective_words"]
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(self)
            if done["epoch"] < epochs:
                for cb in callbacks:
                    if hasattr(cb, "on_epoch_begin"):
                        cb.on_epoch_begin(self)

        t.callbacks = [epoch_end]
        for cb in callbacks:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin(self)
        for cb in callbacks:
            if hasattr(cb, "on_epoch_begin"):
                cb.on_epoch_begin(self)
        t0 = time.perf_counter()
        try:
            t.train(corpus, epochs=epochs, start_alpha=self.alpha, end_alpha=min(self.min_alpha, self.alpha))
        finally:
            t.callbacks = []
        elapsed = time.perf_counter() - t0
        self.wv._values_changed()
        self.train_count += 1
        self.total_train_time += elapsed
        self.min_alpha_yet_reached = self.min_alpha
        for cb in callbacks:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(self)
        self.add_lifecycle_event("train", msg=f"training on {done['raw']} raw words ({done['effective']} effective "
                                 f"words) took {elapsed:.1f}s, {done['effective'] / max(elapsed, 1e-9):.0f} effective "
                                 "words/s")
        return done["effective"], done["raw"]

    def get_latest_training_loss(self) -> float:
        """The loss summed over the last :meth:`train` call so far (with ``compute_loss=True``)."""
        return self.running_training_loss

    def predict_output_word(self, context_words_list, topn=10):
        """The ``topn`` words most probable at the centre of the context words (softmax over
        ``syn1neg`` of the context's mean input vector), as gensim's."""
        if not self.negative:
            raise RuntimeError("We have currently only implemented predict_output_word for the negative sampling "
                               "scheme, so you need to have run word2vec with negative > 0 for this to work.")
        if self.syn1neg is None or not len(self.wv):
            raise RuntimeError("Parameters required for predicting the output words not found.")
        idx = [self.wv.get_index(w) for w in context_words_list if w in self.wv]
        if not idx:
            logger.warning("All the input context words are out-of-vocabulary for the current model.")
            return None
        l1 = np.sum(self.wv.vectors[idx], axis=0)
        if self.cbow_mean:
            l1 /= len(idx)
        prob = np.exp(np.dot(l1, self.syn1neg.T))
        prob /= np.sum(prob)
        top = np.argsort(-prob, kind="stable")[:topn]
        return [(self.wv.index_to_key[i], prob[i]) for i in top.tolist()]

    def score(self, *args, **kwargs):
        raise RuntimeError("We have currently only implemented score for the hierarchical softmax scheme, so you need "
                           "to have run word2vec with hs=1 and negative=0 for this to work.")

    def estimate_memory(self, vocab_size=None, report=None) -> dict:
        """Bytes the model needs, by part (gensim's estimate)."""
        vocab_size = vocab_size or len(self.wv)
        report = report or {}
        report["vocab"] = vocab_size * 500
        report["vectors"] = vocab_size * self.vector_size * 4
        if self.negative:
            report["syn1neg"] = vocab_size * self.layer1_size * 4
        report["total"] = sum(report.values())
        return report

    def seeded_vector(self, seed_string, vector_size) -> np.ndarray:
        """gensim's ``pseudorandom_weak_vector``: a small random vector seeded by ``hashfxn(seed_string)``."""
        once = np.random.Generator(np.random.SFC64(self.hashfxn(seed_string) & 0xffffffff))
        return (once.random(vector_size).astype(REAL) - 0.5) / vector_size

    def init_sims(self, replace=False) -> None:
        warnings.warn("Call to deprecated `init_sims` (Use fill_norms() instead).", DeprecationWarning, stacklevel=2)
        self.wv.fill_norms()
        if replace:
            self.wv.unit_normalize_all()

    # -------------------------------------------------------------- save / load
    _SAVED = ("vector_size", "layer1_size", "alpha", "min_alpha", "window", "min_count", "sample", "seed",
              "max_vocab_size", "max_final_vocab", "workers", "sg", "hs", "negative", "ns_exponent", "cbow_mean",
              "epochs", "null_word", "sorted_vocab", "batch_words", "compute_loss", "comment", "shrink_windows",
              "train_count", "total_train_time", "running_training_loss", "min_alpha_yet_reached", "corpus_count",
              "corpus_total_words", "effective_min_count")

    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024 ** 2, ignore=frozenset(),
             pickle_protocol=PICKLE_PROTOCOL) -> None:
        """Save the full model (vectors, vocabulary and counts, output layer, settings) to a
        directory: fastembed's trainer format plus this facade's fields. ``Word2Vec.load`` reads it
        and training continues; ``fastembed.load(path)`` opens the vectors as a table."""
        p = _check_save_args(fname_or_handle, separately, sep_limit, ignore, pickle_protocol)
        if not len(self.wv):
            raise RuntimeError("nothing to save: build the vocabulary or train first")
        self._sync()
        self.add_lifecycle_event("saved", fname_or_handle=p)
        self._trainer.save(p)
        meta = {"format": META_FORMAT, "version": META_VERSION, "class": type(self).__name__,
                "settings": {k: getattr(self, k) for k in self._SAVED},
                "lifecycle_events": _jsonable_events(self.lifecycle_events)}
        with open(os.path.join(p, META_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1, default=repr)

    @classmethod
    def load(cls, fname, mmap=None) -> "Word2Vec":
        """Load what :meth:`save` wrote (ready to train further), or a gensim pickle through gensim
        (ImportError naming gensim when it is missing), converted."""
        if mmap not in (None, "c"):
            raise NotImplementedError(f"mmap={mmap!r}: a Word2Vec model loads writable, to train further; map its "
                                      "vectors read-only with KeyedVectors.load(path, mmap='r')")
        p = os.fspath(fname)
        if not os.path.isdir(p):
            kind = fe_io.detect_format(p)
            if kind != "pickle":
                raise ValueError(f"{p} is a {kind} file, not a saved Word2Vec model")
            return cls._from_gensim(_gensim_pickle(p, None, "Word2Vec"))
        trainer = training.Word2Vec.load(p, progress=False)
        meta = _file_meta(p)
        m = cls.__new__(cls)
        m._trainer = trainer
        s = trainer._settings()
        defaults = {"vector_size": s["dim"], "layer1_size": s["dim"], "alpha": s["alpha"], "min_alpha": s["min_alpha"],
                    "window": s["window"], "min_count": s["min_count"], "sample": s["sample"], "seed": s["seed"],
                    "max_vocab_size": None, "max_final_vocab": s["max_vocab"], "workers": trainer.workers,
                    "sg": s["sg"], "hs": 0, "negative": s["negative"], "ns_exponent": s.get("ns_exponent", 0.75),
                    "cbow_mean": int(s["cbow_mean"]), "epochs": s["epochs"], "null_word": 0, "sorted_vocab": 1,
                    "batch_words": MAX_WORDS_IN_BATCH, "compute_loss": s["compute_loss"], "comment": None,
                    "shrink_windows": s.get("shrink_windows", True), "train_count": 0, "total_train_time": 0, "running_training_loss": 0,
                    "min_alpha_yet_reached": s["alpha"], "corpus_count": 0, "corpus_total_words": 0,
                    "effective_min_count": s["min_count"]}
        saved = (meta or {}).get("settings", {})
        for k in cls._SAVED:
            setattr(m, k, saved.get(k, defaults[k]))
        m.hashfxn = hash
        m.raw_vocab = None
        m.lifecycle_events = list((meta or {}).get("lifecycle_events", []))
        m.wv = KeyedVectors._from_table(trainer.table, trainer.table.vocab.counts)
        return m

    @classmethod
    def _from_gensim(cls, g) -> "Word2Vec":
        """A facade model from a gensim Word2Vec (its vectors, vocabulary, counts, output layer, settings)."""
        if not hasattr(g, "wv") or not hasattr(g, "vector_size"):
            raise TypeError(f"the pickle holds a {type(g).__name__}, not a gensim Word2Vec model")
        m = cls.__new__(cls)
        hs = int(getattr(g, "hs", 0))
        neg = int(getattr(g, "negative", 5))
        trainer = training.Word2Vec(dim=int(g.vector_size), window=max(int(g.window), 1), negative=neg, min_count=1,
                                    sample=float(g.sample), epochs=max(int(g.epochs), 1), alpha=float(g.alpha),
                                    min_alpha=min(float(g.min_alpha), float(g.alpha)), sg=int(bool(g.sg)),
                                    cbow_mean=bool(g.cbow_mean), workers=int(getattr(g, "workers", 3)),
                                    seed=int(g.seed), progress=False, ns_exponent=float(getattr(g, "ns_exponent", .75)),
                                    shrink_windows=bool(getattr(g, "shrink_windows", True)))
        keys = list(g.wv.index_to_key)
        counts = np.asarray(g.wv.expandos.get("count", np.ones(len(keys))), np.int64)
        trainer.set_vocab(Vocabulary(keys, np.maximum(counts, 1)))
        with trainer.table.writing() as w:
            w[:] = np.asarray(g.wv.vectors, np.float32)
        s1 = getattr(g, "syn1neg", None)
        if s1 is not None and np.shape(s1) == trainer.syn1neg.shape:
            trainer.syn1neg = np.ascontiguousarray(s1, np.float32)
        m._trainer = trainer
        for k in cls._SAVED:
            if k == "hs":
                continue
            v = getattr(g, k, None)
            setattr(m, k, v.item() if isinstance(v, np.generic) else v)
        m.hs = hs
        m.hashfxn = getattr(g, "hashfxn", hash)
        m.raw_vocab = None
        m.lifecycle_events = list(getattr(g, "lifecycle_events", None) or [])
        m.wv = KeyedVectors._from_table(trainer.table, counts)
        return m
