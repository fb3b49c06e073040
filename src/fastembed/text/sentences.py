"""Sentences as lines of a file, and a corpus encoded once and searched many times.

* :func:`read_lines` - a UTF-8 text file (or stdin) as one sentence a line; a byte that is not UTF-8
  is a ValueError naming the file and the line.
* :class:`SentenceIndex` - a corpus's sentence vectors (``vectors.npy``) and an exact int8 search
  index of them (``index.npz``, :mod:`fastembed.index`) kept in a folder next to the corpus, rebuilt
  when the corpus or the model changes; queries answer with the top-k sentences by cosine, exactly
  as a full scan would.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import List, Tuple

import numpy as np

from fastembed import index as fe_index
from fastembed import search
from fastembed._validate import as_queries, as_restrict
from fastembed.table import EmbeddingTable
from fastembed.text.static import StaticModel

__all__ = ["read_lines", "SentenceIndex", "cache_dir"]

_CACHE_FORMAT = 1


def read_lines(path: str, stdin=None) -> List[str]:
    """One sentence a line (line ends ``\\n`` or ``\\r\\n`` removed; a last line without its ``\\n``
    counts). ``path`` "-" reads ``stdin`` (bytes). ValueError naming the file and the line for
    bytes that are not UTF-8."""
    if path == "-":
        data = (stdin or sys.stdin.buffer).read()
        name = "<stdin>"
    else:
        with open(path, "rb") as f:
            data = f.read()
        name = path
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1)
        raise ValueError(f"{name}, line {line}: not UTF-8 (byte 0x{data[e.start]:02x} at byte {col + 1} of the "
                         f"line: {e.reason})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x[:-1] if x.endswith("\r") else x for x in lines]


def cache_dir(corpus: str) -> str:
    """Where the corpus's vectors and index live: ``CORPUS.fastembed/`` beside it."""
    return os.path.abspath(corpus) + ".fastembed"


def _fingerprint(path: str) -> dict:
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _model_fingerprint(model_path: str) -> dict:
    files = {}
    for root, _, names in os.walk(model_path):
        for n in sorted(names):
            if n.endswith((".json", ".safetensors")):
                p = os.path.join(root, n)
                st = os.stat(p)
                files[os.path.relpath(p, model_path)] = [st.st_size, st.st_mtime_ns]  # lists: as JSON reads back
    return {"path": os.path.abspath(model_path), "files": files}


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class SentenceIndex:
    """A corpus's sentences, their vectors (an :class:`EmbeddingTable`) and an exact int8 index.

    Build with :meth:`open` (loads the folder beside the corpus, or encodes the corpus and writes
    it); query with :meth:`search`.
    """

    def __init__(self, model: StaticModel, sentences: List[str], table: EmbeddingTable, idx: "fe_index.Int8Index"):
        self.model = model
        self.sentences = sentences
        self.table = table
        self.index = idx

    def __repr__(self) -> str:
        return f"SentenceIndex({len(self.sentences)} sentences, dim={self.table.dim}, index={type(self.index).__name__})"

    @classmethod
    def open(cls, model: StaticModel, corpus: str, *, rebuild: bool = False, n_threads=None,
             progress=None, log=None) -> "SentenceIndex":
        """The index of ``corpus`` under ``model``: read from ``cache_dir(corpus)`` when it was
        made from the same corpus file and model files, else built and written there."""
        sentences = read_lines(corpus)
        d = cache_dir(corpus)
        meta_f, vec_f, idx_f = (os.path.join(d, n) for n in ("meta.json", "vectors.npy", "index.npz"))
        want = {"format": _CACHE_FORMAT, "corpus": _fingerprint(corpus), "model": _model_fingerprint(model.path or ""),
                "lines": len(sentences), "dim": model.dim}
        if not rebuild and all(os.path.isfile(f) for f in (meta_f, vec_f, idx_f)):
            try:
                with open(meta_f, encoding="utf-8") as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                meta = {}
            if {k: meta.get(k) for k in want} == want and meta.get("vectors_sha256") == _sha256(vec_f):
                vec = np.load(vec_f, mmap_mode="r")
                idx = fe_index.load(idx_f)
                if vec.shape == (len(sentences), model.dim) and idx.shape == vec.shape:
                    return cls(model, sentences, EmbeddingTable(vec, copy=False), idx)
        if log is not None:
            log(f"encoding {len(sentences)} lines of {corpus} into {d}")
        vec = model.encode(sentences, n_threads=n_threads, show_progress_bar=progress)
        table = EmbeddingTable(vec, copy=False)
        idx = fe_index.build(table.weights, "int8", n_threads)
        os.makedirs(d, exist_ok=True)
        tmp = vec_f + ".tmp.npy"
        np.save(tmp, vec)
        os.replace(tmp, vec_f)
        tmp = idx_f + ".tmp.npz"
        fe_index.save(idx, tmp)
        os.replace(tmp, idx_f)
        meta = dict(want, vectors_sha256=_sha256(vec_f))
        with open(meta_f + ".tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
        os.replace(meta_f + ".tmp", meta_f)
        return cls(model, sentences, table, idx)

    def search(self, queries: List[str], k: int = 5, n_threads=None) -> List[List[Tuple[int, float, str]]]:
        """The k most similar corpus lines (cosine) of each query: (line index, score, sentence),
        best first; the answer of a full scan of the vectors, ids and score bits."""
        qv = self.model.encode(queries, n_threads=n_threads)
        V = self.table.num_embeddings
        zero = np.flatnonzero(~np.any(qv, axis=1))
        if zero.size:
            raise ValueError(f"query {queries[int(zero[0])]!r} has no token in the model's vocabulary "
                             "(its vector is zero)")
        q, _ = as_queries(qv, self.table.dim, normalize=True)
        cand = search.Candidates.build(as_restrict(None, V), None, q.shape[0], V)
        scores, ids = search.run(self.table.weights, search.LinearScorer(q), min(k, V), cand,
                                 inv=self.table.inv_norms(n_threads), n_threads=n_threads, index=self.index)
        out = []
        for s_row, i_row in zip(scores, ids):
            out.append([(int(i), float(s), self.sentences[int(i)]) for s, i in zip(s_row, i_row) if i >= 0])
        return out
