"""Grouping positions by id: the segmented sums behind every sparse backward (lookup and bags)."""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["segments"]


def segments(flat: np.ndarray, skip: Optional[int] = None):
    """Group positions by id for a sparse backward: ``(order, starts, uniq)``.

    flat : (N,) int64 ids. ``order`` (int64, (N',)) lists positions stably sorted by id; the
    positions of ``uniq[u]`` are ``order[starts[u]:starts[u + 1]]`` (``starts``: (U + 1,) int64;
    ``uniq``: (U,) int64, ascending). Positions of id ``skip`` (a padding index) are left out.
    Summing each segment in order is what makes a backward independent of the thread count.
    """
    order = np.argsort(flat, kind="stable")
    sorted_ids = flat[order]
    if sorted_ids.size:
        cut = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
        starts = np.concatenate([[0], cut, [sorted_ids.size]]).astype(np.int64)
    else:
        starts = np.zeros(1, np.int64)
    uniq = sorted_ids[starts[:-1]].astype(np.int64, copy=False)
    if skip is not None:
        j = int(np.searchsorted(uniq, skip))
        if j < uniq.size and uniq[j] == skip:  # drop the skipped id's segment
            order = np.concatenate([order[: starts[j]], order[starts[j + 1]:]])
            width = starts[j + 1] - starts[j]
            starts = np.concatenate([starts[: j + 1], starts[j + 2:] - width])
            uniq = np.delete(uniq, j)
    return order, starts, uniq
