"""Reading and writing embedding files (filled in below)."""
from __future__ import annotations

import bz2
import gzip
import io
import os

__all__ = ["open_text", "open_binary"]


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
