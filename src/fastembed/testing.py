"""Assertion helpers for comparing top-k answers (used by our tests; usable by yours)."""
from __future__ import annotations

import numpy as np

__all__ = ["assert_topk_equivalent"]


def assert_topk_equivalent(scores_a, ids_a, scores_b, ids_b, tol: float = 1e-5) -> None:
    """Assert two top-k answers agree up to float32 rounding of the scores.

    Scores must match within ``tol`` position by position. Ids must be equal except where the two
    answers swapped rows whose scores are within ``tol`` of each other: a row listed by one answer
    must appear in the other at a score within ``tol``, or be missing only because it ties (within
    ``tol``) with the other answer's last score (the cut at k).
    """
    sa, sb = np.atleast_2d(scores_a), np.atleast_2d(scores_b)
    ia, ib = np.atleast_2d(ids_a), np.atleast_2d(ids_b)
    if sa.shape != sb.shape or ia.shape != ib.shape or sa.shape != ia.shape:
        raise AssertionError(f"shapes differ: {sa.shape}/{ia.shape} vs {sb.shape}/{ib.shape}")
    for q in range(sa.shape[0]):
        fin = np.isfinite(sa[q]) | np.isfinite(sb[q])
        if not np.array_equal(np.isfinite(sa[q]), np.isfinite(sb[q])):
            raise AssertionError(f"query {q}: different numbers of results")
        d = np.abs(sa[q][fin] - sb[q][fin])
        if d.size and d.max() > tol:
            i = int(np.argmax(d))
            raise AssertionError(f"query {q}: score {i} differs by {d.max():.3g} > {tol}")
        for x_ids, x_s, y_ids, y_s in ((ia[q], sa[q], ib[q], sb[q]), (ib[q], sb[q], ia[q], sa[q])):
            for pos in np.flatnonzero(x_ids != y_ids):
                rid = x_ids[pos]
                if rid < 0:
                    continue
                where = np.flatnonzero(y_ids == rid)
                if where.size:
                    if abs(float(y_s[where[0]]) - float(x_s[pos])) > tol:
                        raise AssertionError(f"query {q}: id {rid} scored {x_s[pos]} vs {y_s[where[0]]}")
                elif abs(float(x_s[pos]) - float(y_s[-1])) > tol:
                    raise AssertionError(f"query {q}: id {rid} (score {x_s[pos]}) at position {pos} "
                                         f"is missing from the other answer and is not a tie at the cut")
