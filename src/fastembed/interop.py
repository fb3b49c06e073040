"""Tables to and from other libraries' objects: gensim's ``KeyedVectors``.

torch has its own entry points on the table (:meth:`EmbeddingTable.from_torch`, ``to_torch``,
DLPack) and its modules in :mod:`fastembed.torch`; gensim's whole surface is the facade
:mod:`fastembed.compat.gensim`. The conversions here copy or share the rows as they say, and never
import the other library unless its objects are used.
"""
from __future__ import annotations

from typing import Any

from fastembed import _interop
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["from_gensim", "to_gensim"]


def from_gensim(kv: Any, *, copy: bool = True) -> EmbeddingTable:
    """A table from a gensim ``KeyedVectors`` (or a model with ``.wv``), keys and counts kept.

    ``copy=False`` shares gensim's vectors: then change them only through the table, or call
    ``table.invalidate_norms()`` after changing ``kv.vectors`` (as gensim's ``fill_norms(force=True)``).
    """
    vectors, keys, counts = _interop.gensim_parts(kv)
    return EmbeddingTable(vectors, copy=bool(copy), vocab=Vocabulary(keys, counts))


def to_gensim(table: EmbeddingTable) -> Any:
    """A gensim ``KeyedVectors`` with a float32 copy of the rows, the keys and the counts."""
    vocab = table.vocab
    if vocab is None:
        raise TypeError("this table has no vocabulary: gensim's KeyedVectors needs keys (pass vocab=)")
    return _interop.make_gensim(table[:], vocab.keys, vocab.counts)
