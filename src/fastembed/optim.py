"""Sparse optimizers for tables: each holds its own state and writes rows through the table's
public write API (:meth:`EmbeddingTable.scatter_add`), so the table stays plain storage.

    opt = Adagrad(table, lr=0.1)
    uniq, rows = table.backward(ids, grad_out)
    opt.step(uniq, rows)

Like ``torch.optim.SparseAdam`` and friends, an optimizer is bound to the table it updates.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from fastembed._validate import as_float, as_sparse_rows

__all__ = ["Optimizer", "SGD", "Adagrad"]


class Optimizer:
    """Base class: ``step(unique_ids, rows)`` applies one update to the rows of ``table``."""

    def __init__(self, table, lr: float):
        self.table = table
        self.lr = as_float(lr, "lr")

    def _check_table(self, table):
        if table is not None and table is not self.table:
            raise ValueError("this optimizer was created for another table")

    def step(self, unique_ids, rows, *, table=None, n_threads=None) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(Optimizer):
    """``weights[ids] -= lr * rows`` (stateless)."""

    def step(self, unique_ids, rows, *, table=None, n_threads=None) -> None:
        self._check_table(table)
        self.table.scatter_add(unique_ids, rows, -self.lr, n_threads=n_threads)


class Adagrad(Optimizer):
    """Row-wise Adagrad: one accumulator per row (O(V) float64 state, never V x D):
    ``state[i] += mean(g_i ** 2)``, then ``weights[i] -= lr / (sqrt(state[i]) + eps) * g_i``.
    The padding row is never updated (its state still accumulates, which nothing reads)."""

    def __init__(self, table, lr: float, eps: float = 1e-10):
        super().__init__(table, lr)
        self.eps = as_float(eps, "eps", lo=0.0)
        self.state: Optional[np.ndarray] = None  # (V,) float64, created on the first step

    def step(self, unique_ids, rows, *, table=None, n_threads=None) -> None:
        self._check_table(table)
        t = self.table
        if not t.writeable:
            raise ValueError("this table is read-only (a read-only array or memory map): copy it with "
                             "EmbeddingTable(weights, copy=True) to train it")
        ids, r = as_sparse_rows(unique_ids, rows, t.weights)
        if self.state is None or self.state.shape[0] != len(t):
            self.state = np.zeros(len(t), np.float64)
        # O(U * D) bookkeeping in numpy; the O(U * D) row update in the kernel
        self.state[ids] += (r.astype(np.float64) ** 2).sum(axis=1) / max(t.dim, 1)
        steps = (self.lr / (np.sqrt(self.state[ids]) + self.eps)).astype(np.float32)
        t.scatter_add(ids, r, -steps, n_threads=n_threads, validated=True)
