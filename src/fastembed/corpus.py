"""Corpora for the trainers: streaming sentences from files or token lists, counting words,
encoding sentences into id batches, and two synthetic corpora.

The planted corpus makes the point of the seeds' lesson checkable in seconds: words that share
contexts end up near each other. Animals share pet contexts, vehicles travel/engine contexts, and
people words mix three axes: royalty (royal vs common contexts), gender (he/his vs she/her) and
age (adult vs young), so that king - man + woman lands on queen (not princess, who is young).

The clustered corpus is the benchmarks' quality yardstick at any size: topic sentences mixing the
words of one cluster with Zipf-distributed background words; a good model puts each cluster word's
nearest neighbours in its own cluster (:func:`cluster_quality`).
"""
from __future__ import annotations

import os
import queue
import threading
from collections import Counter
from typing import Dict, Iterator, List, NamedTuple, Optional

import numpy as np

from fastembed._files import open_binary
from fastembed._threads import worker_pool

__all__ = ["planted_corpus", "clustered_corpus", "cluster_quality", "iter_file_sentences", "Sentences",
           "count_words", "WordCounts", "encode_batches", "prefetch", "PLANTED_GROUPS", "MAX_SENTENCE_WORDS"]

MAX_SENTENCE_WORDS = 10000  # longer lines are cut into pieces (as gensim's MAX_WORDS_IN_BATCH)

_CONTEXTS = {
    "pet": ["fur", "paws", "tail", "pet", "purred", "barked", "bites", "vet", "leash", "bowl", "cute", "sleepy"],
    "vehicle": ["engine", "fuel", "wheels", "drove", "flew", "pilot", "driver", "speed", "road", "sky",
                "ticket", "garage"],
    "royal": ["crown", "throne", "palace", "kingdom", "royal", "reign", "castle", "court", "crowned", "heir"],
    "common": ["street", "job", "office", "town", "shop", "bus", "neighbour", "market", "work", "rent"],
    "male": ["he", "his", "him", "himself", "father", "son", "brother", "husband", "beard", "mr"],
    "female": ["she", "her", "hers", "herself", "mother", "daughter", "sister", "wife", "dress", "mrs"],
    "adult": ["grown", "elder", "adult", "married", "years", "retired", "wise", "tax", "career", "old"],
    "young": ["young", "child", "little", "school", "toy", "play", "small", "teacher", "lesson", "kid"],
}
_FILLER = ["the", "a", "was", "and", "of", "to", "in", "with", "on", "at"]

# word -> the context groups it appears in
PLANTED_GROUPS = {
    "cat": ["pet"], "dog": ["pet"], "kitten": ["pet"], "puppy": ["pet"], "hamster": ["pet"], "rabbit": ["pet"],
    "car": ["vehicle"], "airplane": ["vehicle"], "truck": ["vehicle"], "train": ["vehicle"],
    "bus": ["vehicle"], "bicycle": ["vehicle"],
    "king": ["royal", "male", "adult"], "queen": ["royal", "female", "adult"],
    "prince": ["royal", "male", "young"], "princess": ["royal", "female", "young"],
    "man": ["common", "male", "adult"], "woman": ["common", "female", "adult"],
    "boy": ["common", "male", "young"], "girl": ["common", "female", "young"],
}


def planted_corpus(n_sentences: int = 20000, *, seed: int = 0, sentence_len: int = 9) -> List[List[str]]:
    """A seeded synthetic corpus (list of token lists) with planted structure.

    Each sentence is about one word of ``PLANTED_GROUPS``: that word, context words from its groups
    (a person word draws from both its royalty and its gender group, so the two axes combine), and
    a few filler words, in random order.
    """
    rng = np.random.default_rng(seed)
    words = list(PLANTED_GROUPS)
    out = []
    for _ in range(int(n_sentences)):
        w = words[rng.integers(len(words))]
        groups = PLANTED_GROUPS[w]
        n_ctx = sentence_len - 3
        ctx = []
        for i in range(n_ctx):
            g = groups[i % len(groups)]
            ctx.append(_CONTEXTS[g][rng.integers(len(_CONTEXTS[g]))])
        fill = [_FILLER[i] for i in rng.integers(len(_FILLER), size=2)]
        sent = [w] + ctx + fill
        rng.shuffle(sent)
        out.append(sent)
    return out


def iter_file_sentences(path, encoding: str = "utf-8") -> Iterator[List[str]]:
    """Stream a text corpus: one sentence per line, tokens split on whitespace; lines longer than
    ``MAX_SENTENCE_WORDS`` tokens are cut into pieces. Never holds the whole file in memory.

    Raises ValueError naming the file and line for bytes that are not valid text.
    """
    p = os.fspath(path)
    with open_binary(p) as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(f"{p}, line {lineno}: not valid {encoding} text ({exc.reason} at byte "
                                 f"{exc.start}); is this a text corpus?") from None
            if "\x00" in line:
                raise ValueError(f"{p}, line {lineno}: contains NUL bytes; is this a text corpus?")
            toks = line.split()
            for i in range(0, len(toks), MAX_SENTENCE_WORDS):
                yield toks[i: i + MAX_SENTENCE_WORDS]


# ------------------------------------------------------------------ streaming for the trainers

class Sentences:
    """A re-iterable stream of sentences (lists of str) from a text file (one sentence a line,
    streamed, ``.gz``/``.bz2`` too) or from a re-iterable of token lists (a list, or any object
    whose ``__iter__`` starts afresh). Sentences longer than ``MAX_SENTENCE_WORDS`` come out in
    pieces, as gensim cuts them.

    Raises FileNotFoundError for a missing file and TypeError for a one-shot iterator or a
    sentence given as a str.
    """

    def __init__(self, corpus, encoding: str = "utf-8"):
        self.path: Optional[str] = None
        if isinstance(corpus, Sentences):
            corpus, encoding = (corpus.path if corpus.path is not None else corpus.corpus), corpus.encoding
        if isinstance(corpus, (str, os.PathLike)):
            self.path = os.fspath(corpus)
            if not os.path.isfile(self.path):
                raise FileNotFoundError(f"no such corpus file: {self.path}")
        elif iter(corpus) is corpus:
            raise TypeError("the corpus must be re-iterable (a list of token lists, or a path): it is "
                            "read once to build the vocabulary and once per epoch; a generator or "
                            "iterator can be read only once")
        self.corpus = corpus
        self.encoding = encoding

    def __repr__(self) -> str:
        if self.path is not None:
            return f"Sentences({self.path!r}, encoding={self.encoding!r})"
        n = f"{len(self.corpus)} sentences" if hasattr(self.corpus, "__len__") else "an iterable"
        return f"Sentences(<{type(self.corpus).__name__} of {n}>)"

    def __iter__(self) -> Iterator[List[str]]:
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


class WordCounts(NamedTuple):
    """What one pass over a corpus counted."""
    counts: Counter   # word -> occurrences
    sentences: int
    words: int
    longest: int      # words in the longest sentence


def count_words(sentences) -> WordCounts:
    """Word counts, number of sentences and words, and the longest sentence of one pass."""
    counts: Counter = Counter()
    n_sent = n_words = longest = 0
    for sent in sentences:
        counts.update(sent)
        n_sent += 1
        n = len(sent)
        n_words += n
        if n > longest:
            longest = n
    return WordCounts(counts, n_sent, n_words, longest)


def encode_batches(sentences, index: Dict[str, int], batch_words: int, min_len: int = 2):
    """Sentences as batches of ids: ``(words int32, starts int64, raw words)`` with about
    ``batch_words`` in-vocabulary words each; sentence s is ``words[starts[s]:starts[s + 1]]``.

    Words missing from ``index`` are dropped (windows then span them, as in word2vec.c and GloVe's
    cooccur); sentences left with fewer than ``min_len`` words are dropped too. ``raw words``
    counts every word read, dropped or not (the unit of gensim's progress and learning-rate schedule).
    """
    ids: List[int] = []
    starts, raw = [0], 0
    get = index.get
    for sent in sentences:
        raw += len(sent)
        s = [i for i in map(get, sent) if i is not None]
        if len(s) >= min_len:
            ids.extend(s)
            starts.append(len(ids))
        if len(ids) >= batch_words:
            yield np.array(ids, np.int32), np.array(starts, np.int64), raw
            ids, starts, raw = [], [0], 0
    if len(starts) > 1 or raw:
        yield np.array(ids, np.int32), np.array(starts, np.int64), raw


def prefetch(it, depth: int = 2):
    """Iterate ``it`` on a worker of the shared pool, ``depth`` items ahead of the consumer (the
    encoding of the next batches overlaps the kernels, which release the GIL). Lists are yielded
    as they are. If the consumer stops (an exception, Ctrl-C, or the generator is closed), the
    producer is told to stop and waited for: no thread outlives the iteration."""
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


# ------------------------------------------------------------------ the clustered corpus

def clustered_corpus(n_tokens: int = 2_000_000, *, n_clusters: int = 100, cluster_size: int = 20,
                     n_background: int = 20000, topic_share: float = 0.15, sentence_len: int = 20,
                     seed: int = 0) -> List[List[str]]:
    """A seeded synthetic corpus (list of token lists) of about ``n_tokens`` words with clusters.

    Each sentence has a topic, one of ``n_clusters`` clusters of ``cluster_size`` words
    (``"c7_3"``: word 3 of cluster 7). Each of its ``sentence_len`` words is, with probability
    ``topic_share``, a word of its topic (word k drawn with weight 1/sqrt(k + 1), so some cluster
    words are rarer than others), else a background word (``"w123"``) drawn from a Zipf
    distribution over ``n_background`` words. Words of one cluster share contexts only through
    their topic sentences; :func:`cluster_quality` measures how well a model found the clusters.
    """
    rng = np.random.default_rng(seed)
    n_sent = max(1, int(n_tokens) // sentence_len)
    cw = 1.0 / np.sqrt(np.arange(1, cluster_size + 1))
    cw /= cw.sum()
    bw = 1.0 / np.arange(1, n_background + 1)
    bw /= bw.sum()
    topic = rng.integers(0, n_clusters, n_sent)
    in_topic = rng.random((n_sent, sentence_len)) < topic_share
    k = rng.choice(cluster_size, size=(n_sent, sentence_len), p=cw)
    b = rng.choice(n_background, size=(n_sent, sentence_len), p=bw)
    names_c = np.array([f"c{c}_{j}" for c in range(n_clusters) for j in range(cluster_size)], dtype=object)
    names_b = np.array([f"w{j}" for j in range(n_background)], dtype=object)
    tok = np.where(in_topic, names_c[(topic[:, None] * cluster_size + k) % len(names_c)], names_b[b])
    return tok.tolist()


def cluster_quality(table, topn: int = 10, min_count: int = 0) -> float:
    """Share of same-cluster words among the ``topn`` nearest neighbours (cosine) of every cluster
    word of :func:`clustered_corpus` in ``table`` (an EmbeddingTable, or gensim KeyedVectors).

    Cluster words are keys ``c<cluster>_<k>``; neighbours are searched over the whole vocabulary.
    """
    keys = list(table.vocab.keys) if hasattr(table, "vocab") and table.vocab is not None else list(table.index_to_key)
    W = np.asarray(table.weights if hasattr(table, "weights") else table.vectors, np.float32)
    cl = np.array([int(k[1:].split("_")[0]) if k.startswith("c") and "_" in k else -1 for k in keys])
    rows = np.flatnonzero(cl >= 0)
    if rows.size == 0:
        raise ValueError("the table has no cluster words (keys like 'c7_3'); was it trained on clustered_corpus?")
    n = np.linalg.norm(W, axis=1, keepdims=True)
    U = W / np.where(n > 0, n, 1)
    hits = 0
    for r0 in range(0, rows.size, 512):
        r = rows[r0: r0 + 512]
        S = U[r] @ U.T
        S[np.arange(r.size), r] = -np.inf
        top = np.argpartition(-S, topn, axis=1)[:, :topn]
        hits += int((cl[top] == cl[r][:, None]).sum())
    return hits / (rows.size * topn)
