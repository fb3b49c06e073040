"""Skip-gram word2vec with negative sampling, trained by a compiled Hogwild kernel.

    table = fastembed.train_word2vec(fastembed.corpus.planted_corpus(), dim=50, min_count=1)
    table.most_similar("cat")
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from typing import Callable, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from fastembed._kernels import _train
from fastembed._threads import resolve_threads, worker_pool
from fastembed._validate import as_float, as_int
from fastembed.corpus import MAX_SENTENCE_WORDS, iter_file_sentences
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["train_word2vec", "Word2Vec"]

BATCH_WORDS = 50000  # words per kernel call; the learning rate is interpolated inside a batch


def _exp_tables():
    n, mx = _train.EXP_TABLE_SIZE, _train.MAX_EXP
    x = (np.arange(n, dtype=np.float64) / n * 2 - 1) * mx
    sig = 1.0 / (1.0 + np.exp(-x))
    return sig.astype(np.float32), np.log(sig).astype(np.float32)


class _Corpus:
    """Iterates sentences (lists of str) from a path or a re-iterable of token lists."""

    def __init__(self, corpus, encoding="utf-8"):
        self.path = None
        if isinstance(corpus, (str, os.PathLike)):
            self.path = os.fspath(corpus)
            if not os.path.isfile(self.path):
                raise FileNotFoundError(f"no such corpus file: {self.path}")
        else:
            if iter(corpus) is corpus:
                raise TypeError("the corpus must be re-iterable (a list of token lists, or a path): it is "
                                "read once to build the vocabulary and once per epoch; a generator or "
                                "iterator can be read only once")
        self.corpus = corpus
        self.encoding = encoding

    def __iter__(self):
        if self.path is not None:
            yield from iter_file_sentences(self.path, self.encoding)
            return
        for i, sent in enumerate(self.corpus):
            if isinstance(sent, str):
                raise TypeError(f"sentence {i} is a str; sentences must be lists of tokens (split them first)")
            if len(sent) > MAX_SENTENCE_WORDS:
                for j in range(0, len(sent), MAX_SENTENCE_WORDS):
                    yield sent[j: j + MAX_SENTENCE_WORDS]
            else:
                yield sent


class Word2Vec:
    """Skip-gram negative-sampling trainer (word2vec). ``train_word2vec`` is the one-call form.

    Attributes after :meth:`train`: ``table`` (an EmbeddingTable of the input vectors with the
    vocabulary and counts), ``syn1neg`` (output vectors), ``history`` (one dict per epoch: epoch,
    loss per trained pair-word, raw and effective words, seconds, words_per_sec).
    """

    def __init__(self, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                 sample: float = 1e-3, epochs: int = 5, alpha: float = 0.025, min_alpha: float = 1e-4,
                 workers: Optional[int] = None, seed: int = 1, max_vocab: Optional[int] = None,
                 progress=True, callbacks: Sequence[Callable] = (), compute_loss: bool = True):
        self.dim = as_int(dim, "dim", lo=1)
        self.window = as_int(window, "window", lo=1)
        self.negative = as_int(negative, "negative", lo=0, hi=_train.MAX_NEGATIVE)
        self.min_count = as_int(min_count, "min_count", lo=1)
        self.epochs = as_int(epochs, "epochs", lo=1)
        self.alpha = as_float(alpha, "alpha", lo=0.0, lo_open=True)
        self.min_alpha = as_float(min_alpha, "min_alpha", lo=0.0, hi=self.alpha)
        self.sample = as_float(sample, "sample", lo=0.0)
        self.seed = as_int(seed, "seed", lo=0, hi=2 ** 63 - 1)
        if max_vocab is not None:
            max_vocab = as_int(max_vocab, "max_vocab", lo=1)
        self.workers = resolve_threads(workers)
        self.max_vocab, self.progress, self.callbacks = max_vocab, progress, list(callbacks)
        self.compute_loss = compute_loss
        self.table: Optional[EmbeddingTable] = None
        self.syn1neg = None
        self.history: List[dict] = []

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus: _Corpus) -> Vocabulary:
        counts = Counter()
        n_sent = 0
        for sent in corpus:
            counts.update(sent)
            n_sent += 1
        if not counts:
            raise ValueError("the corpus has no words" + (" (no sentences at all)" if not n_sent else ""))
        vocab = Vocabulary.from_counts(counts, min_count=self.min_count, max_size=self.max_vocab)
        if len(vocab) == 0:
            top = counts.most_common(1)[0]
            raise ValueError(f"no word occurs at least min_count={self.min_count} times (the most "
                             f"frequent, {top[0]!r}, occurs {top[1]} times): lower min_count")
        return vocab

    def _tables(self, vocab: Vocabulary):
        counts = vocab.counts.astype(np.float64)
        total = counts.sum()
        if self.sample > 0:  # word2vec.c: keep with probability (sqrt(f/t) + 1) * t/f
            thr = self.sample * total
            p = (np.sqrt(counts / thr) + 1) * thr / counts
            keep = np.minimum(np.round(p * 2 ** 32), 2 ** 32 - 1).astype(np.uint32)
        else:
            keep = None
        prob, alias = _train.alias_table(counts ** 0.75)  # negatives ~ unigram^0.75, O(1) draws
        return keep, prob, alias

    # ------------------------------------------------------------------ batches
    def _batches(self, corpus: _Corpus, index: dict):
        """(words int32, starts int64, raw word count) of about BATCH_WORDS words each."""
        ids, starts, raw = [], [0], 0
        get = index.get
        for sent in corpus:
            raw += len(sent)
            s = [i for i in map(get, sent) if i is not None]
            if len(s) > 1:
                ids.extend(s)
                starts.append(len(ids))
            if len(ids) >= BATCH_WORDS:
                yield np.array(ids, np.int32), np.array(starts, np.int64), raw
                ids, starts, raw = [], [0], 0
        if len(starts) > 1 or raw:
            yield np.array(ids, np.int32), np.array(starts, np.int64), raw

    # ------------------------------------------------------------------ training
    def train(self, corpus, encoding: str = "utf-8") -> EmbeddingTable:
        """Build the vocabulary, then train ``epochs`` passes; returns the input-vector table."""
        c = _Corpus(corpus, encoding)
        vocab = self.build_vocab(c)
        V, D = len(vocab), self.dim
        rng = np.random.default_rng(self.seed)
        syn0 = ((rng.random((V, D), dtype=np.float32) - np.float32(0.5)) / np.float32(D)).astype(np.float32)
        syn1 = np.zeros((V, D), np.float32)
        keep, alias_prob, alias = self._tables(vocab)
        exp_t, logsig_t = _exp_tables()
        index = vocab._index_map()
        total_words = int(vocab.counts.sum()) * self.epochs  # for the learning-rate schedule
        cached = None if c.path is not None else []  # in-memory corpora: ids converted once
        bar = None
        if self.progress:
            bar = tqdm(total=total_words, unit="w", unit_scale=True, desc="word2vec", leave=False,
                       disable=None if self.progress is True else not self.progress)
        done = 0
        self.history = []
        try:
            for epoch in range(self.epochs):
                t0 = time.perf_counter()
                eff_total = raw_total = 0
                loss_total = 0.0
                source = cached if cached else self._batches(c, index)
                fill = cached is not None and not cached
                for b, (words, starts, raw) in enumerate(_prefetch(source)):
                    if fill:
                        cached.append((words, starts, raw))
                    n_in = int(words.size)
                    a0 = self._alpha_at(done, total_words)
                    a1 = self._alpha_at(done + n_in, total_words)
                    kept, loss = _train.w2v_batch(syn0, syn1, words, starts, keep, alias_prob, alias, self.window,
                                                  self.negative, a0, a1,
                                                  ((self.seed * 1000003 + epoch) * 1000003 + b) % 2 ** 64, exp_t, logsig_t,
                                                  self.compute_loss, self.workers)
                    done += n_in
                    eff_total += kept
                    raw_total += raw
                    loss_total += loss
                    if bar is not None:
                        bar.update(n_in)
                        bar.set_postfix(epoch=epoch + 1, loss=f"{loss_total / max(eff_total, 1):.3f}")
                secs = time.perf_counter() - t0
                info = {"epoch": epoch + 1, "loss": loss_total / max(eff_total, 1), "raw_words": raw_total,
                        "effective_words": eff_total, "seconds": secs,
                        "words_per_sec": raw_total / secs if secs > 0 else float("inf"),
                        "effective_words_per_sec": eff_total / secs if secs > 0 else float("inf")}
                self.history.append(info)
                for cb in self.callbacks:
                    cb(info)
        finally:
            if bar is not None:
                bar.close()
        self.table = EmbeddingTable(syn0, vocab=vocab)
        self.syn1neg = syn1
        return self.table

    def _alpha_at(self, done: int, total: int) -> float:
        frac = min(done / total, 1.0) if total else 1.0
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * frac)


def _prefetch(it, depth: int = 2):
    """Produce the next batches on a worker of the shared pool while the kernel trains on this
    thread. If the consumer stops (an exception, Ctrl-C, or the generator is closed), the producer
    is told to stop and waited for: no thread outlives the call."""
    if isinstance(it, list):
        yield from it
        return
    q: "queue.Queue" = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for x in it:
                if not put(x):
                    return None
        except BaseException as e:  # re-raised in the consumer
            put((done, e))
            return None
        put((done, None))
        return None

    fut = worker_pool().submit(produce)
    try:
        while True:
            x = q.get()
            if isinstance(x, tuple) and len(x) == 2 and x[0] is done:
                if x[1] is not None:
                    raise x[1]
                break
            yield x
    finally:
        stop.set()
        fut.result()


def train_word2vec(corpus, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                   sample: float = 1e-3, epochs: int = 5, alpha: float = 0.025, min_alpha: float = 1e-4,
                   workers: Optional[int] = None, seed: int = 1, max_vocab: Optional[int] = None,
                   progress=True, callbacks: Sequence[Callable] = (), encoding: str = "utf-8") -> EmbeddingTable:
    """Train skip-gram word2vec with negative sampling; returns the word vectors as a table.

    Parameters
    ----------
    corpus : path to a text file (one sentence a line, streamed) or a re-iterable of token lists
    dim, window, negative, min_count, sample, epochs, alpha, min_alpha : as word2vec / gensim
        (dynamic window: each position uses a random window of 1..window words each side;
        frequent words are subsampled with threshold ``sample``; the learning rate falls linearly
        from ``alpha`` to ``min_alpha`` over all epochs).
    workers : threads sharing the weights without locks (Hogwild); None = all cores. With
        ``workers=1`` and a fixed ``seed`` the result is reproducible bit for bit.
    max_vocab : keep only the most frequent words.
    progress : a tqdm bar with words/s and the loss (on a terminal).
    callbacks : functions called after each epoch with a dict (epoch, loss, raw_words,
        effective_words, seconds, words_per_sec, effective_words_per_sec).

    Returns
    -------
    EmbeddingTable of (V, dim) float32 input vectors with a frequency-sorted Vocabulary (counts).
    """
    return Word2Vec(dim=dim, window=window, negative=negative, min_count=min_count, sample=sample,
                    epochs=epochs, alpha=alpha, min_alpha=min_alpha, workers=workers, seed=seed,
                    max_vocab=max_vocab, progress=progress, callbacks=callbacks).train(corpus, encoding)
