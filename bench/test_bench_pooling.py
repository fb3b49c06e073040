"""pytest-benchmark suite: bag (EmbeddingBag) forward and backward against the numpy reference,
``lookup(ids).mean(1)`` and torch, by size and thread count.

    pytest bench/test_bench_pooling.py --benchmark-group-by=func,param:mode
"""
import numpy as np
import pytest

from fastembed import EmbeddingTable, pooling, reference as ref

V, D = 50257, 768


def _torch():
    try:
        import torch
    except ImportError:
        pytest.skip("torch is not installed")
    return torch


@pytest.fixture(scope="module")
def ragged():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 65, 100000)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return rng.integers(0, V, int(lengths.sum())), offsets


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("impl", ["fastembed-1t", "fastembed-2t", "lookup-mean", "torch", "numpy"])
def test_bag_fixed(benchmark, gpt2_table, mode, impl):
    ids = np.random.default_rng(0).integers(0, V, (64, 512))
    out = np.empty((64, D), np.float32)
    if impl.startswith("fastembed"):
        benchmark(pooling.bag, gpt2_table, ids, mode=mode, out=out, n_threads=int(impl[-2]))
        np.testing.assert_array_equal(out, ref.bag(gpt2_table, ids, mode=mode))
    elif impl == "lookup-mean":
        t = EmbeddingTable(gpt2_table)
        benchmark(lambda: getattr(t.lookup(ids, n_threads=2), mode)(1))
    elif impl == "torch":
        torch = _torch()
        torch.set_num_threads(2)
        tw, tids = torch.from_numpy(gpt2_table), torch.from_numpy(ids)
        with torch.no_grad():
            benchmark(torch.nn.functional.embedding_bag, tids, tw, mode=mode)
    else:
        benchmark.pedantic(ref.bag, (gpt2_table, ids), {"mode": mode}, rounds=3)


@pytest.mark.parametrize("impl", ["fastembed-1t", "fastembed-2t", "torch"])
def test_bag_ragged(benchmark, gpt2_table, ragged, impl):
    flat, offsets = ragged
    if impl.startswith("fastembed"):
        benchmark.pedantic(pooling.bag, (gpt2_table, flat, offsets), {"n_threads": int(impl[-2])}, rounds=5)
    else:
        torch = _torch()
        torch.set_num_threads(2)
        tw, tf, to = (torch.from_numpy(x) for x in (gpt2_table, flat, offsets))
        with torch.no_grad():
            benchmark.pedantic(torch.nn.functional.embedding_bag, (tf, tw, to), rounds=5)


@pytest.mark.parametrize("mode", ["mean", "max"])
@pytest.mark.parametrize("impl", ["fastembed-1t", "fastembed-2t", "torch-dense"])
def test_bag_backward(benchmark, gpt2_table, mode, impl):
    rng = np.random.default_rng(2)
    ids = rng.integers(0, V, (64, 512))
    g = rng.standard_normal((64, D), dtype=np.float32)
    if impl.startswith("fastembed"):
        benchmark(pooling.bag_backward, gpt2_table, ids, None, g, mode, n_threads=int(impl[-2]))
    else:
        torch = _torch()
        torch.set_num_threads(2)
        tw = torch.from_numpy(gpt2_table).requires_grad_(True)
        out = torch.nn.functional.embedding_bag(torch.from_numpy(ids), tw, mode=mode)
        benchmark(torch.autograd.grad, out, tw, torch.from_numpy(g), retain_graph=True)
