import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastembed import EmbeddingTable, reference as ref
from fastembed.positions import LearnedPositions, SinusoidalPositions
from conftest import make_memmap


def _tables(rng, V=97, D=13, P=40):
    return (rng.standard_normal((V, D), dtype=np.float32), rng.standard_normal((P, D), dtype=np.float32),
            rng.standard_normal((3, D), dtype=np.float32))


CASES = [
    dict(),
    dict(scale="sqrt"),
    dict(scale=0.125),
    dict(scale=3),
    dict(offset=5),
    dict(offset=[0, 7, 2, 20]),
    dict(position_ids="leftpad"),
    dict(type_table=True),
    dict(type_table=True, token_types=True, scale="sqrt", offset=[1, 2, 3, 4]),
]


def _materialise(kw, rng, ids, types):
    kw = dict(kw)
    if kw.get("position_ids") == "leftpad":
        mask = np.ones(ids.shape, np.int64)
        mask[0, :3] = 0
        mask[2, :1] = 0
        kw["position_ids"] = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
    if kw.get("type_table") is True:
        kw["type_table"] = types
    if kw.get("token_types") is True:
        kw["token_types"] = rng.integers(0, 3, ids.shape)
    return kw


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("D", [1, 3, 13, 767])
def test_embed_bit_identical_to_reference(rng, kw, D, simd_level):
    W, P, types = _tables(rng, D=D)
    ids = rng.integers(0, 97, (4, 9))
    kw = _materialise(kw, rng, ids, types)
    t = EmbeddingTable(W)
    got = t.embed(ids, P, **kw)
    assert got.shape == (4, 9, D) and got.dtype == np.float32
    np.testing.assert_array_equal(got, ref.embed(W, ids, P, **kw))


def test_embed_sources_single_sequence_and_decoding_step(rng):
    W, P, _ = _tables(rng)
    t = EmbeddingTable(W)
    sin = SinusoidalPositions(13, max_len=64)
    ids = rng.integers(0, 97, 11)
    got = t.embed(ids, sin, scale="sqrt")
    assert got.shape == (11, 13)
    np.testing.assert_array_equal(got, ref.embed(W, ids, sin.weights, scale="sqrt"))
    # T = 1 incremental decoding, each sequence at its own cache length
    step = rng.integers(0, 97, (3, 1))
    got = t.embed(step, LearnedPositions(P), offset=np.array([4, 39, 0]))
    np.testing.assert_array_equal(got[:, 0], W[step[:, 0]] + P[[4, 39, 0]])


def test_embed_threads_readonly_memmap_out(rng, tmp_path):
    W, P, types = _tables(rng, V=500, D=64, P=600)
    ids = rng.integers(0, 500, (16, 512))
    expect = ref.embed(W, ids, P, scale=0.5, offset=3)
    mm = EmbeddingTable(make_memmap(tmp_path, W))
    out = np.empty_like(expect)
    for nt in (1, 2, 3):
        np.testing.assert_array_equal(mm.embed(ids, P, scale=0.5, offset=3, n_threads=nt), expect)
    assert mm.embed(ids, P, scale=0.5, offset=3, out=out) is out
    np.testing.assert_array_equal(out, expect)
    np.testing.assert_array_equal(np.asarray(mm.weights), W)  # never written


def test_padding_row_gets_position(rng):
    t = EmbeddingTable.random(10, 4, padding_idx=0)
    P = rng.standard_normal((5, 4), dtype=np.float32)
    got = t.embed([[0, 0, 3]], P)
    np.testing.assert_array_equal(got[0, :2], P[:2])  # PyTorch: zero row + position


def test_embed_errors(rng):
    W, P, types = _tables(rng)
    t = EmbeddingTable(W)
    ids = rng.integers(0, 97, (4, 9))
    with pytest.raises(IndexError, match=r"position 40 \(offset 32 \+ length 9 - 1, sequence 0\) is "
                                         r"beyond the position table of 40 rows by 1"):
        t.embed(ids, P, offset=32)
    with pytest.raises(IndexError, match=r"sequence 2\) is beyond the position table of 40 rows by 10"):
        t.embed(ids, P, offset=[0, 0, 41, 0])
    with pytest.raises(ValueError, match="offset -1 for sequence 1 is negative"):
        t.embed(ids, P, offset=[0, -1, 0, 0])
    with pytest.raises(ValueError, match=r"offset must be an int or have shape \(4,\)"):
        t.embed(ids, P, offset=[0, 1])
    with pytest.raises(ValueError, match="position table has dim 5 but the token table has dim 13"):
        t.embed(ids, np.zeros((10, 5), np.float32))
    with pytest.raises(ValueError, match="type_table has dim 2 but the token table has dim 13"):
        t.embed(ids, P, type_table=np.zeros((2, 2), np.float32))
    bad = ids.copy()
    bad[2, 5] = 97
    with pytest.raises(IndexError, match=r"id 97 at position \(2, 5\) is out of range for a table of 97 rows"):
        t.embed(bad, P)
    bad[2, 5] = -3
    with pytest.raises(IndexError, match=r"id -3 at position \(2, 5\)"):
        t.embed(bad, P, n_threads=2)
    pid = np.zeros((4, 9), np.int64)
    pid[1, 1] = 40
    with pytest.raises(IndexError, match=r"position id 40 at position \(1, 1\) is out of range for a "
                                         r"position table of 40 rows"):
        t.embed(ids, P, position_ids=pid)
    with pytest.raises(ValueError, match="either position_ids or offset"):
        t.embed(ids, P, position_ids=np.zeros((4, 9), np.int64), offset=2)
    with pytest.raises(ValueError, match=r"position_ids has shape \(9,\), expected \(4, 9\)"):
        t.embed(ids, P, position_ids=np.zeros(9, np.int64))
    tt = np.zeros((4, 9), np.int64)
    tt[3, 8] = 3
    with pytest.raises(IndexError, match=r"token type 3 at position \(3, 8\) is out of range for type_table of 3 rows"):
        t.embed(ids, P, type_table=types, token_types=tt)
    with pytest.raises(ValueError, match="token_types given without a type_table"):
        t.embed(ids, P, token_types=tt)
    with pytest.raises(ValueError, match="scale must be None, a number or 'sqrt'"):
        t.embed(ids, P, scale="log")
    with pytest.raises(ValueError, match=r"ids must be \(B, T\) or \(T,\)"):
        t.embed(ids[None], P)
    with pytest.raises(TypeError, match="ids must be an integer array"):
        t.embed(ids.astype(float), P)
    with pytest.raises(ValueError, match=r"out has shape"):
        t.embed(ids, P, out=np.empty((4, 9, 12), np.float32))


def test_embed_empty(rng):
    W, P, _ = _tables(rng)
    t = EmbeddingTable(W)
    assert t.embed(np.zeros((0, 5), np.int64), P).shape == (0, 5, 13)
    assert t.embed(np.zeros((3, 0), np.int64), P).shape == (3, 0, 13)


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 12), D=st.integers(1, 20), seed=st.integers(0, 2 ** 16),
       scale=st.sampled_from([None, "sqrt", 0.5, 2.0, 1e-3]), use_types=st.booleans(),
       per_row=st.booleans(), nt=st.sampled_from([1, 2]))
def test_hypothesis_embed(B, T, D, seed, scale, use_types, per_row, nt):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((30, D), dtype=np.float32)
    P = rng.standard_normal((T + 8, D), dtype=np.float32)
    ids = rng.integers(0, 30, (B, T))
    kw = dict(scale=scale, offset=rng.integers(0, 9, B) if per_row else int(rng.integers(0, 9)))
    if use_types:
        kw.update(type_table=rng.standard_normal((2, D), dtype=np.float32), token_types=rng.integers(0, 2, (B, T)))
    np.testing.assert_array_equal(EmbeddingTable(W).embed(ids, P, n_threads=nt, **kw), ref.embed(W, ids, P, **kw))
