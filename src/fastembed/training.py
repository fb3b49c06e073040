"""word2vec with negative sampling, skip-gram or CBOW, trained by a compiled Hogwild kernel.

    table = fastembed.train_word2vec(fastembed.corpus.planted_corpus(), dim=50, min_count=1)
    table.words.most_similar("cat")

    model = fastembed.Word2Vec(dim=50, min_count=1, sg=0)     # CBOW
    model.train(corpus)                                       # vocabulary, then epochs
    model.build_vocab(more, update=True)                      # new words join the vocabulary
    model.train(more)                                         # continues from the current weights
    model.save("model_dir"); model = fastembed.Word2Vec.load("model_dir")

What follows gensim 4 and word2vec.c, and where they differ, which one we follow:

* Initial input vectors: uniform(-1, 1) / dim, as gensim 4 (``KeyedVectors.prep_vectors``, drawn
  from ``numpy.random.default_rng(seed)``, so the same seed and vocabulary start from gensim's
  values); output vectors start at zero. ``init="word2vec.c"`` starts at uniform(-0.5, 0.5) / dim:
  with zero output vectors the smaller start learns measurably less in short runs (issue 16).
* Random numbers: each sentence has its own stream, seeded from (seed, epoch, the sentence's
  number in the epoch) through splitmix64, drawn by word2vec.c's linear congruential generator.
* Saturated pairs (|w . c| >= 6): word2vec.c applies the saturated gradient (label - 0 or 1), gensim
  skips the pair. We apply it, as word2vec.c. Measured on the clustered corpus (2M tokens, 3 seeds,
  2 workers), the two give the same neighbour quality within run-to-run noise: skip-gram 2 epochs
  0.8765 (apply) vs 0.8746 (skip), 1 epoch 0.0423 vs 0.0422, CBOW 5 epochs 0.7960 vs 0.7984; applying
  it is the choice that still corrects a confidently wrong negative pair.
* Learning rate: linear from ``alpha`` to ``min_alpha`` over the words of one :meth:`Word2Vec.train`
  call, as gensim; a further call (continued training) starts again at ``alpha`` (or ``start_alpha``)
  and decays to ``min_alpha`` (or ``end_alpha``) over its own words.
* CBOW: the mean of the context vectors (``cbow_mean=True``) or their sum, whose error is then
  divided among the context words, as gensim's ``cbow_mean``.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from typing import Callable, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from fastembed._kernels import _train
from fastembed._threads import resolve_threads
from fastembed._validate import as_bool, as_float, as_int
from fastembed.corpus import MAX_SENTENCE_WORDS, Sentences, count_words, encode_batches, prefetch
from fastembed.io import load as load_table, save as save_table
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

log = logging.getLogger(__name__)

__all__ = ["train_word2vec", "Word2Vec"]

BATCH_WORDS = 50000  # words per kernel call (~10-60 ms: Ctrl-C is honoured between calls)
INITS = ("gensim", "word2vec.c")
MODEL_FILE = "word2vec.json"     # settings and training state, next to the native table files
SYN1_FILE = "syn1neg.npy"
MODEL_VERSION = 1
# a window wider than the longest sentence piece (corpus.MAX_SENTENCE_WORDS) reaches no further word;
# the kernel holds it in a C int, as GloVe's (which stops at _glove.MAX_WINDOW)
MAX_WINDOW = MAX_SENTENCE_WORDS
MAX_INT = 2 ** 31 - 1  # dim and epochs: beyond any real model, and refused before any allocation
_M64 = (1 << 64) - 1


# The two helpers below are internal API (not in __all__, not exported by the package): the word2vec
# kernel's inputs, which the tests and the benchmarks (fastembed.bench) need to call it directly.

def exp_tables():
    """The sigmoid and log-sigmoid lookup tables the word2vec kernel reads (word2vec.c's expTable):
    two float32 arrays of ``_train.EXP_TABLE_SIZE`` entries sampling [-MAX_EXP, MAX_EXP)."""
    n, mx = _train.EXP_TABLE_SIZE, _train.MAX_EXP
    x = (np.arange(n, dtype=np.float64) / n * 2 - 1) * mx
    sig = 1.0 / (1.0 + np.exp(-x))
    return sig.astype(np.float32), np.log(sig).astype(np.float32)


def sampling_tables(vocab: Vocabulary, sample: float, ns_exponent: float):
    """The word2vec kernel's per-word tables for ``vocab``'s counts: ``keep`` (uint32 (V,), the
    probability of keeping each occurrence scaled to 2**32, or None when ``sample`` is 0) and the
    alias table (uint32 (V,) probabilities, int32 (V,) aliases) drawing negatives from the unigram
    distribution raised to ``ns_exponent``."""
    counts = vocab.counts.astype(np.float64)
    total = counts.sum()
    if sample > 0:  # word2vec.c: keep with probability (sqrt(f/t) + 1) * t/f
        thr = sample * total
        p = (np.sqrt(counts / thr) + 1) * thr / counts
        keep = np.minimum(np.round(p * 2 ** 32), 2 ** 32 - 1).astype(np.uint32)
    else:
        keep = None
    prob, alias = _train.alias_table(counts ** ns_exponent)  # negatives ~ unigram^0.75, O(1) draws
    return keep, prob, alias


def _mix(x: int) -> int:
    """splitmix64's finaliser (the kernel's fe_mix)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def epoch_key(seed: int, epoch: int) -> int:
    """The random-stream key of one epoch: sentence n of the epoch is seeded with
    mix(key + n) by the kernel, so no two sentences of a run share a stream."""
    return _mix((_mix(seed) + epoch) & _M64)


def _initial_vectors(V: int, D: int, seed: int, init: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.random((V, D), dtype=np.float32)
    if init == "gensim":  # gensim 4's prep_vectors, operation for operation
        w *= 2.0
        w -= 1.0
        w /= D
        return w
    return (w - np.float32(0.5)) / np.float32(D)


class Word2Vec:
    """word2vec trainer with negative sampling; :func:`train_word2vec` is the one-call form.

    Parameters
    ----------
    dim, window, negative, min_count, sample, epochs, alpha, min_alpha : as gensim / word2vec.c
        (dynamic window: each position uses a random window of 1..window words each side, window at
        most ``MAX_WINDOW``; dim and epochs at most 2**31 - 1;
        frequent words are subsampled with threshold ``sample``).
    sg : {1, 0}, default 1
        1 skip-gram, 0 CBOW.
    ns_exponent : float, default 0.75
        Negative words are drawn with probability proportional to ``count ** ns_exponent`` (gensim's
        name; 0 draws uniformly, 1 by frequency, negative values favour rare words).
    shrink_windows : bool, default True
        Each position's window is shrunk by a random 0..window-1 words (word2vec.c; near words
        weigh more); False uses the whole window everywhere (gensim's ``shrink_windows=False``).
    cbow_mean : bool, default True
        CBOW: the mean of the context vectors (True) or their sum (False), as gensim.
    init : {"gensim", "word2vec.c"}, default "gensim"
        Initial input vectors uniform(-1, 1)/dim (gensim 4) or uniform(-0.5, 0.5)/dim (word2vec.c).
    workers : threads sharing the weights without locks (Hogwild); None = all cores. With
        ``workers=1`` and a fixed ``seed`` the result is reproducible bit for bit.
    seed : initial vectors and every random stream.
    max_vocab : keep only the most frequent words.
    progress : a tqdm bar with words/s and the loss (on a terminal).
    callbacks : functions called after each epoch with its history entry.
    compute_loss : accumulate the loss (-log sigmoid of every trained pair) per epoch.

    Attributes
    ----------
    table : EmbeddingTable of the (V, dim) input vectors with the vocabulary and counts (``wv`` too).
    syn1neg : (V, dim) float32 output vectors.
    history : one dict per epoch of every train call: epoch, loss (per trained pair-word), raw and
        effective words, seconds, words_per_sec, effective_words_per_sec, alpha (at the epoch's end).
    epochs_trained : epochs run over the model's life (keys every epoch's random streams).
    corpus_count, corpus_total_words : sentences and words of the corpus the last
        :meth:`build_vocab` counted (gensim's names; 0 before).
    """

    def __init__(self, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                 sample: float = 1e-3, epochs: int = 5, alpha: float = 0.025, min_alpha: float = 1e-4,
                 sg: int = 1, cbow_mean: bool = True, init: str = "gensim",
                 workers: Optional[int] = None, seed: int = 1, max_vocab: Optional[int] = None,
                 progress=True, callbacks: Sequence[Callable] = (), compute_loss: bool = True,
                 ns_exponent: float = 0.75, shrink_windows: bool = True):
        self.dim = as_int(dim, "dim", lo=1, hi=MAX_INT)
        self.window = as_int(window, "window", lo=1, hi=MAX_WINDOW)
        self.negative = as_int(negative, "negative", lo=0, hi=_train.MAX_NEGATIVE)
        self.min_count = as_int(min_count, "min_count", lo=1)
        self.epochs = as_int(epochs, "epochs", lo=1, hi=MAX_INT)
        self.alpha = as_float(alpha, "alpha", lo=0.0, lo_open=True)
        self.min_alpha = as_float(min_alpha, "min_alpha", lo=0.0, hi=self.alpha)
        self.sample = as_float(sample, "sample", lo=0.0)
        self.sg = as_int(sg, "sg", lo=0, hi=1)
        self.cbow_mean = as_bool(cbow_mean, "cbow_mean")
        self.ns_exponent = as_float(ns_exponent, "ns_exponent")
        self.shrink_windows = as_bool(shrink_windows, "shrink_windows")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        self.seed = as_int(seed, "seed", lo=0, hi=2 ** 63 - 1)
        if max_vocab is not None:
            max_vocab = as_int(max_vocab, "max_vocab", lo=1)
        self.workers = resolve_threads(workers)
        self.max_vocab, self.progress, self.callbacks = max_vocab, progress, list(callbacks)
        self.compute_loss = as_bool(compute_loss, "compute_loss")
        self.table: Optional[EmbeddingTable] = None
        self.syn1neg: Optional[np.ndarray] = None
        self.history: List[dict] = []
        self.epochs_trained = 0
        self.corpus_count = self.corpus_total_words = 0
        self._counted = None  # (corpus identity, raw words) of the last vocabulary pass

    @property
    def wv(self) -> Optional[EmbeddingTable]:
        """The input vectors (gensim's name)."""
        return self.table

    def __repr__(self) -> str:
        state = (f"vocab={len(self.table)}, epochs_trained={self.epochs_trained}" if self.table is not None
                 else "untrained")
        return (f"Word2Vec({'skip-gram' if self.sg else 'cbow'}, dim={self.dim}, window={self.window}, "
                f"negative={self.negative}, min_count={self.min_count}, sample={self.sample:g}, "
                f"epochs={self.epochs}, alpha={self.alpha:g}, workers={self.workers}, seed={self.seed}, {state})")

    @property
    def vocab(self) -> Optional[Vocabulary]:
        return None if self.table is None else self.table.vocab

    def _settings(self) -> dict:
        return {k: getattr(self, k) for k in ("dim", "window", "negative", "min_count", "sample", "epochs", "alpha",
                                               "min_alpha", "sg", "cbow_mean", "init", "seed", "max_vocab",
                                               "compute_loss", "ns_exponent", "shrink_windows")}

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus, update: bool = False, encoding: str = "utf-8") -> Vocabulary:
        """Count the corpus' words into the vocabulary (frequency-sorted, ``min_count``, ``max_vocab``)
        and start the weights: input vectors as ``init`` says, output vectors at zero.

        ``update=True`` (gensim's ``build_vocab(update=True)``) keeps the trained model: the corpus'
        counts are added to the words already known, words new to the model that occur ``min_count``
        times are appended (most frequent first, up to ``max_vocab`` words in all) with fresh input
        vectors (drawn as ``init`` says) and zero output vectors; existing vectors are unchanged.
        """
        sents = Sentences(corpus, encoding)
        wc = count_words(sents)
        counts = wc.counts
        if update:
            if self.table is None:
                raise RuntimeError("build_vocab(update=True) needs a model with a vocabulary: call "
                                   "build_vocab(corpus) or train(corpus) first")
            vocab = self._update_vocab(counts)
        else:
            if not counts:
                raise ValueError("the corpus has no words" + (" (no sentences at all)" if not wc.sentences else ""))
            vocab = Vocabulary.from_counts(counts, min_count=self.min_count, max_size=self.max_vocab)
            if len(vocab) == 0:
                top = counts.most_common(1)[0]
                raise ValueError(f"no word occurs at least min_count={self.min_count} times (the most "
                                 f"frequent, {top[0]!r}, occurs {top[1]} times): lower min_count")
        self.set_vocab(vocab, update=update, corpus=sents, corpus_words=wc.words)
        self.corpus_count, self.corpus_total_words = wc.sentences, wc.words
        return vocab

    def _update_vocab(self, counts) -> Vocabulary:
        """The grown vocabulary of build_vocab(update=True): known words' counts summed, new words
        occurring min_count times appended (most frequent first, up to max_vocab words in all)."""
        old = self.table.vocab
        index = old._index_map()
        merged = old.counts.copy()
        fresh = {}
        for w, c in counts.items():
            i = index.get(w)
            if i is not None:
                merged[i] += c
            elif c >= self.min_count:
                fresh[w] = c
        new = Vocabulary.from_counts(fresh, min_count=self.min_count)
        room = None if self.max_vocab is None else max(0, self.max_vocab - len(old))
        keys = new.keys if room is None else new.keys[:room]
        return Vocabulary(old.keys + list(keys), np.concatenate([merged, new.counts[: len(keys)]]))

    def set_vocab(self, vocab: Vocabulary, update: bool = False, *, corpus=None,
                  corpus_words: Optional[int] = None, encoding: str = "utf-8") -> None:
        """Start the weights on a vocabulary chosen by the caller: what :meth:`build_vocab` does once
        it has counted (for callers with their own word choice, e.g. gensim's ``trim_rule``).

        Parameters
        ----------
        vocab : Vocabulary with counts (one per key, >= 1), in the rows' order
        update : bool
            False: start afresh (input vectors drawn as ``init`` says, output vectors zero, history
            cleared). True: grow the model (``build_vocab(update=True)``): ``vocab`` must start with
            the model's keys in their order; their rows are kept and the new keys get fresh input
            rows (a full draw, as gensim) and zero output rows.
        corpus, corpus_words : the corpus the counts came from (a path or re-iterable) and its number
            of words, optional: :meth:`train` on that corpus then needs no counting pass.

        Raises
        ------
        TypeError : ``vocab`` is not a Vocabulary with counts.
        ValueError : an empty vocabulary, counts below 1, or (growing) keys that do not start with the
            model's.
        RuntimeError : ``update=True`` on a model without a vocabulary.
        """
        if not isinstance(vocab, Vocabulary) or vocab.counts is None:
            raise TypeError("vocab must be a fastembed Vocabulary with counts")
        V = len(vocab)
        if V == 0:
            raise ValueError("the vocabulary is empty")
        if int(vocab.counts.min()) < 1:
            i = int(np.argmin(vocab.counts))
            raise ValueError(f"count {int(vocab.counts[i])} of key {vocab.keys[i]!r} must be >= 1 (negative "
                             "sampling and subsampling draw by count)")
        syn0 = _initial_vectors(V, self.dim, self.seed, self.init)
        syn1 = np.zeros((V, self.dim), np.float32)
        if not update:
            self.history, self.epochs_trained = [], 0
        elif self.table is None:
            raise RuntimeError("set_vocab(update=True) needs a model with a vocabulary")
        else:
            old = self.table.vocab
            V0 = len(old)
            if V < V0 or vocab.keys[:V0] != old.keys:
                raise ValueError(f"a model with a vocabulary grows: the new vocabulary must start with its "
                                 f"{V0} keys in their order")
            syn0[:V0] = self.table.weights  # gensim: a full draw, old rows kept
            syn1[:V0] = self.syn1neg
        self.table = EmbeddingTable(syn0, vocab=vocab, copy=False)
        self.syn1neg = syn1
        if corpus is not None and corpus_words is not None:
            self._counted = (_identity(Sentences(corpus, encoding)), as_int(corpus_words, "corpus_words", lo=0))

    # ------------------------------------------------------------------ training
    _NAME = "word2vec"

    def _input_rows(self):
        """A context manager giving the writable (rows, D) float32 input matrix the kernel trains."""
        return self.table.writing()

    def _batch(self, syn0, words, starts, keep, alias_prob, alias, a0, a1, seed, exp_t, logsig_t):
        """One kernel call over the sentences words[starts[s]:starts[s+1]]: (words kept, loss)."""
        return _train.w2v_batch(syn0, self.syn1neg, words, starts, keep, alias_prob, alias, self.window,
                                self.negative, a0, a1, seed, exp_t, logsig_t, self.compute_loss, self.workers,
                                bool(self.sg), self.cbow_mean, self.shrink_windows)

    def train(self, corpus, epochs: Optional[int] = None, start_alpha: Optional[float] = None,
              end_alpha: Optional[float] = None, encoding: str = "utf-8") -> EmbeddingTable:
        """Train ``epochs`` passes over ``corpus``; returns the input-vector table.

        Without a vocabulary, it is built from ``corpus`` first. With one (a trained or loaded
        model), training continues from the current weights: words outside the vocabulary are
        skipped (add them with ``build_vocab(corpus, update=True)``), and the learning rate falls
        linearly from ``start_alpha`` (default ``alpha``) to ``end_alpha`` (default ``min_alpha``)
        over this call's words, as gensim's ``train``.
        """
        sents = Sentences(corpus, encoding)
        if self.table is None:
            self.build_vocab(sents)
        epochs = self.epochs if epochs is None else as_int(epochs, "epochs", lo=1, hi=MAX_INT)
        a_start = self.alpha if start_alpha is None else as_float(start_alpha, "start_alpha", lo=0.0, lo_open=True)
        a_end = self.min_alpha if end_alpha is None else as_float(end_alpha, "end_alpha", lo=0.0, hi=a_start)
        if self._counted is not None and self._counted[0] == _identity(sents):
            raw_per_epoch = self._counted[1]
        else:  # another corpus than the vocabulary pass: one counting pass for the schedule
            raw_per_epoch = count_words(sents).words
            self._counted = (_identity(sents), raw_per_epoch)
        vocab = self.table.vocab
        keep, alias_prob, alias = sampling_tables(vocab, self.sample, self.ns_exponent)
        exp_t, logsig_t = exp_tables()
        index = vocab._index_map()
        total = raw_per_epoch * epochs
        cached = None if sents.path is not None else []  # in-memory corpora: ids converted once
        bar = None
        if self.progress:
            bar = tqdm(total=total, unit="w", unit_scale=True, desc=self._NAME if self.sg else self._NAME + " cbow",
                       leave=False, disable=None if self.progress is True else not self.progress)
        done = 0

        def alpha_at(n):
            frac = min(n / total, 1.0) if total else 1.0
            return max(a_end, a_start - (a_start - a_end) * frac)

        try:
            with self._input_rows() as syn0:
                for _ in range(epochs):
                    epoch = self.epochs_trained
                    key = epoch_key(self.seed, epoch)
                    t0 = time.perf_counter()
                    eff_total = raw_total = n_sent = 0
                    loss_total = 0.0
                    source = cached if cached else encode_batches(sents, index, BATCH_WORDS)
                    fill = cached is not None and not cached
                    for words, starts, raw in prefetch(source):
                        if fill:
                            cached.append((words, starts, raw))
                        a0, a1 = alpha_at(done), alpha_at(done + raw)
                        kept, loss = self._batch(syn0, words, starts, keep, alias_prob, alias, a0, a1,
                                                 (key + n_sent) & _M64, exp_t, logsig_t)
                        n_sent += starts.size - 1
                        done += raw
                        eff_total += kept
                        raw_total += raw
                        loss_total += loss
                        if bar is not None:
                            bar.update(raw)
                            bar.set_postfix(epoch=len(self.history) + 1, loss=f"{loss_total / max(eff_total, 1):.3f}")
                    secs = time.perf_counter() - t0
                    self.epochs_trained += 1
                    info = {"epoch": len(self.history) + 1, "loss": loss_total / max(eff_total, 1),
                            "raw_words": raw_total, "effective_words": eff_total, "seconds": secs,
                            "words_per_sec": raw_total / secs if secs > 0 else float("inf"),
                            "effective_words_per_sec": eff_total / secs if secs > 0 else float("inf"),
                            "alpha": alpha_at(done)}
                    self.history.append(info)
                    log.info("%s epoch %d: loss %.4f, %d words, %.0f words/s", self._NAME, info["epoch"], info["loss"],
                             raw_total, info["words_per_sec"])
                    for cb in self.callbacks:
                        cb(info)
        finally:
            if bar is not None:
                bar.close()
        return self.table

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the full model to the directory ``path``: the input vectors with the vocabulary
        and counts in fastembed's native format (so ``fastembed.load(path)`` opens them as a table),
        ``syn1neg.npy`` and ``word2vec.json`` (settings and training state).

        The directory is written under a temporary name next to ``path`` and renamed into place:
        an interrupted save leaves the previous model (or none), never a mix.
        """
        if self.table is None:
            raise RuntimeError("nothing to save: build the vocabulary or train first")
        p = os.path.abspath(os.fspath(path))
        if os.path.exists(p) and not os.path.isdir(p):
            raise ValueError(f"{p} exists and is not a directory")
        parent = os.path.dirname(p)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(p) + ".tmp-", dir=parent)
        try:
            save_table(self.table, tmp, format="native")
            np.save(os.path.join(tmp, SYN1_FILE), self.syn1neg)
            state = {"format": "fastembed-word2vec", "version": MODEL_VERSION, "settings": self._settings(),
                     "epochs_trained": self.epochs_trained, "history": self.history}
            with open(os.path.join(tmp, MODEL_FILE), "w", encoding="utf-8") as f:
                json.dump(state, f, indent=1)
            old = None
            if os.path.isdir(p):
                old = tempfile.mkdtemp(prefix=os.path.basename(p) + ".old-", dir=parent)
                os.rmdir(old)
                os.replace(p, old)
            os.replace(tmp, p)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, path, workers: Optional[int] = None, progress=True,
             callbacks: Sequence[Callable] = ()) -> "Word2Vec":
        """A model saved by :meth:`save`, ready to train further (the weights are writable copies)."""
        p = os.fspath(path)
        mp = os.path.join(p, MODEL_FILE)
        if not os.path.isfile(mp):
            raise ValueError(f"{p}: not a saved Word2Vec model (no {MODEL_FILE})")
        with open(mp, encoding="utf-8") as f:
            try:
                state = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{mp}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
        if state.get("format") != "fastembed-word2vec" or state.get("version") != MODEL_VERSION:
            raise ValueError(f"{mp}: expected format 'fastembed-word2vec' version {MODEL_VERSION}, got "
                             f"{state.get('format')!r} version {state.get('version')!r}")
        model = cls(**state["settings"], workers=workers, progress=progress, callbacks=callbacks)
        table = load_table(p, format="native")
        if table.vocab is None or table.vocab.counts is None:
            raise ValueError(f"{p}: the saved vectors have no vocabulary counts")
        syn1 = np.load(os.path.join(p, SYN1_FILE), allow_pickle=False)
        if syn1.dtype != np.float32 or syn1.shape != table.shape:
            raise ValueError(f"{os.path.join(p, SYN1_FILE)}: expected a float32 array of shape {table.shape}, got "
                             f"{syn1.dtype} {syn1.shape}")
        if table.dim != model.dim:
            raise ValueError(f"{mp}: dim {model.dim} but the vectors have {table.dim} columns")
        model.table = EmbeddingTable(np.array(table.weights), vocab=table.vocab, copy=False)
        model.syn1neg = np.ascontiguousarray(syn1)
        model.epochs_trained = int(state.get("epochs_trained", 0))
        model.history = list(state.get("history", []))
        return model


def _identity(sents: Sentences):
    return ("path", sents.path) if sents.path is not None else ("object", id(sents.corpus))


def train_word2vec(corpus, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                   sample: float = 1e-3, epochs: int = 5, alpha: float = 0.025, min_alpha: float = 1e-4,
                   sg: int = 1, cbow_mean: bool = True, init: str = "gensim",
                   workers: Optional[int] = None, seed: int = 1, max_vocab: Optional[int] = None,
                   progress=True, callbacks: Sequence[Callable] = (), encoding: str = "utf-8") -> EmbeddingTable:
    """Train word2vec (skip-gram, or CBOW with ``sg=0``) with negative sampling; returns the word
    vectors as a table.

    Parameters
    ----------
    corpus : path to a text file (one sentence a line, streamed; .gz/.bz2 too) or a re-iterable of
        token lists
    dim, window, negative, min_count, sample, epochs, alpha, min_alpha, sg, cbow_mean, init :
        as :class:`Word2Vec` (and gensim).
    workers : threads sharing the weights without locks (Hogwild); None = all cores. With
        ``workers=1`` and a fixed ``seed`` the result is reproducible bit for bit.
    max_vocab : keep only the most frequent words.
    progress : a tqdm bar with words/s and the loss (on a terminal).
    callbacks : functions called after each epoch with a dict (epoch, loss, raw_words,
        effective_words, seconds, words_per_sec, effective_words_per_sec, alpha).

    Returns
    -------
    EmbeddingTable of (V, dim) float32 input vectors with a frequency-sorted Vocabulary (counts).
    """
    return Word2Vec(dim=dim, window=window, negative=negative, min_count=min_count, sample=sample,
                    epochs=epochs, alpha=alpha, min_alpha=min_alpha, sg=sg, cbow_mean=cbow_mean, init=init,
                    workers=workers, seed=seed, max_vocab=max_vocab, progress=progress,
                    callbacks=callbacks).train(corpus, encoding=encoding)
