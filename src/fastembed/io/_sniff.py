"""Telling word2vec text, word2vec binary and GloVe apart from a file's first bytes, by structure.

A word2vec file starts with a header line ``"V D"``. What follows decides text or binary: in a
text file the bytes after each line's key are numbers (digits, signs, points, exponents, "nan",
"inf", spaces); in a binary file they are raw float32 bytes, of which a large share fall outside
that alphabet (every exponent byte of a value in about [-1e19, 5e-10] or [5e-4, 8] does). The
decision counts the bytes outside the alphabet over the first records: a text file with a
corrupted byte or two still reads as text (and the parser then names the bad line), a binary file
never looks like text unless nearly all its bytes already spell numbers. A NUL byte anywhere is
just one more such byte, not a verdict.

A GloVe file has no header. Its first line can look like one (``"12 5"`` is the key "12" with the
value 5): the file is GloVe when the lines after it hold one value each while the header would
announce another dimension.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from fastembed._kernels import _parse

__all__ = ["parse_header", "Sniff", "sniff", "infer_dim", "first_line", "SNIFF_RECORDS"]

HEADER = re.compile(rb"[ \t\r\v\f]*([0-9]{1,18})[ \t\r\v\f]+([0-9]{1,18})[ \t\r\v\f]*\Z")
# bytes a text number region may hold: digits, signs, point, exponent, nan/inf/infinity, spaces,
# and the comma of a number written under a comma locale (so that file reads as text and the
# parser names the bad number, rather than as binary)
_TEXT_ALPHABET = b"0123456789+-.,eE \t\r\v\fnaNAiIfFtTyY"
SNIFF_RECORDS = 8    # records / lines looked at
DIM_LINES = 32       # GloVe: lines whose shapes must agree on the dimension


def parse_header(line: bytes) -> Optional[Tuple[int, int]]:
    """(V, D) if ``line`` (without its newline) is a word2vec header "V D", else None."""
    m = HEADER.match(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


def first_line(head: bytes) -> Tuple[bytes, bool]:
    """The first line of ``head`` without its newline, and whether the newline was there."""
    i = head.find(b"\n")
    return (head, False) if i < 0 else (head[:i], True)


def _alien_share(body: bytes, records: int) -> Tuple[int, int]:
    """(bytes outside the number alphabet, bytes looked at) in the parts after the keys of the
    first ``records`` lines of ``body``, read as text."""
    alien = total = 0
    for line in body.split(b"\n", records)[:records]:
        parts = line.split(None, 1)
        if len(parts) == 2:
            region = parts[1]
            total += len(region)
            alien += len(region.translate(None, _TEXT_ALPHABET))
    return alien, total


def looks_binary(body: bytes, V: int) -> bool:
    alien, total = _alien_share(body, min(V, SNIFF_RECORDS))
    return alien > 1 and alien * 8 >= total


def line_dims(buf: bytes, max_lines: int = DIM_LINES):
    """For the first non-blank complete lines of buf: the dimension each would give
    (min(trailing numbers, tokens - 1)) and its 0-based line number."""
    shapes, where = _parse.line_shapes(np.frombuffer(buf, np.uint8), max_lines)
    dims = np.minimum(shapes[:, 1], shapes[:, 0] - 1)
    return dims.tolist(), where.tolist()


def infer_dim(dims, where) -> Tuple[Optional[int], str]:
    """The dimension most lines agree on (a strict majority of the lines looked at), or
    (None, why) when they do not agree."""
    if not dims:
        return None, "no complete line"
    (best, count), = Counter(dims).most_common(1)
    if count * 2 > len(dims) or len(dims) == 1:
        return best, ""
    others = [(w, d) for d, w in zip(dims, where)][:4]
    listing = ", ".join(f"line {w + 1} has {d}" for w, d in others)
    return None, f"cannot infer the dimension: the first lines disagree on the number of values ({listing})"


@dataclass(frozen=True)
class Sniff:
    """What the first bytes say: ``kind`` is "word2vec", "word2vec-binary" or "glove";
    ``header`` (V, D) for the word2vec kinds."""

    kind: str
    header: Optional[Tuple[int, int]] = None
    header_len: int = 0


def sniff(head: bytes) -> Sniff:
    line, has_nl = first_line(head)
    hdr = parse_header(line) if has_nl or len(head) < 1 << 16 else None
    if hdr is None:
        return Sniff("glove")
    V, D = hdr
    body = head[len(line) + 1:]
    if looks_binary(body, V):
        return Sniff("word2vec-binary", hdr, len(line) + 1)
    if D != 1:
        dims, where = line_dims(body)
        votes = [(d, w) for d, w in zip(dims, where) if d > 0]
        d, _ = infer_dim([d for d, _ in votes], [w for _, w in votes])
        if d == 1:
            return Sniff("glove")  # "12 5" was the key "12" and the value 5: every line has one value
    return Sniff("word2vec", hdr, len(line) + 1)
