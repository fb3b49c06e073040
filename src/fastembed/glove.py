"""GloVe (Pennington, Socher and Manning 2014): global co-occurrence counts, then weighted least
squares, trained by compiled kernels.

    table = fastembed.train_glove(fastembed.corpus.planted_corpus(), dim=50, min_count=1)
    table.words.most_similar("cat")

Three stages, each with its own kernel (csrc/fe_glove.h):

1. **Counting** in bounded memory. X[a][b] gains 1/d for every pair of words at distance d <= window
   in a sentence (a before b; symmetric contexts by default, so X is symmetric and only its upper
   triangle is stored). Each worker thread counts its share of every batch of sentences into its
   own hash map (16 bytes a slot, float64 sums). ``memory`` bytes are split into ``workers + 1``
   equal parts: one map per thread at most, and one part of scratch (growing a map, or sorting a
   full map before it is written to ``tmpdir`` as a sorted run). So counting never holds more than
   ``memory`` bytes, whatever the corpus size; larger corpora spill more runs to disk.
2. **Merging** the runs (k-way, equal keys summed) into training records of 16 bytes per stored
   non-zero (i, j, log X_ij, f(X_ij)); the records are then shuffled once, in place.
3. **Training**: AdaGrad on sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2 with
   f(x) = min(1, (x / x_max)^alpha), as the reference implementation glove.c (start at
   uniform(-0.5, 0.5)/dim, squared-gradient sums at 1, learning rate 0.05, gradient components
   clipped at 100; biases stepped with the learning rate as GloVe 1.2, ``bias_learning_rate=1.0``
   for glove.c's current bias step). The pass runs at the process' SIMD level (csrc/impl/glove.h).
   Threads share the parameters without locks (Hogwild) over slices of the shuffled records;
   ``workers=1`` is reproducible bit for bit (and equal to :func:`fastembed.reference.glove_epoch`).

The result is W + W~ (``vectors="sum"``, GloVe's default ``-model 2``) or W (``vectors="word"``).
Peak memory: counting at most ``memory``; merging the maps still held plus 16 bytes per stored
non-zero (spilled runs are read through memory maps: their pages are file cache the system can drop,
though the process' resident size counts them while mapped); training the records plus
2 * 2V(dim + 1) float32 parameters and squared-gradient sums.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from typing import Callable, List, NamedTuple, Optional, Sequence

import numpy as np
from tqdm import tqdm

from fastembed._kernels import _glove
from fastembed._threads import resolve_threads
from fastembed._validate import as_bool, as_float, as_int
from fastembed.corpus import MAX_SENTENCE_WORDS, Sentences, count_words, encode_batches, prefetch
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

log = logging.getLogger(__name__)

__all__ = ["GloVe", "train_glove", "Cooccurrence"]

BATCH_WORDS = 1 << 16        # words per encoded batch (split further into kernel calls)
CALL_WORDS = 8192            # words per thread in a counting call (more if a sentence is longer)
MAX_LOAD = 0.75              # a map is grown or spilled before a call could fill it past this
HARD_LOAD = 0.9              # ... so the kernel never fills more than this (probe chains stay short)
SLOT_BYTES = 16
MERGE_CHUNK = 1 << 20        # merged slots converted to records at a time
SHUFFLE_CHUNK = 1 << 22      # records swapped a kernel call (~0.1 s)
TRAIN_CHUNK = 1 << 18        # records a kernel call: Ctrl-C is honoured between calls (~10-50 ms)
VECTORS = ("sum", "word")


class Cooccurrence(NamedTuple):
    """A co-occurrence matrix in coordinates: X[rows[k], cols[k]] = values[k] (float64), keys in
    ascending (row, col) order. With ``symmetric`` only row <= col is stored (X is symmetric)."""
    vocab: Vocabulary
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    symmetric: bool

    def to_dense(self) -> np.ndarray:
        """The (V, V) float64 matrix (small vocabularies only)."""
        V = len(self.vocab)
        X = np.zeros((V, V))
        X[self.rows, self.cols] = self.values
        if self.symmetric:
            X[self.cols, self.rows] = self.values
        return X


class _Counter:
    """Per-thread hash maps in a memory budget, spilling sorted runs to a temporary directory."""

    def __init__(self, n_threads: int, window: int, symmetric: bool, distance_weighting: bool,
                 memory: int, tmpdir: Optional[str], longest: int = MAX_SENTENCE_WORDS):
        self.nt, self.window, self.symmetric = n_threads, window, symmetric
        self.weight = np.array([0.0] + [1.0 / d if distance_weighting else 1.0 for d in range(1, window + 1)])
        # A call gives each thread whole sentences of at most tokens_per_call words (at least one
        # sentence); their pairs (window per word at most) must fit between MAX_LOAD and HARD_LOAD
        # of the smallest map a thread may have.
        self.max_cap = int(memory) // (n_threads + 1) // SLOT_BYTES
        self.memory = int(memory)
        self._size_calls(max(int(longest), CALL_WORDS))
        cap0 = min(self.max_cap, max(self.min_cap, 1 << 16))
        self.maps = [np.full((cap0, 2), _glove.EMPTY, np.uint64) for _ in range(n_threads)]
        self.used = np.zeros(n_threads, np.int64)
        self.tmpdir = tmpdir
        self.spill_dir: Optional[str] = None
        self.spilled: List[str] = []
        self.peak_bytes = self._bytes()
        self.tokens = 0

    def _size_calls(self, tokens: int) -> None:
        min_cap = math.ceil(self.window * tokens / (HARD_LOAD - MAX_LOAD))
        if self.max_cap < min_cap:
            need = (self.nt + 1) * min_cap * SLOT_BYTES
            raise ValueError(f"memory={self.memory} bytes is too small to count with window {self.window} on "
                             f"{self.nt} threads (sentences of up to {tokens} words): at least {need} bytes "
                             f"({need / 2 ** 20:.1f} MiB)")
        self.tokens_per_call, self.min_cap = tokens, min_cap

    def _bytes(self, extra: int = 0) -> int:
        return sum(m.nbytes for m in self.maps) + extra

    def _make_room(self, t: int, need: int) -> None:
        """Grow map t, or spill it, until ``need`` more slots keep it under MAX_LOAD."""
        while True:
            cap = self.maps[t].shape[0]
            if self.used[t] + need <= MAX_LOAD * cap:
                return
            if cap < self.max_cap:
                want = max(2 * cap, math.ceil((self.used[t] + need) / MAX_LOAD))
                new = np.full((min(self.max_cap, want), 2), _glove.EMPTY, np.uint64)
                self.peak_bytes = max(self.peak_bytes, self._bytes(new.nbytes))
                self.used[t] = _glove.map_move(self.maps[t], new)
                self.maps[t] = new
            elif self.used[t]:
                self._spill(t)
            else:  # cannot happen: max_cap >= min_cap holds any call
                raise RuntimeError(f"a counting call needs {need} slots, more than a map of {cap} holds")

    def _spill(self, t: int) -> None:
        m = self.maps[t]
        tmp = np.empty((int(self.used[t]), 2), np.uint64)
        self.peak_bytes = max(self.peak_bytes, self._bytes(tmp.nbytes))
        n = _glove.map_sort(m, tmp)
        del tmp
        if self.spill_dir is None:
            self.spill_dir = tempfile.mkdtemp(prefix="fastembed-glove-", dir=self.tmpdir)
        path = os.path.join(self.spill_dir, f"run{len(self.spilled):05d}.npy")
        np.save(path, m[:n])
        self.spilled.append(path)
        m[:n, 0] = _glove.EMPTY
        self.used[t] = 0

    def add(self, words: np.ndarray, starts: np.ndarray) -> None:
        """Count one batch of id sentences."""
        S = starts.size - 1
        longest = int(np.diff(starts).max()) if S > 0 else 0
        if longest > self.tokens_per_call:  # longer than the vocabulary pass saw (another corpus)
            self._size_calls(longest)
        self.tokens += int(starts[-1])
        s = 0
        hard = np.empty(self.nt, np.int64)
        while s < S:
            bounds = np.empty(self.nt + 1, np.int64)
            for t in range(self.nt):
                bounds[t] = s
                if s < S:
                    e = int(np.searchsorted(starts, starts[s] + self.tokens_per_call, side="right")) - 1
                    s = min(max(e, s + 1), S)
            bounds[self.nt] = s
            for t in range(self.nt):
                self._make_room(t, int(starts[bounds[t + 1]] - starts[bounds[t]]) * self.window)
                hard[t] = int(HARD_LOAD * self.maps[t].shape[0])
            _glove.cooc_count(self.maps, self.used, hard, words, starts, bounds, self.window, self.weight,
                              self.symmetric)

    def runs(self) -> list:
        """Sort every map into a run (in place) and return all runs: the spilled ones (memory-mapped)
        in spill order, then the maps in thread order (equal keys are summed in this order)."""
        runs = [np.load(p, mmap_mode="r") for p in self.spilled]
        for t, m in enumerate(self.maps):
            if self.used[t]:
                tmp = np.empty((int(self.used[t]), 2), np.uint64)
                self.peak_bytes = max(self.peak_bytes, self._bytes(tmp.nbytes))
                n = _glove.map_sort(m, tmp)
                del tmp
                runs.append(m[:n])
        return runs

    def close(self) -> None:
        self.maps = []
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)
            self.spill_dir = None


def _merged(runs: list):
    """Merged (keys uint64, sums float64) chunks of the runs, in ascending key order."""
    merger = _glove.Merger(runs)
    out = np.empty((MERGE_CHUNK, 2), np.uint64)
    while True:
        n = merger.fill(out)
        if n == 0:
            return
        yield out[:n, 0], out[:n, 1].view(np.float64)


def _records(keys: np.ndarray, values: np.ndarray, x_max: float, alpha: float, out: np.ndarray) -> None:
    """Training records of merged slots into ``out`` ((n, 4) int32): i, j, float32 log X, f(X)."""
    out[:, 0] = (keys >> np.uint64(32)).astype(np.int32)
    out[:, 1] = (keys & np.uint64(0xFFFFFFFF)).astype(np.int32)
    f = out.view(np.float32)
    f[:, 2] = np.log(values)
    f[:, 3] = np.where(values < x_max, (values / x_max) ** alpha, 1.0)


def _mix(x: int) -> int:
    m = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


class GloVe:
    """GloVe trainer. :func:`train_glove` is the one-call form.

    Parameters
    ----------
    dim : int, default 100
        Vector size (the bias is extra).
    window : int, default 10
        Context words on each side (on the left only with ``symmetric=False``); at most 1024.
    min_count, max_vocab : vocabulary: words seen at least ``min_count`` times, the most frequent
        ``max_vocab`` of them.
    epochs : int, default 25
        Passes over the shuffled non-zeros (glove.c's default; its demo uses 15).
    learning_rate : float, default 0.05
        AdaGrad's initial step (glove.c's ``eta``).
    bias_learning_rate : float, optional
        AdaGrad's initial step for the biases (None: ``learning_rate``, as GloVe 1.2 and the paper).
        Stanford's glove.c since its gradient clipping (commit 5b4e03c) steps the biases without
        ``eta``: ``bias_learning_rate=1.0`` reproduces it (bench/stanford_glove.py measures both).
    x_max, alpha : float, default 100 and 0.75
        The weighting f(x) = min(1, (x / x_max) ** alpha). Note ``alpha`` is GloVe's exponent here,
        not word2vec's learning rate.
    symmetric : bool, default True
        Count context on both sides (X symmetric); False: the right context only (X[a][b] for b after a).
    distance_weighting : bool, default True
        Increment by 1/d for words d apart (False: by 1).
    vectors : {"sum", "word"}, default "sum"
        The table returned: word + context vectors (glove.c's ``-model 2``), or word vectors only.
    grad_clip : float, default 100
        Each vector gradient component is clipped to [-grad_clip, grad_clip] (glove.c's value).
    workers : int, optional
        Threads for counting and training (None = all cores). ``workers=1`` with a fixed ``seed``
        is reproducible bit for bit.
    seed : int, default 1
        Initial parameters and the shuffle of the non-zeros.
    memory : int, default 1 GiB
        Bytes the counting may hold (see the module notes); more spills fewer runs to disk.
    tmpdir : str, optional
        Where spilled runs go (default: the system's temporary directory); removed at the end.
    progress : bool, default True
        tqdm bars (on a terminal) for counting and training, with the loss.
    callbacks : functions called after each epoch with the history entry.

    Attributes after :meth:`train`
    ------------------------------
    table : EmbeddingTable (V, dim) of the chosen vectors, with the vocabulary and its counts.
    word_vectors, context_vectors : (V, dim) float32; ``biases``, ``context_biases`` : (V,) float32.
    history : one dict per epoch: epoch, loss (glove.c's cost: 0.5 f(X) e^2 summed over the
        non-zeros X_ij, divided by their number), pairs, skipped, seconds, pairs_per_sec.
    stats : dict with tokens, sentences, nonzeros (stored), pairs (trained per epoch), runs_spilled,
        count_seconds, merge_seconds, shuffle_seconds, train_seconds, count_peak_bytes, records_bytes.
    """

    def __init__(self, dim: int = 100, window: int = 10, min_count: int = 5, max_vocab: Optional[int] = None,
                 epochs: int = 25, learning_rate: float = 0.05, bias_learning_rate: Optional[float] = None,
                 x_max: float = 100.0, alpha: float = 0.75, symmetric: bool = True,
                 distance_weighting: bool = True, vectors: str = "sum",
                 grad_clip: float = 100.0, workers: Optional[int] = None, seed: int = 1,
                 memory: int = 1 << 30, tmpdir: Optional[str] = None, progress=True,
                 callbacks: Sequence[Callable] = ()):
        self.dim = as_int(dim, "dim", lo=1)
        self.window = as_int(window, "window", lo=1, hi=_glove.MAX_WINDOW)
        self.min_count = as_int(min_count, "min_count", lo=1)
        self.max_vocab = None if max_vocab is None else as_int(max_vocab, "max_vocab", lo=1)
        self.epochs = as_int(epochs, "epochs", lo=1)
        self.learning_rate = as_float(learning_rate, "learning_rate", lo=0.0, lo_open=True)
        self.bias_learning_rate = (self.learning_rate if bias_learning_rate is None else
                                   as_float(bias_learning_rate, "bias_learning_rate", lo=0.0, lo_open=True))
        self.x_max = as_float(x_max, "x_max", lo=0.0, lo_open=True)
        self.alpha = as_float(alpha, "alpha", lo=0.0)
        self.symmetric = as_bool(symmetric, "symmetric")
        self.distance_weighting = as_bool(distance_weighting, "distance_weighting")
        if vectors not in VECTORS:
            raise ValueError(f"vectors must be one of {VECTORS}, got {vectors!r}")
        self.vectors = vectors
        self.grad_clip = as_float(grad_clip, "grad_clip", lo=0.0, lo_open=True)
        self.workers = resolve_threads(workers)
        self.seed = as_int(seed, "seed", lo=0, hi=2 ** 63 - 1)
        self.memory = as_int(memory, "memory", lo=1)
        if tmpdir is not None and not os.path.isdir(tmpdir):
            raise FileNotFoundError(f"tmpdir {tmpdir!r} is not a directory")
        self.tmpdir = tmpdir
        self.progress, self.callbacks = progress, list(callbacks)
        self.vocab: Optional[Vocabulary] = None
        self._longest = CALL_WORDS
        self.table: Optional[EmbeddingTable] = None
        self.word_vectors = self.context_vectors = self.biases = self.context_biases = None
        self.history: List[dict] = []
        self.stats: dict = {}

    def __repr__(self) -> str:
        state = f"vocab={len(self.table)}, epochs={len(self.history)} trained" if self.table is not None else "untrained"
        return (f"GloVe(dim={self.dim}, window={self.window}, min_count={self.min_count}, epochs={self.epochs}, "
                f"learning_rate={self.learning_rate:g}, bias_learning_rate={self.bias_learning_rate:g}, "
                f"x_max={self.x_max:g}, alpha={self.alpha:g}, "
                f"symmetric={self.symmetric}, vectors={self.vectors!r}, workers={self.workers}, seed={self.seed}, "
                f"{state})")

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus, encoding: str = "utf-8") -> Vocabulary:
        """Count the corpus' words and keep those seen ``min_count`` times (frequency-sorted)."""
        wc = count_words(Sentences(corpus, encoding))
        counts, n_sent = wc.counts, wc.sentences
        self._longest = wc.longest
        if not counts:
            raise ValueError("the corpus has no words" + (" (no sentences at all)" if not n_sent else ""))
        vocab = Vocabulary.from_counts(counts, min_count=self.min_count, max_size=self.max_vocab)
        if len(vocab) == 0:
            top = counts.most_common(1)[0]
            raise ValueError(f"no word occurs at least min_count={self.min_count} times (the most "
                             f"frequent, {top[0]!r}, occurs {top[1]} times): lower min_count")
        self.vocab = vocab
        return vocab

    # ------------------------------------------------------------------ counting
    def _count(self, corpus, encoding: str):
        """Count into maps and runs; returns the live _Counter (the caller merges and closes it)."""
        sents = Sentences(corpus, encoding)
        if self.vocab is None:
            self.build_vocab(sents)
        # the longest sentence of the vocabulary pass sizes the calls (a longer one resizes them)
        counter = _Counter(self.workers, self.window, self.symmetric, self.distance_weighting, self.memory,
                           self.tmpdir, self._longest)
        total = int(self.vocab.counts.sum()) if self.vocab.counts is not None else None
        bar = self._bar(total, "GloVe counting")
        t0 = time.perf_counter()
        n_sent = 0
        try:
            for words, starts, _ in prefetch(encode_batches(sents, self.vocab._index_map(), BATCH_WORDS)):
                if starts.size > 1:
                    counter.add(words, starts)
                    n_sent += starts.size - 1
                if bar is not None:
                    bar.update(int(starts[-1]))
        except BaseException:
            counter.close()
            raise
        finally:
            if bar is not None:
                bar.close()
        self.stats = {"tokens": counter.tokens, "sentences": n_sent, "count_seconds": time.perf_counter() - t0}
        return counter

    def count(self, corpus, encoding: str = "utf-8") -> Cooccurrence:
        """The co-occurrence matrix of a corpus (building the vocabulary first if there is none)."""
        counter = self._count(corpus, encoding)
        try:
            keys, vals = [], []
            for k, v in _merged(counter.runs()):
                keys.append(k.copy())
                vals.append(v.copy())
        finally:
            counter.close()
        k = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        v = np.concatenate(vals) if vals else np.zeros(0)
        return Cooccurrence(self.vocab, (k >> np.uint64(32)).astype(np.int32),
                            (k & np.uint64(0xFFFFFFFF)).astype(np.int32), v, self.symmetric)

    # ------------------------------------------------------------------ training
    def train(self, corpus, encoding: str = "utf-8") -> EmbeddingTable:
        """Build the vocabulary (unless built), count co-occurrences, train; returns the table."""
        counter = self._count(corpus, encoding)
        t0 = time.perf_counter()
        try:
            runs = counter.runs()
            upper = sum(len(r) for r in runs)
            # pages of the upper bound that no record reaches are never touched (never resident)
            rec = np.empty((upper, 4), np.int32)
            n = 0
            for k, v in _merged(runs):
                _records(k, v, self.x_max, self.alpha, rec[n: n + k.size])
                n += k.size
            self.stats["runs_spilled"] = len(counter.spilled)
            self.stats["count_peak_bytes"] = counter.peak_bytes
        finally:
            counter.close()
        self.stats["merge_seconds"] = time.perf_counter() - t0
        return self._fit(rec[:n])

    def fit(self, cooc: Cooccurrence) -> EmbeddingTable:
        """Train on a co-occurrence matrix from :meth:`count` (its vocabulary becomes the model's)."""
        if not isinstance(cooc, Cooccurrence):
            raise TypeError(f"fit takes a Cooccurrence (from GloVe.count), got {type(cooc).__name__}")
        if cooc.symmetric != self.symmetric:
            raise ValueError(f"the co-occurrences were counted with symmetric={cooc.symmetric}, this model "
                             f"has symmetric={self.symmetric}")
        V = len(cooc.vocab)
        if cooc.rows.size and (min(cooc.rows.min(), cooc.cols.min()) < 0 or max(cooc.rows.max(), cooc.cols.max()) >= V):
            raise IndexError(f"co-occurrence ids out of range for a vocabulary of {V} words")
        if cooc.values.size and not (cooc.values > 0).all():
            raise ValueError("co-occurrence values must be positive")
        if cooc.symmetric and (cooc.rows > cooc.cols).any():
            raise ValueError("a symmetric Cooccurrence stores each pair once, with row <= col")
        self.vocab = cooc.vocab
        rec = np.empty((cooc.values.size, 4), np.int32)
        k = (cooc.rows.astype(np.uint64) << np.uint64(32)) | cooc.cols.astype(np.uint64)
        _records(k, np.asarray(cooc.values, np.float64), self.x_max, self.alpha, rec)
        self.stats.setdefault("tokens", None)
        return self._fit(rec)

    def _fit(self, rec: np.ndarray) -> EmbeddingTable:
        V, D = len(self.vocab), self.dim
        n = rec.shape[0]
        if n == 0:
            raise ValueError("no two vocabulary words co-occur within the window: nothing to train on")
        diag = int(np.count_nonzero(rec[:, 0] == rec[:, 1])) if self.symmetric else 0
        pairs = 2 * n - diag if self.symmetric else n
        t0 = time.perf_counter()
        state = _mix(self.seed)
        for k in range(n - 1, 0, -SHUFFLE_CHUNK):  # in pieces: Ctrl-C is honoured between them
            state = _glove.shuffle(rec, state, k, max(0, k - SHUFFLE_CHUNK))
        self.stats.update(nonzeros=n, pairs=pairs, records_bytes=rec.nbytes,
                          shuffle_seconds=time.perf_counter() - t0)
        rng = np.random.default_rng(self.seed)
        W = (rng.random((2 * V, D + 1), dtype=np.float32) - np.float32(0.5)) / np.float32(D)
        G = np.ones((2 * V, D + 1), np.float32)
        self.history = []
        bar = self._bar(pairs * self.epochs, "GloVe training")
        t_train = time.perf_counter()
        try:
            for epoch in range(self.epochs):
                t0 = time.perf_counter()
                cost, skipped = 0.0, 0
                for r0 in range(0, n, TRAIN_CHUNK):
                    r1 = min(n, r0 + TRAIN_CHUNK)
                    c, sk = _glove.train(W, G, rec, r0, r1, self.learning_rate, self.grad_clip, self.symmetric,
                                         self.workers, self.bias_learning_rate)
                    cost += c
                    skipped += sk
                    if bar is not None:
                        bar.update(pairs * (r1 - r0) // n)
                        bar.set_postfix(epoch=epoch + 1, loss=f"{cost / pairs:.4f}")
                secs = time.perf_counter() - t0
                info = {"epoch": epoch + 1, "loss": cost / pairs, "pairs": pairs, "skipped": skipped,
                        "seconds": secs, "pairs_per_sec": pairs / secs if secs > 0 else float("inf")}
                self.history.append(info)
                log.info("GloVe epoch %d: loss %.4f, %d pairs, %.0f pairs/s", info["epoch"], info["loss"], pairs,
                         info["pairs_per_sec"])
                if skipped:
                    raise FloatingPointError(
                        f"GloVe training diverged: {skipped} of {pairs} pairs had a non-finite error in "
                        f"epoch {epoch + 1} (learning_rate={self.learning_rate:g}); lower learning_rate")
                for cb in self.callbacks:
                    cb(info)
        finally:
            if bar is not None:
                bar.close()
        self.stats["train_seconds"] = time.perf_counter() - t_train
        self.word_vectors = W[:V, :D]
        self.context_vectors = W[V:, :D]
        self.biases = W[:V, D]
        self.context_biases = W[V:, D]
        out = self.word_vectors + self.context_vectors if self.vectors == "sum" else self.word_vectors.copy()
        self.table = EmbeddingTable(out, vocab=self.vocab, copy=False)
        return self.table

    def _bar(self, total, desc):
        if not self.progress:
            return None
        return tqdm(total=total, unit="w" if "count" in desc else "pair", unit_scale=True, desc=desc,
                    leave=False, disable=None if self.progress is True else not self.progress)


def train_glove(corpus, dim: int = 100, window: int = 10, min_count: int = 5, max_vocab: Optional[int] = None,
                epochs: int = 25, learning_rate: float = 0.05, x_max: float = 100.0, alpha: float = 0.75,
                symmetric: bool = True, distance_weighting: bool = True, vectors: str = "sum",
                bias_learning_rate: Optional[float] = None, workers: Optional[int] = None, seed: int = 1,
                memory: int = 1 << 30, tmpdir: Optional[str] = None,
                progress=True, callbacks: Sequence[Callable] = (), encoding: str = "utf-8") -> EmbeddingTable:
    """Train GloVe vectors on a corpus; returns them as a table (see :class:`GloVe`).

    Parameters
    ----------
    corpus : path to a text file (one sentence a line, streamed; .gz/.bz2 too) or a re-iterable of
        token lists.
    Other parameters: as :class:`GloVe`.

    Returns
    -------
    EmbeddingTable of (V, dim) float32 vectors (W + W~ by default) with a frequency-sorted
    Vocabulary (counts).
    """
    return GloVe(dim=dim, window=window, min_count=min_count, max_vocab=max_vocab, epochs=epochs,
                 learning_rate=learning_rate, bias_learning_rate=bias_learning_rate, x_max=x_max, alpha=alpha,
                 symmetric=symmetric,
                 distance_weighting=distance_weighting, vectors=vectors, workers=workers, seed=seed,
                 memory=memory, tmpdir=tmpdir, progress=progress, callbacks=callbacks).train(corpus, encoding)
