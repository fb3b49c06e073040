"""Assertion helpers for comparing top-k answers (used by our tests; usable by yours).

Two top-k answers computed in different orders (our fixed-order dot products, numpy's BLAS, float64
references) agree only up to float32 rounding, and how far rounding can move a score depends on the
score's conditioning, not its size: a 3CosMul score ``cos_b * cos_c / cos_a`` with ``cos_a`` near 0
amplifies the rounding of its cosines hundreds of times. :func:`assert_topk_equivalent` therefore
takes either an absolute ``tol`` (well-conditioned scores such as cosines) or a ``sensitivity``: a
first-order bound of how far each score moves per unit relative rounding of its inputs, scaled by
the number of roundings ``ulps`` the two computations may differ by.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

__all__ = ["assert_topk_equivalent", "analogy_sensitivity", "EPS32"]

EPS32 = 2.0 ** -24  # float32 unit roundoff: one rounding moves a value by at most this, relatively


def assert_topk_equivalent(scores_a, ids_a, scores_b, ids_b, tol: float = 1e-5, *,
                           sensitivity: Optional[Callable] = None, ulps: Optional[float] = None) -> None:
    """Assert two top-k answers agree up to float32 rounding of the scores.

    Parameters
    ----------
    scores_a, ids_a, scores_b, ids_b : array_like, shape (k,) or (Q, k)
        Scores (best first) and ids (-1 for empty slots) of the two answers.
    tol : float
        Absolute tolerance of every score, when ``sensitivity`` is None.
    sensitivity : callable ``(q, ids) -> array of len(ids)``, optional
        For scores whose conditioning varies: the first-order bound ``sum_i |ds/dx_i| |x_i|`` of how
        far the score of each of ``ids`` in query ``q`` (an index into the arrays given here) moves
        when every input x_i moves by a relative 1 (see :func:`analogy_sensitivity`). The tolerance of
        row r in query q is then ``ulps * EPS32 * sensitivity(q, [r])``: it follows the conditioning,
        not the size, of the score.
    ulps : float
        With ``sensitivity``: how many float32 roundings (relative, of each input) the two
        computations may differ by. Two summation orders of a D-term float32 dot product differ by
        at most about ``2 * D`` of them.

    Scores must match within the tolerance position by position. Ids must be equal except where the
    two answers swapped rows whose scores are within the tolerance of each other: a row listed by one
    answer must appear in the other at a score within the tolerance, or be missing only because it
    ties (within the tolerance) with the other answer's last score (the cut at k).
    """
    sa, sb = np.atleast_2d(np.asarray(scores_a, np.float64)), np.atleast_2d(np.asarray(scores_b, np.float64))
    ia, ib = np.atleast_2d(ids_a), np.atleast_2d(ids_b)
    if sa.shape != sb.shape or ia.shape != ib.shape or sa.shape != ia.shape:
        raise AssertionError(f"shapes differ: {sa.shape}/{ia.shape} vs {sb.shape}/{ib.shape}")
    if sensitivity is not None and ulps is None:
        raise TypeError("assert_topk_equivalent: give ulps (the roundings allowed) with sensitivity")
    for q in range(sa.shape[0]):
        if sensitivity is None:
            ta = tb = np.full(sa.shape[1], float(tol))
        else:
            ta, tb = (ulps * EPS32 * np.abs(np.asarray(sensitivity(q, np.where(ids >= 0, ids, 0)), np.float64))
                      for ids in (ia[q], ib[q]))
        fin = np.isfinite(sa[q]) | np.isfinite(sb[q])
        if not np.array_equal(np.isfinite(sa[q]), np.isfinite(sb[q])):
            raise AssertionError(f"query {q}: different numbers of results")
        t = np.maximum(ta, tb)
        with np.errstate(invalid="ignore"):  # -inf - -inf in empty slots
            d = np.abs(sa[q] - sb[q])
        bad = np.flatnonzero(fin & (d > t))
        if bad.size:
            i = int(bad[0])
            raise AssertionError(f"query {q}: score {i} differs by {d[i]:.3g} > {t[i]:.3g} "
                                 f"({sa[q][i]!r} vs {sb[q][i]!r})")
        for x_ids, x_s, x_t, y_ids, y_s, y_t in ((ia[q], sa[q], ta, ib[q], sb[q], tb),
                                                 (ib[q], sb[q], tb, ia[q], sa[q], ta)):
            for pos in np.flatnonzero(x_ids != y_ids):
                rid = x_ids[pos]
                if rid < 0:
                    continue
                where = np.flatnonzero(y_ids == rid)
                if where.size:
                    if abs(float(y_s[where[0]]) - float(x_s[pos])) > max(x_t[pos], y_t[where[0]]):
                        raise AssertionError(f"query {q}: id {rid} scored {x_s[pos]} vs {y_s[where[0]]}")
                elif abs(float(x_s[pos]) - float(y_s[-1])) > max(x_t[pos], y_t[-1]):
                    raise AssertionError(f"query {q}: id {rid} (score {x_s[pos]}) at position {pos} "
                                         f"is missing from the other answer and is not a tie at the cut")


def analogy_sensitivity(weights, a, b, c, *, method: str = "add", eps: float = 1e-6) -> Callable:
    """Sensitivity of analogy scores (a : b :: c : ?) to rounding, for :func:`assert_topk_equivalent`.

    With unit rows u and ``A_x(r) = sum_i |u_x[i] u_r[i]|`` (the scale of the rounding error of the
    cosine ``u_x . u_r``; at most 1):

    * ``"add"``: score ``(u_b - u_a + u_c) . u_r / ||u_b - u_a + u_c||``, sensitivity
      ``(A_a + A_b + A_c) / ||u_b - u_a + u_c||`` (large when the query nearly cancels);
    * ``"mul"``: score ``s = C_b C_c / (C_a + eps)`` with ``C_x = (1 + cos_x) / 2``, sensitivity
      ``(C_c A_b + C_b A_c + s A_a) / (2 (C_a + eps))``: large when ``C_a`` is near 0 (the row is
      nearly opposite to a), whatever the size of s.

    Returns ``sensitivity(q, ids)`` for question q of the given (a, b, c) arrays.
    """
    W = np.asarray(weights, np.float64)
    norms = np.sqrt((W * W).sum(axis=1))
    U = W / np.where(norms > 0, norms, 1.0)[:, None]
    a, b, c = (np.asarray(x, np.int64).reshape(-1) for x in (a, b, c))
    if method not in ("add", "mul"):
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")

    def sensitivity(q, ids):
        ids = np.asarray(ids, np.int64)
        R = np.abs(U[ids])
        A = {x: R @ np.abs(U[v[q]]) for x, v in (("a", a), ("b", b), ("c", c))}
        if method == "add":
            v = U[b[q]] - U[a[q]] + U[c[q]]
            n = np.sqrt(v @ v)
            return (A["a"] + A["b"] + A["c"]) / (n if n > 0 else 1.0)
        C = {x: (1.0 + U[ids] @ U[v[q]]) / 2 for x, v in (("a", a), ("b", b), ("c", c))}
        s = C["b"] * C["c"] / (C["a"] + eps)
        return (C["c"] * A["b"] + C["b"] * A["c"] + np.abs(s) * A["a"]) / (2 * (C["a"] + eps))

    return sensitivity
