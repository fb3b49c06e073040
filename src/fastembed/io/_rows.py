"""Where parsed rows go: one preallocated matrix when the row count is known in advance, else
fixed-size blocks joined at the end (``ndarray.resize`` would zero-fill and touch every new page)."""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

__all__ = ["RowSink", "BLOCK_BYTES"]

BLOCK_BYTES = 1 << 26  # 64 MB blocks when the row count is unknown


class RowSink:
    """Rows of width D, filled front to back.

    Parameters
    ----------
    D : int
    capacity : int or None
        Rows known in advance (at most): one matrix of that many rows. None: blocks of
        ``BLOCK_BYTES``, joined by :meth:`result` with a peak of the result plus one block.
    limit : int or None
        No more rows than this will be committed (bounds the blocks).
    """

    def __init__(self, D: int, capacity: Optional[int], limit: Optional[int] = None):
        self.D = D
        self.fixed = capacity is not None
        self.limit = limit
        self.blocks: List[np.ndarray] = []
        self.filled: List[int] = []
        self.total = 0
        if capacity is not None:
            self.blocks.append(np.empty((capacity, D), np.float32))
            self.filled.append(0)
        self.block_rows = max(1, BLOCK_BYTES // max(4 * D, 1))

    def __repr__(self) -> str:
        return (f"RowSink(D={self.D}, rows={self.total}, blocks={len(self.blocks)}, "
                f"{'fixed' if self.fixed else 'growing'}, limit={self.limit})")

    def target(self) -> Tuple[np.ndarray, int, int]:
        """(array, first free row, free rows) to parse into; free rows is 0 when the fixed
        capacity (or the limit) is reached."""
        if not self.fixed and (not self.blocks or self.filled[-1] == self.blocks[-1].shape[0]):
            rows = self.block_rows
            if self.limit is not None:
                rows = min(rows, self.limit - self.total)
            if rows > 0:
                self.blocks.append(np.empty((rows, self.D), np.float32))
                self.filled.append(0)
        if not self.blocks:
            return np.empty((0, self.D), np.float32), 0, 0
        return self.blocks[-1], self.filled[-1], self.blocks[-1].shape[0] - self.filled[-1]

    def commit(self, n: int) -> None:
        self.filled[-1] += n
        self.total += n

    def result(self) -> np.ndarray:
        """The (rows, D) float32 matrix of the committed rows."""
        if not self.blocks:
            return np.empty((0, self.D), np.float32)
        if len(self.blocks) == 1:
            b, n = self.blocks[0], self.filled[0]
            self.blocks, self.filled = [], []
            if n == b.shape[0]:
                return b
            # a view would pin the unused rows: copy unless they are few
            return b[:n].copy() if n < 0.9 * b.shape[0] else b[:n]
        out = np.empty((self.total, self.D), np.float32)
        at = 0
        while self.blocks:
            b, n = self.blocks.pop(0), self.filled.pop(0)
            out[at: at + n] = b[:n]
            at += n
            del b  # freed before the next block is copied
        return out
