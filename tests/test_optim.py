"""fastembed.optim: sparse SGD and Adagrad steps against the numpy reference at every SIMD level and
thread count, the padding row, the norm cache, and their error messages."""
import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from conftest import make_memmap


@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("opt", ["sgd", "adagrad"])
def test_optimizer_step_equals_reference(rng, opt, nt, simd_level):
    t = EmbeddingTable.random(100, 9, seed=2, padding_idx=5)
    W = np.array(t.weights)
    state = np.zeros(100, np.float64)
    opt = fe.optim.Adagrad(t, lr=0.1) if opt == "adagrad" else "sgd"
    for step in range(3):
        ids = rng.integers(0, 100, (4, 6))
        g = rng.standard_normal((4, 6, 9), dtype=np.float32)
        u, rows = t.backward(ids, g)
        inv_before = t.inv_norms()
        if opt == "sgd":
            fe.optim.SGD(t, lr=0.1).step(u, rows, n_threads=nt)
        else:
            opt.step(u, rows, n_threads=nt)
        ref.apply_sparse(W, state, u, rows, 0.1, "sgd" if opt == "sgd" else "adagrad")
        np.testing.assert_array_equal(t.weights, W)
        assert t.inv_norms() is not inv_before  # cache invalidated
    assert not t.weights[5].any()  # padding row never updated


def test_optimizer_step_errors(tmp_path):
    ro = EmbeddingTable(make_memmap(tmp_path, np.ones((4, 2), np.float32)))
    with pytest.raises(ValueError, match="this table is read-only"):
        fe.optim.SGD(ro, lr=0.1).step([0], np.ones((1, 2)))
    with pytest.raises(ValueError, match="this table is read-only"):
        fe.optim.Adagrad(ro, lr=0.1).step([0], np.ones((1, 2)))
    np.testing.assert_array_equal(np.asarray(ro.weights), 1.0)
    t = EmbeddingTable.zeros(4, 2)
    sgd = fe.optim.SGD(t, lr=0.1)
    with pytest.raises(ValueError, match="unique_ids has repeated ids"):
        sgd.step([1, 1], np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"rows has shape \(1, 2\), expected \(2, 2\)"):
        sgd.step([0, 1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="this optimizer was created for another table"):
        sgd.step([0], np.ones((1, 2)), table=EmbeddingTable.zeros(4, 2))
    with pytest.raises(IndexError, match=r"id 4 at position \(1,\)"):
        sgd.step([0, 4], np.ones((2, 2)))
    with pytest.raises(ValueError, match="read-only"):
        ro.set_rows([0], np.zeros(2))
    t.set_rows([2], np.array([3.0, 4.0]))
    assert t.norms()[2] == 5.0


def test_training_loop_learns(rng):
    # a toy regression through lookup/backward/an optimizer step: the loss must fall
    t = EmbeddingTable.random(20, 4, seed=0)
    target = rng.standard_normal((20, 4), dtype=np.float32)
    losses = []
    for _ in range(30):
        ids = rng.integers(0, 20, 16)
        err = t.lookup(ids) - target[ids]
        losses.append(float((err ** 2).mean()))
        u, rows = t.backward(ids, 2 * err / err.size)
        fe.optim.SGD(t, lr=5.0).step(u, rows)
    assert losses[-1] < 0.2 * losses[0]
