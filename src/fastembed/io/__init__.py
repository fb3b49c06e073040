"""Reading and writing embedding files: word2vec text and binary, GloVe, the native directory
(memory-mappable ``.npy`` + keys + checksums), safetensors checkpoints, spaCy vectors directories
(:mod:`~fastembed.io.spacy_vectors`; reading and writing need spaCy), and reading fastText
``.bin`` models (their word vectors, and :func:`load_fasttext` for vectors of unknown words).

The formats are one registry (:mod:`fastembed.io._registry`); each lives in its own module
(:mod:`~fastembed.io.text`, :mod:`~fastembed.io.binary`, :mod:`~fastembed.io.native`,
:mod:`~fastembed.io.safetensors`, :mod:`~fastembed.io.fasttext`; :mod:`~fastembed.io.foreign`
recognises .npy, pickles and gensim files, HDF5... by their magic bytes and says how to load them).

Guarantees:

* A file is never loaded silently wrong: format detection goes by structure, every line/record is
  checked against the file's dimension and count, truncation is an error, native directories carry
  sizes and checksums. Every failure is a :class:`FileFormatError` (a ``ValueError``) naming the
  file and the line or byte, with the low-level exception as ``__cause__``.
* What :func:`save` writes, :func:`load` reads back bit for bit (text uses the shortest decimal
  that rounds back to the same float32, independent of the C locale); what it cannot write so,
  it refuses with a ValueError naming the key or value.
* Tables pickle by value, or by path and offset when they memory-map a file read-only;
  ``pickle.dumps(by_value(table))`` sends the rows of a memory-mapped table too
  (:mod:`fastembed._pickling`).
* Saves are atomic (:mod:`fastembed.io._atomic`): a failure or Ctrl-C leaves the old file whole.
"""
from __future__ import annotations

from fastembed._files import open_binary, open_text
from fastembed._pickling import by_value
from fastembed.io._api import check_save_format, detect_format, load, save
from fastembed.io._atomic import wait_for_cleanup  # internal API (not in __all__): tests, benchmarks
from fastembed.io._errors import FileFormatError
from fastembed.io._registry import FORMATS, SAVE_FORMATS
from fastembed.io.fasttext import FastTextVectors, load_fasttext
from fastembed.io.safetensors import load_positions, load_safetensors

__all__ = ["load", "save", "open_text", "open_binary", "load_safetensors", "load_positions",
           "FORMATS", "SAVE_FORMATS", "detect_format", "check_save_format", "FileFormatError", "load_fasttext", "FastTextVectors",
           "by_value"]
