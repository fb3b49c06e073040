"""pytest-benchmark suite: lookup and fused embed vs the numpy reference, by size and thread count.

    pytest bench/test_bench_lookup.py --benchmark-group-by=param:shape
"""
import numpy as np
import pytest

from fastembed import EmbeddingTable, reference as ref

SHAPES = [(1, 1), (1, 128), (8, 512), (64, 512)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["fastembed-1t", "fastembed-2t", "numpy"])
def test_lookup(benchmark, gpt2_table, shape, impl):
    ids = np.random.default_rng(0).integers(0, gpt2_table.shape[0], shape)
    out = np.empty(shape + (768,), np.float32)
    t = EmbeddingTable(gpt2_table)
    if impl == "numpy":
        benchmark(ref.lookup, gpt2_table, ids)
    else:
        benchmark(t.lookup, ids, out=out, n_threads=int(impl[-2]))
    np.testing.assert_array_equal(out if impl != "numpy" else t.lookup(ids), gpt2_table[ids])


@pytest.mark.parametrize("shape", [(8, 512), (64, 512)], ids=str)
@pytest.mark.parametrize("impl", ["fastembed-1t", "fastembed-2t", "numpy"])
def test_embed(benchmark, gpt2_table, pos_table, shape, impl):
    ids = np.random.default_rng(0).integers(0, gpt2_table.shape[0], shape)
    out = np.empty(shape + (768,), np.float32)
    t = EmbeddingTable(gpt2_table)
    if impl == "numpy":
        benchmark(ref.embed, gpt2_table, ids, pos_table, scale="sqrt")
    else:
        benchmark(t.embed, ids, pos_table, scale="sqrt", out=out, n_threads=int(impl[-2]))
