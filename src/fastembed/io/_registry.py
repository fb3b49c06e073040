"""The file formats: one entry each, ``{name: Format(detect, read, write)}``.

Detection tries the entries in order and takes the first whose ``detect`` says yes, so the order
goes from the most specific signature (a directory, a magic number) to the least (GloVe, plain
text with no header, last). Adding a format is one module with ``detect`` / ``read`` / ``write``
and one entry below; nothing else in fastembed.io names formats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Union

import fastembed.io.binary as binary
import fastembed.io.fasttext as fasttext
import fastembed.io.foreign as foreign
import fastembed.io.native as native
import fastembed.io.safetensors as safetensors
import fastembed.io.spacy_vectors as spacy_vectors
import fastembed.io.text as text
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._source import Source
from fastembed.table import EmbeddingTable

__all__ = ["Format", "REGISTRY", "FORMATS", "SAVE_FORMATS", "detect", "refusal"]


@dataclass(frozen=True)
class Format:
    """One file format.

    Attributes
    ----------
    name : str
        What ``load(format=...)`` / ``save(format=...)`` take and ``detect_format`` returns.
    detect : callable(Source) -> bool
        Looks at ``src.is_dir`` / ``src.head`` (the first 64 KB, decompressed) only.
    read : callable(Source, LoadOptions) -> EmbeddingTable, or None
        None for a file fastembed recognises but does not read: ``refuse`` is raised instead.
    write : callable(EmbeddingTable, str, SaveOptions) -> None, or None if not writable.
    refuse : str or callable(Source) -> str
        What the file is and how to load it instead (raised when ``read`` is None).
    directory : bool
        The format is a directory (the others are files).
    """

    name: str
    detect: Callable[[Source], bool]
    read: Optional[Callable[[Source, LoadOptions], EmbeddingTable]] = None
    write: Optional[Callable[[EmbeddingTable, str, SaveOptions], None]] = None
    refuse: Union[str, Callable[[Source], str]] = ""
    directory: bool = False


REGISTRY: Dict[str, Format] = {f.name: f for f in (
    Format("spacy", spacy_vectors.detect, spacy_vectors.read, spacy_vectors.write, directory=True),
    Format("native", native.detect, native.read, native.write, directory=True),  # any other directory
    Format("safetensors", safetensors.detect, safetensors.read, safetensors.write),
    Format("npy", foreign.is_npy, refuse=foreign.NPY),
    Format("npz", foreign.is_zip, refuse=foreign.ZIP),
    Format("pickle", foreign.is_pickle, refuse=foreign.pickle_message),  # gensim .kv / .model included
    Format("fasttext-bin", fasttext.detect, fasttext.read, fasttext.write),
    Format("hdf5", foreign.is_hdf5, refuse=foreign.HDF5),
    Format("gzip", foreign.is_gzip, refuse=foreign.GZIP),
    Format("bz2", foreign.is_bz2, refuse=foreign.BZ2),
    Format("word2vec-binary", binary.detect, binary.read, binary.write),
    Format("word2vec", text.detect_word2vec, text.read_word2vec, text.write_word2vec),
    Format("glove", text.detect_glove, text.read_glove, text.write_glove),
)}

FORMATS = tuple(name for name, f in REGISTRY.items() if f.read is not None)  # what load reads
SAVE_FORMATS = tuple(name for name, f in REGISTRY.items() if f.write is not None)


def refusal(fmt: Format, src: Source) -> str:
    return fmt.refuse(src) if callable(fmt.refuse) else fmt.refuse


def detect(src: Source) -> Format:
    """The first format whose detector recognises ``src``."""
    if not src.is_dir and not src.head:
        raise src.error("the file is empty")
    for f in REGISTRY.values():
        if f.detect(src):
            return f
    raise src.error("not a recognised embedding file")  # pragma: no cover - GloVe takes any text
