"""Pure-numpy reference implementations: the same signatures and semantics as the compiled kernels.

This is product code, not a test helper: the tests assert the kernels equal these functions, and
``bench/`` times them as the baseline. They favour clarity over speed.

Storage dtypes: the table functions (``lookup``, ``embed``, ``row_norms``, ``inv_norms``, ``topk``,
``analogy``, ``scores``, ``apply_sparse``) take ``dtype=`` ("float32", "float16", "bfloat16",
"int8"): ``weights`` is then the stored array (float16, or the uint16 bits of bfloat16), or for the
row-scaled int8 a pair ``(codes, scales)``, turned into float32 values first (the exact upcast;
``float32(code) * scale`` for int8; :mod:`fastembed._dtypes`), which is what the kernels compute on.
"""
from __future__ import annotations

import bz2
import gzip
import math
import os
import re
import struct
from collections import Counter
from fractions import Fraction

import numpy as np

__all__ = ["lookup", "one_hot", "embed", "sinusoidal_table", "topk", "row_norms", "inv_norms", "analogy", "backward",
           "apply_sparse", "w2v_batch", "load_text", "load_binary", "parse_float32", "bag", "bag_backward",
           "mean_vector", "sif", "fasttext_hash", "fasttext_ngrams", "fasttext_ngram_ids", "fasttext_vectors",
           "load_fasttext_bin", "glove_cooccurrence", "glove_records", "glove_shuffle", "glove_epoch",
           "int8_quantize", "int8_coefficients", "int8_query_codes", "int8_bounds", "int8_search",
           "half_index_rows", "half_index_coefficients", "half_index_bounds", "embed_layernorm"]


def _dtype_name(dtype) -> str:
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in ("float32", "float16", "bfloat16", "int8"):
        raise ValueError(f"dtype={dtype!r}: one of float32, float16, bfloat16, int8")
    return name


def _rows(weights, dtype) -> np.ndarray:
    """A table's rows as float32: the exact upcast of stored half rows (``dtype`` given). float16:
    numpy's conversion with NaNs made quiet (as x86's F16C does); bfloat16 (uint16 bits): the bits
    become the top half of a float32; int8: ``weights`` is ``(codes, scales)`` and a value is
    ``float32(code) * scale`` (one float32 multiply)."""
    name = "float32" if dtype is None else _dtype_name(dtype)
    if name == "int8":
        codes, scales = weights
        return np.asarray(codes).astype(np.float32) * np.asarray(scales, np.float32)[:, None]
    w = np.asarray(weights)
    if name == "float16":
        out = w.astype(np.float32)
        out.view(np.uint32)[np.isnan(out)] |= np.uint32(0x00400000)
        return out
    if name == "bfloat16":
        return (w.astype(np.uint32) << 16).view(np.float32)
    return weights


def _round_to(x: np.ndarray, dtype):
    """float32 -> the storage dtype, to nearest even (bfloat16 from its definition: the float32 is
    rounded to 8 significant bits, via exact float64 arithmetic; NaN stays NaN). int8: ``(codes,
    scales)``, each (finite) row's scale its largest magnitude / 127 in float32 and its codes
    ``rint(x / scale)`` (0 for a zero row)."""
    name = _dtype_name(dtype)
    if name == "int8":
        x = np.asarray(x, np.float32)
        scales = (np.abs(x).max(axis=1, initial=0.0) / np.float32(127.0)).astype(np.float32)
        codes = np.zeros(x.shape, np.int8)
        nz = scales > 0
        codes[nz] = np.clip(np.rint(x[nz] / scales[nz, None]), -127, 127).astype(np.int8)
        return codes, scales
    if name == "float16":
        with np.errstate(over="ignore"):
            return x.astype(np.float16)
    if name == "float32":
        return x
    x = np.asarray(x, np.float32)
    b = x.view(np.uint32).astype(np.uint64)
    low, high = b & 0xFFFF, b >> 16
    up = (low > 0x8000) | ((low == 0x8000) & (high & 1 == 1))  # past half an ulp, or a tie to odd
    r = (high + up).astype(np.uint32)
    r = np.where(np.isnan(x), (b >> 16).astype(np.uint32) | 0x40, r)
    return r.astype(np.uint16)


def lookup(weights: np.ndarray, ids, *, dtype=None) -> np.ndarray:
    """``weights[ids]``: (V, D) float32 (or stored as ``dtype``), ids of any shape ->
    (*ids.shape, D) float32."""
    weights = _rows(weights, dtype)
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= weights.shape[0]):
        raise IndexError("id out of range")
    return weights[ids]


def one_hot(ids, num_classes: int) -> np.ndarray:
    """(*ids.shape, num_classes) float32 with a single 1 per id."""
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def embed(weights, ids, positions, *, offset=0, position_ids=None, scale=None, token_types=None,
          type_table=None, dtype=None) -> np.ndarray:
    """``weights[ids] * scale + pos[p] (+ type_table[token_types])`` in two numpy passes.

    Same arguments as :meth:`EmbeddingTable.embed`; ``p[b, t] = offset(+[b]) + t`` or
    ``position_ids[b, t]``. ``dtype``: the storage dtype of ``weights`` (upcast exactly first).
    """
    weights = _rows(weights, dtype)
    ids = np.asarray(ids)
    single = ids.ndim == 1
    ids2 = ids[None, :] if single else ids
    B, T = ids2.shape
    pos = np.asarray(getattr(positions, "weights", positions), np.float32)
    if position_ids is not None:
        p = np.asarray(position_ids).reshape(B, T)
    else:
        p = np.reshape(np.asarray(offset), (-1, 1)) + np.arange(T)[None, :]
        p = np.broadcast_to(p, (B, T))
    s = np.float32(1.0 if scale is None else np.sqrt(weights.shape[1]) if scale == "sqrt" else scale)
    out = weights[ids2] * s + pos[p]
    if type_table is not None:
        tt = np.zeros((B, T), np.int64) if token_types is None else np.asarray(token_types).reshape(B, T)
        out = out + np.asarray(type_table, np.float32)[tt]
    return out[0] if single else out


def _sum64_rows(X) -> np.ndarray:
    """The 64-lane fixed-order float32 sum of every row of X (n, D) (csrc/impl/layernorm.h: element i
    to lane i % 64 in increasing i, lanes from +0.0; then lane l += l + 32, l += l + 16, and the
    16-lane tree of :func:`_dot16`)."""
    n, D = X.shape
    acc = np.zeros((n, 64), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(0, D, 64):
            c = X[:, i:i + 64]
            acc[:, : c.shape[1]] += c
        for w in (32, 16, 8, 4, 2, 1):
            acc[:, :w] += acc[:, w:2 * w]
    return acc[:, 0].copy()


def embed_layernorm(weights, ids, positions, gamma, beta, eps, *, position_ids=None, offset=0,
                    token_types=None, type_table=None, scale=None) -> np.ndarray:
    """BERT's embedding layer: ``LayerNorm(weights[ids] * scale + pos[p] (+ type_table[t]))`` with
    gamma / beta / eps, in float32 with the fused kernel's statistics (bit for bit):

    ``x`` as :func:`embed`; ``mean = S(x) / D``; ``var = S((x - mean)**2) / D`` (S: :func:`_sum64_rows`);
    ``rstd = 1 / sqrt(var + eps)``; ``out = ((x - mean) * rstd) * gamma + beta``.
    ids (B, T) or (T,); positions p as :func:`embed`; token_types (B, T), default type row 0 when a
    type table is given.
    """
    f32 = np.float32
    x = embed(weights, ids, positions, offset=offset, position_ids=position_ids, scale=scale,
              token_types=token_types, type_table=type_table)
    shape = x.shape
    X = np.ascontiguousarray(x, f32).reshape(-1, shape[-1])
    D = f32(X.shape[1])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean = _sum64_rows(X) / D
        c = X + (-mean)[:, None]
        var = _sum64_rows(c * c) / D
        rstd = f32(1) / np.sqrt(var + f32(eps))
        out = (c * rstd[:, None]) * np.asarray(gamma, f32) + np.asarray(beta, f32)
    return out.reshape(shape)


def sinusoidal_table(max_len: int, dim: int, *, layout: str = "interleaved",
                     base: float = 10000.0) -> np.ndarray:
    """Element by element with Python's math in float64, then one rounding to float32."""
    out = np.zeros((max_len, dim), np.float64)
    for pos in range(max_len):
        if layout == "interleaved":
            for i in range(dim):
                angle = pos / base ** ((i - i % 2) / dim)
                out[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
        else:
            half = dim // 2
            for i in range(half):
                angle = pos * math.exp(i * -(math.log(base) / max(half - 1, 1)))
                out[pos, i] = math.sin(angle)
                out[pos, half + i] = math.cos(angle)
    return out.astype(np.float32)


def _sumsq16(weights) -> np.ndarray:
    """(V,) float64 sums of squares in the kernels' fixed order (csrc/impl/norms.h): element i's
    exact square goes to float64 lane i % 16, lanes summed as in :func:`_dot16`."""
    X = np.asarray(weights, np.float32)
    V, D = X.shape
    acc = np.zeros((V, 16), np.float64)
    for i in range(0, D, 16):
        c = X[:, i:i + 16].astype(np.float64)
        acc[:, : c.shape[1]] += c * c  # a float32's square is exact in float64
    for w in (8, 4, 2, 1):
        acc[:, :w] += acc[:, w:2 * w]
    return acc[:, 0]


def row_norms(weights, *, dtype=None) -> np.ndarray:
    """(V,) float32 row norms from float64 sums of squares, bit for bit as the kernels (every SIMD
    level) compute them; ``np.linalg.norm(weights, axis=1)`` up to the summation order."""
    return np.sqrt(_sumsq16(_rows(weights, dtype))).astype(np.float32)


def inv_norms(weights, *, dtype=None) -> np.ndarray:
    """(V,) float32 ``1 / ||row||`` (0 for a zero row), bit for bit as the kernels compute it."""
    ss = _sumsq16(_rows(weights, dtype))
    with np.errstate(divide="ignore"):
        return np.where(ss > 0, 1.0 / np.sqrt(ss), 0.0).astype(np.float32)


def topk(weights, queries, k=10, *, metric="cosine", exclude=None, restrict=None, dtype=None):
    """Normalise, matmul, argpartition, sort by (-score, id). Same arguments and output as
    :meth:`EmbeddingTable.topk` (a full (Q, V) score matrix: fine for tests, not for big tables);
    ``dtype``: the storage dtype of ``weights`` (upcast exactly first)."""
    W = np.asarray(_rows(weights, dtype), np.float32)
    V = W.shape[0]
    k = min(int(k), max(V, 1))  # clipped to the rows, as gensim clips topn
    q = np.asarray(queries, np.float64)
    single = q.ndim == 1
    q = np.atleast_2d(q)
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        n = row_norms(W).astype(np.float64)
        inv = np.where(n > 0, 1.0 / np.where(n > 0, n, 1), 0.0).astype(np.float32)
        S = (q.astype(np.float32) @ W.T) * inv[None, :]
    else:
        S = q.astype(np.float32) @ W.T
    S = S.astype(np.float32)
    allowed = np.ones((q.shape[0], V), bool)
    if restrict is not None:
        if isinstance(restrict, (int, np.integer)):
            allowed[:, int(restrict):] = False
        else:
            r = np.asarray(restrict)
            m = r if r.dtype == bool else np.isin(np.arange(V), r)
            allowed &= m[None, :]
    if exclude is not None:
        ex = list(exclude)
        if ex and all(hasattr(e, "__len__") for e in ex):
            for i, e in enumerate(ex):
                allowed[i, np.asarray(list(e), np.int64)] = False
        elif ex:
            allowed[:, np.asarray(ex, np.int64)] = False
    allowed &= ~np.isnan(S)
    scores = np.full((q.shape[0], k), -np.inf, np.float32)
    ids = np.full((q.shape[0], k), -1, np.int64)
    for i in range(q.shape[0]):
        cand = np.flatnonzero(allowed[i])
        s = S[i, cand]
        if cand.size > k:
            part = np.argpartition(-s, k - 1)[:k]
            kth = s[part].min()
            keep = np.flatnonzero(s >= kth)  # every tie with the k-th, so the id order decides
            cand, s = cand[keep], s[keep]
        order = np.lexsort((cand, -s))[:k]
        scores[i, :order.size] = s[order]
        ids[i, :order.size] = cand[order]
    return (scores[0], ids[0]) if single else (scores, ids)


def analogy(weights, a, b, c, topn=1, *, method="add", restrict_vocab=None, exclude=None, dtype=None):
    """a[i] : b[i] :: c[i] : ?, one question at a time with full score vectors.

    "add": cosine with unit(unit(b) - unit(a) + unit(c)); "mul": (1+cos_b)/2 * (1+cos_c)/2 /
    ((1+cos_a)/2 + 1e-6). Excludes each question's a, b, c (or ``exclude[i]``); ties by smaller id.
    ``dtype``: the storage dtype of ``weights`` (upcast exactly first).
    """
    W = np.asarray(_rows(weights, dtype), np.float32)
    n = W.shape[0] if restrict_vocab is None else int(restrict_vocab)
    topn = min(int(topn), W.shape[0])  # clipped to the rows, as gensim clips topn
    norms = row_norms(W).astype(np.float64)
    inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1), 0.0).astype(np.float32)
    U = W.astype(np.float64) * inv[:, None]
    scores = np.full((len(a), topn), -np.inf, np.float32)
    ids = np.full((len(a), topn), -1, np.int64)
    for qi, (x, y, z) in enumerate(zip(a, b, c)):
        if method == "add":
            q = U[y] - U[x] + U[z]
            q = (q / np.linalg.norm(q)).astype(np.float32)
            s = (W[:n] @ q) * inv[:n]
        else:
            cos = lambda v: (1 + (W[:n] @ v.astype(np.float32)) * inv[:n]) / 2  # noqa: E731
            s = cos(U[y]) * cos(U[z]) / (cos(U[x]) + np.float32(1e-6))
        s = s.astype(np.float32)
        ex = [x, y, z] if exclude is None else list(exclude[qi])
        allowed = np.ones(n, bool)
        allowed[[e for e in ex if e < n]] = False
        cand = np.flatnonzero(allowed)
        order = np.lexsort((cand, -s[cand]))[:topn]
        scores[qi, :order.size] = s[cand[order]]
        ids[qi, :order.size] = cand[order]
    return scores, ids


def backward(weights_shape, ids, grad_out, *, padding_idx=None, scale_grad_by_freq=False):
    """Dense ``np.add.at`` then the rows of the ids that occur: (unique_ids, rows)."""
    V, D = weights_shape
    ids = np.asarray(ids).reshape(-1).astype(np.int64)
    g = np.asarray(grad_out, np.float32).reshape(-1, D)
    if scale_grad_by_freq:
        counts = np.bincount(ids, minlength=V)
        g = g * (np.float32(1.0) / counts[ids].astype(np.float32))[:, None]
    dense = np.zeros((V, D), np.float32)
    np.add.at(dense, ids, g)
    uniq = np.unique(ids)
    if padding_idx is not None:
        uniq = uniq[uniq != padding_idx]
    return uniq, dense[uniq]


def apply_sparse(weights, state, ids, rows, lr, optimizer="sgd", eps=1e-10, *, dtype=None):
    """In-place update of ``weights`` (and the (V,) float64 Adagrad ``state``). With ``dtype`` (another
    storage dtype) each updated row is computed in float32 on its float32 values and rounded back
    once to the storage dtype (nearest even; int8 rows get a new scale)."""
    ids = np.asarray(ids, np.int64)
    rows = np.asarray(rows, np.float32)
    if optimizer == "sgd":
        step = np.float32(lr)
    else:
        state[ids] += (rows.astype(np.float64) ** 2).sum(axis=1) / max(rows.shape[1], 1)
        step = (lr / (np.sqrt(state[ids]) + eps)).astype(np.float32)[:, None]
    if dtype is None:
        weights[ids] -= step * rows
    elif _dtype_name(dtype) == "int8":  # (codes, scales), both updated in place
        codes, scales = weights
        cur = _rows((codes[ids], scales[ids]), dtype)
        cur -= step * rows
        codes[ids], scales[ids] = _round_to(cur, dtype)
    else:
        cur = _rows(weights[ids], dtype)
        cur -= step * rows
        weights[ids] = _round_to(cur, dtype)


# ------------------------------------------------------------------ word2vec (skip-gram, negative sampling)

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _dot16(a, b) -> np.float32:
    """The kernels' dot product (csrc/impl/dot.h), bit for bit at every SIMD level: element i's
    float32 product goes to float32 lane i % 16 (lanes start at +0.0), in increasing i; lanes summed
    as (l, l+8), (l, l+4), (l, l+2), (l, l+1)."""
    acc = np.zeros(16, np.float32)
    full = a.size - a.size % 16
    for i in range(0, full, 16):
        acc += a[i:i + 16] * b[i:i + 16]
    if full < a.size:
        acc[: a.size - full] += a[full:] * b[full:]
    for w in (8, 4, 2, 1):
        acc[:w] += acc[w:2 * w]
    return acc[0]


def w2v_batch(syn0, syn1neg, words, starts, keep, alias_prob, alias, window, negative, alpha0, alpha1,
              seed, exp_table, logsig_table, sg=True, cbow_mean=True, shrink_windows=True):
    """Negative-sampling updates (skip-gram, or CBOW with ``sg=False``), one sentence and one
    position at a time, in place; each position's window shrunk by a random 0..window-1, or whole
    with ``shrink_windows=False`` (no random number drawn then).

    The same algorithm and random stream as the kernel (word2vec.c's linear congruential
    generator, seeded per sentence; alias-table negatives; float32 arithmetic in the kernel's
    order), so one thread of the kernel gives the same bits. Dot products of +-inf saturate, NaN
    ones skip their pair; if any was not finite, FloatingPointError is raised at the end.
    Returns (words kept, summed loss).
    """
    f32 = np.float32
    V, D = syn0.shape
    size, mx = exp_table.size, 6
    scale = f32(size) / f32(2 * mx)
    S = len(starts) - 1
    kept, loss, nonfinite = 0, 0.0, 0

    def index(x):
        return min(max(int(f32(f32(x + f32(mx)) * scale)), 0), size - 1)

    def logsig(x):
        if x >= mx:
            return 0.0
        if x <= -mx:
            return float(x)
        return float(logsig_table[index(x)])

    def train_pair(l1, word, targets, neu1e):
        """The negative-sampling step of input vector l1 against targets; l1 is not updated."""
        nonlocal loss, nonfinite
        for d, target in enumerate(targets):
            label = f32(1.0 if d == 0 else 0.0)
            if d > 0 and target == word:
                continue
            l2 = syn1neg[target]
            f = _dot16(l1, l2)
            if not np.isfinite(f):
                nonfinite += 1
            if f >= mx:
                g = (label - f32(1.0)) * alpha
            elif f <= -mx:
                g = label * alpha
            elif f != f:
                continue
            else:
                g = (label - exp_table[index(f)]) * alpha
            loss -= logsig(f if d == 0 else -f)
            neu1e += g * l2
            l2 += g * l1

    with np.errstate(all="ignore"):
        for s in range(S):
            alpha = f32(alpha0) + (f32(alpha1) - f32(alpha0)) * (f32(s) / f32(S))
            r = _mix((seed + s) & _M64)

            def nxt():
                nonlocal r
                r = (r * 25214903917 + 11) & _M64
                return r >> 16

            def negatives(word):
                targets = [word]
                for _ in range(negative):
                    x = nxt()
                    k = ((x & 0xFFFFFFFF) * V) >> 32
                    u = nxt() & 0xFFFFFFFF
                    targets.append(k if u < alias_prob[k] else int(alias[k]))
                return targets

            sent = []
            for w in words[starts[s]: starts[s + 1]]:
                if keep is not None and keep[w] != 0xFFFFFFFF and (nxt() & 0xFFFFFFFF) >= keep[w]:
                    continue
                sent.append(int(w))
            kept += len(sent)
            for i, word in enumerate(sent):
                b = nxt() % window if shrink_windows else 0
                ctx = [j for j in range(max(0, i - window + b), min(len(sent), i + window - b + 1)) if j != i]
                if sg:
                    for j in ctx:
                        l1 = syn0[sent[j]]
                        neu1e = np.zeros(D, f32)
                        train_pair(l1, word, negatives(word), neu1e)
                        l1 += f32(1.0) * neu1e
                    continue
                if not ctx:
                    continue
                neu1 = np.zeros(D, f32)
                for j in ctx:
                    neu1 += f32(1.0) * syn0[sent[j]]
                inv = f32(1.0) / f32(len(ctx))
                if cbow_mean:
                    neu1 *= inv
                neu1e = np.zeros(D, f32)
                train_pair(neu1, word, negatives(word), neu1e)
                if not cbow_mean:
                    neu1e *= inv
                for j in ctx:
                    syn0[sent[j]] += f32(1.0) * neu1e
    if nonfinite:
        raise FloatingPointError(f"word2vec training diverged: {nonfinite} dot products were NaN or infinite")
    return kept, loss



def fasttext_batch(syn0, syn1neg, sub_starts, sub_rows, words, starts, keep, alias_prob, alias, window, negative,
                   alpha0, alpha1, seed, exp_table, logsig_table, sg=True, per_pair=True, shrink_windows=True):
    """fastText's negative-sampling updates with character n-grams, in place: the kernel
    ``_train.ft_batch`` one sentence and one position at a time (one thread gives the same bits).

    syn0 (V + bucket, D) input rows; word w's input rows are ``sub_rows[sub_starts[w]:sub_starts[w+1]]``
    (its own row, then V + each n-gram's bucket); syn1neg (V, D). The random stream, subsampling,
    window shrink, noise words and the negative-sampling step are :func:`w2v_batch`'s. The hidden
    vector is fastText's computeHidden: zeros, each row added in order, times float32(1.0 / n); the
    error vector is added whole to each of the rows. Skip-gram ``per_pair``: hidden recomputed and
    rows updated after every (word, context) pair (fastText); else once per position with the
    pairs' errors summed. CBOW: the rows of every context word, in window order.
    Returns (words kept, summed loss).
    """
    f32 = np.float32
    V, D = syn1neg.shape
    size, mx = exp_table.size, 6
    scale = f32(size) / f32(2 * mx)
    S = len(starts) - 1
    kept, loss, nonfinite = 0, 0.0, 0

    def index(x):
        return min(max(int(f32(f32(x + f32(mx)) * scale)), 0), size - 1)

    def logsig(x):
        if x >= mx:
            return 0.0
        if x <= -mx:
            return float(x)
        return float(logsig_table[index(x)])

    def rows_of(w):
        return [int(r) for r in sub_rows[sub_starts[w]: sub_starts[w + 1]]]

    def hidden_of(rows):
        h = np.zeros(D, f32)
        for r in rows:
            h = h + syn0[r]
        return h * f32(1.0 / len(rows))

    def step(h, targets):
        nonlocal loss, nonfinite
        neu1e = np.zeros(D, f32)
        for d, target in enumerate(targets):
            label = f32(1.0 if d == 0 else 0.0)
            if d > 0 and target == targets[0]:
                continue
            l2 = syn1neg[target]
            f = _dot16(h, l2)
            if not np.isfinite(f):
                nonfinite += 1
            if f >= mx:
                g = (label - f32(1.0)) * alpha
            elif f <= -mx:
                g = label * alpha
            elif f != f:
                continue
            else:
                g = (label - exp_table[index(f)]) * alpha
            loss -= logsig(f if d == 0 else -f)
            neu1e += g * l2
            l2 += g * h
        return neu1e

    with np.errstate(all="ignore"):
        for s in range(S):
            alpha = f32(alpha0) + (f32(alpha1) - f32(alpha0)) * (f32(s) / f32(S))
            r = _mix((seed + s) & _M64)

            def nxt():
                nonlocal r
                r = (r * 25214903917 + 11) & _M64
                return r >> 16

            def negatives(word):
                targets = [word]
                for _ in range(negative):
                    x = nxt()
                    k = ((x & 0xFFFFFFFF) * V) >> 32
                    u = nxt() & 0xFFFFFFFF
                    targets.append(k if u < alias_prob[k] else int(alias[k]))
                return targets

            sent = []
            for w in words[starts[s]: starts[s + 1]]:
                if keep is not None and keep[w] != 0xFFFFFFFF and (nxt() & 0xFFFFFFFF) >= keep[w]:
                    continue
                sent.append(int(w))
            kept += len(sent)
            for i, word in enumerate(sent):
                b = nxt() % window if shrink_windows else 0
                ctx = [j for j in range(max(0, i - window + b), min(len(sent), i + window - b + 1)) if j != i]
                if sg:
                    rows = rows_of(word)
                    h = hidden_of(rows)
                    grad = np.zeros(D, f32)
                    for j in ctx:
                        if per_pair:
                            h = hidden_of(rows)
                        e = step(h, negatives(sent[j]))
                        if per_pair:
                            for q in rows:
                                syn0[q] += e
                        else:
                            grad += e
                    if not per_pair and ctx:
                        for q in rows:
                            syn0[q] += grad
                    continue
                if not ctx:
                    continue
                rows = [q for j in ctx for q in rows_of(sent[j])]
                e = step(hidden_of(rows), negatives(word))
                for q in rows:
                    syn0[q] += e
    if nonfinite:
        raise FloatingPointError(f"fastText training diverged: {nonfinite} dot products were NaN or infinite")
    return kept, loss


# ------------------------------------------------------------------ pooling (EmbeddingBag, sentence vectors)

def _bag_layout(ids, offsets, include_last_offset):
    """Flat ids and each bag's [start, end) positions (2-D ids: one bag per row)."""
    ids = np.asarray(ids)
    if ids.ndim == 2:
        B, T = ids.shape
        starts = np.arange(B, dtype=np.int64) * T
        return ids.reshape(-1), starts, starts + T
    off = np.asarray(offsets).astype(np.int64)
    if include_last_offset:
        return ids, off[:-1], off[1:]
    return ids, off, np.append(off[1:], np.int64(ids.size))


def _bag_positions(flat, starts, ends, V, padding_idx):
    """(ids as int64, kept positions, their bags, their rank in the bag, kept count per bag)."""
    if flat.size and (flat.min() < 0 or flat.max() >= V):
        raise IndexError("id out of range")
    ids = flat.astype(np.int64)
    B = starts.size
    bag_of = np.repeat(np.arange(B), ends - starts)  # positions 0..N-1 are the bags back to back
    keep = np.ones(ids.size, bool)
    if padding_idx is not None:
        keep = ids != (padding_idx % V)
    pos = np.flatnonzero(keep)
    b = bag_of[pos]
    cum = np.cumsum(keep)
    before = np.concatenate([[0], cum])[starts]
    rank = cum[pos] - 1 - before[b]
    return ids, pos, b, rank, np.bincount(b, minlength=B)


def bag(weights, ids, offsets=None, *, mode="mean", per_sample_weights=None, include_last_offset=False,
        padding_idx=None, return_argmax=False, dtype=None):
    """torch's ``F.embedding_bag`` one rank at a time: the r-th (non-padding) row of every bag is
    added (or max-compared) in step r, so each element is ``((0 + r0) + r1) + ...`` in float32, in
    bag order, as the kernel; the mean divides by the count at the end. Same arguments as
    :func:`fastembed.pooling.bag` (ids as arrays: 2-D, or 1-D with offsets); ``dtype``: the storage
    dtype of ``weights`` (its float32 values first)."""
    W = np.asarray(_rows(weights, dtype), np.float32)
    V, D = W.shape
    flat, starts, ends = _bag_layout(ids, offsets, include_last_offset)
    ids64, pos, b, rank, count = _bag_positions(flat, starts, ends, V, padding_idx)
    B = starts.size
    psw = None if per_sample_weights is None else np.asarray(per_sample_weights, np.float32).reshape(-1)
    out = np.zeros((B, D), np.float32)
    arg = np.full((B, D), -1, np.int64)
    for r in range(int(count.max()) if pos.size else 0):
        sel = rank == r
        bb, pp = b[sel], pos[sel]
        rows = W[ids64[pp]]
        if mode == "max":
            if r == 0:
                out[bb] = rows
                arg[bb] = ids64[pp][:, None]
            else:
                gt = rows > out[bb]
                out[bb] = np.where(gt, rows, out[bb])
                arg[bb] = np.where(gt, ids64[pp][:, None], arg[bb])
        else:
            if psw is not None:
                rows = psw[pp][:, None] * rows
            out[bb] = out[bb] + rows
    if mode == "mean":
        nz = count > 0
        out[nz] = out[nz] / count[nz].astype(np.float32)[:, None]
    return (out, arg) if return_argmax else out


def bag_backward(weights, ids, offsets, grad_out, mode="mean", per_sample_weights=None, *,
                 include_last_offset=False, padding_idx=None):
    """A dense (V, D) ``np.add.at`` in position order (max: in bag order per element, onto the
    arg-max rows), then the rows of the ids that occur: (unique_ids, rows)."""
    W = np.asarray(weights, np.float32)
    V, D = W.shape
    flat, starts, ends = _bag_layout(ids, offsets, include_last_offset)
    ids64, pos, b, rank, count = _bag_positions(flat, starts, ends, V, padding_idx)
    g = np.asarray(grad_out, np.float32)
    dense = np.zeros((V, D), np.float32)
    if mode == "max":
        _, arg = bag(W, ids, offsets, mode="max", include_last_offset=include_last_offset,
                     padding_idx=padding_idx, return_argmax=True)
        m = arg >= 0
        cols = np.broadcast_to(np.arange(D), arg.shape)
        np.add.at(dense, (arg[m], cols[m]), g[m])
    else:
        if mode == "mean":
            g = g / np.maximum(count, 1).astype(np.float32)[:, None]
        contrib = g[b]
        if per_sample_weights is not None:
            contrib = np.asarray(per_sample_weights, np.float32).reshape(-1)[pos][:, None] * contrib
        np.add.at(dense, ids64[pos], contrib)
    uniq = np.unique(ids64[pos])
    return uniq, dense[uniq]


def mean_vector(vectors, keys, weights=None, *, vocab=None, pre_normalize=True, post_normalize=False,
                ignore_missing=True):
    """gensim's ``KeyedVectors.get_mean_vector`` loop, key by key in float32 (weights rounded to
    float32; a zero-norm row contributes zeros instead of NaNs)."""
    W = np.asarray(vectors, np.float32)
    V, D = W.shape
    norms = np.linalg.norm(W, axis=1)  # gensim's fill_norms
    if isinstance(keys, str):
        keys = [keys]
    if len(keys) == 0:
        raise ValueError("cannot compute mean with no input")
    w = np.ones(len(keys), np.float32) if weights is None else np.asarray(weights).astype(np.float32)
    mean = np.zeros(D, np.float32)
    total = 0
    for idx, key in enumerate(keys):
        if isinstance(key, np.ndarray):
            mean += w[idx] * key.astype(np.float32)
            total += abs(w[idx])
            continue
        i = (vocab.get(key) if vocab is not None else None) if isinstance(key, str) else (
            int(key) if 0 <= int(key) < V else None)
        if i is None:
            if not ignore_missing:
                raise KeyError(f"key {key!r} not present in vocabulary")
            continue
        if pre_normalize:
            vec = W[i] / norms[i] if norms[i] > 0 else np.zeros(D, np.float32)
        else:
            vec = W[i]
        mean += w[idx] * vec
        total += abs(w[idx])
    if total > 0:
        mean = mean / total
    if post_normalize:
        import math
        veclen = math.sqrt(math.fsum(float(x) ** 2 for x in mean))  # gensim: dnrm2 of a float64 copy
        if veclen > 0:
            mean = (mean.astype(np.float64) * (1.0 / veclen)).astype(np.float32)
    return mean


def sif(weights, bags, counts, *, a=1e-3, component=None, remove_pc=True):
    """SIF sentence vectors (Arora et al. 2017) one sentence and one word at a time: the mean of
    ``a / (a + p(w)) * v_w`` (float32, in word order), then minus the projection on the first right
    singular vector of the sentence matrix (float64 SVD) or on ``component``. (vectors, component)."""
    W = np.asarray(weights, np.float32)
    V, D = W.shape
    c = np.asarray(counts, np.float64)
    total = c.sum()
    sw = np.array([a / (a + x / total) for x in c], np.float32)
    X = np.zeros((len(bags), D), np.float32)
    for s, ids in enumerate(bags):
        acc = np.zeros(D, np.float32)
        for i in ids:
            acc = acc + sw[i] * W[i]
        if len(ids):
            acc = acc / np.float32(len(ids))
        X[s] = acc
    u = component
    if u is None:
        if not remove_pc:
            return X, None
        u = np.linalg.svd(X.astype(np.float64), full_matrices=False)[2][0]
    u64 = np.asarray(u, np.float64)
    u64 = u64 / np.linalg.norm(u64)
    X64 = X.astype(np.float64)
    return (X64 - (X64 @ u64)[:, None] * u64[None, :]).astype(np.float32), np.asarray(u, np.float32)


# ------------------------------------------------------------------------------------------ files
# Plain-Python readers of the text and binary formats, written from the format rules (see
# fastembed.io.text / fastembed.io.binary) rather than from the compiled parser: the fuzzer judges
# every file the parser accepts against them.

_NUMBER = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_SPECIAL = re.compile(rb"([+-]?)(nan|inf|infinity)\Z", re.IGNORECASE)
_HEADER = re.compile(rb"[ \t\r\v\f]*([0-9]{1,18})[ \t\r\v\f]+([0-9]{1,18})[ \t\r\v\f]*\Z")
_TOKEN = re.compile(rb"[^ \t\r\v\f]+")
_MAX_NUMBER_BYTES = 160
_MAX_KEY_BYTES = 1 << 16
_DIM_LINES = 32


def parse_float32(token: bytes):
    """The float32 a token spells, correctly rounded (ties to even), or None if it is not a number.

    Grammar: ``[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`` or ``[+-]? (nan | inf |
    infinity)`` (any case), at most 160 bytes. NaN is the quiet NaN with the written sign.
    """
    if len(token) > _MAX_NUMBER_BYTES:
        return None
    m = _SPECIAL.match(token)
    if m:
        bits = (0x7FC00000 if m.group(2).lower() == b"nan" else 0x7F800000) | (0x80000000 if m.group(1) == b"-" else 0)
        return np.array([bits], np.uint32).view(np.float32)[0]
    if not _NUMBER.match(token):
        return None
    d = float(token)  # correctly rounded double
    with np.errstate(over="ignore"):
        f = np.float32(d)
    if d == 0 or math.isinf(d) or float(f) == d:
        return f
    # Rounding d to float32 equals rounding the exact value unless d is exactly the midpoint of the
    # two float32 around it (midpoints are doubles, so d and the exact value cannot straddle one).
    if np.isinf(f):
        lo, hi = math.copysign(float(np.finfo(np.float32).max), d), math.copysign(2.0 ** 128, d)
    else:
        with np.errstate(over="ignore"):
            g = np.nextafter(f, np.float32(math.copysign(np.inf, d - float(f))))
        lo, hi = float(f), (float(g) if np.isfinite(g) else math.copysign(2.0 ** 128, d))
    mid = (lo + hi) / 2
    if d != mid:
        return f
    exact, fm = Fraction(token.decode("ascii")), Fraction(mid)
    below = abs(exact) < abs(fm)
    above = abs(exact) > abs(fm)
    near, far = (lo, hi) if abs(lo) < abs(hi) else (hi, lo)
    if below:
        pick = near
    elif above:
        pick = far
    else:  # a true tie: the even one
        pick = near if int(np.float32(near).view(np.uint32)) % 2 == 0 else far
    with np.errstate(over="ignore"):
        return np.float32(pick)


def _read_bytes(path) -> bytes:
    p = os.fspath(path)  # decompressed by extension, as fastembed.load does
    opener = gzip.open if p.endswith(".gz") else bz2.open if p.endswith(".bz2") else open
    with opener(p, "rb") as f:
        return f.read()


def _line_dim(tokens) -> int:
    tail = 0
    for t in reversed(tokens):
        if parse_float32(t) is None:
            break
        tail += 1
    return min(tail, len(tokens) - 1)


def _majority(dims):
    if not dims:
        return None
    (best, count), = Counter(dims).most_common(1)
    return best if count * 2 > len(dims) or len(dims) == 1 else None


def load_text(path, encoding="utf-8", format="auto"):
    """A plain-Python word2vec / GloVe text reader: (keys, (V, D) float32).

    The rules fastembed's text formats follow, checked one by one: ``format`` "word2vec" needs a
    "V D" header and exactly V rows; "glove" has none and takes the dimension a strict majority of
    the first 32 non-blank lines with at least one value agree on (a first line that looks like a
    header is a row only if the other lines have one value); "auto" reads a header when the first
    line is one. Every non-blank line: its last D tokens are numbers (see :func:`parse_float32`),
    the rest is the key, which may hold spaces but, when it does, must not end in a number. A
    file that has newlines must end with one. Keys are unique and valid in ``encoding``.
    Raises ValueError for anything else.
    """
    data = _read_bytes(path)
    if not data:
        raise ValueError("the file is empty")
    if b"\n" in data and not data.endswith(b"\n") and data[data.rfind(b"\n") + 1:].strip():
        raise ValueError("the last line has no newline (truncated)")
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    hdr = _HEADER.match(lines[0])
    if format == "auto":
        format = "word2vec" if hdr else "glove"
    if format == "word2vec":
        if not hdr:
            raise ValueError("expected a header")
        V, D = int(hdr.group(1)), int(hdr.group(2))
        body = lines[1:]
    elif format == "glove":
        V = None
        # complete lines only (a file with newlines ends with one, or was refused above)
        sample = [(i, line.split()) for i, line in enumerate(lines) if line.split()][:_DIM_LINES]
        if hdr:
            rest = [_line_dim(t) for i, t in sample if i > 0]
            d_rest = _majority([d for d in rest if d > 0])
            if d_rest is not None and d_rest != 1:
                raise ValueError("the first line is a word2vec header")
        D = _majority([d for d in (_line_dim(t) for _, t in sample) if d > 0])
        if D is None:
            raise ValueError("cannot infer the dimension")
        body = lines
    else:
        raise ValueError(f"unknown format {format!r}")
    keys, rows, seen = [], [], set()
    for line in body:
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(line)]
        if not spans:
            continue
        toks = [line[a:b] for a, b in spans]
        if len(toks) < D + 1:
            raise ValueError(f"expected a key and {D} values: {line[:60]!r}")
        values = [parse_float32(t) for t in toks[len(toks) - D:]]
        if any(v is None for v in values):
            raise ValueError(f"not a number in {line[:60]!r}")
        nk = len(toks) - D
        if nk >= 2 and parse_float32(toks[nk - 1]) is not None:
            raise ValueError(f"a key of several tokens ends in a number: {line[:60]!r}")
        key = line[spans[0][0]: spans[nk - 1][1]].decode(encoding)
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen.add(key)
        keys.append(key)
        rows.append(np.array(values, np.float32).reshape(D))
    if V is not None and len(rows) != V:
        raise ValueError(f"the header says {V} rows, the file has {len(rows)}")
    return keys, (np.vstack(rows) if rows else np.zeros((0, D), np.float32))


def load_binary(path, encoding="utf-8"):
    """A plain-Python word2vec binary reader: (keys, (V, D) float32).

    A "V D" header line, then V records ``key b" " <4 * D bytes little-endian float32>``, each
    followed by b"\\n" if the first one is (else none is), keys non-empty without b" " or b"\\n"
    (at most 65536 bytes) after any newlines before them (skipped, as word2vec.c and gensim do),
    nothing after the last record, keys unique. Raises ValueError otherwise.
    """
    data = _read_bytes(path)
    nl = data.find(b"\n")
    hdr = _HEADER.match(data[:nl]) if nl >= 0 else None
    if not hdr:
        raise ValueError("expected a header")
    V, D = int(hdr.group(1)), int(hdr.group(2))
    pos, nb = nl + 1, 4 * D
    sp = data.find(b" ", pos, pos + _MAX_KEY_BYTES + 1)
    newline = sp >= 0 and data[sp + 1 + nb: sp + 2 + nb] == b"\n"
    keys, rows, seen = [], [], set()
    for _ in range(V):
        while data[pos: pos + 1] == b"\n":
            pos += 1
        sp = data.find(b" ", pos, pos + _MAX_KEY_BYTES + 1)
        if sp < 0:
            raise ValueError("no key")
        raw = data[pos:sp]
        if not raw or b"\n" in raw:
            raise ValueError(f"bad key {raw[:40]!r}")
        vec = data[sp + 1: sp + 1 + nb]
        if len(vec) < nb:
            raise ValueError("truncated record")
        pos = sp + 1 + nb
        if newline:
            if data[pos: pos + 1] != b"\n":
                raise ValueError("no newline after a record")
            pos += 1
        key = raw.decode(encoding)
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen.add(key)
        keys.append(key)
        rows.append(np.frombuffer(vec, "<f4").astype(np.float32))
    if pos != len(data):
        raise ValueError("data after the last record")
    return keys, (np.vstack(rows) if rows else np.zeros((0, D), np.float32))


# ------------------------------------------------------------------------------------------ fastText subwords
# fastText's character n-grams and word vectors (Dictionary::computeSubwords, FastText::getWordVector)
# and a plain struct-based reader of its .bin models, written from fastText's sources; the kernels
# of fastembed._kernels._fasttext and fastembed.io.fasttext are tested against them.

def fasttext_hash(data: bytes) -> int:
    """fastText's FNV-1a: each byte as a signed char, sign-extended to 32 bits, xor then multiply."""
    h = 2166136261
    for b in data:
        h ^= (b - 256 if b >= 128 else b) & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def fasttext_ngrams(word: bytes, minn: int, maxn: int) -> list:
    """The character n-grams (bytes) of ``b"<" + word + b">"`` in fastText's order: by start byte
    (never a UTF-8 continuation byte), then by length in characters; the 1-grams "<" and ">" out."""
    w = b"<" + word + b">"
    out = []
    for i in range(len(w)):
        if w[i] & 0xC0 == 0x80:
            continue
        j, n = i, 1
        while j < len(w) and n <= maxn:
            j += 1
            while j < len(w) and w[j] & 0xC0 == 0x80:
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(w))):
                out.append(w[i:j])
            n += 1
    return out


def fasttext_ngram_ids(word: bytes, minn: int, maxn: int, bucket: int, skip_eos: bool = True) -> list:
    """Bucket ids ``hash % bucket`` of the n-grams of ``word``; none for ``b"</s>"`` when
    ``skip_eos`` (fastText since file version 12) or when ``bucket`` is 0."""
    if bucket == 0 or (skip_eos and word == b"</s>"):
        return []
    return [fasttext_hash(g) % bucket for g in fasttext_ngrams(word, minn, maxn)]


def fasttext_vectors(words_matrix, rows, ngrams, words, minn, maxn, skip_eos=True) -> np.ndarray:
    """(n, D) float32: word i's row ``words_matrix[rows[i]]`` (none when ``rows[i]`` is -1 or
    ``rows`` is None and ``words_matrix`` is None; ``rows`` None: row i) plus its n-gram rows, added
    in order in float32 starting from the word row (or +0), divided by the number of rows added
    (zeros when none)."""
    ngrams = np.asarray(ngrams, np.float32)
    D = ngrams.shape[1]
    out = np.zeros((len(words), D), np.float32)
    for i, w in enumerate(words):
        r = (i if words_matrix is not None else -1) if rows is None else int(rows[i])
        acc = np.array(words_matrix[r], np.float32) if r >= 0 else np.zeros(D, np.float32)
        ids = fasttext_ngram_ids(bytes(w), minn, maxn, ngrams.shape[0], skip_eos)
        for h in ids:
            acc = acc + ngrams[h]
        count = len(ids) + (r >= 0)
        out[i] = acc / np.float32(count) if count > 1 else acc
    return out


_FT_MAGIC = 793712314


def load_fasttext_bin(path, encoding="utf-8"):
    """A plain struct-based reader of a fastText .bin model (unquantised, as fastText writes it).

    Layout (little-endian): [int32 magic 793712314, int32 version 11 or 12] (absent in the format
    before May 2017); 12 int32 args (dim ws epoch min_count neg word_ngrams loss model bucket minn
    maxn lr_update_rate) and float64 t; int32 entries, words, labels, int64 tokens, [int64 pruned
    index size, -1 if not pruned (new format)]; per entry: the word's bytes, a NUL, int64 count,
    int8 type (the words, type 0, then the labels, type 1); [pruned index pairs, 8 bytes each]; [the
    bool quant flag, 0]; the input matrix: int64 rows (words + bucket), int64 cols (dim), rows x
    cols float32; [the bool qout flag]; the output matrix: int64 rows, int64 cols (dim), float32s;
    the end of the file. Version 11 supervised models have maxn forced to 0.

    Returns a dict: args (dict), version (None for the old format), words (list of str), counts
    ((nwords,) int64), input ((words + bucket, dim) float32). Raises ValueError otherwise.
    """
    data = _read_bytes(path)
    pos = 0

    def take(n):
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise ValueError("truncated")
        b = data[pos:pos + n]
        pos += n
        return b

    magic, version = struct.unpack("<2i", data[:8]) if len(data) >= 8 else (None, None)
    new = magic == _FT_MAGIC
    if new:
        take(8)
        if version not in (11, 12):
            raise ValueError(f"version {version}")
    else:
        version = None
    names = "dim ws epoch min_count neg word_ngrams loss model bucket minn maxn lr_update_rate t".split()
    args = dict(zip(names, struct.unpack("<12id", take(56))))
    if version == 11 and args["model"] == 3:
        args["maxn"] = 0
    size, nwords, nlabels, _ = struct.unpack("<3iq", take(20))
    pruned = struct.unpack("<q", take(8))[0] if new else -1
    if size != nwords + nlabels or min(size, nwords, nlabels) < 0:
        raise ValueError("dictionary sizes")
    words, counts = [], []
    for k in range(size):
        end = data.find(b"\0", pos, pos + (1 << 16) + 1)
        if end < 0:
            raise ValueError("no NUL")
        raw = take(end - pos)
        take(1)
        count, typ = struct.unpack("<qb", take(9))
        if typ != (0 if k < nwords else 1) or count < 0 or not raw:
            raise ValueError(f"entry {k}")
        if k < nwords:
            words.append(raw.decode(encoding))
            counts.append(count)
    if len(set(words)) != len(words):
        raise ValueError("duplicate word")
    if pruned >= 0:
        take(8 * pruned)
    if new and take(1) != b"\0":
        raise ValueError("quantised or pruned")
    if pruned >= 0:
        raise ValueError("pruned")
    dim, bucket, minn, maxn = args["dim"], args["bucket"], args["minn"], args["maxn"]
    if dim < 1 or bucket < 0 or minn < 0 or maxn < 0:
        raise ValueError("args")
    m, n = struct.unpack("<2q", take(16))
    if (m, n) != (nwords + bucket, dim):
        raise ValueError("input matrix shape")
    W = np.frombuffer(take(4 * m * n), "<f4").reshape(m, n).astype(np.float32)
    if new and take(1) not in (b"\0", b"\1"):
        raise ValueError("qout")
    m2, n2 = struct.unpack("<2q", take(16))
    if m2 < 0 or n2 != dim:
        raise ValueError("output matrix shape")
    take(4 * m2 * n2)
    if pos != len(data):
        raise ValueError("data after the output matrix")
    return {"args": args, "version": version, "words": words, "counts": np.array(counts, np.int64), "input": W}



# ------------------------------------------------------------------ GloVe

def glove_cooccurrence(sentences, window, symmetric=True, distance_weighting=True):
    """Co-occurrence sums of id sentences, in plain Python: {(a, b): X_ab} (float64).

    For every pair of ids at distance d <= window in a sentence (a before b), X[a][b] gains 1/d
    (1 without distance weighting); symmetric contexts also give X[b][a] the same, and only keys
    a <= b are kept (the diagonal then holds 2/d per pair of equal ids). Sums are added in corpus
    order, as one thread of the kernel does when no map is spilled.
    """
    X = {}
    for sent in sentences:
        sent = [int(w) for w in sent]
        for k, b in enumerate(sent):
            for p in range(k - 1, max(k - window, 0) - 1, -1):
                a = sent[p]
                w = 1.0 / (k - p) if distance_weighting else 1.0
                if symmetric:
                    key = (a, b) if a <= b else (b, a)
                    v = w + w if a == b else w
                else:
                    key, v = (a, b), w
                X[key] = X.get(key, 0.0) + v
    return X


def glove_records(rows, cols, values, x_max, alpha):
    """The training records of co-occurrence sums: (n, 4) int32 rows i, j, then the bits of the
    float32 log X_ij and f(X_ij) = min(1, (X_ij / x_max) ** alpha), both computed in float64."""
    values = np.asarray(values, np.float64)
    out = np.empty((len(values), 4), np.int32)
    out[:, 0] = rows
    out[:, 1] = cols
    f = out.view(np.float32)
    f[:, 2] = np.log(values)
    f[:, 3] = np.where(values < x_max, (values / x_max) ** alpha, 1.0)
    return out


def glove_shuffle(rec, seed):
    """The kernel's Fisher-Yates shuffle of the rows of ``rec`` in place, with its splitmix64
    stream: for k = n-1 .. 1 swap rows k and j, j = (high 32 bits of the draw * (k + 1)) >> 32."""
    s = seed & _M64
    for k in range(len(rec) - 1, 0, -1):
        s = (s + 0x9E3779B97F4A7C15) & _M64
        x = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        x ^= x >> 31
        bound = k + 1
        j = ((x >> 32) * bound) >> 32 if bound < 1 << 32 else x % bound
        rec[[k, j]] = rec[[j, k]]


def glove_epoch(W, G, rec, eta, clip, symmetric, bias_eta=None):
    """One AdaGrad pass over the records in order, in place, as the kernel with one thread:
    float32 arithmetic in the kernel's order (16-lane dot product). W, G: (2V, D + 1) float32.
    ``bias_eta``: the biases' step (None: eta). Returns (summed cost, pairs skipped as non-finite)."""
    f32 = np.float32
    V2, Dp = W.shape
    V, D = V2 // 2, Dp - 1
    bias_eta = f32(eta if bias_eta is None else bias_eta)
    eta, clip = f32(eta), f32(clip)
    fl = rec.view(np.float32)
    cost, skipped = 0.0, 0

    def step(wr, cr, logx, fx):
        nonlocal cost, skipped
        w, c, gw, gc = W[wr], W[cr], G[wr], G[cr]
        diff = f32(f32(_dot16(w[:D], c[:D]) + w[D]) + c[D]) - logx
        fdiff = fx * diff
        if not (np.isfinite(diff) and np.isfinite(fdiff)):
            skipped += 1
            return
        cost += 0.5 * float(fdiff) * float(diff)
        t1 = np.clip(fdiff * c[:D], -clip, clip) * eta
        t2 = np.clip(fdiff * w[:D], -clip, clip) * eta
        u1 = t1 / np.sqrt(gw[:D])
        u2 = t2 / np.sqrt(gc[:D])
        gw[:D] += t1 * t1
        gc[:D] += t2 * t2
        w[:D] -= u1
        c[:D] -= u2
        fe = fdiff * bias_eta
        w[D] -= fe / np.sqrt(gw[D])
        c[D] -= fe / np.sqrt(gc[D])
        gw[D] += fe * fe
        gc[D] += fe * fe

    with np.errstate(all="ignore"):
        for r in range(len(rec)):
            i, j = int(rec[r, 0]), int(rec[r, 1])
            logx, fx = fl[r, 2], fl[r, 3]
            step(i, V + j, logx, fx)
            if symmetric and i != j:
                step(j, V + i, logx, fx)
    return cost, skipped


# ------------------------------------------------------------------------------------------ int8 index

def int8_quantize(weights):
    """The int8 index's quantisation (csrc/impl/int8.h fe_i8_quantize): ``(codes (V, D) int8,
    scale (V,) float32, st (V, 3) float64)``. codes = ``rint(x * (127 / max|x|))`` (float64, half
    to even) clipped to [-127, 127]; scale = float32(max|x|) / 127 in float32;
    st = (sum (x - scale * code)^2, sum code^2, sum x^2) in float64 (NaN ignored by the max).
    Non-finite rows: codes 0, scale 0, st (inf, 0, inf); zero rows: all 0. codes and scale equal
    the kernel's bit for bit; st up to the summation order."""
    X = np.asarray(weights, np.float32)
    V, D = X.shape
    x = X.astype(np.float64)
    mx = np.fmax.reduce(np.abs(X), axis=1) if D else np.zeros(V, np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        ss = (x * x).sum(axis=1)
    ok = np.isfinite(ss) & (mx > 0)
    scale = np.where(ok, mx / np.float32(127.0), np.float32(0)).astype(np.float32)
    inv_s = 127.0 / np.where(ok, mx, 1).astype(np.float64)
    q = np.clip(np.rint(np.where(ok[:, None], x, 0.0) * inv_s[:, None]), -127, 127)
    e = np.where(ok[:, None], x, 0.0) - scale.astype(np.float64)[:, None] * q
    st = np.stack([(e * e).sum(axis=1), (q * q).sum(axis=1), np.where(np.isnan(ss), np.inf, ss)], axis=1)
    st[~ok, 0] = np.where((mx[~ok] > 0) | np.isnan(ss[~ok]), np.inf, 0.0)
    st[~ok, 1] = 0.0
    return q.astype(np.int8), scale, st


def _up32(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 values >= x for x >= 0 (NaN -> inf): x (1 + 2^-21) + 2^-149 rounds to a
    float32 no smaller than x (rounding moves it by at most 2^-24 relatively or 2^-150)."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = (x * (1.0 + 2.0 ** -21) + 2.0 ** -149).astype(np.float32)
    f[np.isnan(f)] = np.inf
    return f


def int8_coefficients(scale, st, inv, D, metric):
    """(3, V) float32 (cent, ra, rb) of the bound (see fastembed/index.py's docstring): with
    u = 2^-24, K = 1 + 2^-16, m = ceil(D/16) + 6, g = m u / (1 - m u), e = K ||E||, c = K s ||code||,
    n = K ||x||, all rounded up to float32: cosine (cent, ra, rb) = (s inv, K c inv,
    K (e inv + (g + 2u) n inv)); dot (s, K c, K (e + g n)). Rows that are not finite, or (cosine)
    have inv > 2^90, inf or 0 with a nonzero row: (0, inf, inf)."""
    u, K = 2.0 ** -24, 1.0 + 2.0 ** -16
    m = -(-D // 16) + 6
    g = m * u / (1 - m * u)
    s = np.asarray(scale, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        e, c, n = np.sqrt(st[:, 0]) * K, s * np.sqrt(st[:, 1]) * K, np.sqrt(st[:, 2]) * K
        bad = ~np.isfinite(st[:, 0]) | ~np.isfinite(st[:, 2])
        if metric == "cosine":
            iv = np.asarray(inv, np.float64)
            bad |= (iv > 2.0 ** 90) | ~np.isfinite(iv) | ((iv == 0) & (st[:, 2] > 0))
            out = [(s * iv).astype(np.float32), _up32(c * iv * K), _up32((e * iv + (g + 2 * u) * n * iv) * K)]
        else:
            out = [np.asarray(scale, np.float32).copy(), _up32(c * K), _up32((e + g * n) * K)]
    out[0][bad], out[1][bad], out[2][bad] = 0.0, np.inf, np.inf
    return np.stack(out)


def int8_query_codes(queries, metric, max_norm):
    """A (Q, D) float32 query batch (as the scan takes it) -> (codes (Q, D) int8, params (Q, 4)
    float32 = (tau, fn, qn, abs)): tau = float32(max|q| / 127), codes rounded half away from zero,
    fn >= K ||q - tau codes||, qn >= K ||q||, abs = (D + 16) 2^-59 (cosine) or 2^-149 (dot);
    fn = inf where max_norm * ||q|| >= 2^120 or 0 < tau < 2^-60 (no rigorous bound)."""
    K = 1.0 + 2.0 ** -16
    q = np.asarray(queries, np.float32).astype(np.float64)
    Q, D = q.shape
    mq = np.abs(q).max(axis=1) if D else np.zeros(Q)
    tau = (mq / 127.0).astype(np.float32)
    t = q * (127.0 / np.where(mq > 0, mq, 1.0))[:, None]
    p = np.clip(np.trunc(np.where(t >= 0, t + 0.5, t - 0.5)), -127, 127)
    p[mq == 0] = 0
    F = q - tau.astype(np.float64)[:, None] * p
    qnorm = np.sqrt((q * q).sum(axis=1))
    par = np.stack([tau, _up32(np.sqrt((F * F).sum(axis=1)) * K), _up32(qnorm * K),
                    np.full(Q, (D + 16) * (2.0 ** -59 if metric == "cosine" else 2.0 ** -149), np.float32)],
                   axis=1).astype(np.float32)
    par[(max_norm * qnorm >= 2.0 ** 120) | ((mq > 0) & (tau < 2.0 ** -60)), 1] = np.inf
    return p.astype(np.int8), par


def int8_bounds(codes, coef, qcodes, par):
    """(lower, upper) (Q, V) float32: ``A -/+ (ra fn + rb qn + |A| 2^-20 + abs)`` with
    ``A = cent * (tau * float32(codes . qcodes))``, each operation in float32 in this order (the
    kernel's bits); NaN -> (-inf, inf)."""
    dots = (qcodes.astype(np.int64) @ codes.astype(np.int64).T).astype(np.int32)  # exact
    return _bounds_from_dots(dots.astype(np.float32), coef, par)


def _bounds_from_dots(dots, coef, par):
    """The indexes' bound arithmetic (csrc/impl/int8.h FE_I8_SCAN_BODY) on (Q, V) float32 dots."""
    f32 = np.float32
    cent, ra, rb = (np.asarray(c, f32)[None, :] for c in coef)
    tau, fn, qn, ab = (np.asarray(par[:, i:i + 1], f32) for i in range(4))
    with np.errstate(over="ignore", invalid="ignore"):
        A = cent * (tau * dots)
        rad = (ra * fn + rb * qn) + (np.abs(A) * f32(2.0 ** -20) + ab)
        up, lo = A + rad, A - rad
    return np.where(lo > -np.inf, lo, -np.inf).astype(f32), np.where(up < np.inf, up, np.inf).astype(f32)


def _dot16_rows(X, q):
    """:func:`_dot16` of every row of X (n, D) float32 with q (D,): the scan's score bits."""
    n, D = X.shape
    acc = np.zeros((n, 16), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE inf / NaN, as the kernels
        for i in range(0, D, 16):
            c = X[:, i:i + 16] * q[i:i + 16]
            acc[:, : c.shape[1]] += c
        for w in (8, 4, 2, 1):
            acc[:, :w] += acc[:, w:2 * w]
    return acc[:, 0].copy()


def scores(weights, queries, inv=None, *, dtype=None):
    """Every (query, row) score of the top-k engine: ``(Q, V)`` float32 ``_dot16(row, q)`` (times
    ``inv[row]`` when given), the bits of ``fastembed._kernels._topk.scores`` and of
    ``EmbeddingTable.cosines`` (with ``inv`` the table's inverse norms and unit queries)."""
    W = np.asarray(_rows(weights, dtype), np.float32)
    Q = np.atleast_2d(np.asarray(queries, np.float32))
    out = np.stack([_dot16_rows(W, q) for q in Q]) if len(Q) else np.zeros((0, W.shape[0]), np.float32)
    if inv is not None:
        out = out * np.asarray(inv, np.float32)[None, : W.shape[0]]
    return out.astype(np.float32)


def _scan_queries(queries, D, metric):
    """The float32 queries the scan takes (fastembed._validate.as_queries): unit rows for cosine
    (divided by the max magnitude, then by the float64 norm)."""
    q = np.atleast_2d(np.asarray(queries)).astype(np.float64)
    if metric == "cosine":
        q = q / np.abs(q).max(axis=1)[:, None]
        q = q / np.sqrt((q * q).sum(axis=1))[:, None]
    return np.ascontiguousarray(q, np.float32)


def int8_search(weights, queries, k=10, *, metric="cosine", exclude=None, restrict=None):
    """The int8 index's exact search in numpy: ``(scores (Q, k), ids (Q, k), rescored (Q,))``.

    Quantise rows and queries, bound every row's scan score (:func:`int8_bounds`), take the k-th
    best lower bound over eligible rows (restrict, exclude; -inf when fewer than k), re-score every
    eligible row whose upper bound reaches it with the scan's fixed-order dot product (times the
    inverse norm for cosine), and keep the k best by (score descending, id ascending). The answer
    equals the float32 scan's (``EmbeddingTable.topk(strategy="scan")``) bit for bit; ``rescored``
    equals the kernel's count."""
    W = np.asarray(weights, np.float32)
    V, D = W.shape
    k = min(int(k), max(V, 1))  # clipped to the rows, as gensim clips topn
    single = np.ndim(queries) == 1
    q = _scan_queries(queries, D, metric)
    Q = q.shape[0]
    codes, scale, st = int8_quantize(W)
    inv = inv_norms(W)
    coef = int8_coefficients(scale, st, inv, D, metric)
    fin = np.isfinite(st[:, 2])
    max_norm = float(np.sqrt(st[fin, 2].max())) * (1.0 + 2.0 ** -16) if fin.any() else 0.0
    qc, par = int8_query_codes(q, metric, max_norm)
    lo, up = int8_bounds(codes, coef, qc, par)
    allowed = np.ones((Q, V), bool)
    if restrict is not None:
        if isinstance(restrict, (int, np.integer)):
            allowed[:, int(restrict):] = False
        else:
            r = np.asarray(restrict)
            allowed &= (r if r.dtype == bool else np.isin(np.arange(V), r))[None, :]
    if exclude is not None:
        ex = list(exclude)
        if ex and all(hasattr(e, "__len__") for e in ex):
            for i, e in enumerate(ex):
                allowed[i, np.asarray(list(e), np.int64)] = False
        elif ex:
            allowed[:, np.asarray(ex, np.int64)] = False
    scores = np.full((Q, k), -np.inf, np.float32)
    ids = np.full((Q, k), -1, np.int64)
    rescored = np.zeros(Q, np.int64)
    for i in range(Q):
        L = np.sort(lo[i, allowed[i]])[::-1]
        thr = L[k - 1] if L.size >= k else -np.inf
        cand = np.flatnonzero(allowed[i] & (up[i] >= thr))
        rescored[i] = cand.size
        s = _dot16_rows(W[cand], q[i])
        if metric == "cosine":
            with np.errstate(invalid="ignore"):  # non-finite rows: NaN scores, dropped below
                s = (s * inv[cand]).astype(np.float32)
        keep = ~np.isnan(s)
        cand, s = cand[keep], s[keep]
        order = np.lexsort((cand, -s))[:k]
        scores[i, :order.size] = s[order]
        ids[i, :order.size] = cand[order]
    if single:
        return scores[0], ids[0], rescored[0]
    return scores, ids, rescored


def half_index_rows(weights, dtype):
    """A half index's rows (csrc/fe_int8.h fe_hx_build): ``(h (V, D) float16 bits as uint16 /
    bfloat16 bits, shift (V,) int32, st (V, 3) float64)``. Row r is scaled by 2^shift[r], the power
    of two that brings max|row| into [1, 2), and rounded to nearest even (:func:`_round_to`);
    st = (sum (x - h 2^-shift)^2, sum (h 2^-shift)^2, sum x^2). Non-finite rows: h 0, shift 0,
    st (inf, 0, inf); zero rows: all 0. h and shift equal the kernel's bit for bit; st up to the
    summation order."""
    X = np.asarray(weights, np.float32)
    V, D = X.shape
    name = _dtype_name(dtype)
    mx = np.abs(X).max(axis=1) if D else np.zeros(V, np.float32)
    ok = np.isfinite(X).all(axis=1) & (mx > 0)
    _, e = np.frexp(np.where(ok, mx, 1).astype(np.float32))
    shift = np.where(ok, 1 - e, 0).astype(np.int32)
    x = X.astype(np.float64)
    xs = np.where(ok[:, None], x * np.ldexp(1.0, shift)[:, None], 0.0).astype(np.float32)
    h = _round_to(xs, name)
    hu = _rows(h, name).astype(np.float64) * np.ldexp(1.0, -shift)[:, None]
    if name == "float16":
        h = h.view(np.uint16)
    with np.errstate(invalid="ignore", over="ignore"):
        st = np.stack([((x - hu) ** 2).sum(axis=1), (hu * hu).sum(axis=1), (x * x).sum(axis=1)], axis=1)
    bad = ~np.isfinite(X).all(axis=1)
    st[bad] = [np.inf, 0.0, np.inf]
    return h, shift, st


def half_index_coefficients(shift, st, inv, D, metric):
    """(3, V) float32 (cent, ra, rb) of a half index (fastembed/index.py, "The half index"): with
    u, K, g as in :func:`int8_coefficients`, s = 2^-shift, e = K sqrt(st0), h = K sqrt(st1),
    n = K sqrt(st2): cosine (s inv, 0, up(K (e inv + (g + 2u) (n + h) inv))); dot (s, 0,
    up(K (e + g (n + h)))). Bad rows as :func:`int8_coefficients`: (0, inf, inf)."""
    u, K = 2.0 ** -24, 1.0 + 2.0 ** -16
    m = -(-D // 16) + 6
    g = m * u / (1 - m * u)
    s = np.ldexp(1.0, -np.asarray(shift, np.int64))
    with np.errstate(over="ignore", invalid="ignore"):
        e, h, n = np.sqrt(st[:, 0]) * K, np.sqrt(st[:, 1]) * K, np.sqrt(st[:, 2]) * K
        bad = ~np.isfinite(st[:, 0]) | ~np.isfinite(st[:, 2])
        zero = np.zeros(len(s), np.float32)
        if metric == "cosine":
            iv = np.asarray(inv, np.float64)
            bad |= (iv > 2.0 ** 90) | ~np.isfinite(iv) | ((iv == 0) & (st[:, 2] > 0))
            out = [(iv * s).astype(np.float32), zero, _up32((e * iv + (g + 2 * u) * (n + h) * iv) * K)]
        else:
            out = [s.astype(np.float32), zero, _up32((e + g * (n + h)) * K)]
    out[0][bad], out[1][bad], out[2][bad] = 0.0, np.inf, np.inf
    return np.stack(out)


def half_index_bounds(h, dtype, coef, queries, par):
    """(lower, upper) (Q, V) float32 of a half index: ``A -/+ (ra fn + rb qn + |A| 2^-20 + abs)``
    with ``A = cent * (tau * dot)``, dot the fixed-order float32 dot product (:func:`_dot16`) of the
    upcast half row with the float32 query, par = (tau, fn, qn, abs) (tau 1, fn 0): the kernel's
    bits."""
    H = _rows(h.view(np.float16) if _dtype_name(dtype) == "float16" else h, dtype)
    q = np.asarray(queries, np.float32)
    dots = np.stack([_dot16_rows(H, q[i]) for i in range(q.shape[0])]) if len(q) else np.zeros((0, len(H)), np.float32)
    return _bounds_from_dots(dots, coef, par)
