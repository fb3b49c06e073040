import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from conftest import ID_DTYPES, make_memmap


@pytest.fixture(scope="module")
def W():
    return np.random.default_rng(0).standard_normal((300, 24), dtype=np.float32)


@pytest.mark.parametrize("dtype", ID_DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (1, 1), (7, 13), (64, 512), (2, 3, 4), ()])
def test_lookup_equals_reference(W, dtype, shape, rng):
    hi = min(W.shape[0], np.iinfo(dtype).max + 1)
    ids = rng.integers(0, hi, size=shape).astype(dtype)
    t = EmbeddingTable(W)
    got = t.lookup(ids)
    assert got.shape == tuple(shape) + (W.shape[1],) and got.dtype == np.float32
    np.testing.assert_array_equal(got, ref.lookup(W, ids))
    np.testing.assert_array_equal(t[ids], got)


@pytest.mark.parametrize("D", [1, 3, 768])
def test_dims_duplicates_and_last_row(D, rng, simd_level):
    W = rng.standard_normal((50, D), dtype=np.float32)
    ids = np.array([[49, 49, 0, 49], [3, 3, 3, 49]])
    np.testing.assert_array_equal(EmbeddingTable(W).lookup(ids), W[ids])


def test_zero_dim_table(rng):
    t = EmbeddingTable(np.zeros((5, 0), np.float32))
    assert t.lookup([1, 2]).shape == (2, 0)
    with pytest.raises(IndexError, match="id 5 at position"):
        t.lookup([1, 5])


def test_out_buffer_is_written_and_returned(W, rng):
    ids = rng.integers(0, 300, (4, 9))
    out = np.full((4, 9, 24), np.nan, np.float32)
    res = EmbeddingTable(W).lookup(ids, out=out)
    assert res is out
    np.testing.assert_array_equal(out, W[ids])


@pytest.mark.parametrize("shape", [(64, 512), (3, 1000)])
def test_thread_count_invariance(rng, shape):
    W = rng.standard_normal((5000, 40), dtype=np.float32)
    ids = rng.integers(0, 5000, shape)
    t = EmbeddingTable(W)
    a = t.lookup(ids, n_threads=1)
    for nt in (2, 3, -1, None):
        np.testing.assert_array_equal(t.lookup(ids, n_threads=nt), a)
    # large outputs take the streaming-store path: still exact
    big = rng.integers(0, 5000, (64, 1024))
    np.testing.assert_array_equal(t.lookup(big, n_threads=2), W[big])


def test_read_only_and_memmap_tables(W, tmp_path, rng):
    ro = W.copy()
    ro.flags.writeable = False
    ids = rng.integers(0, 300, (5, 7))
    t = EmbeddingTable(ro)
    assert not t.writeable
    np.testing.assert_array_equal(t.lookup(ids), W[ids])
    mm = make_memmap(tmp_path, W)
    tm = EmbeddingTable(mm)
    assert "memmap=True" in repr(tm) and not tm.writeable
    assert tm.weights.base is not None  # a view, no copy
    assert np.shares_memory(tm.weights, mm)
    np.testing.assert_array_equal(tm.lookup(ids, n_threads=2), W[ids])


def test_table_larger_than_2_31_elements(tmp_path):
    # A sparse file: 2**31 + 16 * 4097 float32 elements (8 GiB of address space, a few pages on disk).
    D = 16
    V = (2 ** 31) // D + 4097
    path = tmp_path / "huge.f32"
    try:
        mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(V, D))
    except OSError as exc:  # pragma: no cover - filesystems without sparse files
        pytest.skip(f"cannot map an 8 GiB sparse file here: {exc}")
    rows = np.array([0, 2 ** 27, 2 ** 27 + 5, V - 1])
    for r in rows:
        mm[r] = np.arange(D, dtype=np.float32) + r % 1000
    mm.flush()
    ro = np.memmap(path, dtype=np.float32, mode="r", shape=(V, D))
    t = EmbeddingTable(ro)
    assert t.weights.size > 2 ** 31
    got = t.lookup(rows[::-1].reshape(2, 2), n_threads=2)
    np.testing.assert_array_equal(got.reshape(4, D), np.asarray(ro[rows[::-1]]))
    assert got[0, 0, 0] == (V - 1) % 1000
    with pytest.raises(IndexError, match=f"id {V} at position"):
        t.lookup([V])


@pytest.mark.parametrize("bad,pos", [(-1, "(1, 2)"), (300, "(1, 2)"), (10 ** 9, "(1, 2)")])
def test_out_of_range_ids(W, bad, pos):
    ids = np.zeros((3, 4), np.int64)
    ids[1, 2] = bad
    ids[2, 3] = bad  # only the first is named
    with pytest.raises(IndexError, match=rf"id {bad} at position \(1, 2\) is out of range for a table of 300 rows"):
        EmbeddingTable(W).lookup(ids)


def test_out_of_range_unsigned_and_scalar(W):
    t = EmbeddingTable(W)
    with pytest.raises(IndexError, match=r"id 18446744073709551615 at position \(0,\)"):
        t.lookup(np.array([2 ** 64 - 1], np.uint64))
    with pytest.raises(IndexError, match=r"id 300 at position \(\)"):
        t.lookup(300)
    with pytest.raises(IndexError, match=r"id -1 at position \(4,\)"):
        t.lookup(np.array([1, 2, 3, 4, -1], np.int8), n_threads=2)


@pytest.mark.parametrize("ids,msg", [
    (np.array([1.0, 2.0]), "integer array, got dtype float64"),
    (np.array([True, False]), "got bool"),
    (np.array(["a"]), "got strings"),
    (np.array([object()]), "integer array, got dtype object"),
    ([1.5], "integer array, got dtype float64"),
])
def test_non_integer_ids(W, ids, msg):
    with pytest.raises(TypeError, match=msg):
        EmbeddingTable(W).lookup(ids)


def test_bad_out_buffers(W):
    t = EmbeddingTable(W.copy())
    ids = np.array([1, 2])
    with pytest.raises(ValueError, match=r"out has shape \(3, 24\), expected \(2, 24\)"):
        t.lookup(ids, out=np.empty((3, 24), np.float32))
    with pytest.raises(ValueError, match="out must be float32, got float64"):
        t.lookup(ids, out=np.empty((2, 24)))
    with pytest.raises(ValueError, match="C-contiguous"):
        t.lookup(ids, out=np.empty((24, 2), np.float32).T)
    ro = np.empty((2, 24), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        t.lookup(ids, out=ro)
    with pytest.raises(ValueError, match="overlaps the table"):
        t.lookup(ids, out=t._w[:2])
    with pytest.raises(TypeError, match="out must be a numpy array"):
        t.lookup(ids, out=[[0.0] * 24] * 2)
    with pytest.raises(ValueError, match="n_threads=0"):
        t.lookup(ids, n_threads=0)


def test_constructor(rng):
    w64 = rng.standard_normal((10, 4))
    t = EmbeddingTable(w64)
    assert t.weights.dtype == np.float32 and t.num_embeddings == 10 and t.dim == 4 and len(t) == 10
    np.testing.assert_array_equal(t.weights, w64.astype(np.float32))
    f32 = rng.standard_normal((10, 4), dtype=np.float32)
    assert not np.shares_memory(EmbeddingTable(f32).weights, f32)  # writable: copied, norms never stale
    assert np.shares_memory(EmbeddingTable(f32, copy=False).weights, f32)
    ro = f32.copy()
    ro.flags.writeable = False
    assert np.shares_memory(EmbeddingTable(ro).weights, ro)  # nobody can write it: shared
    assert not np.shares_memory(EmbeddingTable(ro, copy=True).weights, ro)
    view = f32[:]
    view.flags.writeable = False  # read-only, but its base is writable: copied
    assert not np.shares_memory(EmbeddingTable(view).weights, f32)
    nc = np.asfortranarray(f32)
    np.testing.assert_array_equal(EmbeddingTable(nc).weights, f32)
    assert not EmbeddingTable(f32).weights.flags.writeable
    assert repr(EmbeddingTable(f32)) == "EmbeddingTable(num_embeddings=10, dim=4)"
    with pytest.raises(TypeError, match="floating-point array, got dtype int64"):
        EmbeddingTable(np.zeros((3, 3), np.int64))
    with pytest.raises(ValueError, match=r"must be 2-D \(V, D\), got shape \(3,\)"):
        EmbeddingTable(np.zeros(3, np.float32))


def test_random_and_zeros():
    a = EmbeddingTable.random(100, 8, seed=7)
    b = EmbeddingTable.random(100, 8, seed=7)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert 0.05 < a.weights.std() < 0.15  # randn * 0.1
    assert not np.array_equal(a.weights, EmbeddingTable.random(100, 8, seed=8).weights)
    z = EmbeddingTable.zeros(5, 3)
    assert z.weights.sum() == 0 and z.writeable
    p = EmbeddingTable.random(10, 4, padding_idx=-1)
    assert p.padding_idx == 9 and not p.weights[9].any() and p.weights[0].any()
    with pytest.raises(ValueError, match="padding_idx 10 is out of range for a table of 10 rows"):
        EmbeddingTable.random(10, 4, padding_idx=10)
    with pytest.raises(ValueError, match="non-negative"):
        EmbeddingTable.zeros(-1, 3)


def test_one_hot_matmul_equals_lookup(rng):
    W = rng.standard_normal((20, 6), dtype=np.float32)
    ids = rng.integers(0, 20, (4, 5))
    oh = fe.one_hot(ids, 20)
    assert oh.shape == (4, 5, 20) and oh.sum() == 20
    np.testing.assert_array_equal(oh, ref.one_hot(ids, 20))
    np.testing.assert_allclose(oh @ W, EmbeddingTable(W).lookup(ids), rtol=0, atol=0)
    # every pair of distinct one-hot vectors is orthogonal: cosine 0
    flat = oh.reshape(-1, 20)
    g = flat @ flat.T
    assert set(np.unique(g)) <= {0.0, 1.0}
    with pytest.raises(IndexError, match=r"id 20 at position \(1,\)"):
        fe.one_hot([0, 20], 20)
    with pytest.raises(ValueError, match="num_classes must be positive"):
        fe.one_hot([0], 0)


@settings(max_examples=60, deadline=None)
@given(V=st.integers(1, 40), D=st.integers(0, 17),
       ids=hnp.arrays(hnp.integer_dtypes(), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)),
       nt=st.sampled_from([1, 2, None]))
def test_hypothesis_lookup(V, D, ids, nt):
    W = np.arange(V * D, dtype=np.float32).reshape(V, D)
    t = EmbeddingTable(W)
    flat = ids.reshape(-1)
    ok = (flat >= 0) & (flat.astype(np.float64) < V)
    if ok.all():
        np.testing.assert_array_equal(t.lookup(ids, n_threads=nt), W[ids.astype(np.int64)])
    else:
        first = int(np.flatnonzero(~ok)[0])
        with pytest.raises(IndexError, match=f"id {int(flat[first])} at position"):
            t.lookup(ids, n_threads=nt)
