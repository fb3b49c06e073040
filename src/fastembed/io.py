"""Reading and writing embedding files: word2vec text and binary, GloVe, native (memory-mappable
.npy + keys) and safetensors checkpoints.

Text is parsed by a compiled parser over raw bytes streamed in chunks into a preallocated matrix
(sized from the header, or from a first pass counting lines), so peak memory stays near the final
matrix plus the vocabulary. Bad files raise ``ValueError`` naming the file, the line (or byte
offset) and what was expected; a partially filled table is never returned.
"""
from __future__ import annotations

import bz2
import gzip
import json
import os
import sys
from typing import Optional

import numpy as np

from fastembed._files import open_binary, open_text
from fastembed._kernels import _parse

__all__ = ["load", "save", "open_text", "open_binary", "load_safetensors", "load_positions",
           "FORMATS", "detect_format"]

FORMATS = ("word2vec", "glove", "word2vec-binary", "native", "safetensors")
CHUNK = 1 << 21  # bytes read per step: measured 0.57 s (2 MB) vs 0.70 s (16 MB) for 283 MB of text;
#                  the chunk stays in cache while both threads parse it
PROGRESS_MIN_BYTES = 1 << 23
NATIVE_VERSION = 1


def _header(line: bytes):
    """(V, D) if the line is a word2vec header "V D", else None."""
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def detect_format(path) -> str:
    """Guess a file's format: a directory is native; ``.safetensors``; a "V D" header followed by
    text is word2vec, by binary data word2vec-binary; text without a header is GloVe."""
    p = os.fspath(path)
    if os.path.isdir(p):
        return "native"
    if not os.path.exists(p):
        raise FileNotFoundError(f"no such file: {p}")
    if p.endswith(".safetensors"):
        return "safetensors"
    with open_binary(p) as f:
        head = f.read(1 << 16)
    if not head:
        raise ValueError(f"{p}: the file is empty")
    first, _, rest = head.partition(b"\n")
    if _header(first):
        if b"\x00" in rest[:4096]:
            return "word2vec-binary"
        try:
            rest[: 4000].decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the probe's end is still text
            if exc.start < 3990:
                return "word2vec-binary"
        return "word2vec"
    return "glove"


def _progress(total: Optional[int], progress, desc: str):
    if progress is False or (progress is None and (total is None or total < PROGRESS_MIN_BYTES
                                                   or not sys.stderr.isatty())):
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False)


def load(path, format: str = "auto", *, limit: Optional[int] = None, dtype=np.float32,
         encoding: str = "utf-8", unicode_errors: str = "strict", progress=None, mmap: bool = False,
         duplicates: str = "error", tensor: Optional[str] = None, vocab=None):
    """Load vectors with their keys as an :class:`EmbeddingTable`.

    Parameters
    ----------
    path : str or PathLike
        ``.gz`` and ``.bz2`` text/binary files are decompressed on the fly.
    format : "auto" or one of ``FORMATS``
    limit : int, optional
        Read only the first ``limit`` vectors (text and binary formats).
    dtype : float32 only (the kernels' type); anything else raises ValueError.
    encoding, unicode_errors : how keys are decoded ("strict", "replace", "ignore").
    progress : None (a tqdm bar for files over 8 MB on a terminal), True or False.
    mmap : bool
        Native format: map the matrix read-only instead of reading it (pages load on first touch).
    duplicates : "error" (default) or "first" (keep the first vector of a repeated key).
    tensor, vocab : safetensors only: the tensor name (needed when the file has several 2-D
        tensors) and an optional vocabulary (a file with one token a line, or a list of keys).

    Raises
    ------
    ValueError : malformed file (file, line or byte offset, and what was expected).
    FileNotFoundError : no such file.
    """
    if np.dtype(dtype) != np.float32:
        raise ValueError(f"dtype={np.dtype(dtype)}: tables are float32 (what the kernels compute in); "
                         "convert afterwards with table.weights.astype(...) if you need another type")
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose from {FORMATS} or 'auto'")
    if duplicates not in ("error", "first"):
        raise ValueError(f"duplicates must be 'error' or 'first', got {duplicates!r}")
    if limit is not None and int(limit) < 0:
        raise ValueError(f"limit must be non-negative, got {limit}")
    if fmt == "native":
        table = _load_native(path, mmap)
    elif fmt == "safetensors":
        table = load_safetensors(path, tensor=tensor, vocab=vocab)
    elif fmt == "word2vec-binary":
        table = _load_binary(path, limit, encoding, unicode_errors, progress, duplicates)
    else:
        table = _load_text(path, fmt, limit, encoding, unicode_errors, progress, duplicates)
    return table


# ------------------------------------------------------------------------------------------ text

class _Keys:
    """Collects decoded keys and checks duplicates. ``where`` is a callable naming the position
    (computed only for a message); with duplicates="first", ``add`` says whether to keep the row."""

    def __init__(self, path, duplicates, encoding, errors):
        self.keys, self.index = [], {}
        self.path, self.dup, self.encoding, self.errors = path, duplicates, encoding, errors
        self.seen = 0  # vectors read, duplicates included

    def add(self, raw: bytes, where) -> bool:
        self.seen += 1
        try:
            k = raw.decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{self.path}, {where()}: key is not valid {self.encoding} ({exc.reason}); "
                             f"pass unicode_errors='replace' to load anyway") from None
        first = self.index.get(k)
        if first is not None:
            if self.dup == "error":
                raise ValueError(f"{self.path}, {where()}: duplicate key {k!r} (first seen as vector "
                                 f"{first + 1}); pass duplicates='first' to keep the first vector")
            return False
        self.index[k] = len(self.keys)
        self.keys.append(k)
        return True

    def vocabulary(self):
        """A Vocabulary sharing the key -> id dict built while loading (no second pass)."""
        from fastembed.vocab import Vocabulary
        v = Vocabulary(self.keys)
        v._index = self.index
        return v

    def take(self, buf, spans, n, out, row0, where_of) -> int:
        """Decode the keys of rows row0..row0+n-1 (spans into buf); drop duplicate rows if asked to;
        return the new row count.

        Fast path for a whole chunk (one comprehension, one dict, one disjointness test); the
        per-key path below runs only when a key is undecodable or repeated, to name it."""
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
            if self.add(buf[spans[i, 0]: spans[i, 1]], lambda i=i: where_of(int(spans[i, 0]))):
                if dst != row0 + i:
                    out[dst] = out[row0 + i]
                dst += 1
        return dst


def _count_rows(path, limit):
    """Lines in the file (an upper bound on rows; the first pass for files without a header)."""
    n = 0
    last = b"\n"
    with open_binary(path) as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            n += _parse.count_lines(b)
            last = b[-1:]
            if limit is not None and n > limit:
                break
    return n + (0 if last == b"\n" else 1)


def _parse_chunk(buf: bytes, eof: bool, out, row0: int, want: int, pool, nt: int):
    """``_parse.parse_text_lines`` over ``buf`` split at newlines into ``nt`` parts parsed in
    parallel (the kernel releases the GIL). Same return values, spans as one (n, 2) array.

    Part i writes from row ``row0 + newlines before it``; blank lines leave gaps, closed afterwards.
    A part that errs ends the chunk there (its earlier parts' rows stand), as a serial parse would.
    """
    n_bytes = len(buf)
    mv = np.frombuffer(buf, np.uint8)
    cuts = [0]
    if nt > 1 and n_bytes >= 1 << 20:
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

    def run(part):
        lo, hi, at, room, spans, final = part
        return _parse.parse_text_lines(mv[lo:hi], final, out, at, room, spans)

    results = list(pool.map(run, parts)) if pool is not None and len(parts) > 1 else [run(q) for q in parts]
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
        if st != 0:
            status, a, b = st, (x + lo if st == -2 else x), (y + lo if st == -2 else y)
            break
        if u < hi - lo:  # the last part's partial line: wait for more bytes
            break
    if status == 0 and len(parts) < len(cuts) - 1 and used < n_bytes:
        status = 1  # stopped at `want` before the later parts
    spans = np.concatenate(all_spans) if all_spans else np.zeros((0, 2), np.int64)
    return n_total, used, nlines, status, a, b, spans


def _line_of(buf: bytes, offset: int) -> int:
    """0-based line of a byte offset within a chunk (only for error messages)."""
    return buf.count(b"\n", 0, offset)


def _load_text(path, fmt, limit, encoding, errors, progress, duplicates):
    from fastembed.table import EmbeddingTable
    p = os.fspath(path)
    with open_binary(p) as f:
        first = f.readline()
    hdr = _header(first)
    if fmt == "word2vec" and hdr is None:
        raise ValueError(f"{p}, line 1: expected a word2vec header 'count dim', got {first[:80]!r}")
    if fmt == "glove" and hdr is not None:
        raise ValueError(f"{p}, line 1: looks like a word2vec header {first.strip()!r}; use format='word2vec'")
    if hdr is not None:
        V, D = hdr
        capacity = V if limit is None else min(V, int(limit))
    else:
        D = _glove_dim(p, first)
        capacity = _count_rows(p, limit)
        if limit is not None:
            capacity = min(capacity, int(limit))
    out = np.empty((capacity, D), np.float32)
    keys = _Keys(p, duplicates, encoding, errors)
    rows = 0
    line_no = 2 if hdr is not None else 1  # line number of the start of buf
    from concurrent.futures import ThreadPoolExecutor

    from fastembed._threads import resolve_threads
    nt = resolve_threads(None)
    pool = ThreadPoolExecutor(nt) if nt > 1 else None
    size = os.path.getsize(p) if not p.endswith((".gz", ".bz2")) else None
    bar = _progress(size, progress, os.path.basename(p))
    try:
        with open_binary(p) as f:
            if hdr is not None:
                f.readline()
            buf, eof = b"", False
            while keys.seen < capacity and not (eof and not buf):
                if not eof:
                    more = f.read(CHUNK)
                    eof = not more
                    if bar is not None:
                        bar.update(len(more))
                    buf = buf + more if buf else more
                if not buf:
                    continue
                want = capacity - keys.seen
                n, used, nlines, status, a, b, spans = _parse_chunk(buf, eof, out, rows, want, pool, nt)
                rows = keys.take(buf, spans, n, out, rows,
                                 lambda off, buf=buf, ln=line_no: f"line {ln + _line_of(buf, off)}")
                if status == -1:
                    raise ValueError(f"{p}, line {line_no + nlines}: expected a key and {D} values, got "
                                     f"{a} token{'s' if a != 1 else ''}")
                if status == -2:
                    raise ValueError(f"{p}, line {line_no + nlines}: expected a number, got {buf[a:b][:40]!r}")
                line_no += nlines
                buf = buf[used:]
                if eof and status == 0:
                    buf = buf.strip()  # only blank lines can remain
            if hdr is not None and limit is None:
                rest = buf.strip() or f.read(1 << 20).strip()
                if rest:
                    raise ValueError(f"{p}, line {line_no}: the header says {V} vectors but the file has more")
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown()
    if hdr is not None and limit is None and keys.seen < V:
        raise ValueError(f"{p}: the header says {V} vectors but the file has {keys.seen}")
    if rows < out.shape[0]:
        out = out[:rows].copy() if rows < 0.9 * out.shape[0] else out[:rows]
    return EmbeddingTable(out, vocab=keys.vocabulary())


def _glove_dim(path, first: bytes) -> int:
    """D for a file without a header: the number of trailing numeric tokens on the first line,
    leaving at least one token for the key."""
    toks = first.split()
    if len(toks) < 2:
        raise ValueError(f"{path}, line 1: expected a key followed by numbers, got {first[:80]!r}")
    d = 0
    for t in reversed(toks[1:]):
        try:
            _parse.parse_floats(t)
        except ValueError:
            break
        d += 1
    if d == 0:
        raise ValueError(f"{path}, line 1: expected a key followed by numbers, got {first[:80]!r}")
    return d


# ------------------------------------------------------------------------------------------ binary

def _load_binary(path, limit, encoding, errors, progress, duplicates):
    from fastembed.table import EmbeddingTable
    if sys.byteorder != "little":  # pragma: no cover
        raise OSError("word2vec binary files are little-endian; this machine is not")
    p = os.fspath(path)
    with open_binary(p) as f:
        first = f.readline()
        hdr = _header(first)
        if hdr is None:
            raise ValueError(f"{p}, byte 0: expected a word2vec header 'count dim', got {first[:80]!r}")
        V, D = hdr
        capacity = V if limit is None else min(V, int(limit))
        out = np.empty((capacity, D), np.float32)
        spans = np.empty((max(1, min(capacity, CHUNK // max(1, 4 * D)) + 1), 2), np.int64)
        keys = _Keys(p, duplicates, encoding, errors)
        rows, offset, buf, eof = 0, len(first), b"", False
        size = os.path.getsize(p) if not p.endswith((".gz", ".bz2")) else None
        bar = _progress(size, progress, os.path.basename(p))
        try:
            while keys.seen < capacity:
                if not eof:
                    more = f.read(max(CHUNK, 8 * D + 4096))
                    eof = not more
                    if bar is not None:
                        bar.update(len(more))
                    buf = buf + more if buf else more
                want = min(capacity - keys.seen, spans.shape[0])
                n, consumed = _parse.parse_binary_records(np.frombuffer(buf, np.uint8) if buf else
                                                          np.zeros(0, np.uint8), out, rows, want, spans)
                rows = keys.take(buf, spans, n, out, rows, lambda off, o=offset: f"byte {o + off}")
                offset += consumed
                buf = buf[consumed:]
                if n == 0 and eof:
                    got = keys.seen
                    raise ValueError(f"{p}, byte {offset}: truncated: the header says {V} vectors of "
                                     f"{D} float32 but the file ends after {got}")
        finally:
            if bar is not None:
                bar.close()
    if rows < capacity and duplicates == "first":
        out = out[:rows].copy()
    return EmbeddingTable(out, vocab=keys.vocabulary())


# ------------------------------------------------------------------------------------------ native

def _load_native(path, mmap):
    from fastembed.table import EmbeddingTable
    from fastembed.vocab import Vocabulary
    p = os.fspath(path)
    meta_path = os.path.join(p, "meta.json")
    if not os.path.isfile(meta_path):
        raise ValueError(f"{p}: not a fastembed native directory (no meta.json)")
    with open(meta_path, encoding="utf-8") as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta_path}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if meta.get("format") != "fastembed-native" or meta.get("version") != NATIVE_VERSION:
        raise ValueError(f"{meta_path}: expected format 'fastembed-native' version {NATIVE_VERSION}, "
                         f"got {meta.get('format')!r} version {meta.get('version')!r}")
    W = np.load(os.path.join(p, "vectors.npy"), mmap_mode="r" if mmap else None, allow_pickle=False)
    if W.dtype != np.float32 or W.ndim != 2 or not W.flags.c_contiguous:
        raise ValueError(f"{p}/vectors.npy: expected a C-contiguous 2-D float32 array, got {W.dtype} {W.shape}")
    keys = None
    kp = os.path.join(p, "keys.txt")
    if os.path.exists(kp):
        with open(kp, encoding="utf-8", newline="\n") as f:
            keys = f.read().split("\n")
        if keys and keys[-1] == "":
            keys.pop()
        if len(keys) != W.shape[0]:
            raise ValueError(f"{kp}: {len(keys)} keys for {W.shape[0]} vectors")
    counts = None
    cp = os.path.join(p, "counts.npy")
    if os.path.exists(cp):
        counts = np.load(cp, allow_pickle=False)
    vocab = Vocabulary(keys, counts) if keys is not None else None
    return EmbeddingTable(W, vocab=vocab, padding_idx=meta.get("padding_idx"))


# ------------------------------------------------------------------------------------------ safetensors

def _safetensors_header(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path}, byte 0: truncated safetensors header")
        n = int.from_bytes(raw, "little")
        if n > 100 << 20:
            raise ValueError(f"{path}, byte 0: safetensors header of {n} bytes is too large")
        head = f.read(n)
    try:
        return json.loads(head), 8 + n
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}, byte 8: invalid safetensors header ({exc.msg})") from None


def _read_tensor(path, name):
    """A tensor as float32 (F32 memory-mapped; F16, F64 and BF16 converted)."""
    header, base = _safetensors_header(path)
    if name not in header or name == "__metadata__":
        names = sorted(k for k in header if k != "__metadata__")
        raise ValueError(f"{path}: no tensor named {name!r}; the file has {names}")
    info = header[name]
    dt, shape, (lo, hi) = info["dtype"], info["shape"], info["data_offsets"]
    np_dt = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": np.uint16}.get(dt)
    if np_dt is None:
        raise ValueError(f"{path}: tensor {name!r} has dtype {dt}; expected a float tensor")
    count = int(np.prod(shape)) if shape else 1
    if hi - lo != count * np.dtype(np_dt).itemsize or base + hi > os.path.getsize(path):
        raise ValueError(f"{path}: tensor {name!r} data offsets {lo}..{hi} disagree with its shape {shape}")
    a = np.memmap(path, dtype=np_dt, mode="r", offset=base + lo, shape=tuple(shape))
    if dt == "BF16":
        return (a.astype(np.uint32) << 16).view(np.float32)
    if dt == "F32":
        return a
    return a.astype(np.float32)


def load_safetensors(path, tensor: Optional[str] = None, vocab=None):
    """One 2-D tensor of a safetensors checkpoint (e.g. GPT-2's ``wte.weight``) as a table.

    ``tensor`` may be omitted when the file has a single 2-D tensor. ``vocab``: a path to a file with
    one token a line, a list of keys, or None (keys stored by :func:`save` are used if present).
    F32 tensors are memory-mapped read-only; F16/BF16/F64 are converted to float32.
    """
    from fastembed.table import EmbeddingTable
    p = os.fspath(path)
    header, _ = _safetensors_header(p)
    if tensor is None:
        two_d = [k for k, v in header.items() if k != "__metadata__" and len(v.get("shape", ())) == 2]
        if len(two_d) != 1:
            raise ValueError(f"{p}: pass tensor= to choose one of the 2-D tensors {sorted(two_d)}")
        tensor = two_d[0]
    W = _read_tensor(p, tensor)
    if W.ndim != 2:
        raise ValueError(f"{p}: tensor {tensor!r} has shape {W.shape}; expected (V, D)")
    keys = None
    if isinstance(vocab, (str, os.PathLike)):
        with open_text(vocab) as f:
            keys = [line.rstrip("\n") for line in f]
        if keys and keys[-1] == "":
            keys.pop()
    elif vocab is not None:
        keys = list(vocab)
    else:
        meta = header.get("__metadata__") or {}
        if "fastembed_keys" in meta:
            keys = json.loads(meta["fastembed_keys"])
    if keys is not None and len(keys) != W.shape[0]:
        raise ValueError(f"vocabulary has {len(keys)} tokens but tensor {tensor!r} has {W.shape[0]} rows")
    return EmbeddingTable(W, vocab=keys)


def load_positions(path, tensor: str):
    """A position table from a safetensors checkpoint (e.g. GPT-2's ``wpe.weight``)."""
    from fastembed.positions import LearnedPositions
    W = _read_tensor(os.fspath(path), tensor)
    if W.ndim != 2:
        raise ValueError(f"{path}: tensor {tensor!r} has shape {W.shape}; expected (P, D)")
    return LearnedPositions(np.ascontiguousarray(W))


# ------------------------------------------------------------------------------------------ save

def _text_lines(keys, W: np.ndarray, rows_per_chunk: int = 4096):
    """Lines ``key v1 ... vD\n`` as bytes chunks; values in their shortest round-trip spelling."""
    for r0 in range(0, W.shape[0], rows_per_chunk):
        r1 = min(r0 + rows_per_chunk, W.shape[0])
        text, ends = _parse.format_rows(W, r0, r1)
        starts = np.r_[0, ends[:-1]]
        yield b"".join(keys[r0 + i].encode("utf-8") + b" " + text[starts[i]: ends[i]] + b"\n"
                       for i in range(r1 - r0))


def save(table, path, format: str = "word2vec", *, tensor: str = "weight") -> None:
    """Write a table (with its vocabulary) in one of ``FORMATS``.

    Text formats use the shortest decimal that reads back to the same float32, so every format
    round-trips bit for bit. Native writes a directory (vectors.npy, keys.txt, counts.npy,
    meta.json) that :func:`load` can memory-map. Keys must not contain whitespace for word2vec
    formats (GloVe keys may contain spaces) nor newlines for any text-keyed format.
    """
    from fastembed.table import EmbeddingTable
    if not isinstance(table, EmbeddingTable):
        raise TypeError(f"save takes an EmbeddingTable, got {type(table).__name__}")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose from {FORMATS}")
    W = np.asarray(table.weights)
    vocab = table.vocab
    keys = vocab.keys if vocab is not None else [str(i) for i in range(len(table))]
    p = os.fspath(path)
    for i, k in enumerate(keys):
        if "\n" in k or (format in ("word2vec", "word2vec-binary") and (not k or any(c.isspace() for c in k))):
            raise ValueError(f"key {k!r} at row {i} cannot be written in format {format!r}")
        if format == "glove" and (not k.strip() or k != k.strip()):
            raise ValueError(f"key {k!r} at row {i} cannot be written in format 'glove'")
    if format == "native":
        os.makedirs(p, exist_ok=True)
        np.save(os.path.join(p, "vectors.npy"), np.ascontiguousarray(W))
        if vocab is not None:
            with open(os.path.join(p, "keys.txt"), "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(keys) + ("\n" if keys else ""))
            if vocab.counts is not None:
                np.save(os.path.join(p, "counts.npy"), vocab.counts)
        meta = {"format": "fastembed-native", "version": NATIVE_VERSION, "count": int(W.shape[0]),
                "dim": int(W.shape[1]), "padding_idx": table.padding_idx}
        with open(os.path.join(p, "meta.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f)
        return
    if format == "safetensors":
        from safetensors.numpy import save_file
        meta = {"fastembed_keys": json.dumps(keys)} if vocab is not None else None
        save_file({tensor: np.ascontiguousarray(W)}, p, metadata=meta)
        return
    opener = gzip.open if p.endswith(".gz") else bz2.open if p.endswith(".bz2") else open
    with opener(p, "wb") as f:
        if format in ("word2vec", "word2vec-binary"):
            f.write(f"{W.shape[0]} {W.shape[1]}\n".encode())
        if format == "word2vec-binary":
            le = W.astype("<f4", copy=False)
            for k, row in zip(keys, le):
                f.write(k.encode("utf-8") + b" " + row.tobytes() + b"\n")
            return
        for chunk in _text_lines(keys, np.ascontiguousarray(W, np.float32)):
            f.write(chunk)
