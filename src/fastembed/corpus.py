"""Corpora for word2vec: reading token lists from files, and a planted synthetic corpus.

The planted corpus makes the point of the seeds' lesson checkable in seconds: words that share
contexts end up near each other. Animals share pet contexts, vehicles travel/engine contexts, and
people words mix three axes: royalty (royal vs common contexts), gender (he/his vs she/her) and
age (adult vs young), so that king - man + woman lands on queen (not princess, who is young).
"""
from __future__ import annotations

import os
from typing import Iterator, List

import numpy as np

from fastembed._files import open_binary

__all__ = ["planted_corpus", "iter_file_sentences", "PLANTED_GROUPS", "MAX_SENTENCE_WORDS"]

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
