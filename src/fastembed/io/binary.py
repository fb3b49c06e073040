"""word2vec binary: a "V D" text header line, then V records ``key b" " <D little-endian float32>``.

Records are either each followed by b"\\n" (word2vec.c, and what :func:`write` produces) or packed
(gensim); the first record decides, and every record must then follow the same rule. Keys hold
no b" " and no b"\\n"; nothing may follow the last record. Records are copied by the compiled
parser straight into the output matrix; peak memory is the matrix plus the keys (compressed
files: plus one 64 MB block, see :mod:`fastembed.io._rows`).
"""
from __future__ import annotations

import sys

import numpy as np

from fastembed._kernels import _parse
from fastembed.io._atomic import atomic_file
from fastembed.io._keys import KeyCollector, keys_for_writing
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._rows import RowSink
from fastembed.io._sniff import first_line, parse_header, sniff
from fastembed.io._source import CHUNK, Source, progress_bar
from fastembed.io.text import MAX_DIM, compressed_writer
from fastembed.table import EmbeddingTable

__all__ = ["detect", "read", "write", "MAX_KEY_BYTES"]

MAX_KEY_BYTES = 1 << 16
WRITE_ROWS = 4096


def detect(src: Source) -> bool:
    return bool(src.head) and sniff(src.head).kind == "word2vec-binary"


_STATUS = {-1: f"no space after a key within {MAX_KEY_BYTES} bytes (not a word2vec binary record)",
           -2: "a key is empty or holds a newline (not a word2vec binary record)",
           -3: "expected a newline after the record, as after the first one"}


def read(src: Source, opts: LoadOptions) -> EmbeddingTable:
    if sys.byteorder != "little":  # pragma: no cover
        raise OSError("word2vec binary files are little-endian; this machine is not")
    head = src.head
    if not head:
        raise src.error("the file is empty")
    line1, has_nl = first_line(head)
    hdr = parse_header(line1) if has_nl else None
    if hdr is None:
        raise src.error(f"expected a word2vec header 'count dim', got {line1[:80]!r}", byte=0)
    V, D = hdr
    if D > MAX_DIM:
        raise src.error(f"the header's dimension {D} is larger than {MAX_DIM}: not an embedding file", byte=0)
    src.read(len(line1) + 1)
    want_rows = V if opts.limit is None else min(V, opts.limit)
    capacity = want_rows
    rest = None if src.size is None else src.size - src.offset
    if rest is not None:
        # a record takes at least "k" b" " and 4 * D bytes: never allocate for more than fit
        capacity = min(capacity, rest // (2 + 4 * D) + 1)
    nb = 4 * D
    # the first record decides between newline-separated and packed records
    first = src.peek(MAX_KEY_BYTES + nb + 2)
    sp = first.find(b" ", 0, MAX_KEY_BYTES + 1)
    newline_mode = sp >= 0 and first[sp + 1 + nb: sp + 2 + nb] == b"\n"
    sink = RowSink(D, capacity if not src.compressed else None, limit=want_rows)
    keys = KeyCollector(src.path, opts.duplicates, opts.encoding, opts.unicode_errors)
    src.progress(opts.progress)
    read_size = max(CHUNK, 4 * (nb + 2))  # a partial record waits for the next read
    buf, eof, offset = b"", False, src.offset
    while keys.seen < want_rows:
        if not eof:
            more = src.read(read_size)
            eof = not more
            buf = buf + more if buf else more
        out, row0, room = sink.target()
        room = min(room, want_rows - keys.seen, len(buf) // (nb + 2) + 1)
        if room <= 0:
            break
        spans = np.empty((room, 2), np.int64)
        n, consumed, status, where = _parse.parse_binary_records(
            np.frombuffer(buf, np.uint8) if buf else np.zeros(0, np.uint8), out, row0, room, spans,
            newline_mode, MAX_KEY_BYTES)
        rows = keys.take(buf, spans, n, out, row0, lambda off, o=offset: f"byte {o + off}")
        sink.commit(rows - row0)
        if status != 0:
            raise src.error(_STATUS[status], byte=offset + where)
        offset += consumed
        buf = buf[consumed:]
        if n == 0 and eof:
            raise src.error(f"truncated: the header says {V} vectors of {D} float32 but the file ends "
                            f"after {keys.seen}", byte=offset) from EOFError(
                                "the file ends before the vectors its header announces")
    if opts.limit is None:
        extra = buf or src.read(1)
        if extra:
            raise src.error(f"the header says {V} vectors but the file has more data after them",
                            byte=offset)
    return EmbeddingTable(sink.result(), vocab=keys.vocabulary(), copy=False)


def write(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    # half rows are written as their exact float32 values (the format holds float32)
    W = np.ascontiguousarray(table[:] if not table.storage.is_float32 else table.weights, dtype="<f4")
    V, D = W.shape
    _, blob, offsets = keys_for_writing(table, "word2vec", "word2vec-binary")
    bounds = offsets.tolist()
    bar = progress_bar(W.nbytes, opts.progress, path)
    try:
        with atomic_file(path) as raw:
            z = compressed_writer(raw, path)
            f = z if z is not None else raw
            f.write(f"{V} {D}\n".encode("ascii"))
            rows = W.view(np.uint8)  # (V, 4 * D): one row's bytes, a buffer join() takes as is
            for r0 in range(0, V, WRITE_ROWS):
                r1 = min(r0 + WRITE_ROWS, V)
                f.write(b"".join(b"".join((blob[bounds[i]: bounds[i + 1] - 1], b" ", rows[i], b"\n"))
                                 for i in range(r0, r1)))
                if bar is not None:
                    bar.update((r1 - r0) * D * 4)
            if z is not None:
                z.close()
    finally:
        if bar is not None:
            bar.close()
