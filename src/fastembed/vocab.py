"""Vocabulary: ordered string keys <-> row ids, with optional counts."""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

__all__ = ["Vocabulary"]


class Vocabulary:
    """Keys (str) in row order, their ids, and optional counts.

    Parameters
    ----------
    keys : sequence of str
        Row i has key ``keys[i]``; keys must be unique.
    counts : array_like of int, optional
        One count per key (e.g. corpus frequencies).
    unk : str or int, optional
        Where unknown keys go: a key of this vocabulary or a row id. Without it, unknown keys raise
        ``KeyError`` naming the key.

    The key -> id dict is built on first use, so opening a memory-mapped table with a large
    vocabulary costs only reading the keys.
    """

    __slots__ = ("_keys", "_index", "_counts", "_unk")

    def __init__(self, keys: Sequence[str], counts=None, *, unk: Union[str, int, None] = None):
        if isinstance(keys, Vocabulary):
            keys = keys._keys
        self._keys: List[str] = keys if isinstance(keys, list) else list(keys)
        if not all(type(k) is str for k in self._keys):
            for i, k in enumerate(self._keys):
                if not isinstance(k, str):
                    raise TypeError(f"keys must be str, got {type(k).__name__} at position {i}")
        self._index = None
        self._counts = None
        if counts is not None:
            c = np.asarray(counts)
            if c.shape != (len(self._keys),):
                raise ValueError(f"counts has shape {c.shape}, expected ({len(self._keys)},)")
            if c.dtype.kind not in "iu":
                raise TypeError(f"counts must be integers, got dtype {c.dtype}")
            self._counts = c.astype(np.int64)
        self._unk = None
        if unk is not None:
            self._unk = self.key_to_id(unk) if isinstance(unk, str) else self._check_id(unk)

    # -------------------------------------------------------------- construction
    @classmethod
    def from_counts(cls, counts: dict, *, min_count: int = 1, max_size: Optional[int] = None) -> "Vocabulary":
        """Keys sorted by count (descending; ties by first appearance in ``counts``), keeping those
        with ``count >= min_count``, at most ``max_size`` of them."""
        items = [(k, c) for k, c in counts.items() if c >= min_count]
        order = sorted(range(len(items)), key=lambda i: -items[i][1])  # stable: ties keep insertion order
        if max_size is not None:
            order = order[: int(max_size)]
        return cls([items[i][0] for i in order], np.array([items[i][1] for i in order], np.int64))

    # -------------------------------------------------------------- mapping
    @property
    def keys(self) -> List[str]:
        """The keys in id order (the vocabulary's own list: do not modify)."""
        return self._keys

    @property
    def counts(self) -> Optional[np.ndarray]:
        return self._counts

    @property
    def unk_id(self) -> Optional[int]:
        return self._unk

    def _index_map(self) -> dict:
        idx = self._index
        if idx is None:
            idx = dict(zip(self._keys, range(len(self._keys))))
            if len(idx) != len(self._keys):
                seen = set()
                for i, k in enumerate(self._keys):
                    if k in seen:
                        raise ValueError(f"duplicate key {k!r} at position {i}")
                    seen.add(k)
            self._index = idx
        return idx

    def _check_id(self, i) -> int:
        n = len(self._keys)
        i = int(i)
        if not 0 <= i < n:
            raise IndexError(f"id {i} is out of range for a vocabulary of {n} keys")
        return i

    def key_to_id(self, key: str) -> int:
        """The id of ``key``; the unk id for unknown keys if configured, else ``KeyError``."""
        i = self._index_map().get(key)
        if i is None:
            if self._unk is not None:
                return self._unk
            raise KeyError(f"key {key!r} is not in the vocabulary")
        return i

    def id_to_key(self, i) -> str:
        return self._keys[self._check_id(i)]

    def get(self, key: str, default=None):
        """The id of ``key`` or ``default`` (the unk id is not used here)."""
        return self._index_map().get(key, default)

    def encode(self, keys) -> Union[int, np.ndarray]:
        """Ids of one key (an int), of a sequence of keys (an int64 array), of a str array (int64,
        the same shape) or of a rectangular list of lists of keys (a 2-D int64 array)."""
        if isinstance(keys, str):
            return self.key_to_id(keys)
        if isinstance(keys, np.ndarray) and keys.ndim != 1:
            return self.encode(keys.reshape(-1).tolist()).reshape(keys.shape)
        if isinstance(keys, (list, tuple)) and keys and isinstance(keys[0], (list, tuple)):
            rows = [self.encode(list(r)) for r in keys]
            if len({len(r) for r in rows}) > 1:
                raise ValueError("token lists have different lengths; pad them to one length first")
            return np.stack(rows)
        idx = self._index_map()
        out = np.empty(len(keys), np.int64)
        for j, k in enumerate(keys):
            i = idx.get(k)
            if i is None:
                i = self.key_to_id(k)  # unk or KeyError naming the key
            out[j] = i
        return out

    def encode_nested(self, x):
        """Keys to ids inside (ragged) lists, ints kept (exclusion lists may mix both)."""
        if isinstance(x, str):
            return self.key_to_id(x)
        return [self.encode_nested(e) if not isinstance(e, (int, np.integer)) else e for e in x]

    def decode(self, ids) -> Union[str, List[str]]:
        """Keys of one id or of an array of ids."""
        a = np.asarray(ids)
        if a.ndim == 0:
            return self.id_to_key(int(a))
        return [self.id_to_key(i) for i in a.reshape(-1)]

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._index_map()

    def __iter__(self) -> Iterable[str]:
        return iter(self._keys)

    def __getitem__(self, key):
        """``vocab["cat"]`` -> id; ``vocab[3]`` -> key."""
        if isinstance(key, str):
            return self.key_to_id(key)
        return self.id_to_key(key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self._keys == other._keys

    def __repr__(self) -> str:
        head = ", ".join(repr(k) for k in self._keys[:5])
        more = ", ..." if len(self._keys) > 5 else ""
        return f"Vocabulary({len(self._keys)} keys: [{head}{more}])"
