"""fastembed: Cython-accelerated embedding tables.

Lookup, fused token + position embedding, cosine top-k, word vectors in and out, and word2vec
training (word2vec skip-gram and CBOW, GloVe) over contiguous float32 matrices. The distribution is ``fastembed-engine``.
"""
from __future__ import annotations

import logging

from fastembed._version import __version__

# Diagnostics (files loaded and saved, training epochs, ...) go to the "fastembed" logger and its
# children, quiet unless the application configures logging, e.g.
# logging.basicConfig(level=logging.INFO). Warnings a user should act on use the warnings module.
logging.getLogger("fastembed").addHandler(logging.NullHandler())

try:
    from fastembed._kernels import _config, _gather  # noqa: F401
except ImportError as exc:  # never fall back to the slow reference silently
    raise ImportError(
        "fastembed's compiled kernels are missing or failed to load "
        f"({exc}). Install the package with `pip install .` (a C compiler is needed), "
        "not by putting src/ on sys.path."
    ) from exc

from fastembed.table import EmbeddingTable
from fastembed._onehot import one_hot
from fastembed._threads import resolve_threads
from fastembed._validate import ConversionWarning
from fastembed._config import show_config
from fastembed.vocab import Vocabulary
from fastembed.io import load, load_fasttext, save
from fastembed.training import train_word2vec, Word2Vec
from fastembed.glove import train_glove, GloVe
from fastembed.fasttext import train_fasttext, FastText
from fastembed import accessors, corpus, evaluate, interop, optim, pooling, rows, search, words  # noqa: F401

__all__ = ["EmbeddingTable", "Vocabulary", "one_hot", "load", "load_fasttext", "save", "train_word2vec", "Word2Vec",
           "train_glove", "GloVe", "train_fasttext", "FastText", "corpus", "evaluate", "interop", "optim", "pooling", "rows", "search", "words",
           "resolve_threads", "show_config", "ConversionWarning", "__version__"]
