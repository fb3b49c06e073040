"""Mutation fuzzing of the loaders, judged by the reference readers (used by tests/test_io_fuzz.py and
bench/fuzz_io.py).

A case takes a seed file written by :func:`fastembed.save` (or by hand, e.g. gensim-style packed
binary records), applies 1-4 byte-level mutations, loads the result with ``fastembed.load`` and
classifies the outcome:

* ``same``: it loaded, and the reference reader of the detected format (``reference.load_text`` /
  ``reference.load_binary``; for native directories the seed table itself, since any change to
  their content must be caught by sizes or checksums; for safetensors the ``safetensors``
  package) accepts the file and reads the same keys and the same bits. A mutation that produced
  another valid file lands here.
* ``error``: a clean :class:`~fastembed.io.FileFormatError` (a ValueError naming the file).
* ``stricter``: a clean error on a file the reference reader accepts (allowed, reported).
* ``silent``: it loaded but the reference rejects the file or reads something else. Must be 0.
* ``crash``: any other exception (or, in a worker process, a dead process). Must be 0.
"""
from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import fastembed.io.binary as _binary
import fastembed.io.text as _text
import fastembed.reference as reference
from fastembed.io._api import detect_format, load, save
from fastembed.io._errors import FileFormatError
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["SEEDS", "make_seeds", "mutate", "judge", "run_cases", "Tally", "OUTCOMES"]

OUTCOMES = ("same", "error", "stricter", "silent", "crash")
INTERESTING = b"\x00\n\r\t \x0b-+.0159eEnN,\xff\x80"


def _seed_table(rng) -> EmbeddingTable:
    V, D = int(rng.integers(3, 9)), int(rng.integers(1, 7))
    W = (rng.standard_normal((V, D)) * 10.0 ** rng.integers(-3, 3, (V, D))).astype(np.float32)
    W.flat[rng.integers(0, W.size)] = np.float32(rng.choice([0.5, -0.0, 1e-45, 3.4e38, 0.1, np.inf]))
    keys = ["a", "bb", "кот", "猫", "x-y", "1990", "k7", "naïve", "q"]
    order = rng.permutation(len(keys))[:V]
    return EmbeddingTable(W, vocab=Vocabulary([keys[i] for i in order], rng.integers(1, 100, V)))


def _packed_binary(t: EmbeddingTable) -> bytes:  # gensim's layout: no newline after a record
    W = t.weights.astype("<f4")
    return (f"{len(t)} {t.dim}\n".encode() +
            b"".join(k.encode() + b" " + W[i].tobytes() for i, k in enumerate(t.vocab.keys)))


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _glove_phrases(t: EmbeddingTable) -> EmbeddingTable:
    keys = list(t.vocab.keys)
    keys[0] = "new york"
    return EmbeddingTable(t.weights, vocab=keys)


def _text_variants(t: EmbeddingTable, p: str) -> EmbeddingTable:
    """A hand-written word2vec file: CRLF, blank lines, tabs, every spelling of a number."""
    spell = [b"1e-3", b".5", b"5.", b"+3", b"-inf", b"nan", b"-0", b"1E+2", b"0.000001", b"123456789"]
    rows, lines = [], []
    for i, k in enumerate(t.vocab.keys):
        toks = [spell[(i * 3 + j) % len(spell)] for j in range(t.dim)]
        rows.append([reference.parse_float32(x) for x in toks])
        lines.append(k.encode() + (b"\t" if i % 2 else b" ") + b"  ".join(toks) + b"\r\n" + (b"\r\n" if i == 1 else b""))
    with open(p, "wb") as f:
        f.write(f"{len(t)} {t.dim}\r\n".encode() + b"".join(lines))
    return EmbeddingTable(np.array(rows, np.float32).reshape(len(t), t.dim), vocab=t.vocab)


def _glove_d1(t: EmbeddingTable, p: str) -> EmbeddingTable:
    """GloVe with D = 1 whose first row would read as a header: written "12 5.0"."""
    keys = ["12"] + [k for k in t.vocab.keys if k != "12"][: len(t) - 1]
    u = EmbeddingTable(np.r_[[[5.0]], t.weights[1:, :1]].astype(np.float32), vocab=keys)
    save(u, p, format="glove")
    return u


SEEDS: Dict[str, Tuple[str, Callable]] = {
    # name: (file name, writer(table, path))
    "word2vec": ("v.txt", lambda t, p: save(t, p, format="word2vec")),
    "glove": ("g.txt", lambda t, p: save(_glove_phrases(t), p, format="glove")),
    "binary": ("v.bin", lambda t, p: save(t, p, format="word2vec-binary")),
    "binary-packed": ("p.bin", lambda t, p: _write_bytes(p, _packed_binary(t))),
    "word2vec-gz": ("v.txt.gz", lambda t, p: save(t, p, format="word2vec")),
    "binary-bz2": ("v.bin.bz2", lambda t, p: save(t, p, format="word2vec-binary")),
    "native": ("nat", lambda t, p: save(t, p, format="native")),
    "safetensors": ("m.safetensors", lambda t, p: save(t, p, format="safetensors")),
    "text-variants": ("t.txt", _text_variants),
    "glove-d1": ("d1.txt", _glove_d1),
}


def make_seeds(directory: str, rng) -> Dict[str, Tuple[str, EmbeddingTable]]:
    """Write one seed per kind under ``directory``: {kind: (path, table it holds)}."""
    out = {}
    for kind, (name, writer) in SEEDS.items():
        t = _seed_table(rng)
        p = os.path.join(directory, f"seed_{kind}_{name}")
        written = writer(t, p)
        out[kind] = (p, written if isinstance(written, EmbeddingTable) else _glove_phrases(t) if kind == "glove" else t)
    return out


def mutate(data: bytes, rng, n: Optional[int] = None) -> bytes:
    """1-4 random edits: set a byte (random or an interesting one), insert, delete, truncate, swap
    two bytes, duplicate or delete a range, change a digit."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5)) if n is None else n):
        if not b:
            b = bytearray(b"x")
        i = int(rng.integers(0, len(b)))
        op = int(rng.integers(0, 9))
        if op == 0:
            b[i] = int(rng.integers(0, 256))
        elif op == 1:
            b[i] = INTERESTING[int(rng.integers(0, len(INTERESTING)))]
        elif op == 2:
            b.insert(i, INTERESTING[int(rng.integers(0, len(INTERESTING)))])
        elif op == 3:
            del b[i]
        elif op == 4:
            del b[i:]
        elif op == 5:
            j = int(rng.integers(0, len(b)))
            b[i], b[j] = b[j], b[i]
        elif op == 6:
            j = min(len(b), i + int(rng.integers(1, 40)))
            b[i:i] = b[i:j]
        elif op == 7:
            del b[i: i + int(rng.integers(1, 40))]
        else:
            if 48 <= b[i] <= 57:
                b[i] = 48 + int(rng.integers(0, 10))
            else:
                b[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def _same(t: EmbeddingTable, keys, W) -> bool:
    if (t.vocab is None) != (keys is None) or (keys is not None and list(t.vocab.keys) != list(keys)):
        return False
    W = np.asarray(W, np.float32)
    return t.weights.shape == W.shape and np.array_equal(t.weights.view(np.uint32), W.view(np.uint32))


def _reference(path: str, fmt: str, seed: EmbeddingTable):
    """(keys, W) the reference reads for ``fmt``, or raises."""
    if fmt in ("word2vec", "glove"):
        return reference.load_text(path, format=fmt)
    if fmt == "word2vec-binary":
        return reference.load_binary(path)
    if fmt == "native":
        return seed.vocab.keys, seed.weights  # any accepted change must leave the table as saved
    if fmt == "safetensors":
        from safetensors import safe_open  # optional dependency of the fuzzer
        with safe_open(path, "np") as f:
            names = list(f.keys())
            if len(names) != 1:
                raise ValueError("not one tensor")
            W = f.get_tensor(names[0])
            meta = f.metadata() or {}
        if W.dtype != np.float32:
            W = W.astype(np.float32)
        return (json.loads(meta["fastembed_keys"]) if "fastembed_keys" in meta else None), W
    raise ValueError(f"no reference for {fmt}")


def judge(path: str, seed: EmbeddingTable) -> Tuple[str, str]:
    """(outcome, detail) of loading ``path`` (see the module docstring). A warning emitted while
    loading counts as a crash: a bad file must give one clean error, nothing else."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome, detail = _judge(path, seed)
    if caught and outcome != "crash":
        w = caught[0]
        return "crash", f"{w.category.__name__} while loading: {w.message} ({w.filename}:{w.lineno})"
    return outcome, detail


def _judge(path: str, seed: EmbeddingTable) -> Tuple[str, str]:
    try:
        t = load(path)
    except FileFormatError as exc:
        if not str(exc).startswith(os.fspath(exc.path)) or exc.path not in str(exc):
            return "crash", f"message does not name the file: {exc}"
        try:
            fmt = detect_format(path)
            _reference(path, fmt, seed)
        except Exception:  # noqa: BLE001 - the reference refused as well
            return "error", ""
        return ("stricter", f"{exc}") if fmt not in ("native", "safetensors") else ("error", "")
    except ValueError as exc:  # a ValueError that is not a FileFormatError: it must still name the file
        return ("error", "") if os.path.basename(path) in str(exc) else ("crash", f"ValueError without the file: {exc}")
    except Exception as exc:  # noqa: BLE001 - anything else is a crash of the loader
        return "crash", f"{type(exc).__name__}: {exc}"
    fmt = detect_format(path)
    try:
        keys, W = _reference(path, fmt, seed)
    except Exception as exc:  # noqa: BLE001
        return "silent", f"loaded as {fmt} but the reference refuses it: {exc}"
    if not _same(t, keys, W):
        return "silent", f"loaded as {fmt}: {t.vocab.keys if t.vocab else None} {t.weights.tolist()} != {keys} {np.asarray(W).tolist()}"
    return "same", ""


def _write_case(seed_path: str, case_path: str, rng) -> None:
    """A mutated copy of a seed: a file's bytes, or one file of a native directory (mutated,
    deleted, or joined by a stray file)."""
    if os.path.isdir(seed_path):
        if os.path.exists(case_path):
            shutil.rmtree(case_path)
        shutil.copytree(seed_path, case_path)
        names = sorted(os.listdir(case_path))
        r = rng.random()
        if r < 0.05:
            os.remove(os.path.join(case_path, names[int(rng.integers(0, len(names)))]))
        elif r < 0.08:
            with open(os.path.join(case_path, "keys.txt" if "keys.txt" not in names else "counts.npy"), "wb") as f:
                f.write(b"stray\n")
        else:
            victim = os.path.join(case_path, names[int(rng.integers(0, len(names)))])
            with open(victim, "rb") as f:
                data = f.read()
            with open(victim, "wb") as f:
                f.write(mutate(data, rng))
        return
    with open(seed_path, "rb") as f:
        data = f.read()
    opener = gzip.open if seed_path.endswith(".gz") else bz2.open if seed_path.endswith(".bz2") else None
    if opener is not None and rng.random() < 0.5:  # mutate the decompressed text as often as the stream
        with opener(seed_path, "rb") as f:
            inner = f.read()
        data = (gzip.compress if opener is gzip.open else bz2.compress)(mutate(inner, rng))
    else:
        data = mutate(data, rng)
    with open(case_path, "wb") as f:
        f.write(data)


@dataclass
class Tally:
    counts: Dict[str, int] = field(default_factory=lambda: {k: 0 for k in OUTCOMES})
    by_kind: Dict[str, Dict[str, int]] = field(default_factory=dict)
    examples: List[Tuple[str, str, str, int, int]] = field(default_factory=list)  # (outcome, kind, detail, seed, case)

    def add(self, other: "Tally") -> None:
        for k, v in other.counts.items():
            self.counts[k] += v
        for kind, c in other.by_kind.items():
            mine = self.by_kind.setdefault(kind, {k: 0 for k in OUTCOMES})
            for k, v in c.items():
                mine[k] += v
        self.examples.extend(other.examples)


@contextmanager
def small_chunks(chunk: int):
    """Read files ``chunk`` bytes at a time and parse every chunk in parallel parts (however small),
    so that small seed files cross chunk and part boundaries everywhere."""
    saved = (_text.CHUNK, _binary.CHUNK, _text.GRAIN_PARSE_BYTES)
    _text.CHUNK = _binary.CHUNK = chunk
    _text.GRAIN_PARSE_BYTES = 1
    try:
        yield
    finally:
        _text.CHUNK, _binary.CHUNK, _text.GRAIN_PARSE_BYTES = saved


def run_cases(workdir: str, seed: int, n: int, kinds: Optional[List[str]] = None,
              keep_failures: Optional[str] = None, on_case: Optional[Callable[[int], None]] = None,
              chunk: Optional[int] = None) -> Tally:
    """``n`` cases from the random seed ``seed``, cycling over the seed kinds; files are written
    under ``workdir``. Failing cases ("silent", "crash") are copied to ``keep_failures`` if given.
    ``chunk``: read in chunks of that many bytes (see :func:`small_chunks`)."""
    if chunk is not None:
        with small_chunks(chunk):
            return run_cases(workdir, seed, n, kinds, keep_failures, on_case)
    rng = np.random.default_rng(seed)
    seeds = make_seeds(workdir, rng)
    kinds = kinds or list(SEEDS)
    tally = Tally()
    for i in range(n):
        if on_case is not None:
            on_case(i)
        kind = kinds[i % len(kinds)]
        seed_path, table = seeds[kind]
        case = os.path.join(workdir, "case_" + os.path.basename(seed_path)[len(f"seed_{kind}_"):])
        _write_case(seed_path, case, rng)
        outcome, detail = judge(case, table)
        tally.counts[outcome] += 1
        tally.by_kind.setdefault(kind, {k: 0 for k in OUTCOMES})[outcome] += 1
        if outcome in ("silent", "crash", "stricter") and len(tally.examples) < 50:
            tally.examples.append((outcome, kind, detail[:300], seed, i))
            if keep_failures and outcome != "stricter":
                os.makedirs(keep_failures, exist_ok=True)
                dst = os.path.join(keep_failures, f"{outcome}_{seed}_{i}_{os.path.basename(case)}")
                (shutil.copytree if os.path.isdir(case) else shutil.copy)(case, dst)
    return tally
