"""``table.words`` and ``table.pool``: the feature modules' functions bound to a table.

The table is storage (:mod:`fastembed.table`) and imports no feature; the features
(:mod:`fastembed.words`, :mod:`fastembed.evaluate`, :mod:`fastembed.pooling`) are functions that
take a table. This module binds them, as pandas' accessors (``series.str``) bind string methods to
a Series: ``table.words.most_similar("king")`` is ``fastembed.words.most_similar(table, "king")``.
It registers ``words`` on every row source (:class:`~fastembed.EmbeddingTable` here,
:class:`~fastembed.distributed.ShardedTable` in its module) and ``pool`` on the local table.

Adding a question: write the function in its feature module (taking the row source first) and one
forwarding method here.
"""
from __future__ import annotations

from typing import Any, Generic, Optional, Type, TypeVar

import numpy as np

from fastembed import evaluate, pooling, words
from fastembed.table import EmbeddingTable

__all__ = ["Accessor", "Words", "Pool", "register"]

A = TypeVar("A")


class Accessor(Generic[A]):
    """A class attribute that builds ``cls(obj)`` when read from an instance (the class itself when
    read from the class, so ``help(EmbeddingTable.words)`` shows the methods)."""

    def __init__(self, cls: Type[A]):
        self.cls = cls

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self.cls if obj is None else self.cls(obj)

    def __repr__(self) -> str:
        return f"Accessor({self.cls.__name__})"


def register(target: type, name: str, cls: type) -> None:
    """Attach accessor ``cls`` to the class ``target`` as ``target.<name>``."""
    setattr(target, name, Accessor(cls))


class Words:
    """Word questions and their evaluation on one row source: every method is the function of
    the same name in :mod:`fastembed.words` or :mod:`fastembed.evaluate` with the table bound
    (see there for parameters, shapes and errors)."""

    __slots__ = ("source",)

    def __init__(self, source: Any):
        self.source = source

    def __repr__(self) -> str:
        return f"<word questions of {self.source!r}>"

    def most_similar(self, positive=None, negative=None, topn: Optional[int] = 10, restrict_vocab=None,
                     n_threads=None):
        return words.most_similar(self.source, positive, negative, topn, restrict_vocab, n_threads)

    def most_similar_cosmul(self, positive=None, negative=None, topn: Optional[int] = 10,
                            restrict_vocab=None, n_threads=None):
        return words.most_similar_cosmul(self.source, positive, negative, topn, restrict_vocab, n_threads)

    def analogy(self, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None, n_threads=None):
        return words.analogy(self.source, a, b, c, topn, method=method, restrict_vocab=restrict_vocab,
                             n_threads=n_threads)

    def analogy_ids(self, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None, exclude=None,
                    n_threads=None, strategy: str = "auto"):
        return words.analogy_ids(self.source, a, b, c, topn, method=method, restrict_vocab=restrict_vocab,
                                 exclude=exclude, n_threads=n_threads, strategy=strategy)

    def similarity(self, a, b) -> float:
        return words.similarity(self.source, a, b)

    def n_similarity(self, ws1, ws2) -> float:
        return words.n_similarity(self.source, ws1, ws2)

    def doesnt_match(self, keys) -> str:
        return words.doesnt_match(self.source, keys)

    def rank(self, key1: str, key2: str) -> int:
        return words.rank(self.source, key1, key2)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        return words.distances(self.source, word_or_vector, other_words)

    def closer_than(self, key1: str, key2: str):
        return words.closer_than(self.source, key1, key2)

    def most_similar_to_given(self, key1: str, keys_list) -> str:
        return words.most_similar_to_given(self.source, key1, keys_list)

    def evaluate_analogies(self, path, restrict_vocab: int = 300000, case_insensitive: bool = True,
                           method: str = "add", n_threads=None) -> evaluate.AnalogyResult:
        return evaluate.evaluate_analogies(self.source, path, restrict_vocab=restrict_vocab,
                                           case_insensitive=case_insensitive, method=method, n_threads=n_threads)

    def evaluate_word_pairs(self, path, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False,
                            skip_invalid: bool = False) -> evaluate.PairsResult:
        return evaluate.evaluate_word_pairs(self.source, path, delimiter=delimiter, restrict_vocab=restrict_vocab,
                                            case_insensitive=case_insensitive, dummy4unknown=dummy4unknown,
                                            skip_invalid=skip_invalid)


class Pool:
    """Pooling over one table's rows: every method is the function of the same name in
    :mod:`fastembed.pooling` with the table, its vocabulary and ``padding_idx`` bound
    (``padding_idx=...`` keeps the table's; None turns it off for the call). Rows of every storage
    dtype are read as stored (a bag of an int8 or half table is the bag of its float32 values)."""

    __slots__ = ("table",)

    def __init__(self, table: EmbeddingTable):
        self.table = table

    def __repr__(self) -> str:
        return f"<pooling of {self.table!r}>"

    def bag(self, ids, offsets=None, *, mode: str = "mean", per_sample_weights=None,
            include_last_offset: bool = False, padding_idx: Any = ..., out=None, n_threads=None,
            return_argmax: bool = False):
        pad = self.table.padding_idx if padding_idx is ... else padding_idx
        return pooling.bag(self.table, ids, offsets, mode=mode, per_sample_weights=per_sample_weights,
                           include_last_offset=include_last_offset, padding_idx=pad, out=out,
                           n_threads=n_threads, vocab=self.table.vocab, return_argmax=return_argmax)

    def bag_backward(self, ids, offsets, grad_out, mode: str = "mean", per_sample_weights=None, *,
                     include_last_offset: bool = False, argmax=None, n_threads=None):
        return pooling.bag_backward(self.table, ids, offsets, grad_out, mode, per_sample_weights,
                                    include_last_offset=include_last_offset, padding_idx=self.table.padding_idx,
                                    argmax=argmax, vocab=self.table.vocab, n_threads=n_threads)

    def mean_vector(self, keys, weights=None, *, pre_normalize: bool = True, post_normalize: bool = False,
                    ignore_missing: bool = True) -> np.ndarray:
        return pooling.mean_vector(self.table, keys, weights, vocab=self.table.vocab,
                                   pre_normalize=pre_normalize, post_normalize=post_normalize,
                                   ignore_missing=ignore_missing)

    def sentence_vectors(self, sentences, *, mode: str = "mean", ignore_missing: bool = True, counts=None,
                         a: float = pooling.SIF_A, component=None, remove_pc: bool = True,
                         n_threads=None) -> pooling.SentenceVectors:
        return pooling.sentence_vectors(self.table, sentences, vocab=self.table.vocab,
                                        mode=mode, ignore_missing=ignore_missing, counts=counts, a=a,
                                        component=component, remove_pc=remove_pc,
                                        padding_idx=self.table.padding_idx, n_threads=n_threads)


register(EmbeddingTable, "words", Words)
register(EmbeddingTable, "pool", Pool)
