"""The embedding layer of a Hugging Face transformer checkpoint, from text or ids.

* BERT family (``bert``, ``distilbert``, ``roberta``, ``xlm-roberta``, ``camembert``, ``electra``
  with the hidden size as embedding size): word + position (+ token type) rows, then LayerNorm with
  the checkpoint's gamma, beta and eps, fused into one kernel (csrc/impl/layernorm.h): each output row
  is written once, its float32 statistics summed in a fixed 64-lane order, so every SIMD level and
  thread count gives the same bits as :func:`fastembed.reference.embed_layernorm`.
* GPT-2 family (``gpt2``): ``wte[ids] + wpe[positions]`` through the table's fused embed kernel.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from fastembed._kernels import _gather
from fastembed._threads import GRAIN_COPY_BYTES, team_size
from fastembed._validate import as_ids, check_out, raise_bad_id
from fastembed.table import EmbeddingTable
from fastembed.text._files import missing_model, read_json, tensor_names, tensors
from fastembed.text.tokenizer import Tokenizer, texts_list

__all__ = ["TransformerEmbedding", "BERT_FAMILY", "GPT2_FAMILY"]

BERT_FAMILY = ("bert", "distilbert", "roberta", "xlm-roberta", "camembert", "electra")
GPT2_FAMILY = ("gpt2",)
_EXPECTED = ["config.json (model_type one of " + ", ".join(BERT_FAMILY + GPT2_FAMILY) + "), model.safetensors, "
             "tokenizer.json"]
_STREAM_BYTES = 1 << 23  # outputs past this size are written with streaming stores


def _find(names: Sequence[str], suffix: str) -> Optional[str]:
    """The tensor whose name is ``suffix`` or ends with ``.suffix`` (checkpoints prefix them with
    "bert.", "roberta.", "transformer.", ...); the shortest such name."""
    hits = sorted((n for n in names if n == suffix or n.endswith("." + suffix)), key=len)
    return hits[0] if hits else None


class TransformerEmbedding:
    """The input embedding layer of a transformer checkpoint: ``emb(texts)`` -> (B, T, D) float32.

    Build with :meth:`from_pretrained`; call it on texts (tokenized and padded as the checkpoint's
    tokenizer pads with ``padding=True``) or use :meth:`embed_ids` on ids.

    Attributes
    ----------
    table : EmbeddingTable
        The (V, D) word embeddings.
    positions : ndarray, (P, D) float32
    token_types : ndarray, (n_types, D) float32, or None
    gamma, beta : ndarray, (D,) float32, or None (GPT-2: no LayerNorm in the embedding layer)
    eps : float
    model_type : str
    tokenizer : Tokenizer or None
    padding_idx : int or None
        RoBERTa family: position ids count from ``padding_idx + 1`` over non-padding tokens.
    """

    def __init__(self, words, positions, *, token_types=None, gamma=None, beta=None, eps: float = 1e-12,
                 model_type: str = "bert", tokenizer: Optional[Tokenizer] = None, padding_idx: Optional[int] = None,
                 path: Optional[str] = None):
        self.table = words if isinstance(words, EmbeddingTable) else EmbeddingTable(
            np.ascontiguousarray(words, np.float32), copy=False)
        D = self.table.dim
        self.positions = self._matrix(positions, "positions", D)
        self.token_types = None if token_types is None else self._matrix(token_types, "token_types", D)
        if (gamma is None) != (beta is None):
            raise ValueError("gamma and beta go together (LayerNorm), give both or neither")
        self.gamma = None if gamma is None else self._vector(gamma, "gamma", D)
        self.beta = None if beta is None else self._vector(beta, "beta", D)
        self.eps = float(eps)
        self.model_type = model_type
        self.tokenizer = tokenizer
        self.padding_idx = padding_idx
        self.path = path

    @staticmethod
    def _matrix(a, name: str, D: int) -> np.ndarray:
        a = np.ascontiguousarray(a, np.float32)
        if a.ndim != 2 or a.shape[1] != D:
            raise ValueError(f"{name} must be 2-D with {D} columns (the word embeddings' width), got shape {a.shape}")
        return a

    @staticmethod
    def _vector(a, name: str, D: int) -> np.ndarray:
        a = np.ascontiguousarray(a, np.float32)
        if a.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},), got {a.shape}")
        return a

    @property
    def dim(self) -> int:
        return self.table.dim

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_pretrained(cls, path, *, backend: Optional[str] = None) -> "TransformerEmbedding":
        """Load the embedding layer of a checkpoint directory (``config.json``,
        ``model.safetensors``, and ``tokenizer.json`` for calls on text).

        Raises
        ------
        FileNotFoundError : not a checkpoint directory (the message lists the files expected and
            found).
        ValueError : a model type other than the BERT / GPT-2 families, or missing tensors (named).
        """
        p = os.fspath(path)
        cfg_f, st_f, tok_f = (os.path.join(p, n) for n in ("config.json", "model.safetensors", "tokenizer.json"))
        if not (os.path.isdir(p) and os.path.isfile(cfg_f) and os.path.isfile(st_f)):
            raise missing_model(p, "transformer checkpoint", _EXPECTED)
        cfg = read_json(cfg_f)
        mt = cfg.get("model_type")
        names = tensor_names(st_f)
        tok = Tokenizer.from_pretrained(tok_f, backend=backend) if os.path.isfile(tok_f) else None
        if mt in GPT2_FAMILY:
            wte, wpe = _find(names, "wte.weight"), _find(names, "wpe.weight")
            if wte is None or wpe is None:
                raise ValueError(f"{st_f} has no GPT-2 embeddings (wte.weight, wpe.weight)")
            t = tensors(st_f, [wte, wpe])
            return cls(t[wte], t[wpe], model_type=mt, tokenizer=tok, path=p)
        if mt not in BERT_FAMILY:
            raise ValueError(f"{cfg_f}: model_type {mt!r} is not supported (BERT family: {', '.join(BERT_FAMILY)}; "
                             f"GPT-2 family: {', '.join(GPT2_FAMILY)})")
        want = {"words": "embeddings.word_embeddings.weight", "positions": "embeddings.position_embeddings.weight",
                "gamma": "embeddings.LayerNorm.weight", "beta": "embeddings.LayerNorm.bias"}
        found = {k: _find(names, v) for k, v in want.items()}
        missing = [want[k] for k, v in found.items() if v is None]
        if missing:
            raise ValueError(f"{st_f} has no tensor {', '.join(missing)} (a {mt} checkpoint's embeddings)")
        types_name = _find(names, "embeddings.token_type_embeddings.weight")
        t = tensors(st_f, [v for v in found.values()] + ([types_name] if types_name else []))
        eps = cfg.get("layer_norm_eps", 1e-12)
        pad = cfg.get("pad_token_id") if mt in ("roberta", "xlm-roberta", "camembert") else None
        # ELECTRA's embeddings_project follows the LayerNorm: the layer here stops before it
        return cls(t[found["words"]], t[found["positions"]], token_types=t[types_name] if types_name else None,
                   gamma=t[found["gamma"]], beta=t[found["beta"]], eps=eps, model_type=mt, tokenizer=tok,
                   padding_idx=None if pad is None else int(pad), path=p)

    # ---------------------------------------------------------------- ids -> vectors

    def _index(self, a, name: str, shape, n: int, what: str) -> np.ndarray:
        x = as_ids(a, name)
        if x.shape != shape:
            raise ValueError(f"{name} has shape {x.shape}, expected {shape} (the shape of ids)")
        x = np.ascontiguousarray(x, np.int64).reshape(-1)
        bad = np.flatnonzero((x < 0) | (x >= n))
        if bad.size:
            raise_bad_id(x.reshape(shape), int(bad[0]), n, what=what, table=f"the {what} table")
        return x

    def embed_ids(self, ids, token_types=None, positions=None, *, out=None, n_threads=None) -> np.ndarray:
        """The embedding layer's output for token ids.

        Parameters
        ----------
        ids : integer array, (B, T) or (T,)
        token_types : integer array like ids, optional
            Default: type 0 everywhere (BERT family; ignored by models without a type table).
        positions : integer array like ids, optional
            Default: ``0 .. T-1`` in every row (RoBERTa family: ``padding_idx + 1`` onward over
            non-padding tokens, ``padding_idx`` on padding, as transformers computes them).
        out : ndarray, float32, ids.shape + (D,), optional
        n_threads : int, optional

        Returns
        -------
        ndarray, ids.shape + (D,) float32

        Raises
        ------
        IndexError : an id, type or position past its table, naming its position (b, t).
        ValueError : shapes that disagree, sequences longer than the position table.
        """
        x = as_ids(ids)
        if x.ndim not in (1, 2):
            raise ValueError(f"ids must be 1-D (T,) or 2-D (B, T), got shape {x.shape}")
        shape = x.shape
        T = shape[-1]
        D, P = self.dim, self.positions.shape[0]
        flat = np.ascontiguousarray(x, np.int64).reshape(-1)
        pidx = None
        if positions is not None:
            pidx = self._index(positions, "positions", shape, P, "position")
        elif self.padding_idx is not None:
            mask = (x != self.padding_idx).astype(np.int64)
            pos = np.cumsum(mask, axis=-1) * mask + self.padding_idx
            pidx = self._index(pos, "positions", shape, P, "position")
        elif T > P:
            raise ValueError(f"sequences of {T} tokens are longer than the {P} positions of this model")
        types, tidx = None, None
        if self.token_types is not None:
            types = self.token_types
            if token_types is not None:
                tidx = self._index(token_types, "token_types", shape, types.shape[0], "token type")
        out_shape = shape + (D,)
        out = np.empty(out_shape, np.float32) if out is None else check_out(out, out_shape, self.table.weights)
        o2 = out.reshape(-1, D)
        nt = team_size(flat.size * D * 4, GRAIN_COPY_BYTES, n_threads, items=max(flat.size, 1))
        stream = out.nbytes >= _STREAM_BYTES
        offsets = None if pidx is not None else np.zeros(max(flat.size // max(T, 1), 1), np.int64)
        W = self.table.weights
        if self.gamma is not None:
            bad = _gather.embed_layernorm(W, flat, self.positions, pidx, 1.0, types, tidx, self.gamma, self.beta,
                                          self.eps, o2, nt, stream, offsets, T)
        else:
            bad = _gather.embed(W, 0, None, flat, self.positions, pidx, 1.0, types, tidx, o2, nt, stream, offsets, T)
        if bad >= 0:
            raise_bad_id(x, bad, W.shape[0], table="the word embeddings")
        return out

    # ---------------------------------------------------------------- text -> vectors

    def tokenize(self, texts: Sequence[str], text_pairs: Optional[Sequence[str]] = None, *,
                 max_length: Optional[int] = None, n_threads=None) -> dict:
        """The padded batch the checkpoint's tokenizer makes with ``padding=True`` (and
        ``truncation=True, max_length=max_length`` when given): ``input_ids``,
        ``attention_mask``, ``token_type_ids``, each (B, T) int64, padded on the tokenizer's
        ``padding_side``. ``text_pairs``: one second text per text (token type 1)."""
        if self.tokenizer is None:
            raise ValueError(f"{self.path or 'this model'} has no tokenizer.json: use embed_ids")
        return self.tokenizer(texts_list(texts), text_pairs, padding=True, max_length=max_length,
                              n_threads=n_threads)

    def __call__(self, texts: Sequence[str], text_pairs: Optional[Sequence[str]] = None, *,
                 max_length: Optional[int] = None, n_threads=None) -> np.ndarray:
        """(B, T, D) float32 for ``texts`` (or the pairs ``texts[b]``, ``text_pairs[b]``: BERT's
        ``[CLS] a [SEP] b [SEP]`` with token types 0 / 1), T the longest text's tokens (special
        tokens included); padding positions hold the pad token's embedding, as the model's own
        embedding layer gives (mask them with :meth:`tokenize`'s ``attention_mask``).

        Left-padded GPT-2-family batches (a tokenizer whose ``padding_side`` is left) count
        positions from each text's first token, as transformers' ``generate`` does
        (``attention_mask.cumsum(-1) - 1``, position 1 on padding): a text's vectors do not
        depend on the padding in front of it."""
        batch = self.tokenize(texts, text_pairs, max_length=max_length, n_threads=n_threads)
        positions = None
        mask = batch["attention_mask"]
        if self.model_type in GPT2_FAMILY and mask.size and not mask[:, 0].all():
            positions = np.where(mask == 1, np.cumsum(mask, axis=-1) - 1, 1)
        return self.embed_ids(batch["input_ids"], batch["token_type_ids"], positions, n_threads=n_threads)

    def __repr__(self) -> str:
        return (f"TransformerEmbedding({self.path!r}, {self.model_type}, {self.table.num_embeddings} x {self.dim}, "
                f"LayerNorm={'yes' if self.gamma is not None else 'no'})")
