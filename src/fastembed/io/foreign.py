"""Files that are not embedding files fastembed reads, recognised by their first bytes so that
``load`` can say what the file is and how to load it (instead of "expected a key followed by
numbers, got b'\\x93NUMPY...'").

Each is a registry entry whose ``refuse`` message is raised as a :class:`FileFormatError`; giving
one a reader later replaces its ``refuse=`` with ``read=`` in :mod:`fastembed.io._registry` (as
fastText ``.bin`` models got :mod:`fastembed.io.fasttext`).
"""
from __future__ import annotations

from fastembed.io._source import Source

__all__ = ["is_npy", "is_zip", "is_pickle", "is_hdf5", "is_gzip", "is_bz2",
           "NPY", "ZIP", "HDF5", "GZIP", "BZ2", "pickle_message"]


def _head(src: Source) -> bytes:
    return b"" if src.is_dir else src.head


def is_npy(src: Source) -> bool:
    return _head(src).startswith(b"\x93NUMPY")


def is_zip(src: Source) -> bool:
    return _head(src).startswith(b"PK\x03\x04")


def is_pickle(src: Source) -> bool:
    h = _head(src)
    return len(h) >= 2 and h[0] == 0x80 and 2 <= h[1] <= 5  # PROTO opcode, protocols 2..5


def is_hdf5(src: Source) -> bool:
    return _head(src).startswith(b"\x89HDF\r\n\x1a\n")


def is_gzip(src: Source) -> bool:  # a gzip stream under a name without .gz (so not decompressed)
    return not src.compressed and _head(src).startswith(b"\x1f\x8b")


def is_bz2(src: Source) -> bool:
    h = _head(src)
    return not src.compressed and h[:3] == b"BZh" and h[4:10] == b"1AY&SY"


NPY = ("this is a NumPy .npy array, not an embedding file with keys: load it with numpy.load(path) and "
       "wrap it, e.g. EmbeddingTable(np.load(path), vocab=keys)")
ZIP = ("this is a zip archive (a NumPy .npz file?): open it with numpy.load(path) and wrap the matrix in "
       "EmbeddingTable(matrix, vocab=keys)")
HDF5 = ("this is an HDF5 file: read the matrix with h5py and wrap it in EmbeddingTable(matrix, vocab=keys)")
GZIP = ("this file is gzip-compressed but its name does not end in .gz (fastembed decompresses by "
        "extension): rename it to end in .gz")
BZ2 = ("this file is bz2-compressed but its name does not end in .bz2 (fastembed decompresses by "
       "extension): rename it to end in .bz2")

_GENSIM = ((b"gensim.models.keyedvectors", "KeyedVectors", "KeyedVectors.load(path)", "kv"),
           (b"gensim.models.fasttext", "FastText model", "FastText.load(path)", "model.wv"),
           (b"gensim.models.word2vec", "Word2Vec model", "Word2Vec.load(path)", "model.wv"),
           (b"gensim.models.doc2vec", "Doc2Vec model", "Doc2Vec.load(path)", "model.wv"))


def pickle_message(src: Source) -> str:
    head = _head(src)[:4096]
    for marker, what, how, kv in _GENSIM:
        if marker in head:
            return (f"this is a gensim {what} pickle (a .kv / .model file): fastembed never unpickles files; "
                    f"load it with gensim ({how}) and pass it to fastembed.interop.from_gensim "
                    f"(keys and counts kept), or save it with {kv}.save_word2vec_format(path, binary=True) "
                    "and load that")
    return ("this is a Python pickle: fastembed never unpickles files (unpickling can run arbitrary code); "
            "unpickle it yourself if you trust it and wrap the matrix in EmbeddingTable(matrix, vocab=keys)")
