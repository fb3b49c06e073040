from __future__ import annotations

import numpy as np

from fastembed._validate import as_ids, check_range


def one_hot(ids, num_classes: int) -> np.ndarray:
    """One-hot vectors: ids of any integer dtype/shape -> (*ids.shape, num_classes) float32.

    ``one_hot(ids, V) @ W`` equals ``EmbeddingTable(W).lookup(ids)``: a lookup is a one-hot matrix
    product that skips the zeros.
    """
    a = as_ids(ids)
    n = int(num_classes)
    if n <= 0:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    check_range(a, n, table="one_hot with num_classes")
    flat = a.reshape(-1)
    out = np.zeros((flat.size, n), dtype=np.float32)
    out[np.arange(flat.size), flat.astype(np.intp)] = 1.0
    return out.reshape(a.shape + (n,))
