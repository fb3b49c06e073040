"""spaCy's vectors in and out: :func:`from_spacy` (a ``Language``, ``Vocab`` or ``Vectors`` to an
:class:`~fastembed.EmbeddingTable`) and :func:`to_spacy` (a table to a ``Vectors``).

Directories written by spaCy (``Vectors.to_disk``, or a pipeline's ``vocab/``) load with
``fastembed.load(path)`` (format ``"spacy"``, :mod:`fastembed.io.spacy_vectors`), and
``fastembed.save(table, path, format="spacy")`` writes one spaCy reads.

spaCy keys are hashes of strings; a table's vocabulary holds the strings, so :func:`from_spacy`
names each key through the vectors' ``StringStore`` (a pipeline's vocabulary strings), or through
``strings`` you pass. Each named key becomes one row, in spaCy's row order: ``table[s]`` equals
``vectors[s]`` for each of them. spaCy is imported only when these functions run.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np

from fastembed.io import spacy_vectors
from fastembed.table import EmbeddingTable

__all__ = ["from_spacy", "to_spacy"]


def _vectors_of(obj: Any):
    """The ``Vectors`` of a Language (``nlp.vocab.vectors``), a Vocab or a Vectors."""
    v = obj
    if hasattr(v, "vocab") and hasattr(v.vocab, "vectors"):
        v = v.vocab
    if hasattr(v, "vectors") and hasattr(v, "strings"):
        v = v.vectors
    if not (hasattr(v, "key2row") and hasattr(v, "data") and hasattr(v, "mode")):
        raise TypeError(f"expected a spaCy Language, Vocab or Vectors, got {type(obj).__name__}")
    return v


def from_spacy(obj: Any, *, strings: Optional[Iterable[str]] = None, copy: bool = True) -> EmbeddingTable:
    """A table of a spaCy pipeline's, vocabulary's or ``Vectors``' word vectors.

    Parameters
    ----------
    obj : spacy.Language, spacy.vocab.Vocab or spacy.vectors.Vectors
        Default-mode vectors (floret vectors, built from hashed character n-grams, are refused).
    strings : iterable of str (or a StringStore), optional
        Strings to name keys that the vectors' own ``StringStore`` does not hold (a ``Vectors``
        built with ``keys=[...]`` hashes its keys without storing them).
    copy : bool, default True
        False shares spaCy's matrix when its rows are the table's (each row has one key, in
        order); then change it only through the table.

    Returns
    -------
    EmbeddingTable
        (n, D) rows, one per key spaCy can name, ordered by spaCy's row (several keys sharing a
        row each get a copy of it); a Vocabulary of the keys. Keys no string names are left out
        with a warning.

    Raises
    ------
    TypeError : not a spaCy object, or vectors not in CPU memory (numpy).
    ValueError : floret vectors.
    """
    v = _vectors_of(obj)
    if v.mode != "default":
        raise ValueError(f"spaCy vectors in {v.mode!r} mode are built from hashed character n-grams; only the "
                         "default mode (a row per key) converts to a table")
    data = v.data
    if not isinstance(data, np.ndarray):
        raise TypeError(f"the vectors are a {type(data).__module__}.{type(data).__name__}, not a numpy array: "
                        "move them to the CPU first (vectors.to_ops(NumpyOps()))")
    store = v.strings
    extra = {}
    if strings is not None:
        from spacy.strings import get_string_id  # optional dependency
        extra = {int(get_string_id(s)): s for s in strings}

    def name(key: int) -> str:
        s = extra.get(key)
        return s if s is not None else store[key]

    where = "the spaCy vectors"
    rows, keys, unnamed = spacy_vectors.keys_by_row(v.key2row, data.shape[0], name, where)
    spacy_vectors.warn_unnamed(unnamed, where)
    return spacy_vectors.table_from_rows(data, rows, keys, None, copy=copy)


def to_spacy(table: EmbeddingTable, *, strings: Any = None) -> Any:
    """A ``spacy.vectors.Vectors`` with a float32 copy of the table's rows, one key each.

    Parameters
    ----------
    table : EmbeddingTable with a vocabulary
    strings : spacy.strings.StringStore, optional
        The store the keys' strings are added to, e.g. ``nlp.vocab.strings`` before
        ``nlp.vocab.vectors = to_spacy(table, strings=nlp.vocab.strings)``; a new one by default.

    Raises
    ------
    ValueError : the table has no vocabulary.
    """
    return spacy_vectors.to_vectors(table, strings)
