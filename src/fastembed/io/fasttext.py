"""fastText ``.bin`` models: the word vectors fastText computes, and vectors for unknown words from
their character n-grams.

:func:`fastembed.load` (format "fasttext-bin", detected) returns an :class:`EmbeddingTable` of the
full word vectors with the vocabulary and counts; :func:`load_fasttext` returns a
:class:`FastTextVectors` that also keeps the (bucket, D) n-gram matrix and answers for any word.

The file (little-endian, as fastText writes it on every platform it runs on):

* ``int32 793712314, int32 version`` (11 or 12; files from before May 2017 have neither, and are
  recognised by the plausibility of their header instead);
* the arguments: 12 int32 (dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn,
  maxn, lr_update_rate) and a float64 (t);
* the dictionary: int32 entries, words, labels; int64 tokens; (version 11/12) int64 size of the
  pruned n-gram index, -1 if none; then per entry the word's bytes, a NUL, an int64 count and an
  int8 type: the words (type 0) in id order, then the labels (type 1) of supervised models, which
  have no rows and are skipped; then the pruned index's (int32, int32) pairs;
* (version 11/12) a bool: is the input matrix quantised (``.ftz``; refused);
* the input matrix: int64 rows = words + bucket, int64 cols = dim, rows x cols float32; row i is
  word i, row ``words + h`` is n-gram bucket h;
* (version 11/12) a bool, then the output matrix (int64 rows, int64 cols, float32s), which word
  vectors do not use: it is checked for size and skipped.

A word's vector is the mean of its own row and the rows of its character n-grams (see
:mod:`fastembed._kernels._fasttext` for the n-grams, the hash and the summation order, which
match gensim's ``load_facebook_vectors`` bit for bit). Two rules follow the file's version, as
fastText's own code did when it wrote the file: ``"</s>"`` (the end-of-line token) gets no n-grams
in version 12 files (fastText since October 2017) and its n-grams in older ones (as gensim computes
for every version); version 11 supervised models use no character n-grams (fastText's own
backward-compatibility rule). A file with 0 buckets has no n-grams whatever its minn and maxn (gensim
writes such files for models trained with ``bucket=0``).

Every size in the header is checked against the bytes the file holds before anything is
allocated (compressed files, whose size is unknown, are read in bounded blocks), so a hostile or
truncated file raises :class:`FileFormatError` naming the file, the byte and what was expected.
"""
from __future__ import annotations

import math
import struct
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from fastembed import words as _words
from fastembed._kernels import _fasttext
from fastembed._threads import GRAIN_COPY_BYTES, team_size
from fastembed._validate import as_float_matrix, as_int
from fastembed.io._atomic import atomic_file
from fastembed.io._keys import KeyCollector, keys_for_writing
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._rows import RowSink
from fastembed.io._source import CHUNK, Source
from fastembed.io.text import MAX_DIM
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["detect", "read", "write", "write_model", "load_fasttext", "FastTextVectors", "FastTextArgs", "MAGIC", "VERSIONS",
           "MAX_WORD_BYTES"]

MAGIC = 793712314          # fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32
MAGIC_BYTES = MAGIC.to_bytes(4, "little")
VERSIONS = (11, 12)        # fastText's FASTTEXT_VERSION values since the magic number exists
MAX_WORD_BYTES = 1 << 16   # a dictionary word longer than this is not a word
_ARGS = struct.Struct("<12id")
_DICT = struct.Struct("<3iq")
_I64 = struct.Struct("<q")
_MATRIX = struct.Struct("<2q")
_ENTRY_MIN = 11            # a word of at least one byte, its NUL, the int64 count, the int8 type
_ARG_NAMES = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn",
              "maxn", "lr_update_rate", "t")
_SUPERVISED = 3            # args.model: 1 cbow, 2 skip-gram, 3 supervised


@dataclass(frozen=True)
class FastTextArgs:
    """What a ``.bin`` file says about its model.

    ``version`` is None for the format before May 2017 (no magic number). ``maxn`` is the value in
    effect (0 for version 11 supervised models, as fastText reads them). ``nwords``/``nlabels``/
    ``ntokens`` come from the dictionary.
    """

    version: Optional[int]
    dim: int
    ws: int
    epoch: int
    min_count: int
    neg: int
    word_ngrams: int
    loss: int
    model: int
    bucket: int
    minn: int
    maxn: int
    lr_update_rate: int
    t: float
    nwords: int = 0
    nlabels: int = 0
    ntokens: int = 0

    @property
    def subwords(self) -> bool:
        """Whether words have character n-grams: buckets to hash them into and lengths allowing
        n-grams (0 buckets means none whatever minn and maxn say, as gensim reads such files)."""
        return _has_subwords(self.bucket, self.minn, self.maxn)

    @property
    def eos_subwords(self) -> bool:
        """Whether ``"</s>"`` gets n-grams (files before version 12)."""
        return self.version is None or self.version < 12


def _has_subwords(bucket: int, minn: int, maxn: int) -> bool:
    return bucket > 0 and maxn >= 1 and maxn >= minn


# ------------------------------------------------------------------------------------------ detection

def _plausible_old_header(head: bytes) -> bool:
    """A pre-2017 header (no magic number): every argument in the range fastText allows and a
    consistent dictionary header. A text file cannot pass (its first int32 would be ASCII bytes,
    over MAX_DIM)."""
    if len(head) < _ARGS.size + _DICT.size:
        return False
    (dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, lr_update_rate,
     t) = _ARGS.unpack_from(head, 0)
    size, nwords, nlabels, ntokens = _DICT.unpack_from(head, _ARGS.size)
    return (1 <= dim <= MAX_DIM and ws >= 1 and epoch >= 1 and min_count >= 0 and neg >= 0
            and word_ngrams >= 1 and 1 <= loss <= 4 and 1 <= model <= 3 and bucket >= 0 and minn >= 0
            and maxn >= 0 and lr_update_rate >= 1 and math.isfinite(t) and 0 <= t <= 1
            and nwords >= 0 and nlabels >= 0 and size == nwords + nlabels and ntokens >= 0)


def detect(src: Source) -> bool:
    if src.is_dir:
        return False
    head = src.head
    return head.startswith(MAGIC_BYTES) or _plausible_old_header(head)


# ------------------------------------------------------------------------------------------ reading

def _take(src: Source, n: int, what: str) -> bytes:
    at = src.offset
    b = src.read(n)
    if len(b) < n:
        raise src.error(f"the file ends inside {what} (truncated): expected {n} bytes, got {len(b)}", byte=at)
    return b


def _rest(src: Source) -> Optional[int]:
    """Bytes left in a plain file (None for a compressed stream)."""
    return None if src.size is None else src.size - src.offset


def _read_args(src: Source) -> FastTextArgs:
    head = src.head
    if head.startswith(MAGIC_BYTES):
        src.read(4)
        version = struct.unpack("<i", _take(src, 4, "the header"))[0]
        if version not in VERSIONS:
            raise src.error(f"fastText file format version {version}: this reader knows versions "
                            f"{' and '.join(map(str, VERSIONS))}", byte=4)
    elif len(head) >= 4 and _plausible_old_header(head):
        version = None
    else:
        raise src.error(f"not a fastText .bin model: expected the magic number {MAGIC} "
                        f"(bytes {MAGIC_BYTES.hex(' ')}) or a pre-2017 fastText header, got {head[:8]!r}",
                        byte=0)
    at = src.offset
    values = dict(zip(_ARG_NAMES, _ARGS.unpack(_take(src, _ARGS.size, "the header"))))
    dim, bucket, minn, maxn = values["dim"], values["bucket"], values["minn"], values["maxn"]
    if not 1 <= dim <= MAX_DIM:
        raise src.error(f"the header's dimension {dim} is not in [1, {MAX_DIM}]: not a fastText model", byte=at)
    if bucket < 0:
        raise src.error(f"the header's bucket count {bucket} is negative", byte=at + 32)
    if minn < 0 or maxn < 0:
        raise src.error(f"the header's n-gram lengths minn={minn}, maxn={maxn} must not be negative", byte=at + 36)
    if version == 11 and values["model"] == _SUPERVISED:
        values["maxn"] = maxn = 0  # fastText: version 11 supervised models have no character n-grams
    return FastTextArgs(version=version, **values)


@dataclass
class _Dictionary:
    keys: List[str]
    counts: np.ndarray      # (kept,) int64
    kept: np.ndarray        # (kept,) int64 entry ids of the kept words (ascending, < want)
    blob: np.ndarray        # uint8: the kept words' bytes, back to back
    offsets: np.ndarray     # (kept + 1,) int64
    pruned: int             # size of the pruned n-gram index, -1 if none


def _read_dictionary(src: Source, a: FastTextArgs, want: int, opts: LoadOptions) -> Tuple[FastTextArgs, _Dictionary]:
    """Parse the dictionary; decode and keep the first ``want`` words (labels are only checked)."""
    at = src.offset
    size, nwords, nlabels, ntokens = _DICT.unpack(_take(src, _DICT.size, "the dictionary header"))
    if min(size, nwords, nlabels) < 0 or size != nwords + nlabels or ntokens < 0:
        raise src.error(f"expected a dictionary header with entries = words + labels, all non-negative; got "
                        f"{size} entries, {nwords} words, {nlabels} labels, {ntokens} tokens", byte=at)
    pruned = -1
    if a.version is not None:
        pruned = _I64.unpack(_take(src, 8, "the dictionary header"))[0]
    rest = _rest(src)
    if rest is not None and size * _ENTRY_MIN > rest:
        raise src.error(f"the dictionary header says {size} entries (at least {_ENTRY_MIN} bytes each) but only "
                        f"{rest} bytes follow (truncated, or not a fastText model)", byte=at)
    a = FastTextArgs(**{**a.__dict__, "nwords": nwords, "nlabels": nlabels, "ntokens": ntokens})
    want = min(want, nwords)
    keys = KeyCollector(src.path, opts.duplicates, opts.encoding, opts.unicode_errors)
    kept_ids: List[np.ndarray] = []
    pieces: List[bytes] = []
    lengths: List[np.ndarray] = []
    counts_kept: List[np.ndarray] = []
    entries, window = 0, CHUNK
    while entries < size:
        # peek, scan, then consume only the complete entries: the bytes after the dictionary stay
        # in the stream for the sections that follow
        base = src.offset  # file byte of buf[0]
        buf = src.peek(window)
        room = min(size - entries, len(buf) // _ENTRY_MIN + 1)
        words = np.empty(len(buf), np.uint8)
        ends = np.empty(room, np.int64)
        counts = np.empty(room, np.int64)
        types = np.empty(room, np.int8)
        k, consumed, status = _fasttext.scan_dictionary(np.frombuffer(buf, np.uint8), room, MAX_WORD_BYTES,
                                                        words, ends, counts, types)
        if k:
            _check_entries(src, base, entries, nwords, words, ends[:k], counts[:k], types[:k], opts.encoding)
            n_take = max(0, min(k, want - entries))
            if n_take:
                starts = np.concatenate(([0], ends[:n_take - 1]))
                spans = np.stack([starts, ends[:n_take]], axis=1)
                blob = words[:ends[n_take - 1]].tobytes()
                idx = np.arange(entries, entries + n_take, dtype=np.int64)

                def where(off: int, starts=starts, base=base) -> str:
                    j = int(np.searchsorted(starts, off, side="right")) - 1
                    return f"byte {base + off + (_ENTRY_MIN - 1) * j}"
                got = keys.take(blob, spans, n_take, idx, 0, where)  # drops repeated words if asked to
                sel = idx[:got] - entries
                if got == n_take:
                    pieces.append(blob)
                else:
                    pieces.append(b"".join(blob[s:e] for s, e in spans[sel].tolist()))
                lengths.append(ends[sel] - starts[sel])
                kept_ids.append(idx[:got].copy())
                counts_kept.append(counts[sel])
        if status:
            raise src.error(f"dictionary entry {entries + k + 1}: no NUL ends the word within {MAX_WORD_BYTES} bytes "
                            "(not a fastText dictionary)", byte=base + consumed)
        src.read(consumed)
        entries += k
        if k == 0:
            if len(buf) < window:
                raise src.error(f"the file ends inside the dictionary (truncated): expected {size} entries, got "
                                f"{entries}", byte=src.offset)
            window *= 2
    if pruned >= 0:
        rest = _rest(src)
        if rest is not None and 8 * pruned > rest:
            raise src.error(f"the pruned n-gram index has {pruned} pairs ({8 * pruned} bytes) but only {rest} bytes "
                            "follow (truncated)", byte=src.offset)
        left = 8 * pruned
        while left:
            left -= len(_take(src, min(left, CHUNK), "the pruned n-gram index"))
    lens = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return a, _Dictionary(keys=keys.keys,
                          counts=np.concatenate(counts_kept) if counts_kept else np.zeros(0, np.int64),
                          kept=np.concatenate(kept_ids) if kept_ids else np.zeros(0, np.int64),
                          blob=np.frombuffer(b"".join(pieces), np.uint8), offsets=offsets, pruned=pruned)


def _check_entries(src: Source, base: int, e0: int, nwords: int, words: np.ndarray, ends: np.ndarray,
                   counts: np.ndarray, types: np.ndarray, encoding: str) -> None:
    """Entries e0.. of one scanned chunk: words first (type 0), then labels (type 1); words are
    non-empty; counts are non-negative."""
    k = len(ends)
    starts = np.concatenate(([0], ends[:-1]))
    ids = np.arange(e0, e0 + k)
    bad_type = types != np.where(ids < nwords, 0, 1)
    bad = np.flatnonzero(bad_type | (ends == starts) | (counts < 0))
    if not len(bad):
        return
    j = int(bad[0])
    word = words[starts[j]:ends[j]].tobytes().decode(encoding, "replace")
    byte = base + int(starts[j]) + (_ENTRY_MIN - 1) * j
    if ends[j] == starts[j]:
        raise src.error(f"dictionary entry {e0 + j + 1} is an empty word", byte=byte)
    if bad_type[j]:
        expected = "0 (a word)" if e0 + j < nwords else "1 (a label)"
        raise src.error(f"dictionary entry {e0 + j + 1} ({word!r}) has type {int(types[j])}; expected {expected}: "
                        f"the dictionary holds {nwords} words, then the labels", byte=byte)
    raise src.error(f"dictionary entry {e0 + j + 1} ({word!r}) has a negative count {int(counts[j])}", byte=byte)


def _read_matrix_header(src: Source, what: str) -> Tuple[int, int, int]:
    at = src.offset
    m, n = _MATRIX.unpack(_take(src, _MATRIX.size, f"the {what} header"))
    return m, n, at


def _read_rows(src: Source, rows: int, D: int, keep: bool, what: str) -> Optional[np.ndarray]:
    """``rows`` float32 rows of width D: into a (rows, D) array if ``keep``, else read and dropped.

    Plain files were checked to hold them; compressed streams fill 64 MB blocks as they go, so a
    header promising more rows than the stream holds costs at most one block before the error."""
    nb = 4 * D
    sink = RowSink(D, rows if src.size is not None else None, limit=rows) if keep else None
    step = max(1, CHUNK // nb)
    done = 0
    while done < rows:
        r = min(step, rows - done)
        at = src.offset
        data = src.read(r * nb)
        if len(data) < r * nb:
            raise src.error(f"the file ends inside the {what} (truncated): expected {rows} rows of {D} float32, "
                            f"got {done + len(data) // nb}", byte=at + len(data))
        if sink is not None:
            block = np.frombuffer(data, "<f4").reshape(r, D)
            i = 0
            while i < r:
                out, row0, room = sink.target()
                m = min(room, r - i)
                out[row0:row0 + m] = block[i:i + m]
                sink.commit(m)
                i += m
        done += r
    return sink.result() if sink is not None else None


def _skip_rest(src: Source, a: FastTextArgs) -> None:
    """The output matrix: checked for shape and size, skipped; nothing may follow it."""
    if a.version is not None:
        at = src.offset
        qout = _take(src, 1, "the output matrix header")[0]
        if qout > 1:
            raise src.error(f"expected the output quantisation flag 0 or 1, got {qout}", byte=at)
    m, n, at = _read_matrix_header(src, "output matrix")
    if m < 0 or n != a.dim:
        raise src.error(f"the output matrix is {m} x {n}; expected rows x {a.dim}", byte=at)
    need = 4 * m * n
    rest = _rest(src)
    if rest is not None:
        if rest < need:
            raise src.error(f"the output matrix of {m} x {n} float32 needs {need} bytes but only {rest} follow "
                            "(truncated)", byte=src.offset)
        if rest > need:
            raise src.error(f"{rest - need} bytes of unexpected data after the output matrix", byte=src.offset + need)
        return
    left = need
    while left:
        got = len(src.read(min(left, CHUNK)))
        if not got:
            raise src.error(f"the file ends inside the output matrix (truncated): {left} of its {need} bytes missing",
                            byte=src.offset)
        left -= got
    if src.read(1):
        raise src.error("unexpected data after the output matrix", byte=src.offset - 1)


def _read_model(src: Source, opts: LoadOptions, keep_ngrams: bool) -> "FastTextVectors":
    if sys.byteorder != "little":  # pragma: no cover
        raise OSError("fastText .bin files are little-endian; this machine is not")
    if not src.head:
        raise src.error("the file is empty")
    a = _read_args(src)
    src.progress(opts.progress)
    a, d = _read_dictionary(src, a, (1 << 62) if opts.limit is None else opts.limit, opts)
    want = a.nwords if opts.limit is None else min(a.nwords, opts.limit)  # word rows to read
    if a.version is not None:
        at = src.offset
        quant = _take(src, 1, "the matrix header")[0]
        if quant == 1:
            raise src.error("this is a quantised fastText model (.ftz, made by `fasttext quantize`): fastembed reads "
                            "only full .bin models; use the .bin it was made from, or the .vec text file of its "
                            "vectors", byte=at)
        if quant != 0:
            raise src.error(f"expected the quantisation flag 0 or 1, got {quant}", byte=at)
        if d.pruned >= 0:
            raise src.error("the dictionary has a pruned n-gram index but the matrix is not quantised: an invalid "
                            "model file (fastText itself refuses it)", byte=at)
    m, n, at = _read_matrix_header(src, "input matrix")
    if (m, n) != (a.nwords + a.bucket, a.dim):
        raise src.error(f"the input matrix is {m} x {n}; expected {a.nwords + a.bucket} x {a.dim} "
                        f"({a.nwords} words + {a.bucket} buckets, dim {a.dim})", byte=at)
    rest = _rest(src)
    need = 4 * m * n + (1 if a.version is not None else 0) + _MATRIX.size
    if rest is not None and rest < need:
        raise src.error(f"the input matrix of {m} x {n} float32 and the output matrix header need {need} bytes but "
                        f"only {rest} follow (truncated)", byte=src.offset)
    D = a.dim
    word_rows = _read_rows(src, want, D, True, "input matrix")
    _read_rows(src, a.nwords - want, D, False, "input matrix")
    subwords = a.subwords
    ngrams = _read_rows(src, a.bucket, D, subwords, "input matrix")
    if ngrams is None:
        ngrams = np.zeros((0, D), np.float32)
    if opts.limit is None:
        _skip_rest(src, a)
    if len(d.kept) < want:  # repeated words dropped (duplicates="first")
        word_rows = word_rows[d.kept]
    if subwords:
        vectors = np.empty((len(d.kept), D), np.float32)
        work = (len(d.blob) + 2 * len(d.kept)) * max(1, a.maxn - a.minn + 1) * D * 4
        nt = team_size(work, GRAIN_COPY_BYTES, opts.n_threads, items=max(len(d.kept), 1))
        _fasttext.mean_vectors(word_rows, None, ngrams, d.blob, d.offsets, a.minn, a.maxn, not a.eos_subwords,
                               vectors, nt)
        del word_rows
    else:
        vectors = word_rows
    table = EmbeddingTable(vectors, vocab=Vocabulary(d.keys, d.counts), copy=False)
    return FastTextVectors(table, ngrams if keep_ngrams else np.zeros((0, D), np.float32), minn=a.minn,
                           maxn=a.maxn, eos_subwords=a.eos_subwords, encoding=opts.encoding, args=a)


# ------------------------------------------------------------------------------------------ writing

_WRITE_ROWS = 1 << 16  # rows per write() of a matrix (bounded memory for the byte copies)


def _write_matrix(f, M: np.ndarray) -> None:
    f.write(_MATRIX.pack(*M.shape))
    for r0 in range(0, M.shape[0], _WRITE_ROWS):
        f.write(np.ascontiguousarray(M[r0: r0 + _WRITE_ROWS], dtype="<f4").tobytes())


def write_model(path: str, keys: Sequence[str], counts, input_matrix: np.ndarray, output_matrix: np.ndarray, *,
                args: dict, ntokens: Optional[int] = None) -> None:
    """Write a fastText ``.bin`` model (version 12, the layout of the module docstring), atomically.

    Parameters
    ----------
    path : the file written (under a temporary name, renamed into place when complete).
    keys : the V words, in row order (no whitespace, no NUL: fastText splits its input on whitespace).
    counts : (V,) int counts (fastText sorts its dictionary by them; any order is read back as is).
    input_matrix : (V + bucket, D) float32: the word rows, then the n-gram buckets.
    output_matrix : (V, D) float32: the output (negative-sampling) rows.
    args : the header's arguments by :class:`FastTextArgs` name (dim, ws, epoch, min_count, neg,
        word_ngrams, loss, model, bucket, minn, maxn, lr_update_rate, t); dim and bucket must agree
        with the matrices.
    ntokens : the dictionary's token count (default: the sum of counts).

    Raises
    ------
    ValueError : a key the format cannot hold (named, with its row), or shapes that disagree.
    """
    V = len(keys)
    D = int(args["dim"])
    if input_matrix.shape != (V + int(args["bucket"]), D) or output_matrix.shape != (V, D):
        raise ValueError(f"a fastText model of {V} words, {args['bucket']} buckets and dim {D} needs an input "
                         f"matrix of {(V + int(args['bucket']), D)} and an output matrix of {(V, D)}; got "
                         f"{input_matrix.shape} and {output_matrix.shape}")
    counts = np.asarray(counts, np.int64)
    enc = []
    for i, k in enumerate(keys):
        b = k.encode("utf-8")
        if not b or b"\0" in b or any(c in b for c in (b" ", b"\t", b"\n", b"\r", b"\v", b"\f")):
            raise ValueError(f"key {k!r} at row {i} cannot be written in format 'fasttext-bin': it is empty or holds "
                             "whitespace or a NUL")
        enc.append(b)
    head = struct.pack("<2i", MAGIC, 12) + _ARGS.pack(*[int(args[n]) for n in _ARG_NAMES[:-1]], float(args["t"]))
    head += _DICT.pack(V, V, 0, int(counts.sum()) if ntokens is None else int(ntokens)) + _I64.pack(-1)
    entry = struct.Struct("<qb")
    with atomic_file(path) as f:
        f.write(head)
        f.write(b"".join(b + b"\0" + entry.pack(int(c), 0) for b, c in zip(enc, counts.tolist())))
        f.write(b"\0")  # quant_input: false
        _write_matrix(f, input_matrix)
        f.write(b"\0")  # qout: false
        _write_matrix(f, output_matrix)


def write(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    """The registry's writer: the table's rows as a fastText ``.bin`` model without n-grams (bucket
    0, so every reader gives back the rows bit for bit), the vocabulary's counts (1 without), a zero
    output matrix. A trained :class:`fastembed.fasttext.FastText` writes its n-grams too
    (:meth:`~fastembed.fasttext.FastText.save`)."""
    W = np.ascontiguousarray(table[:] if not table.storage.is_float32 else table.weights, dtype=np.float32)
    V, D = W.shape
    keys, _, _ = keys_for_writing(table, "word2vec", "fasttext-bin")
    vocab = table.vocab
    counts = vocab.counts if vocab is not None and vocab.counts is not None else np.ones(V, np.int64)
    args = dict(dim=D, ws=5, epoch=5, min_count=1, neg=5, word_ngrams=1, loss=2, model=2, bucket=0, minn=0, maxn=0,
                lr_update_rate=100, t=1e-4)
    write_model(path, keys, counts, W, np.zeros((V, D), np.float32), args=args)


def read(src: Source, opts: LoadOptions) -> EmbeddingTable:
    """The registry's reader: the full word vectors with the vocabulary and counts."""
    return _read_model(src, opts, keep_ngrams=False).table


def load_fasttext(path, *, limit: Optional[int] = None, encoding: str = "utf-8", unicode_errors: str = "strict",
                  duplicates: str = "error", progress: Optional[bool] = None,
                  n_threads: Optional[int] = None) -> "FastTextVectors":
    """Load a fastText ``.bin`` model's word vectors and its character n-gram matrix.

    Parameters
    ----------
    path : str or PathLike
        A ``.bin`` model (``.gz`` / ``.bz2`` decompressed on the fly). Quantised ``.ftz`` models are
        refused.
    limit : int, optional
        Keep only the first ``limit`` words (the most frequent); unknown-word vectors still use
        every n-gram row.
    encoding, unicode_errors : how words are decoded (fastText writes the bytes of its input,
        usually UTF-8). Unknown words are encoded with ``encoding`` before hashing.
    duplicates : "error" or "first", as :func:`fastembed.load`.
    progress : None (a bar for large files on a terminal), True or False.
    n_threads : int, optional
        Threads computing the word vectors (None: all cores).

    Returns
    -------
    FastTextVectors
        ``.table`` the (V, D) float32 word vectors (each the mean of the word's row and its n-gram
        rows, what gensim's ``load_facebook_vectors(path).vectors`` holds) with the vocabulary and
        counts; ``.ngrams`` the (bucket, D) float32 n-gram rows.

    Raises
    ------
    FileFormatError : not a fastText model, a quantised one, or a malformed / truncated file (the
        message names the file, the byte and what was expected).
    FileNotFoundError
    """
    opts = LoadOptions(limit=limit, encoding=encoding, unicode_errors=unicode_errors, progress=progress,
                       duplicates=duplicates, n_threads=n_threads)
    with Source(path) as src:
        if src.is_dir:
            raise src.error("is a directory, not a fastText .bin model")
        return _read_model(src, opts, keep_ngrams=True)


# ------------------------------------------------------------------------------------------ the model

class FastTextVectors:
    """A fastText model's word vectors plus its character n-gram rows: vectors for any word.

    Composition: :attr:`table` is the :class:`EmbeddingTable` of the known words (searches go to
    it); this object adds the n-gram matrix and the hashing that turns an unknown word into the
    mean of its n-gram rows, as fastText's ``getWordVector`` and gensim's ``FastTextKeyedVectors``
    do.

    Parameters
    ----------
    table : EmbeddingTable
        (V, D) word vectors with a vocabulary.
    ngrams : (bucket, D) float array
        N-gram rows (bucket 0: no subwords; unknown words then raise KeyError).
    minn, maxn : int >= 0
        N-gram lengths in characters.
    eos_subwords : bool
        Whether ``"</s>"`` gets n-grams (fastText files before version 12); default False.
    encoding : str
        How unknown words are encoded into the bytes that are hashed.
    args : FastTextArgs, optional
        What the file said (set by :func:`load_fasttext`).
    """

    __slots__ = ("_table", "_ngrams", "_minn", "_maxn", "_eos_subwords", "_encoding", "_args")

    def __init__(self, table: EmbeddingTable, ngrams, *, minn: int, maxn: int, eos_subwords: bool = False,
                 encoding: str = "utf-8", args: Optional[FastTextArgs] = None) -> None:
        if not isinstance(table, EmbeddingTable):
            raise TypeError(f"table must be an EmbeddingTable, got {type(table).__name__}")
        _words.require_vocab(table)
        g = as_float_matrix(ngrams, "ngrams")
        if g.shape[1] != table.dim:
            raise ValueError(f"ngrams has {g.shape[1]} columns; the table has dim {table.dim}")
        if g.shape[0] >= 1 << 32:
            raise ValueError(f"ngrams has {g.shape[0]} rows; fastText hashes into fewer than 2**32 buckets")
        self._table = table
        self._ngrams = g
        self._minn = as_int(minn, "minn", lo=0)
        self._maxn = as_int(maxn, "maxn", lo=0)
        self._eos_subwords = bool(eos_subwords)
        "".encode(encoding)  # LookupError for an unknown codec
        self._encoding = encoding
        self._args = args

    # -------------------------------------------------------------- what it holds
    @property
    def table(self) -> EmbeddingTable:
        """The known words' vectors, vocabulary and counts."""
        return self._table

    @property
    def ngrams(self) -> np.ndarray:
        """(bucket, D) float32 n-gram rows (row h is bucket h)."""
        return self._ngrams

    @property
    def minn(self) -> int:
        return self._minn

    @property
    def maxn(self) -> int:
        return self._maxn

    @property
    def bucket(self) -> int:
        """Rows of :attr:`ngrams` (0 for a model without character n-grams, whose word-n-gram
        buckets, if any, are not kept; :attr:`args` has the file's value)."""
        return self._ngrams.shape[0]

    @property
    def dim(self) -> int:
        return self._table.dim

    @property
    def args(self) -> Optional[FastTextArgs]:
        return self._args

    @property
    def subwords(self) -> bool:
        """Whether unknown words get vectors (n-gram rows exist and lengths allow n-grams)."""
        return _has_subwords(self.bucket, self._minn, self._maxn)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return (f"FastTextVectors({len(self)} words x {self.dim}, {self.bucket} n-gram buckets, "
                f"n-grams of {self._minn}..{self._maxn} characters)")

    def __contains__(self, word: object) -> bool:
        """True for a known word, and for any str when the model has subwords (as gensim)."""
        return isinstance(word, str) and (self.subwords or word in self._table)

    # -------------------------------------------------------------- vectors
    def _encode(self, words: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        enc = []
        for w in words:
            try:
                enc.append(w.encode(self._encoding))
            except UnicodeEncodeError as exc:
                raise ValueError(f"word {w!r} cannot be encoded in {self._encoding} (the model's encoding): "
                                 f"{exc.reason}") from None
        offsets = np.zeros(len(enc) + 1, np.int64)
        np.cumsum([len(e) for e in enc], out=offsets[1:])
        return np.frombuffer(b"".join(enc), np.uint8), offsets

    def ngram_ids(self, word: str) -> np.ndarray:
        """(m,) int64 bucket ids of the word's character n-grams, in fastText's order (repeats
        kept); empty without subwords."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        blob, offsets = self._encode([word])
        if not self.subwords:
            return np.zeros(0, np.int64)
        ids, _ = _fasttext.ngram_ids(blob, offsets, self._minn, self._maxn, self.bucket, not self._eos_subwords)
        return ids

    def vectors(self, words: Sequence[str], *, n_threads: Optional[int] = None) -> np.ndarray:
        """(n, D) float32 vectors of ``words``: a known word's row of :attr:`table`, an unknown
        word's mean n-gram row (zeros when it has no n-gram).

        Raises KeyError listing the unknown words when the model has no subwords.
        """
        if isinstance(words, str) or not all(isinstance(w, str) for w in words):
            raise TypeError("words must be a list of str (use get_vector for one word)")
        words = list(words)
        if not words:
            return np.empty((0, self.dim), np.float32)
        find = self._table.vocab.get
        ids = np.fromiter((find(w, -1) for w in words), np.int64, len(words))
        unknown = np.flatnonzero(ids < 0)
        if len(unknown) == len(words):
            return self._subword_vectors(words, n_threads)
        if not len(unknown):
            return self._table.lookup(ids, n_threads=n_threads)
        out = np.empty((len(words), self.dim), np.float32)
        known = np.flatnonzero(ids >= 0)
        out[known] = self._table.lookup(ids[known], n_threads=n_threads)
        out[unknown] = self._subword_vectors([words[i] for i in unknown], n_threads)
        return out

    def _subword_vectors(self, words: List[str], n_threads) -> np.ndarray:
        """(n, D) mean n-gram rows of words (none of them known)."""
        if not self.subwords:
            raise KeyError("not in the vocabulary (and the model has no subword n-grams): "
                           + ", ".join(repr(w) for w in words[:20])
                           + (f" and {len(words) - 20} more" if len(words) > 20 else ""))
        blob, offsets = self._encode(words)
        out = np.empty((len(words), self.dim), np.float32)
        work = (len(blob) + 2 * len(words)) * max(1, self._maxn - self._minn + 1) * self.dim * 4
        nt = team_size(work, GRAIN_COPY_BYTES, n_threads, items=max(len(words), 1))
        _fasttext.mean_vectors(None, None, self._ngrams, blob, offsets, self._minn, self._maxn,
                               not self._eos_subwords, out, nt)
        return out

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """(D,) float32 vector of one word (see :meth:`vectors`); ``norm``: scaled to unit length
        (a zero vector stays zero)."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        v = self.vectors([word])[0]
        if norm:
            n = np.linalg.norm(v)
            if n > 0:
                v = (v / n).astype(np.float32)
        return v

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_vector(word)

    # -------------------------------------------------------------- questions (delegated to the table)
    def _term(self, x):
        """A known word as itself; an unknown word as its unit n-gram vector; vectors unchanged."""
        if isinstance(x, str) and x not in self._table:
            v = self.get_vector(x, norm=True)
            if not np.any(v):
                raise ValueError(f"{x!r} has no n-gram rows to make a vector from")
            return v
        return x

    def most_similar(self, positive=None, negative=None, topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None, n_threads: Optional[int] = None):
        """Known words most similar (cosine) to a word, a vector, or the combination of several
        (see :func:`fastembed.words.most_similar`); an unknown word queries with its n-gram vector
        (and is not excluded from the answers, not being one of them).

        Returns a list of (word, cosine) pairs, best first.
        """
        def terms(x):
            if x is None:
                return None
            if isinstance(x, (str, np.ndarray)) or np.isscalar(x):
                return self._term(x)
            return [self._term(t) for t in x]
        return _words.most_similar(self._table, terms(positive), terms(negative), topn=topn,
                                   restrict_vocab=restrict_vocab, n_threads=n_threads)

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words' vectors (known or not)."""
        a, b = self.vectors([w1, w2]).astype(np.float64)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if not (na > 0 and nb > 0):
            raise ValueError(f"cannot compute the similarity of {w1!r} and {w2!r}: a vector is zero")
        return float(a @ b / (na * nb))

