"""Opening (possibly compressed) files: the one place that knows about ``.gz`` and ``.bz2``.

Imports nothing of the package, so any module (io, evaluation, corpora) can use it without an
import edge back up.
"""
from __future__ import annotations

import bz2
import gzip
import io
import os

__all__ = ["open_binary", "open_text", "COMPRESSED_SUFFIXES"]

COMPRESSED_SUFFIXES = (".gz", ".bz2")


def open_binary(path):
    """Open a file for reading bytes, decompressing ``.gz`` / ``.bz2`` by extension."""
    p = os.fspath(path)
    if p.endswith(".gz"):
        return gzip.open(p, "rb")
    if p.endswith(".bz2"):
        return bz2.open(p, "rb")
    return open(p, "rb")


def open_text(path, encoding: str = "utf-8", errors: str = "strict"):
    """Open a (possibly compressed) text file; universal newlines (CRLF files read cleanly)."""
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors=errors)
