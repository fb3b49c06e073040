"""Word-level queries on a table with a vocabulary (what gensim's KeyedVectors offers, batched).

Mixed into :class:`fastembed.EmbeddingTable`; every method needs ``table.vocab``.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import numpy as np

from fastembed._kernels import _topk
from fastembed._validate import first_out_of_range
from fastembed.search import finish_results

__all__ = ["KeyedMixin", "COSMUL_EPS"]

COSMUL_EPS = 1e-6  # Levy & Goldberg (2014), as gensim


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (str, np.ndarray)) or np.isscalar(x):
        return [x]
    return list(x)


class KeyedMixin:
    __slots__ = ()

    # ------------------------------------------------------------------ keys <-> ids
    def encode(self, keys) -> Union[int, np.ndarray]:
        """Ids of a key, a list of keys, or a rectangular list of lists of keys (int64 array)."""
        vocab = self._require_vocab()
        if isinstance(keys, np.ndarray) and keys.dtype.kind in "UO":
            return vocab.encode(keys.reshape(-1).tolist()).reshape(keys.shape)
        if isinstance(keys, (list, tuple)) and keys and isinstance(keys[0], (list, tuple)):
            rows = [vocab.encode(list(r)) for r in keys]
            if len({len(r) for r in rows}) > 1:
                raise ValueError("token lists have different lengths; pad them to one length first")
            return np.stack(rows) if rows else np.zeros((0, 0), np.int64)
        return vocab.encode(keys)

    def decode(self, ids):
        """Keys of an id or an array of ids."""
        return self._require_vocab().decode(ids)

    def _key_ids(self, keys) -> np.ndarray:
        return np.atleast_1d(self.encode(keys)).astype(np.int64)

    def _unit_rows(self, ids) -> np.ndarray:
        """(n, D) float64 unit vectors of rows (zero rows stay zero)."""
        ids = np.asarray(ids, np.int64)
        return self._w[ids].astype(np.float64) * self.inv_norms()[ids, None]

    # ------------------------------------------------------------------ similar words
    def _combine(self, positive, negative) -> Tuple[np.ndarray, List[int]]:
        """gensim's query: mean of +unit(key) / -unit(key) and raw vectors, normalised; the ids of
        the keys used (they are excluded from answers)."""
        vocab = self._require_vocab()
        terms, used = [], []
        for items, sign in ((positive, 1.0), (negative, -1.0)):
            for x in items:
                if isinstance(x, str) or isinstance(x, (int, np.integer)):
                    i = vocab.key_to_id(x) if isinstance(x, str) else vocab._check_id(x)
                    used.append(i)
                    terms.append(sign * self._unit_rows([i])[0])
                else:
                    v = np.asarray(x, np.float64)
                    if v.shape != (self.dim,):
                        raise ValueError(f"a query vector must have shape ({self.dim},), got {v.shape}")
                    terms.append(sign * v)
        if not terms:
            raise ValueError("cannot compute similarity with no input: give positive and/or negative keys")
        mean = np.mean(terms, axis=0)
        n = np.linalg.norm(mean)
        if not n > 0:
            raise ValueError("the combined query vector is zero (the positive and negative terms cancel)")
        return mean / n, used

    def _pairs(self, scores, ids) -> List[Tuple[str, float]]:
        keys = self._vocab.keys
        return [(keys[i], float(s)) for s, i in zip(scores, ids) if i >= 0]

    def most_similar(self, positive=None, negative=None, topn: int = 10, restrict_vocab=None,
                     n_threads=None):
        """Keys most similar to the mean of unit vectors of ``positive`` minus ``negative`` (3CosAdd).

        Parameters
        ----------
        positive, negative : key, row id, (D,) vector, or a list of them
        topn : int or None
            None returns the (V,) (or (restrict_vocab,)) float32 array of cosines instead.
        restrict_vocab : int, optional
            Only the first n rows (the most frequent words in a frequency-sorted vocabulary).

        Returns
        -------
        list of (key, cosine) pairs, best first; the query keys themselves are excluded.
        """
        q, used = self._combine(_as_list(positive), _as_list(negative))
        if topn is None:
            n = self.num_embeddings if restrict_vocab is None else int(restrict_vocab)
            return ((self._w[:n] @ q.astype(np.float32)) * self.inv_norms()[:n]).astype(np.float32)
        s, i = self.topk(q, int(topn), exclude=used or None, restrict=restrict_vocab, n_threads=n_threads)
        return self._pairs(s, i)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int = 10, restrict_vocab=None,
                            n_threads=None):
        """3CosMul (Levy & Goldberg 2014) as gensim: the product of (1 + cos) / 2 over positive terms
        divided by that product over negative terms plus 1e-6. Keys used are excluded.

        Returns a list of (key, score) pairs best first, or with ``topn=None`` the score array.
        """
        vocab = self._require_vocab()
        pos, neg, used = [], [], []
        for items, dst in ((_as_list(positive), pos), (_as_list(negative), neg)):
            for x in items:
                if isinstance(x, (str, int, np.integer)):
                    i = vocab.key_to_id(x) if isinstance(x, str) else vocab._check_id(x)
                    used.append(i)
                    dst.append(self._unit_rows([i])[0])
                else:
                    v = np.asarray(x, np.float64)
                    n = np.linalg.norm(v)
                    if v.shape != (self.dim,) or not n > 0:
                        raise ValueError(f"a query vector must be a nonzero ({self.dim},) vector")
                    dst.append(v / n)
        if not pos:
            raise ValueError("cannot compute similarity with no positive input")
        P = np.array(pos, np.float32)[None]
        N = np.array(neg, np.float32).reshape(1, len(neg), self.dim)
        row_hi = self.num_embeddings if restrict_vocab is None else int(restrict_vocab)
        if topn is None:
            return _cosmul_full(self._w[:row_hi], self.inv_norms()[:row_hi], P[0], N[0])
        s, i = self._cosmul_topk(P, N, int(topn), [sorted(set(used))], row_hi, n_threads)
        return self._pairs(s[0], i[0])

    def _cosmul_topk(self, P, N, k, exclude, row_hi, n_threads=None):
        """Batched 3CosMul: P (Q, p, D) and N (Q, n, D) float32 unit vectors, per-query exclusions."""
        from fastembed.search import _exclusions, _restrict_rows, blocked_topk
        from fastembed._threads import resolve_threads
        Q, p, D = P.shape
        n = N.shape[1]
        terms = np.ascontiguousarray(np.concatenate([P, N], axis=1).reshape(Q * (p + n), D))
        inv = self.inv_norms()
        row_hi, mask = _restrict_rows(row_hi, self.num_embeddings)
        mask, excl_ptr, excl = _exclusions(exclude, Q, self.num_embeddings, mask)
        kk = max(1, min(k, self.num_embeddings))

        from fastembed.search import GEMM_BLOCK_ROWS, GEMM_TILE_FLOATS
        nb = GEMM_BLOCK_ROWS
        qb = min(Q, max(16, GEMM_TILE_FLOATS // (nb * (p + n))))

        def score_block(loc, r0, r1, rows, hs, hi):
            if "cos" not in loc:
                loc["cos"] = np.empty((qb * (p + n), nb), np.float32)
                loc["out"] = np.empty((qb, nb), np.float32)
            for q0 in range(0, Q, qb):
                q1 = min(q0 + qb, Q)
                nq = q1 - q0
                cos = loc["cos"][: nq * (p + n)]
                out = loc["out"][:nq]
                np.matmul(terms[q0 * (p + n): q1 * (p + n)], rows.T, out=cos)
                cos[:, : r1 - r0] *= inv[r0:r1]
                cos += 1.0
                cos *= 0.5
                c3 = cos.reshape(nq, p + n, nb)
                np.prod(c3[:, :p], axis=1, out=out)
                if n:
                    den = np.prod(c3[:, p:], axis=1)
                    den += np.float32(COSMUL_EPS)
                    out /= den
                _topk.merge_block(out, r1 - r0, r0, self._w, None, mask, excl_ptr, excl, q0, hs, hi, 1)

        scores = np.empty((Q, kk), np.float32)
        ids = np.empty((Q, kk), np.int64)
        if Q and row_hi:
            blocked_topk(self._w, score_block, row_hi, scores, ids, resolve_threads(n_threads))
        else:
            _topk.init_heaps(scores, ids)
        return finish_results(scores, ids, k)

    # ------------------------------------------------------------------ analogies
    def analogy_ids(self, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None,
                    exclude=None, n_threads=None):
        """Batched analogies on ids: a[i] : b[i] :: c[i] : ?  (the row nearest b - a + c).

        Parameters
        ----------
        a, b, c : array_like of int, shape (Q,)
        method : "add" (3CosAdd, gensim ``most_similar``) or "mul" (3CosMul)
        exclude : per-question id lists to skip; default: each question's own a, b, c

        Returns
        -------
        scores (Q, topn) float32, ids (Q, topn) int64 (-1 / -inf where fewer candidates remain)
        """
        a, b, c = (np.asarray(x, np.int64).reshape(-1) for x in (a, b, c))
        if not (a.shape == b.shape == c.shape):
            raise ValueError(f"a, b and c must have equal lengths, got {a.size}, {b.size}, {c.size}")
        V = self.num_embeddings
        for name, x in (("a", a), ("b", b), ("c", c)):
            i = first_out_of_range(x, V)
            if i >= 0:
                raise IndexError(f"{name} id {int(x[i])} at position {i} is out of range "
                                 f"for a table of {V} rows")
        if exclude is None:
            exclude = np.stack([a, b, c], axis=1)
        Q = a.size
        if method == "add":
            if Q == 0:
                return (np.zeros((0, topn), np.float32), np.zeros((0, topn), np.int64))
            words = np.unique(np.concatenate([a, b, c]))
            if words.size * 2 <= Q:  # analogy sets reuse few words: score each word once per block
                return self._analogy_shared(words, a, b, c, topn, restrict_vocab, exclude, n_threads)
            q = self._unit_rows(b) - self._unit_rows(a) + self._unit_rows(c)
            return self.topk(q, topn, exclude=list(exclude), restrict=restrict_vocab, n_threads=n_threads)
        if method == "mul":
            P = np.stack([self._unit_rows(b), self._unit_rows(c)], axis=1).astype(np.float32)
            N = self._unit_rows(a).astype(np.float32)[:, None, :]
            row_hi = self.num_embeddings if restrict_vocab is None else int(restrict_vocab)
            return self._cosmul_topk(P, N, topn, list(exclude), row_hi, n_threads)
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")

    def _analogy_shared(self, words, a, b, c, topn, restrict_vocab, exclude, n_threads):
        """3CosAdd for many questions over few distinct words: cos(b - a + c, row) is linear in the
        words' dot products with the row, so one GEMM per block scores the m distinct words and a
        fused kernel combines three of them per question straight into its heap."""
        from fastembed._threads import resolve_threads
        from fastembed.search import GEMM_BLOCK_ROWS, _exclusions, _restrict_rows, blocked_topk
        Q = a.size
        U = self._unit_rows(words)                               # (m, D) float64 unit vectors
        ia, ib, ic = (np.searchsorted(words, x).astype(np.int64) for x in (a, b, c))
        q = U[ib] - U[ia] + U[ic]
        norms = np.sqrt((q * q).sum(axis=1))
        if (norms == 0).any():
            raise ValueError(f"question {int(np.flatnonzero(norms == 0)[0])}: b - a + c is the zero vector")
        qscale = (1.0 / norms).astype(np.float32)
        Uf = np.ascontiguousarray(U, dtype=np.float32)
        V = self.num_embeddings
        row_hi, mask = _restrict_rows(restrict_vocab, V)
        mask, excl_ptr, excl = _exclusions(list(exclude), Q, V, mask)
        k = max(1, min(int(topn), V))
        scores = np.empty((Q, k), np.float32)
        ids = np.empty((Q, k), np.int64)
        inv = self.inv_norms()
        nb = GEMM_BLOCK_ROWS

        def score_block(loc, r0, r1, rows, hs, hi):
            wd = loc.get("wd")
            if wd is None:
                wd = loc["wd"] = np.empty((Uf.shape[0], nb), np.float32)
            np.matmul(Uf, rows.T, out=wd)
            _topk.merge_combined(wd, r1 - r0, r0, self._w, inv, mask, excl_ptr, excl, ia, ib, ic, qscale, hs, hi)

        if row_hi:
            blocked_topk(self._w, score_block, row_hi, scores, ids, resolve_threads(n_threads), nb)
        else:
            _topk.init_heaps(scores, ids)
        return finish_results(scores, ids, int(topn))

    def analogy(self, a, b, c, topn: int = 1, *, method: str = "add", restrict_vocab=None, n_threads=None):
        """a : b :: c : ?  — e.g. ``analogy("man", "king", "woman")`` -> ``[("queen", 0.8)]``.

        ``a``, ``b``, ``c`` are keys, or equal-length lists of keys answered in one batched pass
        (one GEMM sweep over the table, each question's own words excluded). Returns a list of
        (key, score) pairs, or one such list per question.
        """
        single = isinstance(a, str)
        ids = [self._key_ids(x) for x in (a, b, c)]
        s, i = self.analogy_ids(*ids, topn=topn, method=method, restrict_vocab=restrict_vocab,
                                n_threads=n_threads)
        out = [self._pairs(si, ii) for si, ii in zip(np.atleast_2d(s), np.atleast_2d(i))]
        return out[0] if single else out

    # ------------------------------------------------------------------ gensim's other questions
    def n_similarity(self, ws1: Sequence, ws2: Sequence) -> float:
        """Cosine between the means of two sets of keys (gensim: raw vectors averaged)."""
        if not len(ws1) or not len(ws2):
            raise ValueError("n_similarity needs at least one key on each side")
        v1 = self._w[self._key_ids(list(ws1))].astype(np.float64).mean(axis=0)
        v2 = self._w[self._key_ids(list(ws2))].astype(np.float64).mean(axis=0)
        n = np.linalg.norm(v1) * np.linalg.norm(v2)
        return float(v1 @ v2 / n) if n > 0 else 0.0

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The key furthest from the mean of the others' unit vectors (gensim's definition)."""
        words = list(words)
        if not words:
            raise ValueError("doesnt_match needs at least one key")
        U = self._unit_rows(self._key_ids(words))
        mean = U.mean(axis=0)
        n = np.linalg.norm(mean)
        if n > 0:
            mean /= n
        return words[int(np.argmin(U @ mean))]

    def rank(self, key1: str, key2: str) -> int:
        """1 + the number of keys closer to key1 than key2 is (key1 itself not counted)."""
        i1, i2 = int(self.encode(key1)), int(self.encode(key2))
        cos = (self._w @ self._w[i1].astype(np.float32)) * self.inv_norms() * self.inv_norms()[i1]
        cos[i1] = -np.inf
        return int((cos > cos[i2]).sum()) + 1

    def evaluate_analogies(self, path, restrict_vocab: int = 300000, case_insensitive: bool = True,
                           method: str = "add", n_threads=None):
        """Accuracy on an analogy file (``: section`` lines, then ``a b c expected``), as gensim's
        ``evaluate_word_analogies``. See :func:`fastembed.evaluate.evaluate_analogies`."""
        from fastembed.evaluate import evaluate_analogies
        return evaluate_analogies(self, path, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
                                  method=method, n_threads=n_threads)

    def evaluate_word_pairs(self, path, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False):
        """Pearson / Spearman correlation with human similarity scores, as gensim's
        ``evaluate_word_pairs``. See :func:`fastembed.evaluate.evaluate_word_pairs`."""
        from fastembed.evaluate import evaluate_word_pairs
        return evaluate_word_pairs(self, path, delimiter=delimiter, restrict_vocab=restrict_vocab,
                                   case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)


def _cosmul_full(W, inv, P, N) -> np.ndarray:
    cos_p = (1 + (W @ P.T) * inv[:, None]) / 2
    out = np.prod(cos_p, axis=1)
    if len(N):
        cos_n = (1 + (W @ N.T) * inv[:, None]) / 2
        out = out / (np.prod(cos_n, axis=1) + np.float32(COSMUL_EPS))
    return out.astype(np.float32)
