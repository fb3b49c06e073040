"""Issue 26, finding 9: tables pickle (by value; memory-mapped ones by path and offset), copies
are independent, and they cross process boundaries (spawn multiprocessing, Dask client.submit)."""
import copy
import multiprocessing
import os
import pickle

import numpy as np
import pytest

import fastembed as fe
from fastembed import io as fio


def _table(rng, **kw):
    return fe.EmbeddingTable(rng.standard_normal((40, 6)).astype(np.float32), vocab=[f"w{i}" for i in range(40)],
                             **kw)


def _same(a, b):
    assert a.shape == b.shape and a.storage is b.storage
    np.testing.assert_array_equal(a.weights, b.weights)
    assert (a.vocab is None) == (b.vocab is None)
    if a.vocab is not None:
        assert list(a.vocab.keys) == list(b.vocab.keys)
    assert a.padding_idx == b.padding_idx
    q = np.asarray(a[:3], np.float32)
    sa, ia = a.topk(q, 5)
    sb, ib = b.topk(q, 5)
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(sa, sb)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int8"])
def test_a_table_pickles_by_value(rng, dtype):
    t = _table(rng, dtype=dtype, padding_idx=3)
    t.topk(np.asarray(t[0]), 2)  # a filled norm cache is not pickled, and does not matter
    u = pickle.loads(pickle.dumps(t))
    _same(t, u)
    assert u.writeable and not np.shares_memory(u.weights, t.weights)


def test_copies_are_independent(rng):
    t = _table(rng)
    q = np.asarray(t[5], np.float32)
    t.topk(q, 2)
    for c in (copy.copy(t), copy.deepcopy(t)):
        _same(t, c)
        assert not np.shares_memory(c.weights, t.weights)
        c.set_rows([5], -q[None] * 3)  # a write to the copy ...
        assert t.topk(q, 1)[1][0] == 5  # ... never reaches the original (nor its norm cache)
        np.testing.assert_array_equal(t[5], q)
    c = copy.copy(t)
    t.set_rows([6], q[None])
    assert c.topk(q, 1)[1][0] == 5 and not np.array_equal(c[6], q)


def test_a_memory_mapped_table_pickles_by_path(rng, tmp_path):
    t = _table(rng)
    fio.save(t, tmp_path / "t", format="native")
    m = fio.load(tmp_path / "t", mmap=True)
    blob = pickle.dumps(m)
    assert len(blob) < 2000  # a recipe, not 40 x 6 floats ... plus the 40 keys
    u = pickle.loads(blob)
    _same(m, u)
    assert isinstance(u.weights.base, np.memmap) or not u.writeable
    assert not u.writeable
    full = pickle.loads(pickle.dumps(fio.by_value(m)))  # the flag to send the rows themselves
    _same(m, full)
    assert full.writeable
    assert len(pickle.dumps(fio.by_value(m))) > 40 * 6 * 4
    # a changed file is refused by name, not read as other rows
    data = [p for p in os.listdir(tmp_path / "t") if p.endswith(".npy")][0]
    with open(tmp_path / "t" / data, "r+b") as f:
        f.seek(0, 2)
        f.write(b"\0" * 64)
    with pytest.raises(ValueError, match=rf"{data}: the file changed since the memory-mapped EmbeddingTable was pickled"):
        pickle.loads(blob)


def test_a_closed_table_is_not_pickled(rng):
    t = _table(rng)
    t.close()
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(t)


def _topk_in_child(table, q):
    return table.topk(q, 4), table.vocab.keys[:3], os.getpid()


def test_spawn_multiprocessing_gets_the_table(rng):
    t = _table(rng)
    q = np.asarray(t[:2], np.float32)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        (s, i), keys, pid = pool.apply(_topk_in_child, (t, q))
    assert pid != os.getpid()
    want = t.topk(q, 4)
    np.testing.assert_array_equal(i, want[1])
    np.testing.assert_array_equal(s, want[0])
    assert list(keys) == ["w0", "w1", "w2"]


def test_dask_client_submit_takes_a_table(rng, tmp_path):
    distributed = pytest.importorskip("distributed", reason="needs dask.distributed")
    t = _table(rng)
    fio.save(t, tmp_path / "m", format="native")
    m = fio.load(tmp_path / "m", mmap=True)
    q = np.asarray(t[:2], np.float32)
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        for tab in (t, m):
            (s, i), _, pid = client.submit(_topk_in_child, tab, q, pure=False).result()
            assert pid != os.getpid()
            np.testing.assert_array_equal(i, tab.topk(q, 4)[1])
            np.testing.assert_array_equal(s, tab.topk(q, 4)[0])


def test_a_sharded_table_refuses_pickling_with_the_way_out():
    fd = pytest.importorskip("fastembed.distributed")
    st = object.__new__(fd.ShardedTable)
    with pytest.raises(TypeError, match=r"a ShardedTable cannot be pickled or copied.*ShardedTable.open\(path, client\)"):
        pickle.dumps(st)
    with pytest.raises(TypeError, match="a ShardedTable cannot be pickled or copied"):
        copy.deepcopy(st)
