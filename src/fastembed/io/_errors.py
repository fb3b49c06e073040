"""One error type for files that cannot be read as what they are (or were asked to be).

Every loader error names the file and, where it can, the line or byte, and what was expected:
``FileFormatError: vectors.txt, line 3: expected a key and 300 values, got 299 tokens``. It is a
``ValueError`` (the documented exception of :func:`fastembed.load`) and keeps the low-level
exception (``EOFError``, ``zlib.error``, ``UnicodeDecodeError``, ``json.JSONDecodeError``...) as its
``__cause__``.
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Optional

__all__ = ["FileFormatError", "stream_error"]


class FileFormatError(ValueError):
    """A malformed, truncated or foreign file: ``"<path>[, line N | , byte N]: <what>"``.

    Attributes
    ----------
    path : str
        The file (for a native directory: the file inside it that is wrong).
    what : str
        What was found and what was expected.
    line, byte : int or None
        Where (1-based line, or 0-based byte offset in the decompressed stream).
    """

    def __init__(self, path, what: str, *, line: Optional[int] = None, byte: Optional[int] = None):
        self.path = os.fspath(path)
        self.what = what
        self.line = line
        self.byte = byte
        where = f", line {line}" if line is not None else f", byte {byte}" if byte is not None else ""
        super().__init__(f"{self.path}{where}: {what}")

    def __reduce__(self):  # picklable across processes (the fuzzer runs loads in workers)
        return (_rebuild, (type(self), self.path, self.what, self.line, self.byte))


def _rebuild(cls, path, what, line, byte):
    return cls(path, what, line=line, byte=byte)


def stream_error(path, exc: BaseException, *, byte: Optional[int] = None) -> Optional[FileFormatError]:
    """The FileFormatError for a low-level read failure, or None if ``exc`` is not one (an OS
    error with an errno, a MemoryError, a KeyboardInterrupt...: those propagate as they are)."""
    p = os.fspath(path)
    kind = ("gzip" if p.endswith(".gz") else "bz2" if p.endswith(".bz2") else None)
    if isinstance(exc, EOFError):
        what = (f"the {kind} stream ends early (the file is truncated)" if kind else
                "the file ends early (truncated)")
    elif isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        what = f"the {kind or 'gzip'} stream is corrupt ({exc})"
    elif isinstance(exc, OSError) and exc.errno is None and kind is not None:
        what = f"the {kind} stream is corrupt ({exc})"  # bz2: "Invalid data stream"
    elif isinstance(exc, UnicodeDecodeError):
        what = f"not valid {exc.encoding} at byte {exc.start} of the text ({exc.reason})"
    else:
        return None
    return FileFormatError(p, what, byte=byte)
