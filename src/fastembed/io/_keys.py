"""Keys on the way in (decoded from byte spans, duplicates caught) and on the way out (checked
against what each format can hold, then encoded once into one blob the writer kernels read)."""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple

import numpy as np

from fastembed._kernels import _parse
from fastembed.io._errors import FileFormatError
from fastembed.vocab import Vocabulary

__all__ = ["KeyCollector", "keys_for_writing", "KEY_RULES"]


class KeyCollector:
    """Collects decoded keys and checks duplicates while a file is read.

    ``where`` arguments are callables naming a position ("line 3", "byte 120"), called only to
    build a message. With ``duplicates="first"`` a repeated key's row is dropped.
    """

    def __init__(self, path, duplicates: str, encoding: str, errors: str):
        self.keys: List[str] = []
        self.index: dict = {}
        self.path, self.dup, self.encoding, self.errors = path, duplicates, encoding, errors
        self.seen = 0  # vectors read, duplicates included

    def __repr__(self) -> str:
        return (f"KeyCollector({self.path!r}, keys={len(self.keys)}, seen={self.seen}, duplicates={self.dup!r}, "
                f"encoding={self.encoding!r})")

    def add(self, raw: bytes, where: Callable[[], str]) -> bool:
        self.seen += 1
        try:
            k = raw.decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            line, _, at = where().partition(" ")
            kw = {"line": int(at)} if line == "line" else {"byte": int(at)}
            raise FileFormatError(self.path, f"key is not valid {self.encoding} ({exc.reason}); pass "
                                  "unicode_errors='replace' to load anyway", **kw) from exc
        first = self.index.get(k)
        if first is not None:
            if self.dup == "error":
                line, _, at = where().partition(" ")
                kw = {"line": int(at)} if line == "line" else {"byte": int(at)}
                raise FileFormatError(self.path, f"duplicate key {k!r} (first seen as vector {first + 1}); "
                                      "pass duplicates='first' to keep the first vector", **kw)
            return False
        self.index[k] = len(self.keys)
        self.keys.append(k)
        return True

    def take(self, buf: bytes, spans: np.ndarray, n: int, out: np.ndarray, row0: int,
             where_of: Callable[[int], str]) -> int:
        """Decode the keys of rows row0..row0+n-1 (``spans`` into ``buf``); drop duplicate rows if
        asked to (moving later rows up in ``out``); return the new row count of ``out``.

        Fast path for a whole chunk (one comprehension, one dict, one disjointness test); the
        per-key path runs only when a key is undecodable or repeated, to name it."""
        if n == 0:
            return row0
        try:
            new = [buf[a:b].decode(self.encoding, self.errors) for a, b in spans[:n].tolist()]
        except UnicodeDecodeError:
            new = None
        if new is not None:
            start = len(self.keys)
            d = dict(zip(new, range(start, start + n)))
            if len(d) == n and self.index.keys().isdisjoint(d):
                self.index.update(d)
                self.keys.extend(new)
                self.seen += n
                return row0 + n
        dst = row0
        for i in range(n):
            a, b = int(spans[i, 0]), int(spans[i, 1])
            if self.add(buf[a:b], lambda a=a: where_of(a)):
                if dst != row0 + i:
                    out[dst] = out[row0 + i]
                dst += 1
        return dst

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.keys)


# ------------------------------------------------------------------------------------------ writing

_SPACE = "[ \t\r\v\f]"  # what the parsers split tokens on (besides the newline)


def _is_number(token: str) -> bool:
    try:
        _parse.parse_floats(token.encode("utf-8"))
    except ValueError:
        return False
    return True


def _no_space(keys: List[str], joined: str) -> Optional[Tuple[int, str]]:
    m = re.search(_SPACE, joined)
    if m is not None:
        return joined.count("\n", 0, m.start()), "holds whitespace (word2vec keys are single tokens)"
    return None


def _glove(keys: List[str], joined: str) -> Optional[Tuple[int, str]]:
    for m in re.finditer(_SPACE, joined):
        i = joined.count("\n", 0, m.start())
        k = keys[i]
        if k != k.strip(" \t\r\v\f"):
            return i, "starts or ends with whitespace"
        if _is_number(re.split(_SPACE, k)[-1]):
            return i, ("ends in a number after a space: GloVe has no header, so a reader could not tell "
                       "the key from the vector")
    return None


# format rule name -> (may a key be empty, extra check over all keys)
KEY_RULES = {
    "word2vec": (False, _no_space),
    "glove": (False, _glove),
    "lines": (True, None),    # one key a line (native keys.txt)
    "any": (True, None),      # stored as JSON (safetensors metadata)
}


def keys_for_writing(table, rule: str, fmt: str) -> Tuple[List[str], bytes, np.ndarray]:
    """The table's keys (or "0", "1", ... without a vocabulary) checked against ``rule`` and
    encoded: (keys, blob, offsets) with key i = ``blob[offsets[i]:offsets[i + 1] - 1]`` (each key
    followed by one b"\\n").

    Raises ValueError naming the first key (and row) the format cannot hold: a newline (every
    format but safetensors), a duplicate, an empty key, whitespace (word2vec), a key the GloVe
    reader would split differently; TypeError for a key that is not a str.
    """
    vocab = table.vocab
    keys = vocab.keys if vocab is not None else [str(i) for i in range(len(table))]  # not modified
    V = len(keys)
    allow_empty, check = KEY_RULES[rule]

    def bad(i: int, why: str):
        return ValueError(f"key {keys[i]!r} at row {i} cannot be written in format {fmt!r}: it {why}")

    try:
        joined = "\n".join(keys)
    except TypeError:
        i = next(i for i, k in enumerate(keys) if not isinstance(k, str))
        raise TypeError(f"key {keys[i]!r} at row {i} is a {type(keys[i]).__name__}; keys must be str") from None
    if rule != "any" and joined.count("\n") != max(V - 1, 0):
        raise bad(next(i for i, k in enumerate(keys) if "\n" in k), "holds a newline")
    if len(set(keys)) != V:
        seen = {}
        for i, k in enumerate(keys):
            if k in seen:
                raise bad(i, f"repeats the key of row {seen[k]} (a reader refuses duplicate keys)")
            seen[k] = i
    if not allow_empty and V and (not keys[0] or not keys[-1] or "\n\n" in joined):
        raise bad(next(i for i, k in enumerate(keys) if not k), "is empty")
    if check is not None:
        found = check(keys, joined)
        if found is not None:
            raise bad(*found)
    if V == 0 or rule == "any":
        return keys, b"", np.zeros(1, np.int64)
    try:
        blob = (joined + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad(joined.count("\n", 0, exc.start), f"cannot be encoded as UTF-8 ({exc.reason})") from None
    offsets = np.empty(V + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = np.flatnonzero(np.frombuffer(blob, np.uint8) == 10) + 1
    return keys, blob, offsets
