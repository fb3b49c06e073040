"""Texts to ragged token ids: a ``tokenizer.json`` (Hugging Face's format) read once, texts encoded
to one flat int64 array of ids and (B + 1,) offsets (no Python list per text).

Two backends, one behaviour:

* **native** - csrc/fe_wordpiece.h, for a tokenizer.json of exactly the shape it implements
  (BertNormalizer, BertPreTokenizer, WordPiece, a template of special tokens around one sequence,
  added tokens matched in the raw text): OpenMP over texts, GIL released, the same ids as
  ``tokenizers`` (tests/test_text_tokenizer.py and tests/test_text_unicode.py hold it to that).
* **tokenizers** - Hugging Face ``tokenizers`` itself, for every other configuration (BPE, Unigram,
  other normalizers or pre-tokenizers, ...). :attr:`Tokenizer.backend` says which one runs and
  :attr:`Tokenizer.native_problem` why a file is not native.
"""
from __future__ import annotations

import json
import os
import threading
from itertools import chain
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from fastembed._kernels import _wordpiece
from fastembed._threads import GRAIN_TOKENIZE_BYTES, team_size

__all__ = ["Tokenizer", "TokenIds", "tokenizer_file", "texts_list"]

_CONFIG = object()  # "as the tokenizer.json says"


class TokenIds:
    """Ragged token ids of B texts: ``ids[offsets[b]:offsets[b + 1]]`` are text b's.

    Attributes
    ----------
    ids : ndarray, (N,) int64
    offsets : ndarray, (B + 1,) int64
        Non-decreasing, ``offsets[0] == 0`` and ``offsets[-1] == N`` (a CSR index pointer; pass
        ``offsets`` with ``include_last_offset=True`` to :func:`fastembed.pooling.bag`).
    """

    __slots__ = ("ids", "offsets")

    def __init__(self, ids: np.ndarray, offsets: np.ndarray):
        self.ids = ids
        self.offsets = offsets

    def __len__(self) -> int:
        return self.offsets.size - 1

    def __getitem__(self, b: int) -> np.ndarray:
        """Text b's ids (a view), as an int64 array."""
        n = len(self)
        if not -n <= b < n:
            raise IndexError(f"text {b} is out of range for {n} texts")
        b = b % n
        return self.ids[self.offsets[b]:self.offsets[b + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """(B,) int64 ids per text."""
        return np.diff(self.offsets)

    def tolist(self) -> List[List[int]]:
        """The ids as a list of lists (for comparisons; the arrays are the efficient form)."""
        flat = self.ids.tolist()
        o = self.offsets.tolist()
        return [flat[o[b]:o[b + 1]] for b in range(len(self))]

    def __repr__(self) -> str:
        return f"TokenIds({len(self)} texts, {self.ids.size} ids)"


def tokenizer_file(path) -> str:
    """The tokenizer.json of a model directory (or the file itself); FileNotFoundError otherwise."""
    p = os.fspath(path)
    if os.path.isdir(p):
        f = os.path.join(p, "tokenizer.json")
        if not os.path.isfile(f):
            found = sorted(os.listdir(p))
            raise FileNotFoundError(f"{p} has no tokenizer.json (found: {', '.join(found) or 'nothing'})")
        return f
    if not os.path.isfile(p):
        raise FileNotFoundError(f"no tokenizer file or model directory at {p}")
    return p


def texts_list(texts) -> list:
    """``texts`` as a list (a str is refused: pass ``[text]``); the items are checked by the
    encoders (TypeError naming the first item that is not a str)."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a sequence of str, got a single {type(texts).__name__} "
                        "(wrap it in a list)")
    if type(texts) is list:
        return texts
    try:
        return list(texts)
    except TypeError:
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}") from None


# ------------------------------------------------------------------ what the native path implements

def _native_problem(cfg: dict) -> Optional[str]:
    """None if csrc/fe_wordpiece.h implements this tokenizer.json exactly, else why not."""
    model = cfg.get("model") or {}
    if model.get("type") != "WordPiece":
        return f"model type {model.get('type')!r} (native: WordPiece)"
    if not isinstance(model.get("vocab"), dict):
        return "the WordPiece vocabulary is not a mapping"
    if model.get("unk_token") not in model["vocab"]:
        return f"unk_token {model.get('unk_token')!r} is not in the vocabulary"
    norm = cfg.get("normalizer")
    if not isinstance(norm, dict) or norm.get("type") != "BertNormalizer":
        return f"normalizer {None if norm is None else norm.get('type')!r} (native: BertNormalizer)"
    for key in ("clean_text", "handle_chinese_chars", "lowercase"):
        if not isinstance(norm.get(key), bool):
            return f"BertNormalizer.{key} = {norm.get(key)!r}"
    if norm.get("strip_accents") not in (None, True, False):
        return f"BertNormalizer.strip_accents = {norm.get('strip_accents')!r}"
    pre = cfg.get("pre_tokenizer")
    if not isinstance(pre, dict) or pre.get("type") != "BertPreTokenizer":
        return f"pre_tokenizer {None if pre is None else pre.get('type')!r} (native: BertPreTokenizer)"
    for tok in cfg.get("added_tokens") or []:
        for flag in ("single_word", "lstrip", "rstrip", "normalized"):
            if tok.get(flag):
                return f"added token {tok.get('content')!r} has {flag}=true"
        if not tok.get("content"):
            return "an added token is empty"
    trunc = cfg.get("truncation")
    if trunc is not None:
        if trunc.get("strategy", "LongestFirst") not in ("LongestFirst", "OnlyFirst"):
            return f"truncation strategy {trunc.get('strategy')!r}"
        if trunc.get("direction", "Right") not in ("Right", "Left"):
            return f"truncation direction {trunc.get('direction')!r}"
    try:
        _template(cfg)
    except ValueError as e:
        return str(e)
    return None


def _template(cfg: dict) -> Tuple[List[int], List[int], List[int], List[int], int]:
    """(prefix ids, prefix type ids, suffix ids, suffix type ids, sequence type id) of the
    post-processor for one sequence; ValueError for a post-processor the native path lacks."""
    post = cfg.get("post_processor")
    if post is None:
        return [], [], [], [], 0
    kind = post.get("type")
    if kind == "BertProcessing":
        (_, cls_id), (_, sep_id) = post["cls"], post["sep"]
        return [int(cls_id)], [0], [int(sep_id)], [0], 0
    if kind != "TemplateProcessing":
        raise ValueError(f"post_processor {kind!r} (native: TemplateProcessing, BertProcessing or none)")
    special = post.get("special_tokens") or {}
    pre, pre_t, suf, suf_t, seq_t, seen = [], [], [], [], 0, False
    for piece in post.get("single") or []:
        if "Sequence" in piece:
            if seen or piece["Sequence"].get("id") != "A":
                raise ValueError("a template that is not [specials] $A [specials]")
            seen, seq_t = True, int(piece["Sequence"].get("type_id", 0))
            continue
        sp = piece.get("SpecialToken") or {}
        ids = (special.get(sp.get("id")) or {}).get("ids")
        if ids is None:
            raise ValueError(f"template special token {sp.get('id')!r} without ids")
        (suf if seen else pre).extend(int(i) for i in ids)
        (suf_t if seen else pre_t).extend([int(sp.get("type_id", 0))] * len(ids))
    if not seen:
        raise ValueError("a template without the sequence $A")
    if len(pre) > 8 or len(suf) > 8:
        raise ValueError("more than 8 special tokens around the sequence")
    return pre, pre_t, suf, suf_t, seq_t


def _sorted_blob(items: Iterable[Tuple[str, int]]):
    """(blob, offsets, ids) of (token, id) pairs, sorted bytewise (the trie's build order)."""
    enc = sorted((t.encode("utf-8"), int(i)) for t, i in items)
    blob = b"".join(t for t, _ in enc)
    off = np.zeros(len(enc) + 1, np.int64)
    if enc:
        np.cumsum([len(t) for t, _ in enc], out=off[1:])
    return blob, off, np.array([i for _, i in enc], np.int64)


# ------------------------------------------------------------------ the tokenizer

class Tokenizer:
    """A ``tokenizer.json`` (Hugging Face ``tokenizers``' file format), encoding texts to ragged ids.

    Build with :meth:`from_pretrained`. Every configuration ``tokenizers`` reads is supported;
    BERT-family WordPiece files run natively (see the module docstring), the rest through
    ``tokenizers`` (the ``[text]`` extra).

    Attributes
    ----------
    backend : {"native", "tokenizers"}
    native_problem : str or None
        Why the file does not run natively (None when it does).
    max_length : int or None
        The file's truncation length (None: no truncation).
    pad_id : int or None
        The file's padding id, else the id of its pad token ("[PAD]", "<pad>"), else None.
    """

    def __init__(self, config: dict, path: Optional[str] = None, backend: Optional[str] = None):
        self.config = config
        self.path = path
        self.native_problem = _native_problem(config)
        if backend not in (None, "native", "tokenizers"):
            raise ValueError(f"backend must be None, 'native' or 'tokenizers', got {backend!r}")
        if backend == "native" and self.native_problem is not None:
            raise ValueError(f"{path or 'this tokenizer'} cannot run natively: {self.native_problem}")
        self.backend = backend or ("native" if self.native_problem is None else "tokenizers")
        trunc = config.get("truncation")
        self.max_length: Optional[int] = int(trunc["max_length"]) if trunc else None
        self.truncate_left = bool(trunc) and trunc.get("direction", "Right") == "Left"
        model = config.get("model") or {}
        vocab = model.get("vocab")
        self._vocab = dict(vocab) if isinstance(vocab, dict) else None
        for tok in config.get("added_tokens") or []:
            if self._vocab is not None:
                self._vocab.setdefault(tok["content"], int(tok["id"]))
        pre, pre_t, suf, suf_t, seq_t = _template(config) if self.native_problem is None else ([], [], [], [], 0)
        self._n_special = len(pre) + len(suf)
        self._types = (pre_t, seq_t, suf_t)
        self._hf = None
        self._hf_lock = threading.Lock()
        self._wp = None
        if self.backend == "native":
            norm = config["normalizer"]
            lower = norm["lowercase"]
            strip = lower if norm.get("strip_accents") is None else norm["strip_accents"]
            blob, off, ids = _sorted_blob(model["vocab"].items())
            added = config.get("added_tokens") or []
            ablob, aoff, aids = _sorted_blob((t["content"], t["id"]) for t in added)
            self._wp = _wordpiece.WordPiece(
                blob, off, ids, model.get("continuing_subword_prefix", "##").encode("utf-8"),
                int(model["vocab"][model["unk_token"]]), int(model.get("max_input_chars_per_word", 100)),
                norm["clean_text"], norm["handle_chinese_chars"], strip, lower, ablob, aoff, aids,
                np.array(pre, np.int64), np.array(suf, np.int64))
        pad = config.get("padding")
        pad_id = None
        if pad and pad.get("pad_id") is not None:
            pad_id = int(pad["pad_id"])
        elif self._vocab is not None:
            for name in ("[PAD]", "<pad>", "<|padding|>"):
                if name in self._vocab:
                    pad_id = int(self._vocab[name])
                    break
        self.pad_id: Optional[int] = pad_id
        self.pad_type_id = int(pad.get("pad_type_id", 0)) if pad else 0
        # the file's padding direction; from_pretrained lets tokenizer_config.json's padding_side
        # (what transformers' tokenizers use) override it
        self.padding_side = "left" if pad and pad.get("direction") == "Left" else "right"

    @classmethod
    def from_pretrained(cls, path, *, backend: Optional[str] = None) -> "Tokenizer":
        """Read ``path``: a model directory holding ``tokenizer.json``, or the file itself.

        Parameters
        ----------
        path : str or os.PathLike
        backend : {None, "native", "tokenizers"}
            None: native when the file is one the native path implements exactly, else
            ``tokenizers``. "native" raises ValueError (saying why) for a file it does not
            implement; "tokenizers" always uses Hugging Face ``tokenizers``.
        """
        f = tokenizer_file(path)
        try:
            with open(f, "rb") as fh:
                config = json.loads(fh.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{f} is not a JSON tokenizer file: {e}") from None
        if not isinstance(config, dict) or "model" not in config:
            raise ValueError(f"{f} is not a tokenizers file (no 'model' entry)")
        tok = cls(config, f, backend)
        side = _padding_side(os.path.join(os.path.dirname(f), "tokenizer_config.json"))
        if side is not None:
            tok.padding_side = side
        return tok

    # ---------------------------------------------------------------- vocabulary

    @property
    def vocab_size(self) -> int:
        """Ids in the vocabulary (added tokens included): every id is below this."""
        if self._vocab is not None:
            return max(self._vocab.values()) + 1 if self._vocab else 0
        return self.hf.get_vocab_size(with_added_tokens=True)

    def token_to_id(self, token: str) -> Optional[int]:
        """The id of ``token`` (None if it is not in the vocabulary)."""
        if self._vocab is not None:
            i = self._vocab.get(token)
            return None if i is None else int(i)
        return self.hf.token_to_id(token)

    @property
    def unk_id(self) -> Optional[int]:
        """The id that stands for unknown text (model2vec leaves it out of its means), or None."""
        model = self.config.get("model") or {}
        if model.get("type") == "Unigram":
            u = model.get("unk_id")
            return None if u is None else int(u)
        tok = model.get("unk_token")
        return None if tok is None else self.token_to_id(tok)

    @property
    def hf(self):
        """The Hugging Face ``tokenizers.Tokenizer`` of the same file (padding off), loaded on
        first use: the reference, and the backend for files the native path does not implement."""
        if self._hf is None:
            try:
                import tokenizers
            except ImportError:
                raise ImportError(f"{self.path or 'this tokenizer'} needs Hugging Face `tokenizers` "
                                  f"({self.native_problem}): pip install 'fastembed-engine[text]'") from None
            hf = tokenizers.Tokenizer.from_str(json.dumps(self.config))
            hf.no_padding()
            self._hf = hf
        return self._hf

    # ---------------------------------------------------------------- encoding

    def _trunc(self, max_length) -> int:
        """The truncation length for a call (-1: none); ValueError for a bad one."""
        if max_length is _CONFIG:
            return -1 if self.max_length is None else self.max_length
        if max_length is None:
            return -1
        if isinstance(max_length, bool) or not hasattr(max_length, "__index__"):
            raise TypeError(f"max_length must be an int or None, got {max_length!r}")
        m = int(max_length)
        if m < 1:
            raise ValueError(f"max_length must be at least 1, got {m}")
        return m

    def encode_batch(self, texts: Sequence[str], *, add_special_tokens: bool = True, max_length=_CONFIG,
                     n_threads=None, max_chars: Optional[int] = None, skip_unk: bool = False,
                     truncation_side: Optional[str] = None) -> TokenIds:
        """Encode ``texts`` to ragged ids.

        Parameters
        ----------
        texts : sequence of str
        add_special_tokens : bool
            The post-processor's special tokens ([CLS] ... [SEP] for BERT), as ``tokenizers``.
        max_length : int or None, optional
            Truncate each text's ids (special tokens included) to this many; default: the file's
            truncation setting; None: no truncation.
        n_threads : int, optional
            Threads of the native path (fastembed's policy: None = all cores for large calls).
            The ``tokenizers`` backend uses its own thread pool.
        max_chars : int, optional
            Encode only each text's first ``max_chars`` characters (model2vec's pre-truncation).
        skip_unk : bool
            Leave the unknown-token id out (model2vec's encode does).
        truncation_side : {None, "right", "left"}
            Which ids truncation keeps (right: the first ones); default: the file's direction.

        Returns
        -------
        TokenIds : flat (N,) int64 ids and (B + 1,) int64 offsets.

        Raises
        ------
        TypeError : an item that is not a str (its index named).
        ValueError : a str that is not valid Unicode (a lone surrogate; its index named), a
            ``max_length`` below the number of special tokens.
        """
        texts = texts_list(texts)
        trunc = self._trunc(max_length)
        nspec = self._n_special if add_special_tokens else 0
        if trunc >= 0 and trunc < nspec:
            raise ValueError(f"max_length {trunc} leaves no room for the {self._n_special} special tokens")
        stride = int((self.config.get("truncation") or {}).get("stride", 0))
        if trunc >= 0 and stride and stride >= trunc - nspec:
            raise ValueError(f"max_length {trunc} leaves {trunc - nspec} ids besides the special tokens: the "
                             f"file's truncation stride ({stride}) must be smaller (tokenizers' rule)")
        if truncation_side not in (None, "right", "left"):
            raise ValueError(f"truncation_side must be None, 'right' or 'left', got {truncation_side!r}")
        left = self.truncate_left if truncation_side is None else truncation_side == "left"
        mc = -1 if max_chars is None else int(max_chars)
        skip = -1
        if skip_unk:
            u = self.unk_id
            skip = -1 if u is None else u
        if self.backend == "native":
            # the team from the number of texts at ~100 bytes each (measuring them would cost a pass)
            nt = team_size(len(texts) * 100, GRAIN_TOKENIZE_BYTES, n_threads, items=max(len(texts), 1))
            ids, offsets = self._wp.encode(texts, add_special_tokens, trunc, left, mc, skip, nt)
            return TokenIds(ids, offsets)
        return self._encode_hf(texts, add_special_tokens, trunc, mc, skip, left)

    def _run_hf(self, inputs: list, add_special: bool, trunc: int, left: bool) -> list:
        """``tokenizers``' encodings of ``inputs`` (str, or (str, str) pairs) with this call's
        truncation."""
        hf = self.hf
        with self._hf_lock:  # truncation is a setting of the shared tokenizers object
            trunc_cfg = self.config.get("truncation") or {}
            if trunc < 0:
                hf.no_truncation()
            else:
                hf.enable_truncation(trunc, stride=int(trunc_cfg.get("stride", 0)),
                                     strategy=_snake(trunc_cfg.get("strategy", "LongestFirst")),
                                     direction="left" if left else "right")
            fn = getattr(hf, "encode_batch_fast", None) or hf.encode_batch
            return fn(inputs, add_special_tokens=add_special)

    def _encode_hf(self, texts: list, add_special: bool, trunc: int, max_chars: int, skip: int,
                   left: bool) -> TokenIds:
        _check_texts(texts, "texts")
        if max_chars >= 0:
            texts = [t[:max_chars] for t in texts]
        encs = self._run_hf(texts, add_special, trunc, left)
        lens = np.fromiter((len(e.ids) for e in encs), np.int64, len(encs))
        offsets = np.zeros(len(encs) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        ids = np.fromiter(chain.from_iterable(e.ids for e in encs), np.int64, int(offsets[-1]))
        if skip >= 0:
            keep = ids != skip
            if not keep.all():
                cum = np.concatenate([[0], np.cumsum(keep)])
                offsets = cum[offsets].astype(np.int64)
                ids = ids[keep]
        return TokenIds(ids, offsets)

    def encode(self, text: str, *, add_special_tokens: bool = True, max_length=_CONFIG) -> np.ndarray:
        """One text's ids, (n,) int64."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return self.encode_batch([text], add_special_tokens=add_special_tokens, max_length=max_length,
                                 n_threads=1).ids

    def encode_pairs(self, texts: Sequence[str], text_pairs: Sequence[str], *, add_special_tokens: bool = True,
                     max_length=_CONFIG) -> Tuple[TokenIds, np.ndarray]:
        """Encode sentence pairs as one sequence each (BERT: ``[CLS] a [SEP] b [SEP]``), through
        ``tokenizers`` (its pair template and truncation strategy, e.g. longest-first).

        Returns
        -------
        (TokenIds, (N,) int64 token type ids): type 0 for the first text and its special tokens,
        1 for the second (as the file's pair template says).

        Raises
        ------
        ValueError : ``texts`` and ``text_pairs`` of different lengths, a str that is not valid
            Unicode; TypeError : an item that is not a str (its list and index named).
        """
        texts, pairs = texts_list(texts), texts_list(text_pairs)
        if len(texts) != len(pairs):
            raise ValueError(f"texts has {len(texts)} items and text_pairs {len(pairs)}: one pair per text")
        _check_texts(texts, "texts")
        _check_texts(pairs, "text_pairs")
        trunc = self._trunc(max_length)
        encs = self._run_hf(list(zip(texts, pairs)), add_special_tokens, trunc, self.truncate_left)
        lens = np.fromiter((len(e.ids) for e in encs), np.int64, len(encs))
        offsets = np.zeros(len(encs) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        n = int(offsets[-1])
        ids = np.fromiter(chain.from_iterable(e.ids for e in encs), np.int64, n)
        types = np.fromiter(chain.from_iterable(e.type_ids for e in encs), np.int64, n)
        return TokenIds(ids, offsets), types

    def __call__(self, texts: Sequence[str], text_pairs: Optional[Sequence[str]] = None, *,
                 padding: Union[bool, str, int] = True, max_length=_CONFIG, add_special_tokens: bool = True,
                 n_threads=None, padding_side: Optional[str] = None) -> dict:
        """``transformers``-style batch: ``{"input_ids", "attention_mask", "token_type_ids"}``, each
        (B, T) int64, padded with :attr:`pad_id` (type :attr:`pad_type_id`) on
        :attr:`padding_side`.

        text_pairs : sequence of str, optional
            A second text per text (sentence pairs, :meth:`encode_pairs`): token type 0 for the
            first, 1 for the second.
        padding : True or "longest" (to the longest text of the batch), "max_length" (to
            ``max_length``), an int (to that length), or False (every text the same length already,
            else ValueError).
        padding_side : {None, "right", "left"}
            Default: :attr:`padding_side` (tokenizer_config.json's ``padding_side``, else the
            direction in tokenizer.json, else right).
        """
        if padding_side not in (None, "right", "left"):
            raise ValueError(f"padding_side must be None, 'right' or 'left', got {padding_side!r}")
        left = (padding_side or self.padding_side) == "left"
        if text_pairs is not None:
            enc, flat_types = self.encode_pairs(texts, text_pairs, add_special_tokens=add_special_tokens,
                                                max_length=max_length)
        else:
            enc = self.encode_batch(texts, add_special_tokens=add_special_tokens, max_length=max_length,
                                    n_threads=n_threads)
            flat_types = None
        lengths = enc.lengths
        longest = int(lengths.max()) if lengths.size else 0
        if padding is True or padding == "longest":
            T = longest
        elif padding == "max_length":
            trunc = self._trunc(max_length)
            if trunc < 0:
                raise ValueError("padding='max_length' needs a max_length (none given, none in the file)")
            T = trunc
        elif padding is False:
            if lengths.size and (lengths != longest).any():
                b = int(np.flatnonzero(lengths != longest)[0])
                raise ValueError(f"padding=False but text {b} has {int(lengths[b])} ids and another {longest}")
            T = longest
        elif isinstance(padding, int) and not isinstance(padding, bool):
            if padding < longest:
                raise ValueError(f"padding={padding} is shorter than the longest text ({longest} ids)")
            T = padding
        else:
            raise ValueError(f"padding must be True, False, 'longest', 'max_length' or an int, got {padding!r}")
        if self.pad_id is None and (lengths != T).any():
            raise ValueError(f"{self.path or 'this tokenizer'} has no pad token: cannot pad")
        B = len(enc)
        ids = np.full((B, T), self.pad_id if self.pad_id is not None else 0, np.int64)
        col = np.arange(T)[None, :]
        keep = col >= (T - lengths)[:, None] if left else col < lengths[:, None]
        ids[keep] = enc.ids  # row-major: each row's ids in order, after (left) or before (right) its padding
        types = np.full((B, T), self.pad_type_id, np.int64)
        types[keep] = self._type_ids(enc, add_special_tokens) if flat_types is None else flat_types
        return {"input_ids": ids, "attention_mask": keep.astype(np.int64), "token_type_ids": types}

    def _type_ids(self, enc: TokenIds, add_special: bool) -> np.ndarray:
        """(N,) int64 token type ids of the flat ids: the template's types."""
        pre_t, seq_t, suf_t = self._types
        if self.backend != "native":
            t = self.hf.post_processor
            if t is None:
                return np.zeros(enc.ids.size, np.int64)
        out = np.full(enc.ids.size, seq_t, np.int64)
        if add_special and (any(pre_t) or any(suf_t)):
            for b in range(len(enc)):
                s, e = int(enc.offsets[b]), int(enc.offsets[b + 1])
                out[s:s + len(pre_t)] = pre_t[: e - s]
                if suf_t:
                    out[max(s, e - len(suf_t)):e] = suf_t[-(e - s):]
        return out

    def __repr__(self) -> str:
        return f"Tokenizer({self.path!r}, backend={self.backend!r})"


def _check_texts(texts: list, name: str) -> None:
    """TypeError for an item that is not a str, ValueError for one that is not valid Unicode
    (a lone surrogate), each naming ``name[i]``."""
    for i, t in enumerate(texts):
        if type(t) is not str and not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__}, not str")
    for i, t in enumerate(texts):
        if not t.isascii():
            try:
                t.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError(f"{name}[{i}] is not valid Unicode: {e.reason} at character {e.start} "
                                 f"(U+{ord(t[e.start]):04X})") from None


def _padding_side(path: str) -> Optional[str]:
    """tokenizer_config.json's ``padding_side`` ("left" / "right"), or None (no file, no entry)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as fh:
            cfg = json.loads(fh.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a JSON file: {e}") from None
    side = cfg.get("padding_side") if isinstance(cfg, dict) else None
    if side is None:
        return None
    if side not in ("left", "right"):
        raise ValueError(f"{path}: padding_side must be 'left' or 'right', got {side!r}")
    return side


def _snake(name: str) -> str:
    return {"LongestFirst": "longest_first", "OnlyFirst": "only_first", "OnlySecond": "only_second"}.get(name, name)
