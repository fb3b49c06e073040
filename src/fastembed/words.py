"""Word-level questions on a table with a vocabulary: what gensim's ``KeyedVectors`` answers,
batched where it matters.

Every function takes a *row source* (:mod:`fastembed.rows`): an :class:`~fastembed.EmbeddingTable`
or a :class:`~fastembed.distributed.ShardedTable`, and uses only the protocol (``vocab``, ``dim``,
``len()``, ``lookup``, ``unit_rows``, ``search``, ``cosines``), so one table and a sharded one answer
with the same code, bit for bit. Searches run the one top-k engine (:mod:`fastembed.search`) with
the scorer each question needs. The same functions are reachable as ``table.words.most_similar(...)``
(:mod:`fastembed.accessors`).
"""
from __future__ import annotations

import numbers
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from fastembed import search
from fastembed._validate import as_ids, as_int, as_restrict, check_id_range

__all__ = ["most_similar", "most_similar_cosmul", "analogy", "analogy_ids", "similarity", "n_similarity",
           "doesnt_match", "rank", "as_topn", "COSMUL_EPS", "as_vector", "key_ids", "distances",
           "closer_than", "most_similar_to_given", "term_id", "require_vocab"]

COSMUL_EPS = 1e-6  # Levy & Goldberg (2014), as gensim


# ------------------------------------------------------------------------------------------ helpers

def require_vocab(table):
    v = table.vocab
    if v is None:
        raise TypeError("this table has no vocabulary: pass vocab= or load vectors with keys")
    return v


def as_topn(topn, allow_none: bool = True, n: Optional[int] = None) -> Optional[int]:
    """gensim's ``topn``: an int >= 0 (0 asks for nothing), or None for every score; clipped to
    ``n`` (the candidate rows) as gensim clips it, so a huge topn never allocates its columns."""
    if topn is None and allow_none:
        return None
    t = as_int(topn, "topn", lo=0)
    return t if n is None else min(t, n)


def key_ids(table, keys) -> np.ndarray:
    """(n,) int64 row ids of a key or a list of keys."""
    return np.atleast_1d(np.asarray(require_vocab(table).encode(keys), np.int64))


def term_id(table, x) -> Optional[int]:
    """The row id of a key or a row id; None for a vector. Bools are neither."""
    if isinstance(x, str):
        return require_vocab(table).key_to_id(x)
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"a query term must be a key, a row id or a vector, got {x!r}")
    if isinstance(x, (numbers.Integral, np.integer)):
        i = int(x)
        check_id_range(np.array([i]), len(table), table="a vocabulary" if table.vocab is not None else None)
        return i
    return None


def as_vector(table, x, name: str = "a query vector") -> np.ndarray:
    """A (D,) finite float vector as float64."""
    v = np.asarray(x)
    if v.dtype.kind != "f" or v.shape != (table.dim,):
        raise ValueError(f"expected a row id, a key or a ({table.dim},) float vector, got "
                         f"{type(x).__name__} with shape {np.shape(x)}")
    v = v.astype(np.float64)
    if not np.isfinite(v).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return v


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return list(x)  # a (n, D) array: n query vectors (gensim)
    if isinstance(x, (str, np.ndarray)) or np.isscalar(x):
        return [x]
    return list(x)


def _weighted(x):
    """gensim's weighted term ``(key | row id | vector, weight)`` as (term, float weight), else None
    (a pair of floats is a 2-D vector, not a weighted term)."""
    if (isinstance(x, (tuple, list)) and len(x) == 2 and isinstance(x[0], (str, numbers.Integral, np.ndarray))
            and not isinstance(x[0], (bool, np.bool_)) and isinstance(x[1], numbers.Real)
            and not isinstance(x[1], (bool, np.bool_))):
        return x[0], float(x[1])
    return None


def _terms(table, positive, negative, unit_vectors: bool, n_threads=None, weights: bool = False):
    """(positive unit/raw vectors, negative ones, ids of the keys and row ids used); the rows of
    keys and ids are fetched in one ``unit_rows`` call (one round trip for a sharded table).

    With ``weights``, a ``(term, w)`` item contributes ``w`` times its vector, in either list (gensim's
    rule: the weight is used as given; a bare negative term weighs -1): it goes into the positive
    list scaled by ``w``. Without, weighted items are refused by name."""
    pos, neg, used, slots, fetch = [], [], [], [], []
    for items, dst in ((_as_list(positive), pos), (_as_list(negative), neg)):
        for x in items:
            wx = _weighted(x)
            if wx is not None:
                if not weights:
                    raise TypeError(f"weighted terms such as {x!r} are taken by most_similar only")
                tp, _, tu = _terms(table, [wx[0]], None, unit_vectors, n_threads)
                pos.append(tp[0] * wx[1])
                used.extend(tu)
                continue
            i = term_id(table, x)
            if i is not None:
                used.append(i)
                fetch.append(i)
                slots.append((dst, len(dst)))
                dst.append(None)
            else:
                v = as_vector(table, x)
                if unit_vectors:
                    n = np.linalg.norm(v / max(np.abs(v).max(), 1e-300))
                    if not n > 0:
                        raise ValueError(f"a query vector must be a nonzero ({table.dim},) vector")
                    v = v / np.abs(v).max() / n
                dst.append(v)
    if fetch:
        for (dst, j), u in zip(slots, table.unit_rows(fetch, n_threads)):
            dst[j] = u
    return pos, neg, used


def _pairs(table, scores, ids) -> List[Tuple[str, float]]:
    keys = require_vocab(table).keys
    return [(keys[i], float(s)) for s, i in zip(scores, ids) if i >= 0]


def _clip_restrict(table, restrict_vocab) -> int:
    """gensim's ``restrict_vocab``: the first n rows, clipped to the table."""
    if restrict_vocab is None:
        return len(table)
    return as_restrict(as_int(restrict_vocab, "restrict_vocab", lo=0), len(table), clip=True).row_hi


# ------------------------------------------------------------------------------------------ similar words

def most_similar(table, positive=None, negative=None, topn: Optional[int] = 10, restrict_vocab=None,
                 n_threads=None):
    """Keys most similar to the mean of unit vectors of ``positive`` minus ``negative`` (3CosAdd,
    gensim's ``most_similar``).

    Parameters
    ----------
    positive, negative : key, row id, (D,) vector, a list of them, or a (n, D) array of n vectors;
        a list item may be a weighted term ``(key | row id | vector, weight)`` (gensim's): it
        contributes ``weight`` times its unit vector (raw vector) in either list, where a bare
        negative term weighs -1 and a bare positive one 1
    topn : int >= 0 or None
        None returns the (V,) (or (restrict_vocab,)) float32 array of cosines instead; 0 returns [].
    restrict_vocab : int, optional
        Only the first n rows (the most frequent words of a frequency-sorted vocabulary); clipped
        to the table as gensim does.

    Returns
    -------
    list of (key, cosine) pairs, best first; the keys and ids asked about are excluded. With a
    valid index attached (``table.build_index()``) the search runs through it: the same answer.
    """
    row_hi = _clip_restrict(table, restrict_vocab)
    topn = as_topn(topn, n=row_hi)
    pos, neg, used = _terms(table, positive, negative, unit_vectors=False, n_threads=n_threads, weights=True)
    terms = pos + [-v for v in neg]
    if not terms:
        raise ValueError("cannot compute similarity with no input: give positive and/or negative keys")
    mean = np.mean(terms, axis=0)
    n = np.linalg.norm(mean)
    if not n > 0:
        raise ValueError("the combined query vector is zero (the positive and negative terms cancel)")
    q = (mean / n).astype(np.float32)
    if topn is None:
        return table.cosines(q, row_hi, n_threads)
    if topn == 0:
        return []
    # through the attached exact index when there is one: the answer of the scan, from int8 codes
    s, i = table.search(search.LinearScorer(q[None, :]), topn, restrict=row_hi,
                        exclude=[sorted(set(used))] if used else None, n_threads=n_threads)
    return _pairs(table, s[0], i[0])


def most_similar_cosmul(table, positive=None, negative=None, topn: Optional[int] = 10, restrict_vocab=None,
                        n_threads=None):
    """3CosMul (Levy & Goldberg 2014) as gensim: the product of (1 + cos) / 2 over positive terms
    divided by that product over negative terms plus 1e-6. Keys used are excluded.

    Returns a list of (key, score) pairs best first, [] for ``topn=0``, or with ``topn=None`` the
    float32 score array.
    """
    row_hi = _clip_restrict(table, restrict_vocab)
    topn = as_topn(topn, n=row_hi)
    pos, neg, used = _terms(table, positive, negative, unit_vectors=True, n_threads=n_threads)
    if not pos:
        raise ValueError("cannot compute similarity with no positive input")
    P = np.array(pos, np.float32)
    N = np.array(neg, np.float32).reshape(len(neg), table.dim)
    terms = np.ascontiguousarray(np.concatenate([P, N]))
    if topn is None:
        return _cosmul_full(table.cosines(terms, row_hi, n_threads), len(pos))
    if topn == 0:
        return []
    s, i = table.search(search.CosMulScorer(terms, len(pos), len(neg), COSMUL_EPS), topn, restrict=row_hi,
                        exclude=[sorted(set(used))], n_threads=n_threads)
    return _pairs(table, s[0], i[0])


def _cosmul_full(cos: np.ndarray, p: int) -> np.ndarray:
    """3CosMul of every row from the (p + n, rows) cosines of the positive then negative terms."""
    c = (1 + cos) / 2
    out = np.prod(c[:p], axis=0)
    if c.shape[0] > p:
        out = out / (np.prod(c[p:], axis=0) + np.float32(COSMUL_EPS))
    return out.astype(np.float32)


# ------------------------------------------------------------------------------------------ analogies

def analogy_ids(table, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None, exclude=None,
                n_threads=None, strategy: str = "auto"):
    """Batched analogies on row ids: a[i] : b[i] :: c[i] : ?  (the row nearest b - a + c).

    Parameters
    ----------
    a, b, c : array_like of int, shape (Q,)
    topn : int >= 0
    method : "add" (3CosAdd, gensim ``most_similar``) or "mul" (3CosMul)
    restrict_vocab : int, optional; only the first n rows (clipped to the table)
    exclude : per-question id lists to skip, or a (Q, m) int array; default each question's own
        a, b, c

    Returns
    -------
    scores (Q, topn) float32, ids (Q, topn) int64 (-1 / -inf where fewer candidates remain)
    """
    topn = as_topn(topn, allow_none=False, n=len(table))
    if method not in ("add", "mul"):
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")
    arrs = [as_ids(x, name).reshape(-1) for x, name in ((a, "a"), (b, "b"), (c, "c"))]
    if not (arrs[0].shape == arrs[1].shape == arrs[2].shape):
        raise ValueError(f"a, b and c must have equal lengths, got {arrs[0].size}, {arrs[1].size}, {arrs[2].size}")
    V = len(table)
    for name, x in zip("abc", arrs):
        check_id_range(x, V, what=f"{name} id")
    a, b, c = (x.astype(np.int64, copy=False) for x in arrs)
    Q = a.size
    row_hi = _clip_restrict(table, restrict_vocab)
    if exclude is None:
        exclude = np.stack([a, b, c], axis=1)
    if Q == 0 or topn == 0:
        return np.zeros((Q, topn), np.float32), np.full((Q, topn), -1, np.int64)
    words, inverse = np.unique(np.concatenate([a, b, c]), return_inverse=True)
    ia, ib, ic = (np.ascontiguousarray(x, np.int64) for x in np.split(inverse.reshape(-1), 3))
    U = table.unit_rows(words, n_threads)                          # (m, D) float64, one fetch
    if method == "mul":
        terms = np.stack([U[ib], U[ic], U[ia]], axis=1)
        scorer = search.CosMulScorer(np.ascontiguousarray(terms.reshape(Q * 3, -1), np.float32), 2, 1, COSMUL_EPS)
        return table.search(scorer, topn, restrict=row_hi, exclude=exclude, strategy=strategy, n_threads=n_threads)
    q = U[ib] - U[ia] + U[ic]
    norms = np.sqrt((q * q).sum(axis=1))
    if (norms == 0).any():
        raise ValueError(f"question {int(np.flatnonzero(norms == 0)[0])}: b - a + c is the zero vector")
    if words.size * 2 <= Q and strategy != "scan":
        # analogy sets reuse few words: score each distinct word once per block of rows
        scorer = search.SharedWordScorer(np.ascontiguousarray(U, np.float32), ia, ib, ic,
                                         (1.0 / norms).astype(np.float32))
    else:
        scorer = search.LinearScorer(np.ascontiguousarray(q / norms[:, None], np.float32))
    return table.search(scorer, topn, restrict=row_hi, exclude=exclude, strategy=strategy, n_threads=n_threads,
                        index=None)


def analogy(table, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None, n_threads=None):
    """a : b :: c : ?  — e.g. ``analogy(t, "man", "king", "woman")`` -> ``[("queen", 0.8)]``.

    ``a``, ``b``, ``c`` are keys, or equal-length lists of keys answered in one batched pass
    (each question's own words excluded). Returns a list of (key, score) pairs, or one such list
    per question.
    """
    single = isinstance(a, str)
    ids = [key_ids(table, x) for x in (a, b, c)]
    s, i = analogy_ids(table, *ids, topn=topn, method=method, restrict_vocab=restrict_vocab, n_threads=n_threads)
    out = [_pairs(table, si, ii) for si, ii in zip(np.atleast_2d(s), np.atleast_2d(i))]
    return out[0] if single else out


# ------------------------------------------------------------------------------------------ gensim's other questions

def _vector(table, x) -> np.ndarray:
    """A row id, a key, or a (D,) vector as float64 (D,)."""
    i = term_id(table, x)
    if i is not None:
        return table.lookup(i).astype(np.float64)
    return as_vector(table, x)


def similarity(table, a, b) -> float:
    """Cosine similarity of two rows / keys / vectors (0 if either has zero norm); computed in
    float64 after scaling, so huge and tiny vectors are handled exactly."""
    va, vb = _vector(table, a), _vector(table, b)
    sa, sb = np.abs(va).max(initial=0.0), np.abs(vb).max(initial=0.0)
    if sa == 0 or sb == 0:
        return 0.0
    va, vb = va / sa, vb / sb
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def n_similarity(table, ws1: Sequence, ws2: Sequence) -> float:
    """Cosine between the means of two sets of keys (gensim: raw vectors averaged)."""
    if not len(ws1) or not len(ws2):
        raise ValueError("n_similarity needs at least one key on each side")
    v1 = table.lookup(key_ids(table, list(ws1))).astype(np.float64).mean(axis=0)
    v2 = table.lookup(key_ids(table, list(ws2))).astype(np.float64).mean(axis=0)
    n = np.linalg.norm(v1) * np.linalg.norm(v2)
    return float(v1 @ v2 / n) if n > 0 else 0.0


def doesnt_match(table, words: Sequence[str]) -> str:
    """The key furthest from the mean of the others' unit vectors (gensim's definition)."""
    words = list(words)
    if not words:
        raise ValueError("doesnt_match needs at least one key")
    U = table.unit_rows(key_ids(table, words))
    mean = U.mean(axis=0)
    n = np.linalg.norm(mean)
    if n > 0:
        mean /= n
    return words[int(np.argmin(U @ mean))]


def rank(table, key1: str, key2: str) -> int:
    """1 + the number of keys closer to key1 than key2 is (key1 itself not counted), as gensim's
    ``rank`` (``len(closer_than(key1, key2)) + 1``): ``rank(k, k)`` is 1."""
    return len(closer_than(table, key1, key2)) + 1


def distances(table, word_or_vector, other_words=()) -> np.ndarray:
    """Cosine distances (1 - cosine) from a key, row id or vector to ``other_words`` (keys), or to
    every row when empty (gensim's ``distances``); float32 (n,)."""
    v = _vector(table, word_or_vector)
    s = np.abs(v).max(initial=0.0)
    n = np.linalg.norm(v / s) if s > 0 else 0.0
    q = (v / s / n).astype(np.float32) if n > 0 else np.zeros(table.dim, np.float32)
    if len(other_words):
        U = table.unit_rows(key_ids(table, list(other_words))).astype(np.float32)
        cos = U @ q
    else:
        cos = table.cosines(q)
    return (1 - cos).astype(np.float32)


def closer_than(table, key1, key2) -> List[str]:
    """Keys closer to ``key1`` than ``key2`` is (``key1`` itself left out), in row order (gensim's
    ``closer_than``: distances from ``key1`` strictly below that of ``key2``)."""
    vocab = require_vocab(table)
    i1, i2 = vocab.key_to_id(key1), vocab.key_to_id(key2)
    d = distances(table, key1)
    return [vocab.keys[i] for i in np.flatnonzero(d < d[i2]) if i != i1]


def most_similar_to_given(table, key1, keys_list) -> str:
    """The key of ``keys_list`` most similar to ``key1`` (the first on ties)."""
    keys_list = list(keys_list)
    if not keys_list:
        raise ValueError("most_similar_to_given needs at least one key to choose from")
    return keys_list[int(np.argmax([similarity(table, key1, k) for k in keys_list]))]
