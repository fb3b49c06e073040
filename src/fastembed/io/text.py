"""word2vec text (a "V D" header, then "key v1 ... vD" lines) and GloVe (the same lines, no header).

Reading: the compiled parser (``_kernels/_parse.pyx``, ``csrc/fe_parse.h``) works on raw bytes
streamed in 2 MB chunks, each split at newlines and parsed on the shared worker pool (the kernel
releases the GIL), straight into the output matrix. The file is opened once and decompressed once;
rows go into one preallocated matrix when their number is known in advance:

* a plain file with a header: V rows, or fewer if the file is too small to hold V rows of D
  values (so a lying header never allocates more than about twice the file's size);
* a plain GloVe file: a first pass counts newlines (memchr over the page cache, several GB/s);
* a compressed file: no count pass (it would decompress twice); rows go into 64 MB blocks joined
  at the end.

Peak memory is the final matrix plus the keys, plus one 64 MB block for compressed files (the
blocks are copied into the result one by one, each freed as it is copied).

Every line must have the file's dimension D (from the header, or for GloVe the dimension a strict
majority of the first 32 lines agree on). A key may hold spaces (GloVe has such keys), but a key
of several tokens must not end in a number, which would make the line read differently with
another dimension. A last line without its newline, in a file that has newlines, is an error (it
may be cut mid-number). Errors are :class:`FileFormatError` naming the file and line.

Writing: lines are formatted by ``_parse.format_lines`` in parallel (GIL released) with the
shortest decimal that reads back to the same float32, independent of the C locale.
"""
from __future__ import annotations

import bz2
import gzip
import os
from typing import Optional

import numpy as np

from fastembed._kernels import _parse
from fastembed._threads import GRAIN_FORMAT_VALUES, GRAIN_PARSE_BYTES, run_parallel, team_size
from fastembed.io._atomic import atomic_file
from fastembed.io._errors import FileFormatError
from fastembed.io._keys import KeyCollector, keys_for_writing
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._rows import RowSink
from fastembed.io._sniff import DIM_LINES, first_line, infer_dim, line_dims, parse_header, sniff
from fastembed.io._source import CHUNK, Source, progress_bar
from fastembed.table import EmbeddingTable

__all__ = ["detect_word2vec", "detect_glove", "read_word2vec", "read_glove", "write_word2vec",
           "write_glove", "MAX_LINE_BYTES"]

MAX_LINE_BYTES = 1 << 23      # a line longer than this (8 MB) is not an embedding line
MAX_DIM = 1 << 24             # a larger dimension in a header is not an embedding table
FORMAT_CHUNK_BYTES = 1 << 22  # text formatted per worker and step
NEWLINE = b"\n"


# ------------------------------------------------------------------------------------------ detect

def detect_word2vec(src: Source) -> bool:
    return bool(src.head) and sniff(src.head).kind == "word2vec"


def detect_glove(src: Source) -> bool:
    return bool(src.head) and sniff(src.head).kind == "glove"


# ------------------------------------------------------------------------------------------ read

def read_word2vec(src: Source, opts: LoadOptions) -> EmbeddingTable:
    return _read_text(src, opts, "word2vec")


def read_glove(src: Source, opts: LoadOptions) -> EmbeddingTable:
    return _read_text(src, opts, "glove")


def _line_limit(D: int) -> int:
    return MAX_LINE_BYTES + D * (_parse.MAX_NUMBER_BYTES + 1)


def _glove_dim(src: Source) -> int:
    """D for a file without a header (see the module docstring), from its first lines."""
    want = 1 << 16
    while True:
        buf = src.peek(want)
        complete = buf.count(b"\n", 0, len(buf))
        if complete >= DIM_LINES * 2 or len(buf) < want:
            break
        if want >= MAX_LINE_BYTES:
            if complete == 0:
                raise src.error(f"no newline in the first {len(buf)} bytes: not a text embedding file",
                                line=1)
            break
        want *= 4
    if len(buf) < want and b"\n" not in buf:
        buf = buf + b"\n"  # a one-line file without a newline: that line is complete
    # (a last line without its newline in a file with newlines does not vote: it is reported as
    # truncated when it is reached)
    dims, where = line_dims(buf)
    line1, _ = first_line(buf)
    if not dims:
        raise src.error(f"expected a key followed by numbers, got {line1[:80]!r}", line=1)
    if where[0] == 0 and parse_header(line1) is not None:
        # "12 5" is a GloVe row (key "12", value 5) only if the lines after it have one value too
        d_rest, _ = infer_dim([d for d, w in zip(dims, where) if w and d], [w for d, w in zip(dims, where) if w and d])
        if d_rest is not None and d_rest != 1:
            raise src.error(f"looks like a word2vec header {line1.strip()!r}; use format='word2vec'", line=1)
    # a line with no value at all (a lone word, or a number run into a letter) cannot have the
    # file's dimension: it does not vote, and the parser reports it by line
    votes = [(d, w) for d, w in zip(dims, where) if d > 0]
    if not votes:
        w = where[0]
        bad = buf.split(b"\n", w + 1)[w]
        raise src.error(f"expected a key followed by numbers, got {bad[:80]!r}", line=w + 1)
    d, why = infer_dim([d for d, _ in votes], [w for _, w in votes])
    if d is None:
        raise src.error(why)
    return d


def _count_lines(path: str) -> int:
    """Lines of a plain file (newlines, plus a last line without one): rows <= this."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            n += _parse.count_lines(b)
            last = b[-1:]
    return n + (last != b"\n")


def _parse_chunk(buf: bytes, eof: bool, out: np.ndarray, row0: int, want: int, nt: int):
    """``_parse.parse_text_lines`` over ``buf`` split at newlines into up to ``nt`` parts parsed on
    the shared pool. Same return values, spans as one (n, 2) array.

    Part i writes from row ``row0 + lines before it``; blank lines leave gaps, closed afterwards.
    A part that errs ends the chunk there (the rows of earlier parts stand), as a serial parse would.
    """
    n_bytes = len(buf)
    mv = np.frombuffer(buf, np.uint8)
    cuts = [0]
    nt = min(nt, max(1, n_bytes // GRAIN_PARSE_BYTES))
    if nt > 1:
        for i in range(1, nt):
            c = buf.find(b"\n", n_bytes * i // nt)
            if c < 0 or c + 1 <= cuts[-1] or c + 1 >= n_bytes:
                break
            cuts.append(c + 1)
    cuts.append(n_bytes)
    parts = []
    start = row0
    for i in range(len(cuts) - 1):
        lo, hi = cuts[i], cuts[i + 1]
        room = row0 + want - start
        if room <= 0:
            break
        last = i == len(cuts) - 2
        lines = _parse.count_lines(mv[lo:hi]) + (1 if last else 0)
        spans = np.empty((min(room, lines) + 1, 2), np.int64)
        parts.append((lo, hi, start, min(room, lines + 1), spans, eof if last else True))
        start += lines

    def work(w, cancel):
        lo, hi, at, room, spans, final = parts[w]
        return _parse.parse_text_lines(mv[lo:hi], final, out, at, room, spans)

    results = run_parallel(work, len(parts))
    n_total, nlines, cur = 0, 0, row0
    all_spans = []
    used, status, a, b = 0, 0, 0, 0
    for (lo, hi, at, room, spans, _), (n, u, nl, st, x, y) in zip(parts, results):
        if at != cur and n:
            out[cur: cur + n] = out[at: at + n]
        all_spans.append(spans[:n] + lo)
        cur += n
        n_total += n
        nlines += nl
        used = lo + u
        if st < 0:
            status, a, b = st, (x + lo if st == _parse.LINE_BAD_NUMBER else x), \
                (y + lo if st == _parse.LINE_BAD_NUMBER else y)
            break
        if u < hi - lo:  # the last part's partial line, or stopped at `want`
            break
    if status == 0 and used < n_bytes and (n_total >= want or len(parts) < len(cuts) - 1):
        status = 1  # stopped at `want`, or later parts did not fit the rows left: more to parse
    spans = np.concatenate(all_spans) if all_spans else np.zeros((0, 2), np.int64)
    return n_total, used, nlines, status, a, b, spans


def _line_at(buf: bytes, line0: int, offset: int) -> str:
    return f"line {line0 + buf.count(NEWLINE, 0, offset)}"


def _read_text(src: Source, opts: LoadOptions, fmt: str) -> EmbeddingTable:
    p = src.path
    head = src.head
    if not head:
        raise src.error("the file is empty")
    line1, _ = first_line(head)
    hdr = parse_header(line1)
    if fmt == "word2vec":
        if hdr is None:
            raise src.error(f"expected a word2vec header 'count dim', got {line1[:80]!r}", line=1)
        V, D = hdr
        if D > MAX_DIM:
            raise src.error(f"the header's dimension {D} is larger than {MAX_DIM}: not an embedding file", line=1)
        src.read(len(line1) + 1)
        line_no, saw_newline = 2, True
        want_rows = V if opts.limit is None else min(V, opts.limit)
        capacity: Optional[int] = want_rows
        rest = None if src.size is None else src.size - src.offset
        if rest is not None:
            # a row takes at least "k" + D * " 0" + "\n": never allocate for more rows than fit
            capacity = min(capacity, rest // (2 * D + 2) + 1)
    else:
        D = _glove_dim(src)
        V = None
        line_no, saw_newline = 1, False
        want_rows = opts.limit
        capacity = None
        if not src.compressed and src.size is not None:
            capacity = _count_lines(p)
            if opts.limit is not None:
                capacity = min(capacity, opts.limit)
    sink = RowSink(D, capacity if not src.compressed else None, limit=want_rows)
    keys = KeyCollector(p, opts.duplicates, opts.encoding, opts.unicode_errors)
    nt = team_size(CHUNK, GRAIN_PARSE_BYTES, opts.n_threads)
    max_line = _line_limit(D)
    src.progress(opts.progress)
    buf, eof = b"", False
    while want_rows is None or keys.seen < want_rows:
        if not eof:
            more = src.read(CHUNK)
            eof = not more
            buf = buf + more if buf else more
        if not buf:
            break
        if eof and not buf.endswith(b"\n"):
            tail = buf[buf.rfind(b"\n") + 1:]
            if tail.strip() and (saw_newline or b"\n" in buf):
                raise src.error("the file ends without a newline after this line: it may be truncated "
                                f"(got {tail[-40:]!r} at the end)", line=line_no + buf.count(b"\n"))
        out, row0, room = sink.target()
        if want_rows is not None:
            room = min(room, want_rows - keys.seen)
        if room <= 0:
            break
        n, used, nlines, status, a, b, spans = _parse_chunk(buf, eof, out, row0, room, nt)
        rows = keys.take(buf, spans, n, out, row0, lambda off, buf=buf, ln=line_no: _line_at(buf, ln, off))
        sink.commit(rows - row0)
        bad_line = line_no + nlines
        if status == _parse.LINE_TOO_FEW:
            raise src.error(f"expected a key and {D} values, got {a} token{'s' if a != 1 else ''}", line=bad_line)
        if status == _parse.LINE_BAD_NUMBER:
            raise src.error(f"expected a number, got {buf[a:b][:40]!r}", line=bad_line)
        if status == _parse.LINE_AMBIGUOUS:
            raise src.error(f"expected a key and {D} values, got {a} tokens: a key of several words must "
                            "not end in a number (the line would read differently with another dimension)",
                            line=bad_line)
        if nlines and used:
            saw_newline = saw_newline or buf[used - 1: used] == b"\n"
        line_no += nlines
        buf = buf[used:]
        if status == 0 and not eof and len(buf) > max_line and b"\n" not in buf:
            raise src.error(f"longer than {max_line} bytes without a newline: not a text embedding file",
                            line=line_no)
        if eof and status == 0:
            buf = buf.strip()  # only blank lines can remain
            if not buf:
                break
    if hdr is not None and fmt == "word2vec" and opts.limit is None:
        rest = buf.strip() or src.read(1 << 20).strip()
        if rest:
            raise src.error(f"the header says {V} vectors but the file has more", line=line_no)
        if keys.seen < V:  # an EOFError cause marks truncation (gensim's compat layer raises it)
            raise src.error(f"the header says {V} vectors but the file has {keys.seen}") from EOFError(
                "the file ends before the vectors its header announces")
    W = sink.result()
    return EmbeddingTable(W, vocab=keys.vocabulary(), copy=False)


# ------------------------------------------------------------------------------------------ write

def write_word2vec(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    _write_text(table, path, opts, header=True)


def write_glove(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    V, D = len(table), table.dim
    if V == 0 or D == 0:
        raise ValueError(f"a GloVe file cannot hold a {V} x {D} table: without a header an empty file or "
                         "lines of bare keys do not read back; use format='word2vec' or 'native'")
    _write_text(table, path, opts, header=False)


def compressed_writer(raw, path: str):
    """Wrap a binary file object in a gzip / bz2 compressor chosen by ``path``'s extension."""
    base = os.path.basename(path)
    if path.endswith(".gz"):
        # the name recorded in the gzip header is the target's, not the temporary file's
        return gzip.GzipFile(filename=base[:-3], mode="wb", fileobj=raw, compresslevel=6)
    if path.endswith(".bz2"):
        return bz2.BZ2File(raw, "wb")
    return None


def _nan_message(W: np.ndarray, flat: int) -> str:
    i, j = divmod(int(flat), W.shape[1])
    bits = int(W[i, j:j + 1].view(np.uint32)[0])
    return (f"row {i} column {j} holds a NaN with payload bits 0x{bits:08x}; text can only spell the "
            "canonical quiet NaNs (nan = 0x7fc00000, -nan = 0xffc00000): save in format "
            "'word2vec-binary' or 'native' to keep the bits, or replace it first")


def _write_text(table: EmbeddingTable, path: str, opts: SaveOptions, header: bool) -> None:
    W = table[:] if not table.storage.is_float32 else np.ascontiguousarray(table.weights, dtype=np.float32)
    V, D = W.shape
    rule, fmt = ("word2vec", "word2vec") if header else ("glove", "glove")
    _, blob, offsets = keys_for_writing(table, rule, fmt)
    keys_arr = np.frombuffer(blob, np.uint8) if blob else np.zeros(1, np.uint8)
    avg_key = (len(blob) / V) if V else 0
    per_row = 16 * D + 2 + avg_key
    rows_per = max(1, int(FORMAT_CHUNK_BYTES // per_row))
    nt = team_size(V * D, GRAIN_FORMAT_VALUES, opts.n_threads, items=max(1, -(-V // rows_per)))
    bufs = [None] * nt
    bar = progress_bar(W.nbytes, opts.progress, os.path.basename(path))
    try:
        with atomic_file(path) as raw:
            z = compressed_writer(raw, path)
            f = z if z is not None else raw
            if header:
                f.write(f"{V} {D}\n".encode("ascii"))

            def work(w, cancel):
                r0 = step + w * rows_per
                r1 = min(r0 + rows_per, V)
                if r0 >= r1:
                    return 0, -1
                need = int(offsets[r1] - offsets[r0]) + (r1 - r0) * (16 * D + 2)
                if bufs[w] is None or bufs[w].shape[0] < need:
                    bufs[w] = np.empty(need, np.uint8)
                return _parse.format_lines(W, r0, r1, keys_arr, offsets, bufs[w])

            for step in range(0, V, rows_per * nt):
                results = run_parallel(work, nt)
                for w, (n, bad) in enumerate(results):
                    if bad >= 0:
                        raise ValueError(_nan_message(W, bad))
                    data = memoryview(bufs[w])[:n] if n else b""
                    if step == 0 and w == 0 and not header and n:
                        data = _unlike_header(bytes(data))
                    f.write(data)
                if bar is not None:
                    bar.update(min(V - step, rows_per * nt) * D * 4)
            if z is not None:
                z.close()
    finally:
        if bar is not None:
            bar.close()


def _unlike_header(chunk: bytes) -> bytes:
    """A GloVe file's first line must not read as a word2vec header: "12 5" (key "12", D = 1,
    value 5) is written "12 5.0"."""
    line, _ = first_line(chunk)
    if parse_header(line) is None:
        return chunk
    return line + b".0" + chunk[len(line):]
