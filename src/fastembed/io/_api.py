"""The public entry points: :func:`load`, :func:`save`, :func:`detect_format` (re-exported by
``fastembed.io`` and ``fastembed``)."""
from __future__ import annotations

import logging
import os
import time
from typing import Optional

from fastembed._dtypes import convert
from fastembed._dtypes import resolve as resolve_dtype
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._registry import FORMATS, REGISTRY, SAVE_FORMATS, detect, refusal
from fastembed.io._source import Source
from fastembed.table import EmbeddingTable

__all__ = ["load", "save", "detect_format", "check_save_format"]

log = logging.getLogger(__name__)


def detect_format(path) -> str:
    """The format of a file or directory, from its content: one of :data:`FORMATS`, or the name of
    a recognised foreign file ("npy", "pickle", "hdf5", ...) that :func:`load` refuses with a
    message saying how to load it.

    Raises
    ------
    FileNotFoundError, FileFormatError (empty file).
    """
    with Source(path) as src:
        return detect(src).name


def load(path, format: str = "auto", *, limit: Optional[int] = None, dtype=None,
         encoding: str = "utf-8", unicode_errors: str = "strict", progress: Optional[bool] = None,
         mmap: bool = False, duplicates: str = "error", tensor: Optional[str] = None, vocab=None,
         n_threads: Optional[int] = None, verify: Optional[bool] = None) -> EmbeddingTable:
    """Load vectors with their keys as an :class:`EmbeddingTable`.

    Parameters
    ----------
    path : str or PathLike
        A file or a native directory. ``.gz`` and ``.bz2`` text/binary files are decompressed on the
        fly (once: detection and reading share the stream). A fastText ``.bin`` model gives its
        full word vectors (:func:`fastembed.io.load_fasttext` keeps the n-grams for unknown words).
    format : "auto" or one of ``FORMATS``
        "auto" decides by content (see :func:`detect_format`).
    limit : int, optional
        Read only the first ``limit`` vectors (text, binary, fastText and spaCy formats).
    dtype : None, "float32", "float16" or "bfloat16" (or np.float32 / np.float16)
        The table's storage dtype. None: the file's own: native directories keep the dtype they
        were saved with, safetensors F16 / BF16 / F32 tensors keep theirs (memory-mapped read-only,
        no conversion; F64 becomes float32), text and binary formats give float32. Another dtype
        converts the rows (in blocks: peak memory about the result plus the file's reader).
    encoding, unicode_errors : how keys are decoded ("strict", "replace", "ignore").
    progress : None (a tqdm bar for files over 8 MB on a terminal), True or False.
    mmap : bool
        Native and spaCy directories: map the matrix read-only instead of reading it (pages load
        on first touch; a spaCy table whose rows are not one per key in order is gathered).
    duplicates : "error" (default) or "first" (keep the first vector of a repeated key).
    tensor, vocab : safetensors only: the tensor name (needed when the file has several 2-D
        tensors) and an optional vocabulary (a file with one token a line, or a list of keys).
    n_threads : int, optional
        Threads parsing text and verifying checksums (None: all cores, as every kernel).
    verify : bool, optional
        Native format: compare every block's CRC-32 with meta.json. None (default): for directories
        up to 256 MB; sizes, shapes and counts are always checked.

    Returns
    -------
    EmbeddingTable
        (V, D) rows in the storage dtype (see ``dtype``) with a Vocabulary of V keys (safetensors
        without keys: no vocabulary).
        Text and binary files: peak memory is about the matrix plus the keys (see
        :mod:`fastembed.io.text`).

    Raises
    ------
    FileFormatError (a ValueError) : malformed, truncated or foreign file; the message names the
        file, the line or byte, and what was expected.
    FileNotFoundError : no such file.
    """
    storage = None if dtype is None else resolve_dtype(dtype)  # ValueError naming the value
    if format != "auto" and format not in REGISTRY:
        raise ValueError(f"unknown format {format!r}; choose from {FORMATS} or 'auto'")
    opts = LoadOptions(limit=limit, encoding=encoding, unicode_errors=unicode_errors, progress=progress,
                       mmap=mmap, duplicates=duplicates, tensor=tensor, vocab=vocab, n_threads=n_threads,
                       verify=verify, dtype=storage)
    t0 = time.perf_counter()
    with Source(path) as src:
        fmt = detect(src) if format == "auto" else REGISTRY[format]
        if fmt.read is None:
            raise src.error(refusal(fmt, src))
        if src.is_dir and not fmt.directory:
            dirs = tuple(name for name, f in REGISTRY.items() if f.directory)
            raise src.error(f"is a directory; of the formats only {dirs} are (format={format!r})")
        table = fmt.read(src, opts)
    if storage is not None and table.storage is not storage:
        # readers give their file's dtype (text: float32); converted here, in blocks
        rows, scales = convert(table.weights, table.storage, storage, scales=table.scales)
        table = EmbeddingTable(rows, scales=scales, vocab=table.vocab, padding_idx=table.padding_idx, dtype=storage,
                               copy=False)
    log.info("loaded %s (%s): %d x %d %s in %.3f s", os.fspath(path), fmt.name, table.num_embeddings, table.dim,
             table.storage.name, time.perf_counter() - t0)
    return table


def save(table: EmbeddingTable, path, format: str = "word2vec", *, tensor: str = "weight",
         progress: Optional[bool] = None, n_threads: Optional[int] = None) -> None:
    """Write a table (with its vocabulary) in one of ``SAVE_FORMATS``, atomically.

    Text formats use the shortest decimal that reads back to the same float32, so every format
    round-trips bit for bit (NaN: only the canonical quiet NaNs ``nan`` / ``-nan`` can be written
    as text; other payloads are refused). Native writes a directory (vectors.npy, keys.txt,
    counts.npy, meta.json with sizes and checksums) that :func:`load` can memory-map. Keys must
    not hold newlines or repeat; word2vec formats need non-empty keys without whitespace; GloVe
    keys may hold spaces but not end in a number after one (a reader could not tell it from the
    vector), and GloVe cannot hold an empty table or D = 0. ``.gz`` / ``.bz2`` text and binary
    files are compressed.

    The file (or directory) is written under a temporary name next to ``path`` and renamed into
    place when complete: a failure or Ctrl-C leaves any old file whole, readers and memory maps of
    the old file keep working, and a memory-mapped table can be saved onto its own path.

    Parameters
    ----------
    table : EmbeddingTable
    path : str or PathLike
    format : one of ``SAVE_FORMATS`` (default "word2vec")
    tensor : safetensors only: the tensor's name.
    progress : None (a tqdm bar for tables over 8 MB on a terminal), True or False.
    n_threads : int, optional
        Threads formatting text / computing checksums (None: all cores).

    Raises
    ------
    ValueError : a key or value the format cannot hold (named), or an unknown format.
    TypeError : not an EmbeddingTable.
    """
    if not isinstance(table, EmbeddingTable):
        raise TypeError(f"save takes an EmbeddingTable, got {type(table).__name__}")
    fmt = REGISTRY[check_save_format(format)]
    opts = SaveOptions(tensor=tensor, progress=progress, n_threads=n_threads)
    t0 = time.perf_counter()
    fmt.write(table, os.fspath(path), opts)
    log.info("saved %d x %d to %s (%s) in %.3f s", table.num_embeddings, table.dim, os.fspath(path), format,
             time.perf_counter() - t0)


def check_save_format(format: str) -> str:
    """``format`` if :func:`save` can write it (the registry's answer), else the ValueError
    :func:`save` would raise: callers (the CLI's ``train --format``) check before long work.

    Raises
    ------
    ValueError : an unknown format, or one fastembed reads but cannot write (named).
    """
    fmt = REGISTRY.get(format) if isinstance(format, str) else None
    if fmt is not None and fmt.write is None and fmt.read is not None:
        raise ValueError(f"format {format!r} can be loaded but not saved; choose from {SAVE_FORMATS}")
    if fmt is None or fmt.write is None:
        raise ValueError(f"unknown format {format!r}; choose from {SAVE_FORMATS}")
    return format
