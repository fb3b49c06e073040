"""Pure-numpy reference implementations: the same signatures and semantics as the compiled kernels.

This is product code, not a test helper: the tests assert the kernels equal these functions, and
``bench/`` times them as the baseline. They favour clarity over speed.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["lookup", "one_hot", "embed", "sinusoidal_table", "topk", "row_norms", "analogy", "backward",
           "apply_sparse", "w2v_batch", "load_text"]


def lookup(weights: np.ndarray, ids) -> np.ndarray:
    """``weights[ids]``: (V, D) float32, ids of any shape -> (*ids.shape, D) float32."""
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
          type_table=None) -> np.ndarray:
    """``weights[ids] * scale + pos[p] (+ type_table[token_types])`` in two numpy passes.

    Same arguments as :meth:`EmbeddingTable.embed`; ``p[b, t] = offset(+[b]) + t`` or
    ``position_ids[b, t]``.
    """
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


def row_norms(weights) -> np.ndarray:
    """(V,) float32 row norms, computed in float64."""
    return np.sqrt((np.asarray(weights, np.float64) ** 2).sum(axis=1)).astype(np.float32)


def topk(weights, queries, k=10, *, metric="cosine", exclude=None, restrict=None):
    """Normalise, matmul, argpartition, sort by (-score, id). Same arguments and output as
    :meth:`EmbeddingTable.topk` (a full (Q, V) score matrix: fine for tests, not for big tables)."""
    W = np.asarray(weights, np.float32)
    V = W.shape[0]
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


def analogy(weights, a, b, c, topn=1, *, method="add", restrict_vocab=None, exclude=None):
    """a[i] : b[i] :: c[i] : ?, one question at a time with full score vectors.

    "add": cosine with unit(unit(b) - unit(a) + unit(c)); "mul": (1+cos_b)/2 * (1+cos_c)/2 /
    ((1+cos_a)/2 + 1e-6). Excludes each question's a, b, c (or ``exclude[i]``); ties by smaller id.
    """
    W = np.asarray(weights, np.float32)
    n = W.shape[0] if restrict_vocab is None else int(restrict_vocab)
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


def apply_sparse(weights, state, ids, rows, lr, optimizer="sgd", eps=1e-10):
    """In-place update of ``weights`` (and the (V,) float64 Adagrad ``state``)."""
    ids = np.asarray(ids, np.int64)
    rows = np.asarray(rows, np.float32)
    if optimizer == "sgd":
        weights[ids] -= np.float32(lr) * rows
    else:
        state[ids] += (rows.astype(np.float64) ** 2).sum(axis=1) / max(rows.shape[1], 1)
        step = (lr / (np.sqrt(state[ids]) + eps)).astype(np.float32)
        weights[ids] -= step[:, None] * rows


# ------------------------------------------------------------------ word2vec (skip-gram, negative sampling)

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _dot16(a, b) -> np.float32:
    """Element i goes to float32 lane i % 16; lanes summed as (l, l+8), (l, l+4), (l, l+2), (l, l+1)."""
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
              seed, exp_table, logsig_table, sg=True, cbow_mean=True):
    """Negative-sampling updates (skip-gram, or CBOW with ``sg=False``), one sentence and one
    position at a time, in place.

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
                b = nxt() % window
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


def load_text(path, encoding="utf-8"):
    """A plain-Python word2vec/GloVe text reader: (keys, (V, D) float32). Header optional."""
    keys, rows = [], []
    with open(path, encoding=encoding) as f:
        for n, line in enumerate(f):
            parts = line.split()
            if not parts:
                continue
            if n == 0 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue
            keys.append(parts[0])
            rows.append(np.array(parts[1:], dtype=np.float32))
    return keys, np.vstack(rows)


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


def glove_epoch(W, G, rec, eta, clip, symmetric):
    """One AdaGrad pass over the records in order, in place, as the kernel with one thread:
    float32 arithmetic in the kernel's order (16-lane dot product). W, G: (2V, D + 1) float32.
    Returns (summed cost, pairs skipped as non-finite)."""
    f32 = np.float32
    V2, Dp = W.shape
    V, D = V2 // 2, Dp - 1
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
        fe = fdiff * eta
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
