"""Bad and extreme input through the Python layer (issues 13 and 19): each case used to crash,
return garbage or be accepted silently; now it raises a clear error or gives the right answer."""
import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable
from fastembed.positions import SinusoidalPositions


@pytest.fixture
def t():
    rng = np.random.default_rng(5)
    return EmbeddingTable(rng.standard_normal((10, 4), dtype=np.float32), vocab=[f"k{i}" for i in range(10)])


def test_embed_offsets_cannot_wrap(t):
    pos = SinusoidalPositions(4, max_len=16)
    with pytest.raises(IndexError, match=r"position 9223372036854775808 \(offset 9223372036854775807 \+ length 2 - 1"):
        t.embed([[1, 2]], pos, offset=np.iinfo(np.int64).max)
    with pytest.raises(IndexError, match=r"offset 9223372036854775808 \+ length 1 - 1, sequence 0\) is beyond"):
        t.embed([[1]], pos, offset=np.array([2 ** 63], np.uint64))
    with pytest.raises(ValueError, match="offset -1 for sequence 0 is negative"):
        t.embed([[1]], pos, offset=[-1])
    with pytest.raises(TypeError, match="offset must be an integer array"):
        t.embed([[1]], pos, offset=1.5)
    with pytest.raises(ValueError, match="scale must be finite in float32, got 1e\\+39"):
        t.embed([[1]], pos, scale=1e39)


def test_embed_out_must_not_overlap_inputs(t):
    P = np.zeros((8, 4), np.float32)
    with pytest.raises(ValueError, match="out overlaps another input of this call"):
        t.embed([1, 2], P, out=P[:2])
    types = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="out overlaps another input"):
        t.embed([1, 2], P, type_table=types, out=types[:2])


def test_backward_on_a_zero_width_table():
    z = EmbeddingTable(np.zeros((5, 0), np.float32))
    u, rows = z.backward([1, 1, 3], np.zeros((3, 0), np.float32))
    assert u.tolist() == [1, 3] and rows.shape == (2, 0)


def test_rows_aliasing_the_table_update_like_numpy():
    W = np.arange(12, dtype=np.float32).reshape(6, 2)
    t = EmbeddingTable(W.copy())
    expect = W.copy()
    expect[[0, 1]] -= 0.5 * W[[1, 2]]
    with t.writing() as w:
        alias = w[1:3]  # rows 1..2 of the table itself
    fe.optim.SGD(t, lr=0.5).step([0, 1], alias)
    np.testing.assert_array_equal(t.weights, expect)


def test_extreme_queries_and_rows():
    W = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    t = EmbeddingTable(W)
    s, i = t.topk(np.array([1e200, 1e200]), 1)           # the norm of this query overflows float64
    assert i[0] == 2 and s[0] == pytest.approx(1.0)
    s, i = t.topk(np.array([1e-320, 0.0]), 1)             # denormal float64 query
    assert i[0] == 0 and s[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="beyond float32's range"):
        t.topk(np.array([1e200, 0.0]), 1, metric="dot")
    huge = EmbeddingTable(np.array([[3e38, 3e38], [1, 0]], np.float32))
    with pytest.raises(ValueError, match=r"row 0's norm is 4.24e\+38, beyond float32's range"):
        huge.topk(np.array([1.0, 0.0]), 1)
    tiny = EmbeddingTable(np.array([[1, 0], [1e-40, 0]], np.float32))
    with pytest.raises(ValueError, match="row 1's norm is so small"):
        tiny.topk(np.array([1.0, 0.0]), 1)
    assert huge.topk(np.array([1.0, 0.0]), 1, metric="dot")[1][0] == 0  # dot needs no norms


def test_ids_that_no_integer_dtype_holds(t):
    with pytest.raises(IndexError, match=r"id 9223372036854775808 at position \(1,\) is out of range for a table of 10 rows"):
        t.lookup([-1, 2 ** 63])
    with pytest.raises(IndexError, match=r"id 18446744073709551615 at position \(0,\)"):
        t.lookup(np.array([2 ** 64 - 1], np.uint64))
    assert t.lookup([]).shape == (0, 4)                    # numpy's W[[]] works: so do we
    np.testing.assert_array_equal(t[1:3], t.weights[1:3])


def test_exclusions_and_word_arguments_are_validated(t):
    with pytest.raises(TypeError, match="exclude must hold integer row ids, got dtype float64"):
        t.topk(np.ones((1, 4)), 2, exclude=[[2.7]])
    with pytest.raises(TypeError, match="exclude must hold integer row ids, got dtype bool"):
        t.topk(np.ones((1, 4)), 2, exclude=[[True]])
    with pytest.raises(ValueError, match="restrict_vocab must be at least 0, got -2"):
        t.words.most_similar("k1", topn=None, restrict_vocab=-2)
    with pytest.raises(TypeError, match="a query term must be a key, a row id or a vector, got True"):
        t.words.most_similar(positive=[True])
    with pytest.raises(TypeError, match="a must be an integer array, got dtype float64"):
        t.words.analogy_ids([1.9], [2.2], [3.7])
    with pytest.raises(ValueError, match="topn must be at least 0, got -3"):
        t.words.analogy_ids([1], [2], [3], topn=-3)
    s, i = t.words.analogy_ids([1], [2], [3], topn=0)
    assert s.shape == (1, 0) and i.shape == (1, 0)
    assert t.words.most_similar("k1", topn=0) == []               # gensim's answer
    assert len(t.words.most_similar("k1", topn=3, restrict_vocab=10 ** 6)) == 3  # clipped, as gensim
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        t.topk(np.ones(4), 0)
    s, i = t.topk(np.ones(4), 3, exclude=["k1", "k2"])      # keys as exclusions
    assert not {1, 2} & set(i.tolist())


@pytest.mark.parametrize("bad", [True, 1.7, "1"])
def test_padding_idx_must_be_an_int(bad):
    with pytest.raises(TypeError, match="padding_idx must be an int"):
        EmbeddingTable.zeros(4, 2, padding_idx=bad)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_subclasses():
    m = EmbeddingTable(np.matrix([[1.0, 2.0], [3.0, 4.0]], np.float32))
    assert type(m.weights) is np.ndarray and m.lookup(1).shape == (2,)


