"""fastText training: word2vec with character n-grams, so that unseen words get vectors.

    vectors = fastembed.train_fasttext("corpus.txt", dim=100, minn=3, maxn=6)
    vectors["unseenword"]                  # the mean of its n-gram rows
    vectors.table.words.most_similar("cat")

    model = fastembed.FastText(dim=100, sg=0)      # CBOW
    model.train("corpus.txt")
    model.save("model.bin")                        # fastText's .bin: fasttext.load_model, gensim's
                                                   # load_facebook_model and fastembed.load read it
    model.save_vec("model.vec")                    # the word vectors as text

What fastText does, and what we follow (Facebook's fastText, ``src/fastText.cc`` / ``model.cc``):

* A word's input side is the mean of its own row and the rows of its character n-grams (``"<" word
  ">"``, minn..maxn characters, hashed with fastText's FNV-1a into ``bucket`` rows): fastText's
  ``computeHidden``. The error of each prediction is added, whole, to every one of those rows
  (fastText's ``Model::update``; gensim's ``FastText`` divides it by the number of rows).
* Skip-gram: that mean predicts each context word; CBOW: the mean of all the rows of all the
  context words predicts the centre word. ``per_pair=True`` (fastText's order) recomputes the mean
  after every (word, context) pair; ``per_pair=False`` computes it once per position and adds the
  pairs' summed error once (fewer passes over the scattered n-gram rows: faster, a slightly staler
  gradient).
* The output side is word2vec's negative-sampling step, random streams, subsampling (fastText's
  discard probability ``sqrt(t / f) + t / f`` is word2vec.c's keep probability), window shrink
  and alias-table noise words: the same compiled code (``csrc/impl/w2v.h``), reached through the
  SIMD dispatch like every kernel (``csrc/impl/fasttext.h``). Two small differences from fastText
  stay word2vec's: the sigmoid table spans [-6, 6) (fastText: [-8, 8]), and a noise word equal to
  the target is skipped (fastText draws again).
* Defaults are fastText's: ``alpha=0.05`` decaying linearly to 0, ``sample=1e-4``, ``minn=3``,
  ``maxn=6``, ``bucket=2_000_000``, dim 100, window 5, 5 negatives, 5 epochs, ``min_count=5``.
  Initial input rows (words and buckets) are uniform(-1/dim, 1/dim), output rows zero.
* ``word_ngrams`` is written to the ``.bin`` header; as in fastText, unsupervised training does not
  use word n-grams (fastText adds them only for supervised models).
* Not done: the end-of-line token ``"</s>"`` fastText adds to every line (fastembed's corpora are
  sentences of words), growing the vocabulary of a trained model (``build_vocab(update=True)``),
  and loading a ``.bin`` to train further (:func:`fastembed.io.load_fasttext` reads its vectors).
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Optional, Sequence

import numpy as np

from fastembed._kernels import _fasttext, _train
from fastembed._threads import GRAIN_COPY_BYTES, team_size
from fastembed._validate import as_bool, as_int
from fastembed.io import save as save_table
from fastembed.io.fasttext import FastTextVectors, write_model
from fastembed.table import EmbeddingTable
from fastembed.training import Word2Vec, _initial_vectors
from fastembed.vocab import Vocabulary

__all__ = ["FastText", "train_fasttext"]

LOSS_NS = 2                # fastText's loss_name::ns
MODEL_CBOW, MODEL_SG = 1, 2  # fastText's model_name
MAX_BUCKET = 2 ** 31 - 1   # fastText stores bucket in an int32


def _draw_rows(n: int, D: int, seed: int, init: str) -> np.ndarray:
    """``training._initial_vectors(n, D, seed, init)``, value for value, drawn and scaled in blocks
    of about 1 MB: the (V + bucket, D) matrix (800 MB by default) is written once instead of passed
    over four times."""
    out = np.empty((n, D), np.float32)
    rng = np.random.default_rng(seed)
    step = max(1, (1 << 18) // max(D, 1))
    for r0 in range(0, n, step):
        c = out[r0: r0 + step]
        rng.random(dtype=np.float32, out=c)
        if init == "gensim":
            c *= np.float32(2.0)
            c -= np.float32(1.0)
        else:
            c -= np.float32(0.5)
        c /= np.float32(D)
    return out


class FastText(Word2Vec):
    """fastText trainer (skip-gram or CBOW with character n-grams, negative sampling);
    :func:`train_fasttext` is the one-call form.

    Parameters
    ----------
    dim, window, negative, min_count, sample, epochs, alpha, min_alpha, sg, ns_exponent,
    shrink_windows, init, seed, max_vocab, progress, callbacks, compute_loss :
        as :class:`fastembed.Word2Vec`, with fastText's defaults (alpha 0.05 to 0, sample 1e-4).
    minn, maxn : int, default 3 and 6
        Character n-gram lengths (of ``"<" word ">"``); ``maxn=0``: no n-grams (word2vec with
        fastText's update rule). With n-grams, ``1 <= minn <= maxn``.
    bucket : int, default 2_000_000
        Rows the n-grams are hashed into ((V + bucket, dim) input rows: 800 MB at dim 100).
        0: no n-grams.
    word_ngrams : int, default 1
        Written to the ``.bin`` header (fastText uses word n-grams for supervised models only).
    per_pair : bool, default True
        Skip-gram: recompute the word's mean row after every context pair (fastText) or once per
        position (faster; see the module docstring).
    workers, n_threads : threads sharing the weights without locks (Hogwild); None = all cores;
        give one of the two names. With one thread and a fixed ``seed`` the result is reproducible
        bit for bit (at every SIMD level).

    Attributes
    ----------
    table : EmbeddingTable of the (V, dim) word vectors (each the mean of the word's row and its
        n-gram rows, as fastText's ``getWordVector``), with the vocabulary and counts.
    wv : FastTextVectors: the table plus the n-gram rows (vectors for unseen words).
    input_rows : (V + bucket, dim) float32: the word rows, then the n-gram buckets.
    syn1neg : (V, dim) float32 output rows.
    history, epochs_trained, corpus_count, corpus_total_words : as Word2Vec.
    """

    _NAME = "fasttext"

    def __init__(self, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                 sample: float = 1e-4, epochs: int = 5, alpha: float = 0.05, min_alpha: float = 0.0,
                 sg: int = 1, minn: int = 3, maxn: int = 6, bucket: int = 2_000_000, word_ngrams: int = 1,
                 per_pair: bool = True, init: str = "gensim", workers: Optional[int] = None,
                 n_threads: Optional[int] = None, seed: int = 1, max_vocab: Optional[int] = None, progress=True,
                 callbacks: Sequence[Callable] = (), compute_loss: bool = True, ns_exponent: float = 0.75,
                 shrink_windows: bool = True):
        if n_threads is not None:
            if workers is not None:
                raise TypeError(f"give workers or n_threads, not both (got {workers!r} and {n_threads!r})")
            workers = n_threads
        super().__init__(dim=dim, window=window, negative=negative, min_count=min_count, sample=sample,
                         epochs=epochs, alpha=alpha, min_alpha=min_alpha, sg=sg, cbow_mean=True, init=init,
                         workers=workers, seed=seed, max_vocab=max_vocab, progress=progress, callbacks=callbacks,
                         compute_loss=compute_loss, ns_exponent=ns_exponent, shrink_windows=shrink_windows)
        self.minn = as_int(minn, "minn", lo=0)
        self.maxn = as_int(maxn, "maxn", lo=0)
        if self.maxn > 0 and not 1 <= self.minn <= self.maxn:
            raise ValueError(f"minn must be between 1 and maxn={self.maxn} (or maxn 0: no n-grams), got {self.minn}")
        self.bucket = as_int(bucket, "bucket", lo=0, hi=MAX_BUCKET)
        self.word_ngrams = as_int(word_ngrams, "word_ngrams", lo=1)
        self.per_pair = as_bool(per_pair, "per_pair")
        self.input_rows: Optional[np.ndarray] = None
        self._sub_starts = self._sub_rows = None
        self._blob = self._offsets = None

    @property
    def subwords(self) -> bool:
        """Whether words have character n-grams (buckets to hash them into, maxn >= 1)."""
        return self.bucket > 0 and self.maxn >= 1

    @property
    def wv(self) -> Optional[FastTextVectors]:
        """The word vectors and the n-gram rows (vectors for unseen words); None before training."""
        if self.table is None:
            return None
        V = len(self.table)
        ngrams = self.input_rows[V:] if self.subwords else np.zeros((0, self.dim), np.float32)
        return FastTextVectors(self.table, ngrams, minn=self.minn, maxn=self.maxn)

    def __repr__(self) -> str:
        state = (f"vocab={len(self.table)}, epochs_trained={self.epochs_trained}" if self.table is not None
                 else "untrained")
        return (f"FastText({'skip-gram' if self.sg else 'cbow'}, dim={self.dim}, window={self.window}, "
                f"negative={self.negative}, minn={self.minn}, maxn={self.maxn}, bucket={self.bucket}, "
                f"min_count={self.min_count}, sample={self.sample:g}, epochs={self.epochs}, alpha={self.alpha:g}, "
                f"workers={self.workers}, seed={self.seed}, {state})")

    def _settings(self) -> dict:
        s = super()._settings()
        s.pop("cbow_mean")
        s.update(minn=self.minn, maxn=self.maxn, bucket=self.bucket, word_ngrams=self.word_ngrams,
                 per_pair=self.per_pair)
        return s

    # ------------------------------------------------------------------ vocabulary and rows
    def set_vocab(self, vocab: Vocabulary, update: bool = False, *, corpus=None,
                  corpus_words: Optional[int] = None, encoding: str = "utf-8") -> None:
        """Start the weights on a vocabulary (what :meth:`build_vocab` does once it has counted):
        (V + bucket, dim) input rows uniform(-1/dim, 1/dim) (``init="gensim"``; the word rows are
        the ones Word2Vec draws for the same seed), zero output rows, and each word's n-gram buckets.

        Raises
        ------
        NotImplementedError : ``update=True`` (a fastText model does not grow its vocabulary here:
            train a new model on the whole corpus).
        TypeError, ValueError : as :meth:`Word2Vec.set_vocab`.
        """
        if update:
            raise NotImplementedError("FastText cannot grow the vocabulary of a trained model "
                                      "(build_vocab(update=True)): train a new model on the whole corpus")
        super().set_vocab(vocab, corpus=corpus, corpus_words=corpus_words, encoding=encoding)
        V, D = len(vocab), self.dim
        self.input_rows = _draw_rows(V + self.bucket, D, self.seed, self.init)
        enc = [k.encode("utf-8") for k in vocab.keys]
        self._offsets = np.zeros(V + 1, np.int64)
        np.cumsum([len(e) for e in enc], out=self._offsets[1:])
        self._blob = np.frombuffer(b"".join(enc), np.uint8)
        if self.subwords:
            ids, bounds = _fasttext.ngram_ids(self._blob, self._offsets, self.minn, self.maxn, self.bucket, True)
        else:
            ids, bounds = np.zeros(0, np.int64), np.zeros(V + 1, np.int64)
        # word w's input rows (fastText's getSubwords): w itself, then V + each n-gram's bucket
        starts = bounds + np.arange(V + 1, dtype=np.int64)
        rows = np.empty(int(starts[-1]), np.int64)
        own = np.zeros(rows.size, bool)
        own[starts[:-1]] = True
        rows[own] = np.arange(V, dtype=np.int64)
        rows[~own] = ids + V
        self._sub_starts, self._sub_rows = starts, rows
        self._refresh()

    def _refresh(self) -> None:
        """The word vectors of :attr:`table` from the current rows (fastText's getWordVector)."""
        vocab = self.table.vocab
        V, D = len(vocab), self.dim
        if not self.subwords:
            out = np.array(self.input_rows[:V])
        else:
            out = np.empty((V, D), np.float32)
            work = (len(self._blob) + 2 * V) * max(1, self.maxn - self.minn + 1) * D * 4
            nt = team_size(work, GRAIN_COPY_BYTES, self.workers, items=max(V, 1))
            _fasttext.mean_vectors(self.input_rows[:V], None, self.input_rows[V:], self._blob, self._offsets,
                                   self.minn, self.maxn, True, out, nt)
        self.table = EmbeddingTable(out, vocab=vocab, copy=False)

    # ------------------------------------------------------------------ training
    def _input_rows(self):
        return contextlib.nullcontext(self.input_rows)

    def _batch(self, syn0, words, starts, keep, alias_prob, alias, a0, a1, seed, exp_t, logsig_t):
        return _train.ft_batch(syn0, self.syn1neg, self._sub_starts, self._sub_rows, words, starts, keep,
                               alias_prob, alias, self.window, self.negative, a0, a1, seed, exp_t, logsig_t,
                               self.compute_loss, self.workers, bool(self.sg), self.per_pair, self.shrink_windows)

    def train(self, corpus, epochs: Optional[int] = None, start_alpha: Optional[float] = None,
              end_alpha: Optional[float] = None, encoding: str = "utf-8") -> EmbeddingTable:
        """Train ``epochs`` passes over ``corpus`` (building the vocabulary first if there is none);
        returns the word-vector table (:attr:`wv` adds the n-gram rows). The learning rate falls
        linearly from ``start_alpha`` (default ``alpha``) to ``end_alpha`` (default ``min_alpha``)."""
        super().train(corpus, epochs=epochs, start_alpha=start_alpha, end_alpha=end_alpha, encoding=encoding)
        self._refresh()
        return self.table

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the model as fastText's ``.bin`` (version 12): the header with this model's
        settings, the dictionary (words and counts), the (V + bucket, dim) input rows and the
        (V, dim) output rows. ``fasttext.load_model``, gensim's ``load_facebook_model`` and
        :func:`fastembed.io.load_fasttext` / :func:`fastembed.load` read it (the word vectors and
        the vectors of unseen words agree bit for bit between gensim and fastembed). Atomic."""
        if self.table is None:
            raise RuntimeError("nothing to save: build the vocabulary or train first")
        vocab = self.table.vocab
        args = dict(dim=self.dim, ws=self.window, epoch=self.epochs, min_count=self.min_count, neg=self.negative,
                    word_ngrams=self.word_ngrams, loss=LOSS_NS, model=MODEL_SG if self.sg else MODEL_CBOW,
                    bucket=self.bucket, minn=self.minn, maxn=self.maxn, lr_update_rate=100, t=self.sample)
        write_model(os.fspath(path), vocab.keys, vocab.counts, self.input_rows, self.syn1neg, args=args)

    def save_vec(self, path) -> None:
        """Write the word vectors as fastText's ``.vec`` text (word2vec text: a ``V dim`` header,
        then one word and its values a line; shortest round-tripping decimals)."""
        if self.table is None:
            raise RuntimeError("nothing to save: build the vocabulary or train first")
        save_table(self.table, path, format="word2vec")

    @classmethod
    def load(cls, path, workers: Optional[int] = None, progress=True, callbacks: Sequence[Callable] = ()):
        """Not available: a ``.bin`` is read with :func:`fastembed.io.load_fasttext` (its vectors
        and n-gram rows); continuing to train a saved fastText model is not supported.

        Raises
        ------
        NotImplementedError : always, naming the way to read the file.
        """
        raise NotImplementedError(f"FastText.load: read {os.fspath(path)!r} with fastembed.io.load_fasttext "
                                  "(vectors for any word); continuing training from a .bin is not supported")


def train_fasttext(corpus, dim: int = 100, window: int = 5, negative: int = 5, min_count: int = 5,
                   sample: float = 1e-4, epochs: int = 5, alpha: float = 0.05, min_alpha: float = 0.0,
                   sg: int = 1, minn: int = 3, maxn: int = 6, bucket: int = 2_000_000, word_ngrams: int = 1,
                   per_pair: bool = True, workers: Optional[int] = None, n_threads: Optional[int] = None,
                   seed: int = 1, max_vocab: Optional[int] = None, progress=True,
                   callbacks: Sequence[Callable] = (), encoding: str = "utf-8") -> FastTextVectors:
    """Train fastText (skip-gram, or CBOW with ``sg=0``) with character n-grams and negative
    sampling; returns the vectors (any word: known words' rows, unseen words' mean n-gram rows).

    Parameters
    ----------
    corpus : path to a text file (one sentence a line; .gz/.bz2 too) or a re-iterable of token lists
    dim, window, negative, min_count, sample, epochs, alpha, min_alpha, sg, minn, maxn, bucket,
    word_ngrams, per_pair, workers, n_threads, seed, max_vocab, progress, callbacks :
        as :class:`FastText` (fastText's defaults).

    Returns
    -------
    FastTextVectors : ``.table`` the (V, dim) float32 word vectors with the vocabulary and counts,
        ``.ngrams`` the (bucket, dim) n-gram rows. Save a whole model with :meth:`FastText.save`.
    """
    model = FastText(dim=dim, window=window, negative=negative, min_count=min_count, sample=sample, epochs=epochs,
                     alpha=alpha, min_alpha=min_alpha, sg=sg, minn=minn, maxn=maxn, bucket=bucket,
                     word_ngrams=word_ngrams, per_pair=per_pair, workers=workers, n_threads=n_threads, seed=seed,
                     max_vocab=max_vocab, progress=progress, callbacks=callbacks)
    model.train(corpus, encoding=encoding)
    return model.wv
