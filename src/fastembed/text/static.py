"""Static sentence-embedding models: model2vec directories and sentence-transformers
``StaticEmbedding`` modules, encoded as their libraries encode them.

A static model is a tokenizer and a table of token vectors; a sentence's vector is the mean of its
tokens' rows (model2vec: times a per-token weight where the model has one), optionally normalized.
Here the tokenizer is :class:`fastembed.text.Tokenizer` (native WordPiece for BERT-family files)
and the mean is :func:`fastembed.pooling.bag` over flat ids + offsets (one pass, OpenMP over
sentences), so no Python code runs per sentence.
"""
from __future__ import annotations

import json
import os
import re
import sys
from typing import List, Optional, Sequence, Union

import numpy as np

from fastembed import pooling
from fastembed.table import EmbeddingTable
from fastembed.text._files import missing_model, read_json, tensor_names, tensors
from fastembed.text.tokenizer import Tokenizer, TokenIds, texts_list

__all__ = ["StaticModel", "MODEL2VEC", "SENTENCE_TRANSFORMERS"]

MODEL2VEC = "model2vec"
SENTENCE_TRANSFORMERS = "sentence-transformers"
_UNSET = object()
_EXPECTED = ["model2vec: config.json, model.safetensors (tensor 'embeddings'), tokenizer.json",
             "sentence-transformers: modules.json naming a StaticEmbedding module whose folder holds "
             "model.safetensors (tensor 'embedding.weight') and tokenizer.json"]


def _folded(emb: np.ndarray, mapping: Optional[np.ndarray], weights: Optional[np.ndarray]) -> np.ndarray:
    """sentence-transformers' fold of a model2vec mapping and weights into one row per token id."""
    out = emb[np.asarray(mapping, np.int64)] if mapping is not None else emb
    if weights is not None:
        out = (out.astype(np.promote_types(out.dtype, np.float32)) * weights[:, None]).astype(out.dtype)
    return out


class StaticModel:
    """A static sentence-embedding model: ``encode(sentences)`` -> (N, D) float32.

    Build with :meth:`from_pretrained`. Two conventions, chosen by the directory:

    * ``"model2vec"`` (a model2vec directory): model2vec's ``StaticModel.encode`` - each sentence
      cut to ``max_length * median token length`` characters, then to ``max_length`` tokens, no
      special tokens, the unknown token left out, the mean of the rows (times the per-token
      ``weights`` where the model has them, through its ``token_mapping``), zeros for a sentence
      without tokens, and ``x / (||x|| + 1e-32)`` when the model normalizes.
    * ``"sentence-transformers"`` (a ``StaticEmbedding`` module): its ``EmbeddingBag`` mean of the
      tokenizer's ids (its own truncation, unknown tokens kept), then ``Normalize``
      (``x / max(||x||, 1e-12)``) if the pipeline has one.

    Attributes
    ----------
    table : EmbeddingTable
        (V, D) float32 token rows (float16 / int8 models are widened to float32 once, exactly).
    tokenizer : Tokenizer
    normalize : bool
    max_length : int or None
        model2vec's default token limit for :meth:`encode` (its config's, else 512).
    weights : ndarray (V,) float32 or None; token_mapping : ndarray (V,) int64 or None
        model2vec's vocabulary-quantized format: token id t uses row ``token_mapping[t]`` times
        ``weights[t]``.
    convention : {"model2vec", "sentence-transformers"}
    """

    def __init__(self, vectors, tokenizer: Tokenizer, *, normalize: bool = False,
                 weights: Optional[np.ndarray] = None, token_mapping: Optional[np.ndarray] = None,
                 max_length: Optional[int] = 512, convention: str = MODEL2VEC, path: Optional[str] = None):
        if convention not in (MODEL2VEC, SENTENCE_TRANSFORMERS):
            raise ValueError(f"convention must be {MODEL2VEC!r} or {SENTENCE_TRANSFORMERS!r}, got {convention!r}")
        v = np.asarray(vectors)
        if v.ndim != 2:
            raise ValueError(f"vectors must be 2-D (V, D), got shape {v.shape}")
        if v.dtype != np.float32:
            v = v.astype(np.float32)  # float16 / int8 / float64 models: exact for the first two
        self.table = EmbeddingTable(v, copy=False)
        self.tokenizer = tokenizer
        self.normalize = bool(normalize)
        self.convention = convention
        self.path = path
        self.max_length = None if max_length is None else int(max_length)
        n_tok = tokenizer.vocab_size
        if token_mapping is not None:
            token_mapping = np.ascontiguousarray(token_mapping, np.int64)
            if token_mapping.ndim != 1 or token_mapping.size < n_tok:
                raise ValueError(f"token_mapping has shape {token_mapping.shape}, expected ({n_tok},) "
                                 "(one row per token id)")
            bad = np.flatnonzero((token_mapping < 0) | (token_mapping >= v.shape[0]))
            if bad.size:
                raise IndexError(f"token_mapping[{int(bad[0])}] = {int(token_mapping[bad[0]])} is out of range "
                                 f"for a table of {v.shape[0]} rows")
        elif v.shape[0] < n_tok:
            raise ValueError(f"the tokenizer has {n_tok} token ids but the table only {v.shape[0]} rows")
        if weights is not None:
            weights = np.ascontiguousarray(weights, np.float32)
            if weights.ndim != 1 or weights.size < n_tok:
                raise ValueError(f"weights has shape {weights.shape}, expected ({n_tok},) (one per token id)")
        self.weights = weights
        self.token_mapping = token_mapping
        vocab = tokenizer._vocab
        toks = sorted(vocab.items(), key=lambda kv: kv[1]) if vocab is not None else []
        # model2vec cuts each sentence to max_length * (median token length) characters first
        self.median_token_length = int(np.median([len(t) for t, _ in toks])) if toks else 1

    @property
    def dim(self) -> int:
        """D, the vectors' dimension."""
        return self.table.dim

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_pretrained(cls, path, *, normalize: Optional[bool] = None, backend: Optional[str] = None
                        ) -> "StaticModel":
        """Load a model2vec directory or a sentence-transformers ``StaticEmbedding`` model.

        Parameters
        ----------
        path : str or os.PathLike
            A model2vec directory (``config.json``, ``model.safetensors`` with ``embeddings`` and
            optionally ``weights`` / ``mapping``, ``tokenizer.json``), or a sentence-transformers
            directory whose ``modules.json`` names a ``StaticEmbedding`` module (or that module's
            own folder: ``model.safetensors`` with ``embedding.weight``, ``tokenizer.json``).
        normalize : bool, optional
            Override the model's setting (model2vec's ``normalize`` / a ``Normalize`` module).
        backend : {None, "native", "tokenizers"}
            The tokenizer's backend (see :meth:`Tokenizer.from_pretrained`).

        Raises
        ------
        FileNotFoundError : the directory is not one of these models (the message lists the files
            each kind needs and the files found).
        ValueError : a malformed file (named).
        """
        p = os.fspath(path)
        cfg_f, st_f, tok_f = (os.path.join(p, n) for n in ("config.json", "model.safetensors", "tokenizer.json"))
        if (os.path.isfile(st_f) and os.path.isfile(tok_f) and os.path.isfile(cfg_f)
                and "embeddings" in tensor_names(st_f)):
            cfg = read_json(cfg_f)
            t = tensors(st_f, ["embeddings"], optional=["weights", "mapping"])
            tok = Tokenizer.from_pretrained(tok_f, backend=backend)
            norm = bool(cfg.get("normalize", False)) if normalize is None else bool(normalize)
            ml = cfg.get("max_length", 512)
            return cls(t["embeddings"], tok, normalize=norm, weights=t["weights"], token_mapping=t["mapping"],
                       max_length=ml, convention=MODEL2VEC, path=p)
        module_dir, norm = cls._st_module(p)
        if module_dir is None:
            raise missing_model(p, "static", _EXPECTED)
        st_f, tok_f = os.path.join(module_dir, "model.safetensors"), os.path.join(module_dir, "tokenizer.json")
        if not (os.path.isfile(st_f) and os.path.isfile(tok_f)):
            raise missing_model(module_dir, "StaticEmbedding", ["model.safetensors and tokenizer.json"])
        names = tensor_names(st_f)
        if "embedding.weight" in names:
            emb = tensors(st_f, ["embedding.weight"])["embedding.weight"]
        else:  # a model2vec file in a StaticEmbedding folder: sentence-transformers folds it
            t = tensors(st_f, ["embeddings"], optional=["weights", "mapping"])
            emb = _folded(t["embeddings"], t["mapping"], t["weights"])
        tok = Tokenizer.from_pretrained(tok_f, backend=backend)
        return cls(emb, tok, normalize=norm if normalize is None else bool(normalize), max_length=None,
                   convention=SENTENCE_TRANSFORMERS, path=p)

    @staticmethod
    def _st_module(p: str):
        """(the StaticEmbedding module's folder, whether a Normalize module follows) or (None, False)."""
        mod_f = os.path.join(p, "modules.json")
        if not os.path.isfile(mod_f):
            st_f = os.path.join(p, "model.safetensors")
            if (os.path.isfile(st_f) and os.path.isfile(os.path.join(p, "tokenizer.json"))
                    and "embedding.weight" in tensor_names(st_f)):
                return p, False
            return None, False
        try:
            with open(mod_f, "rb") as f:
                modules = json.loads(f.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{mod_f} is not valid JSON: {e}") from None
        if not isinstance(modules, list):
            raise ValueError(f"{mod_f} must hold a JSON list of modules")
        module_dir, norm = None, False
        for m in modules:
            kind = str(m.get("type", "")) if isinstance(m, dict) else ""
            if kind.endswith("StaticEmbedding") and module_dir is None:
                module_dir = os.path.normpath(os.path.join(p, m.get("path", "")))
            elif kind.endswith("Normalize") and module_dir is not None:
                norm = True
        return module_dir, norm

    # ---------------------------------------------------------------- encoding

    def tokenize(self, sentences: Sequence[str], *, max_length=_UNSET, n_threads=None) -> TokenIds:
        """The ids :meth:`encode` averages, as flat ids + offsets (model2vec: before the
        token mapping)."""
        sentences = texts_list(sentences)
        if self.convention == SENTENCE_TRANSFORMERS:
            ml = self.tokenizer.max_length if max_length is _UNSET else max_length
            return self.tokenizer.encode_batch(sentences, add_special_tokens=False, max_length=ml,
                                               n_threads=n_threads)
        ml = self.max_length if max_length is _UNSET else max_length
        if ml is not None:
            if isinstance(ml, bool) or not hasattr(ml, "__index__") or int(ml) < 1:
                raise ValueError(f"max_length must be a positive int or None, got {ml!r}")
            ml = int(ml)
        return self.tokenizer.encode_batch(
            sentences, add_special_tokens=False, max_length=ml, n_threads=n_threads, skip_unk=True,
            max_chars=None if ml is None else ml * self.median_token_length, truncation_side="right")

    def _rows(self, tok: TokenIds):
        """(row ids, per-token weights or None) for the table; IndexError naming the sentence for
        a token id past the model's per-token arrays."""
        ids = tok.ids
        per_token = self.token_mapping if self.token_mapping is not None else self.weights
        if per_token is not None and ids.size:
            bad = np.flatnonzero(ids >= per_token.size)
            if bad.size:
                self._raise_bad(tok, int(bad[0]), per_token.size, "per-token arrays")
        rows = self.token_mapping[ids] if self.token_mapping is not None else ids
        w = self.weights[ids] if self.weights is not None else None
        return rows, w

    def _raise_bad(self, tok: TokenIds, pos: int, n: int, what: str = "table"):
        b = int(np.searchsorted(tok.offsets, pos, side="right")) - 1
        raise IndexError(f"token id {int(tok.ids[pos])} of sentence {b} (token {pos - int(tok.offsets[b])}) is out "
                         f"of range for a {what} of {n} rows")

    def _pool(self, tok: TokenIds, normalize: bool, n_threads) -> np.ndarray:
        rows, w = self._rows(tok)
        W = self.table.weights
        try:
            if w is None:
                out = pooling.bag(W, rows, tok.offsets, include_last_offset=True, mode="mean", n_threads=n_threads)
            else:
                out = pooling.bag(W, rows, tok.offsets, include_last_offset=True, mode="sum",
                                  per_sample_weights=w, n_threads=n_threads)
                counts = np.diff(tok.offsets)
                np.divide(out, np.maximum(counts, 1).astype(np.float32)[:, None], out=out)
        except IndexError:
            bad = np.flatnonzero((rows < 0) | (rows >= W.shape[0]))
            self._raise_bad(tok, int(bad[0]), W.shape[0])
        if normalize:
            if self.convention == MODEL2VEC:
                out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-32
            else:
                out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), np.float32(1e-12))
        return out

    def encode(self, sentences: Union[str, Sequence[str]], *, max_length=_UNSET, normalize: Optional[bool] = None,
               batch_size: int = 4096, show_progress_bar: Optional[bool] = None, n_threads=None) -> np.ndarray:
        """Sentence vectors: ``(N, D)`` float32 (a single str gives ``(D,)``).

        Parameters
        ----------
        sentences : str or sequence of str
        max_length : int or None, optional
            Tokens per sentence (model2vec convention; default: the model's ``max_length``;
            None: no limit). sentence-transformers convention: the tokenizer file's truncation
            unless given.
        normalize : bool, optional
            Default: the model's setting.
        batch_size : int
            Sentences tokenized and pooled per step (memory and progress-bar granularity).
        show_progress_bar : bool, optional
            A tqdm bar over batches; default: shown for more than 100,000 sentences when stderr
            is a terminal.
        n_threads : int, optional
            fastembed's threading policy, for the tokenizer and the pooling.

        Returns
        -------
        ndarray, (N, D) float32 - equal to model2vec's ``StaticModel.encode`` (within float32
        rounding of its per-token weights; model2vec rounds float16 models' output to float16,
        fastembed returns the float32 values it rounds).
        """
        single = isinstance(sentences, str)
        sents = [sentences] if single else texts_list(sentences)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        norm = self.normalize if normalize is None else bool(normalize)
        out = np.zeros((len(sents), self.dim), np.float32)
        bar = self._progress(len(sents), batch_size, show_progress_bar)
        try:
            for s in range(0, len(sents), batch_size):
                part = sents[s:s + batch_size]
                tok = self.tokenize(part, max_length=max_length, n_threads=n_threads)
                try:
                    out[s:s + len(part)] = self._pool(tok, norm, n_threads)
                except IndexError as e:  # name the sentence in the whole input
                    raise IndexError(_shift_sentence(str(e), s)) from None
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return out[0] if single else out

    def encode_as_sequence(self, sentences: Union[str, Sequence[str]], *, max_length: Optional[int] = None,
                           n_threads=None) -> Union[np.ndarray, List[np.ndarray]]:
        """Each sentence's token vectors: a list of ``(n_i, D)`` float32 arrays (views into one
        ``(N, D)`` array; ``(0, D)`` for a sentence without tokens), as model2vec's
        ``encode_as_sequence`` (no truncation unless ``max_length`` is given)."""
        single = isinstance(sentences, str)
        tok = self.tokenize([sentences] if single else sentences, max_length=max_length, n_threads=n_threads)
        rows, w = self._rows(tok)
        try:
            flat = self.table.lookup(rows, n_threads=n_threads)
        except IndexError:
            bad = np.flatnonzero((rows < 0) | (rows >= self.table.num_embeddings))
            self._raise_bad(tok, int(bad[0]), self.table.num_embeddings)
        if w is not None:
            flat *= w[:, None]
        o = tok.offsets
        seqs = [flat[o[b]:o[b + 1]] for b in range(len(tok))]
        return seqs[0] if single else seqs

    @staticmethod
    def _progress(n: int, batch_size: int, show: Optional[bool]):
        if show is None:
            show = n > 100_000 and sys.stderr.isatty()
        if not show:
            return None
        from tqdm.auto import tqdm  # a dependency; imported only when a bar is shown
        return tqdm(total=-(-n // batch_size), unit="batch", desc="encoding")

    def __repr__(self) -> str:
        return (f"StaticModel({self.path!r}, {self.table.num_embeddings} x {self.dim}, convention={self.convention!r}, "
                f"normalize={self.normalize}, tokenizer={self.tokenizer.backend})")


def _shift_sentence(msg: str, start: int) -> str:
    """Renumber 'of sentence b' in a batch's message to the sentence's place in the whole input."""
    return re.sub(r"of sentence (\d+)", lambda m: f"of sentence {int(m.group(1)) + start}", msg, count=1)
