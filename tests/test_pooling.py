"""Pooling (bags of ids to one vector): the kernel equals the numpy reference bit for bit; torch's
EmbeddingBag and gensim's get_mean_vector agree where installed; every error message is asserted."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed as fe
from fastembed import EmbeddingTable, Vocabulary, pooling, reference as ref
from conftest import ID_DTYPES, make_memmap

MODES = ["sum", "mean", "max"]


@pytest.fixture(scope="module")
def W():
    return np.random.default_rng(0).standard_normal((300, 24), dtype=np.float32)


def _ids(rng, V, shape, dtype=np.int64):
    hi = min(V, int(np.iinfo(dtype).max) + 1)
    return rng.integers(0, hi, size=shape).astype(dtype)


def _ragged(rng, V, n_bags, max_len, dtype=np.int64):
    """1-D ids and torch-style offsets with some empty bags."""
    lengths = rng.integers(0, max_len + 1, n_bags)
    if n_bags > 2:
        lengths[rng.integers(0, n_bags)] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return _ids(rng, V, int(lengths.sum()), dtype), offsets


# ------------------------------------------------------------------ equality with the reference

@pytest.mark.parametrize("dtype", ID_DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (5, 0), (7, 13), (3, 40)])
def test_fixed_bags_equal_reference(W, rng, dtype, mode, shape):
    ids = _ids(rng, W.shape[0], shape, dtype)
    got = pooling.bag(W, ids, mode=mode)
    assert got.shape == (shape[0], W.shape[1]) and got.dtype == np.float32
    np.testing.assert_array_equal(got, ref.bag(W, ids, mode=mode))


@pytest.mark.parametrize("dtype", ID_DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_ragged_bags_equal_reference(W, rng, dtype, mode, include_last_offset):
    ids, offsets = _ragged(rng, W.shape[0], 11, 30, dtype)
    if include_last_offset:
        offsets = np.append(offsets, ids.size)
    got = pooling.bag(W, ids, offsets, mode=mode, include_last_offset=include_last_offset)
    assert got.shape == (11, W.shape[1])
    np.testing.assert_array_equal(got, ref.bag(W, ids, offsets, mode=mode,
                                               include_last_offset=include_last_offset))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_idx", [0, 7, -1])
def test_padding_is_skipped_and_not_counted(W, rng, mode, padding_idx):
    V = W.shape[0]
    pad = padding_idx % V
    ids = _ids(rng, V, (6, 20))
    ids[0, ::2] = pad
    ids[1, :] = pad  # only padding: zeros
    got = pooling.bag(W, ids, mode=mode, padding_idx=padding_idx)
    np.testing.assert_array_equal(got, ref.bag(W, ids, mode=mode, padding_idx=padding_idx))
    np.testing.assert_array_equal(got[1], 0)
    keep = ids[0][ids[0] != pad]
    np.testing.assert_array_equal(got[0], ref.bag(W, keep[None, :], mode=mode)[0])
    if mode == "mean":  # the count excludes padding
        np.testing.assert_allclose(got[0], W[keep].mean(0), rtol=1e-5, atol=1e-6)


def test_per_sample_weights_equal_reference(W, rng):
    ids, offsets = _ragged(rng, W.shape[0], 9, 25)
    psw = rng.standard_normal(ids.size).astype(np.float32)
    got = pooling.bag(W, ids, offsets, mode="sum", per_sample_weights=psw, padding_idx=5)
    np.testing.assert_array_equal(got, ref.bag(W, ids, offsets, mode="sum", per_sample_weights=psw,
                                               padding_idx=5))
    ids2 = _ids(rng, W.shape[0], (4, 17))
    psw2 = rng.standard_normal((4, 17))  # float64: rounded to float32 first
    np.testing.assert_array_equal(pooling.bag(W, ids2, mode="sum", per_sample_weights=psw2),
                                  ref.bag(W, ids2, mode="sum", per_sample_weights=psw2.astype(np.float32)))


def test_empty_bags_give_zeros_and_argmax_minus_one(W):
    ids = np.array([3, 4, 5], np.int64)
    offsets = np.array([0, 0, 2, 3, 3])
    for mode in MODES:
        got = pooling.bag(W, ids, offsets, mode=mode)
        for b in (0, 3, 4):
            np.testing.assert_array_equal(got[b], 0)
    out, arg = pooling.bag(W, ids, offsets, mode="max", return_argmax=True)
    assert (arg[[0, 3, 4]] == -1).all() and set(np.unique(arg[1])) <= {3, 4} and (arg[2] == 5).all()
    assert pooling.bag(W, np.zeros((0, 3), np.int64)).shape == (0, 24)
    assert pooling.bag(W, np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0, 24)
    assert pooling.bag(W, np.zeros(0, np.int64), [0], include_last_offset=True).shape == (0, 24)
    assert pooling.bag(W, []).shape == (0, 24)
    assert pooling.bag(W, np.zeros(0, np.int64), []).shape == (0, 24)
    np.testing.assert_array_equal(pooling.bag(W, [], [0]), np.zeros((1, 24), np.float32))


@pytest.mark.parametrize("D", [1, 3, 768])
@pytest.mark.parametrize("mode", MODES)
def test_dims_one_row_and_last_row(rng, D, mode, simd_level):
    W = rng.standard_normal((50, D), dtype=np.float32)
    # lengths around the 8-row groups of the kernel, duplicates and id V-1
    for T in (1, 7, 8, 9, 17, 33):
        ids = rng.integers(0, 50, (3, T))
        ids[:, -1] = 49
        ids[0, :] = 49
        np.testing.assert_array_equal(pooling.bag(W, ids, mode=mode), ref.bag(W, ids, mode=mode))
    one = rng.standard_normal((1, D), dtype=np.float32)
    np.testing.assert_array_equal(pooling.bag(one, np.zeros((2, 5), np.uint8), mode=mode),
                                  ref.bag(one, np.zeros((2, 5), np.uint8), mode=mode))


@pytest.mark.parametrize("D", [5, 16, 37, 768])
def test_rows_at_every_alignment(rng, D, simd_level):
    # the kernel peels each row up to a 64-byte boundary: tables at every 4-byte offset, D not a
    # multiple of 16 (rows then differ in alignment), give the reference's bits
    for off in range(16):
        buf = rng.standard_normal(300 * D + 16, dtype=np.float32)
        W = buf[off:off + 300 * D].reshape(300, D)
        ids = rng.integers(0, 300, (5, 29))
        for mode in MODES:
            np.testing.assert_array_equal(pooling.bag(W, ids, mode=mode), ref.bag(W, ids, mode=mode))
        psw = rng.standard_normal((5, 29)).astype(np.float32)
        np.testing.assert_array_equal(pooling.bag(W, ids, mode="sum", per_sample_weights=psw),
                                      ref.bag(W, ids, mode="sum", per_sample_weights=psw))
        g = rng.standard_normal((5, D)).astype(np.float32)
        u, r = pooling.bag_backward(W, ids, None, g[:, :], "max")
        np.testing.assert_array_equal(r, ref.bag_backward(W, ids, None, g, "max")[1])


def test_zero_dim_table(rng):
    W = np.zeros((5, 0), np.float32)
    assert pooling.bag(W, [[1, 2], [3]]).shape == (2, 0)
    with pytest.raises(IndexError, match=r"id 5 at position \(1,\)"):
        pooling.bag(W, [1, 5], [0])


def test_max_keeps_the_first_of_ties_and_ignores_later_nans():
    W = np.array([[1, 5, np.nan], [1, 7, 0], [2, 7, 3], [np.nan, 0, 9]], np.float32)
    ids = np.array([[0, 1, 2, 3]])
    out, arg = pooling.bag(W, ids, mode="max", return_argmax=True)
    r_out, r_arg = ref.bag(W, ids, mode="max", return_argmax=True)
    np.testing.assert_array_equal(out, r_out)
    np.testing.assert_array_equal(arg, r_arg)
    # column 0: 1 (row 0) tie with row 1 kept, then 2 (row 2); NaN of row 3 never replaces
    assert out[0, 0] == 2 and arg[0, 0] == 2
    assert out[0, 1] == 7 and arg[0, 1] == 1  # the tie with row 2 keeps row 1
    assert np.isnan(out[0, 2]) and arg[0, 2] == 0  # a NaN first stays (torch: > is false)


@pytest.mark.parametrize("mode", MODES)
def test_thread_count_invariance(rng, mode):
    W = rng.standard_normal((5000, 40), dtype=np.float32)
    ids, offsets = _ragged(rng, 5000, 301, 70)
    psw = rng.standard_normal(ids.size).astype(np.float32) if mode == "sum" else None
    a = pooling.bag(W, ids, offsets, mode=mode, per_sample_weights=psw, n_threads=1)
    np.testing.assert_array_equal(a, ref.bag(W, ids, offsets, mode=mode, per_sample_weights=psw))
    for nt in (2, 3, -1, None):
        np.testing.assert_array_equal(pooling.bag(W, ids, offsets, mode=mode, per_sample_weights=psw,
                                                  n_threads=nt), a)
    fixed = rng.integers(0, 5000, (64, 100))
    b = pooling.bag(W, fixed, mode=mode, n_threads=1)
    for nt in (2, 3):
        np.testing.assert_array_equal(pooling.bag(W, fixed, mode=mode, n_threads=nt), b)
    # more threads than bags
    np.testing.assert_array_equal(pooling.bag(W, fixed[:2], mode=mode, n_threads=3), b[:2])


def test_read_only_and_memmap_tables(W, rng, tmp_path):
    ro = W.copy()
    ro.flags.writeable = False
    ids = _ids(rng, 300, (5, 9))
    for mode in MODES:
        np.testing.assert_array_equal(pooling.bag(ro, ids, mode=mode), ref.bag(W, ids, mode=mode))
    mm = make_memmap(tmp_path, W)
    t = EmbeddingTable(mm)
    np.testing.assert_array_equal(t.pool.bag(ids, n_threads=2), ref.bag(W, ids))
    g = rng.standard_normal((5, 24)).astype(np.float32)
    u, r = t.pool.bag_backward(ids, None, g, "mean")
    u2, r2 = ref.bag_backward(W, ids, None, g, "mean")
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(r, r2)
    np.testing.assert_array_equal(np.asarray(mm), W)  # never written


def test_non_contiguous_and_byte_swapped_ids(W, rng):
    ids = _ids(rng, 300, (9, 6))
    np.testing.assert_array_equal(pooling.bag(W, ids.T), ref.bag(W, np.ascontiguousarray(ids.T)))
    swapped = ids.astype(">i8")
    np.testing.assert_array_equal(pooling.bag(W, swapped), ref.bag(W, ids))
    np.testing.assert_array_equal(pooling.bag(W.astype(np.float64), ids), ref.bag(W, ids))


def test_out_buffer_is_written_and_returned(W, rng):
    ids = _ids(rng, 300, (4, 9))
    out = np.full((4, 24), np.nan, np.float32)
    assert pooling.bag(W, ids, out=out) is out
    np.testing.assert_array_equal(out, ref.bag(W, ids))


def test_table_larger_than_2_31_elements(tmp_path):
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
    got = pooling.bag(ro, rows[None, :], mode="sum")
    np.testing.assert_array_equal(got[0], np.asarray(ro[rows]).sum(0))
    with pytest.raises(IndexError, match=f"id {V} at position"):
        pooling.bag(ro, [[V - 1, V]])


# ------------------------------------------------------------------ Python input: lists, keys, Bags

def test_lists_of_ids_and_keys(W, rng):
    lists = [[1, 2, 3], [], [299], [5] * 20]
    ids = np.array([1, 2, 3, 299] + [5] * 20)
    offsets = np.array([0, 3, 3, 4])
    for mode in MODES:
        np.testing.assert_array_equal(pooling.bag(W, lists, mode=mode), ref.bag(W, ids, offsets, mode=mode))
    vocab = Vocabulary([f"w{i}" for i in range(300)])
    keys = [[f"w{i}" for i in b] for b in lists]
    np.testing.assert_array_equal(pooling.bag(W, keys, vocab=vocab), ref.bag(W, ids, offsets))
    np.testing.assert_array_equal(pooling.bag(W, np.array([["w1", "w2"], ["w3", "w4"]]), vocab=vocab),
                                  ref.bag(W, np.array([[1, 2], [3, 4]])))
    t = EmbeddingTable(W, vocab=vocab)
    np.testing.assert_array_equal(t.pool.bag(keys, mode="max"), ref.bag(W, ids, offsets, mode="max"))


def test_lists_with_per_sample_weights(W):
    lists = [[1, 2, 3], [], [299, 4]]
    psw = [[0.5, 1.0, -2.0], [], [3.0, 0.25]]
    want = ref.bag(W, np.array([1, 2, 3, 299, 4]), [0, 3, 3], mode="sum",
                   per_sample_weights=np.array([0.5, 1.0, -2.0, 3.0, 0.25], np.float32))
    np.testing.assert_array_equal(pooling.bag(W, lists, mode="sum", per_sample_weights=psw), want)
    flat_psw = np.array([0.5, 1.0, -2.0, 3.0, 0.25], np.float32)  # or flat, one weight per id
    np.testing.assert_array_equal(pooling.bag(W, lists, mode="sum", per_sample_weights=flat_psw), want)
    with pytest.raises(ValueError, match=r"per_sample_weights has bags of lengths \[3, 0, 1\], expected "
                                         r"\[3, 0, 2\] \(those of ids\)"):
        pooling.bag(W, lists, mode="sum", per_sample_weights=[[0.5, 1.0, -2.0], [], [3.0]])


def test_encode_bags_counts_missing_keys(W):
    vocab = Vocabulary([f"w{i}" for i in range(300)])
    b = pooling.encode_bags([["w1", "xx", "w2"], ["yy"], [], ["w3"]], vocab, ignore_missing=True)
    np.testing.assert_array_equal(b.ids, [1, 2, 3])
    np.testing.assert_array_equal(b.offsets, [0, 2, 2, 2])
    np.testing.assert_array_equal(b.missing, [1, 1, 0, 0])
    assert b.n_missing == 2
    np.testing.assert_array_equal(b.lengths, [2, 0, 0, 1])
    ids, offsets, missing = b  # unpacks like a tuple
    got = pooling.bag(W, b)
    np.testing.assert_array_equal(got, ref.bag(W, ids, offsets))
    np.testing.assert_array_equal(got[1], 0)
    strict = pooling.encode_bags([["w1"], ["w2", "w3"]], vocab)
    assert strict.n_missing == 0 and strict.ids.dtype == np.int64
    with pytest.raises(KeyError, match=r"key 'xx' at position \(0, 1\) is not in the vocabulary; pass "
                                       "ignore_missing=True"):
        pooling.encode_bags([["w1", "xx"]], vocab)
    # a vocabulary with an unk maps unknown keys there unless they are ignored
    unk = Vocabulary([f"w{i}" for i in range(300)], unk="w0")
    np.testing.assert_array_equal(pooling.encode_bags([["w1", "xx"]], unk).ids, [1, 0])
    np.testing.assert_array_equal(pooling.encode_bags([["w1", "xx"]], unk, ignore_missing=True).ids, [1])
    np.testing.assert_array_equal(pooling.encode_bags([[1, 2], [3]]).ids, [1, 2, 3])


def test_python_input_errors(W):
    vocab = Vocabulary([f"w{i}" for i in range(300)])
    with pytest.raises(KeyError, match=r"key 'zz' at position \(1, 0\) is not in the vocabulary"):
        pooling.bag(W, [["w1"], ["zz"]], vocab=vocab)
    with pytest.raises(KeyError, match=r"key 'zz' at position \(0, 1\) is not in the vocabulary"):
        pooling.bag(W, np.array([["w1", "zz"]]), vocab=vocab)
    with pytest.raises(TypeError, match=r"bags hold strings \(keys\): give a vocabulary"):
        pooling.bag(W, [["w1"]])
    with pytest.raises(TypeError, match=r"ids are strings \(keys\): give a vocabulary"):
        pooling.bag(W, np.array([["w1"]]))
    with pytest.raises(TypeError, match=r"bags mix keys \(str\) and other values"):
        pooling.bag(W, [[1], ["w1"]], vocab=vocab)
    with pytest.raises(TypeError, match=r"bags mix keys \(str\) and other values \(int 3\)"):
        pooling.encode_bags([["w1", 3]], vocab, ignore_missing=True)
    with pytest.raises(ValueError, match="offsets must be None when ids is a list of bags"):
        pooling.bag(W, [[1], [2]], [0, 1])
    b = pooling.encode_bags([[1], [2]])
    with pytest.raises(ValueError, match="offsets given twice: a Bags carries its own"):
        pooling.bag(W, b, [0, 1])
    with pytest.raises(IndexError, match=r"id 300 at position \(1, 1\) is out of range for a table of 300 rows"):
        pooling.bag(W, [[1], [2, 300]])
    with pytest.raises(IndexError, match=r"id 300 at position \(1, 1\) is out of range for a table of 300 rows"):
        pooling.bag(W, pooling.encode_bags([[1], [2, 300]]))


# ------------------------------------------------------------------ errors

def test_id_errors_name_value_and_position(W):
    ids = np.zeros((4, 20), np.int64)
    ids[3, 17] = 300
    ids[3, 18] = -1
    with pytest.raises(IndexError, match=r"id 300 at position \(3, 17\) is out of range for a table of 300 rows"):
        pooling.bag(W, ids, n_threads=2)
    ids[3, 17] = -1
    with pytest.raises(IndexError, match=r"id -1 at position \(3, 17\) is out of range"):
        pooling.bag(W, ids, mode="max", n_threads=3)
    with pytest.raises(IndexError, match=r"id 18446744073709551615 at position \(1,\)"):
        pooling.bag(W, np.array([0, 2 ** 64 - 1], np.uint64), [0, 1])
    flat = np.zeros(100, np.int32)
    flat[[40, 90]] = 1000
    with pytest.raises(IndexError, match=r"id 1000 at position \(40,\)"):  # the first, whatever the team
        pooling.bag(W, flat, np.arange(0, 100, 10), n_threads=3)
    with pytest.raises(IndexError, match=r"id 300 at position \(1, 0\)"):
        pooling.bag_backward(W, [[0, 0], [300, 0]], None, np.zeros((2, 24), np.float32))


def test_offsets_errors(W):
    ids = np.arange(10)
    with pytest.raises(ValueError, match=r"offsets\[0\] must be 0 \(the first bag starts at the first id\), got 1"):
        pooling.bag(W, ids, [1, 5])
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing: offsets\[2\] = 3 is less than "
                                         r"offsets\[1\] = 5"):
        pooling.bag(W, ids, [0, 5, 3])
    with pytest.raises(ValueError, match=r"offsets\[2\] = 11 is beyond the 10 ids"):
        pooling.bag(W, ids, [0, 5, 11, 12])
    with pytest.raises(ValueError, match=r"with include_last_offset=True, offsets\[-1\] must be the number "
                                         r"of ids \(10\), got 8"):
        pooling.bag(W, ids, [0, 5, 8], include_last_offset=True)
    with pytest.raises(ValueError, match="with include_last_offset=True, offsets needs at least one entry"):
        pooling.bag(W, ids, np.zeros(0, np.int64), include_last_offset=True)
    with pytest.raises(ValueError, match=r"offsets must be 1-D, got shape \(1, 2\)"):
        pooling.bag(W, ids, [[0, 5]])
    with pytest.raises(TypeError, match="offsets must be an integer array, got dtype float64"):
        pooling.bag(W, ids, [0.0, 5.0])
    with pytest.raises(ValueError, match=r"offsets must be None for 2-D ids"):
        pooling.bag(W, ids.reshape(2, 5), [0, 5])
    with pytest.raises(ValueError, match=r"1-D ids need offsets \(where each bag starts\)"):
        pooling.bag(W, ids)
    with pytest.raises(ValueError, match=r"ids must be 2-D \(bags of one length\) or 1-D with offsets, "
                                         r"got shape \(2, 5, 1\)"):
        pooling.bag(W, ids.reshape(2, 5, 1))
    with pytest.raises(ValueError, match=r"ids must be 2-D .* got shape \(\)"):
        pooling.bag(W, 3)


def test_argument_errors(W):
    ids = np.arange(10).reshape(2, 5)
    with pytest.raises(ValueError, match="mode must be one of 'sum', 'mean', 'max', got 'avg'"):
        pooling.bag(W, ids, mode="avg")
    with pytest.raises(ValueError, match=r"per_sample_weights is only supported with mode='sum' "
                                         r"\(as torch\), got mode='mean'"):
        pooling.bag(W, ids, per_sample_weights=np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"per_sample_weights is only supported with mode='sum'.*'max'"):
        pooling.bag(W, ids, mode="max", per_sample_weights=np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"per_sample_weights has shape \(10,\), expected \(2, 5\) "
                                         r"\(the shape of ids\)"):
        pooling.bag(W, ids, mode="sum", per_sample_weights=np.ones(10, np.float32))
    with pytest.raises(TypeError, match="per_sample_weights must be a floating-point array, got (dtype )?int64"):
        pooling.bag(W, ids, mode="sum", per_sample_weights=np.ones((2, 5), np.int64))
    with pytest.raises(TypeError, match="ids must be an integer array, got dtype float64"):
        pooling.bag(W, ids.astype(np.float64))
    with pytest.raises(TypeError, match="ids must be integers, got bool"):
        pooling.bag(W, ids > 3)
    with pytest.raises(TypeError, match="weights must be a floating-point array, got (dtype )?int64"):
        pooling.bag(ids, ids)
    with pytest.raises(ValueError, match=r"weights must be 2-D, got shape \(300,\)"):
        pooling.bag(W[:, 0], ids)
    with pytest.raises(ValueError, match="return_argmax needs mode='max', got mode='sum'"):
        pooling.bag(W, ids, mode="sum", return_argmax=True)
    with pytest.raises(ValueError, match="padding_idx 300 is out of range for a table of 300 rows"):
        pooling.bag(W, ids, padding_idx=300)
    with pytest.raises(ValueError, match="padding_idx -301 is out of range for a table of 300 rows"):
        pooling.bag(W, ids, padding_idx=-301)
    with pytest.raises(TypeError, match="padding_idx must be an int or None, got 1.5"):
        pooling.bag(W, ids, padding_idx=1.5)
    with pytest.raises(ValueError, match="n_threads=0"):
        pooling.bag(W, ids, n_threads=0)


def test_out_errors(W):
    ids = np.arange(10).reshape(2, 5)
    with pytest.raises(ValueError, match=r"out has shape \(3, 24\), expected \(2, 24\)"):
        pooling.bag(W, ids, out=np.empty((3, 24), np.float32))
    with pytest.raises(ValueError, match="out must be float32, got float64"):
        pooling.bag(W, ids, out=np.empty((2, 24)))
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        pooling.bag(W, ids, out=np.empty((24, 2), np.float32).T)
    ro = np.empty((2, 24), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        pooling.bag(W, ids, out=ro)
    Wc = W.copy()
    with pytest.raises(ValueError, match="out overlaps the table's memory"):
        pooling.bag(Wc, ids, out=Wc[:2])
    with pytest.raises(TypeError, match="out must be a numpy array, got list"):
        pooling.bag(W, ids, out=[[0.0] * 24] * 2)


# ------------------------------------------------------------------ backward

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64])
def test_backward_equals_reference(rng, mode, dtype):
    W = rng.standard_normal((120, 10), dtype=np.float32)
    ids, offsets = _ragged(rng, 120, 17, 40, dtype)
    ids[::7] = 3  # padding occurrences
    psw = rng.standard_normal(ids.size).astype(np.float32) if mode == "sum" else None
    g = rng.standard_normal((17, 10)).astype(np.float32)
    for pad in (None, 3):
        u, r = pooling.bag_backward(W, ids, offsets, g, mode, psw, padding_idx=pad)
        u2, r2 = ref.bag_backward(W, ids, offsets, g, mode, psw, padding_idx=pad)
        assert u.dtype == np.int64 and r.dtype == np.float32 and r.shape == (u.size, 10)
        np.testing.assert_array_equal(u, u2)
        np.testing.assert_array_equal(r, r2)
        assert (pad is None) == (3 in u)
        for nt in (2, 3):
            u3, r3 = pooling.bag_backward(W, ids, offsets, g, mode, psw, padding_idx=pad, n_threads=nt)
            np.testing.assert_array_equal(u3, u)
            np.testing.assert_array_equal(r3, r)


@pytest.mark.parametrize("mode", MODES)
def test_backward_fixed_bags_and_last_offset(rng, mode):
    W = rng.standard_normal((60, 9), dtype=np.float32)
    ids = rng.integers(0, 60, (8, 13))
    ids[2] = 59
    g = rng.standard_normal((8, 9)).astype(np.float32)
    u, r = pooling.bag_backward(W, ids, None, g, mode)
    u2, r2 = ref.bag_backward(W, ids, None, g, mode)
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(r, r2)
    flat, off = ids.reshape(-1), np.arange(0, 8 * 13 + 1, 13)
    u3, r3 = pooling.bag_backward(W, flat, off, g, mode, include_last_offset=True)
    np.testing.assert_array_equal(u3, u)
    np.testing.assert_array_equal(r3, r)
    empty_u, empty_r = pooling.bag_backward(W, np.zeros((0, 4), np.int64), None, np.zeros((0, 9), np.float32), mode)
    assert empty_u.shape == (0,) and empty_r.shape == (0, 9)


def test_max_backward_accepts_the_forward_argmax(rng):
    W = rng.standard_normal((40, 6), dtype=np.float32)
    ids, offsets = _ragged(rng, 40, 9, 12)
    g = rng.standard_normal((9, 6)).astype(np.float32)
    _, arg = pooling.bag(W, ids, offsets, mode="max", return_argmax=True)
    u, r = pooling.bag_backward(W, ids, offsets, g, "max", argmax=arg)
    u2, r2 = pooling.bag_backward(W, ids, offsets, g, "max")
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(r, r2)
    # every element's gradient lands on exactly one row
    np.testing.assert_allclose(r.sum(0), g[(arg >= 0).any(1)].sum(0), rtol=1e-5, atol=1e-5)
    bad = arg.copy()
    bad[0, 0] = 39 if 39 not in ids else max(set(range(40)) - set(ids.tolist()))
    with pytest.raises(ValueError, match=r"argmax holds row \d+ at position \(0, 0\), which is not an id of bag 0"):
        pooling.bag_backward(W, ids, offsets, g, "max", argmax=bad)
    with pytest.raises(ValueError, match=r"argmax has shape \(9, 5\), expected \(9, 6\) \(bags, dim\)"):
        pooling.bag_backward(W, ids, offsets, g, "max", argmax=arg[:, :5])
    with pytest.raises(TypeError, match="argmax must be an integer array, got dtype float64"):
        pooling.bag_backward(W, ids, offsets, g, "max", argmax=arg.astype(np.float64))
    with pytest.raises(ValueError, match="argmax is only used with mode='max', got mode='sum'"):
        pooling.bag_backward(W, ids, offsets, g, "sum", argmax=arg)


def test_backward_errors(W):
    ids = np.arange(10).reshape(2, 5)
    with pytest.raises(ValueError, match=r"grad_out has shape \(3, 24\), expected \(2, 24\) \(bags, dim\)"):
        pooling.bag_backward(W, ids, None, np.zeros((3, 24), np.float32))
    with pytest.raises(TypeError, match="grad_out must be a floating-point array, got (dtype )?int64"):
        pooling.bag_backward(W, ids, None, np.zeros((2, 24), np.int64))
    with pytest.raises(ValueError, match="mode must be one of"):
        pooling.bag_backward(W, ids, None, np.zeros((2, 24), np.float32), "median")


def test_backward_composes_with_an_optimizer(rng):
    W = rng.standard_normal((80, 8), dtype=np.float32)
    ids, offsets = _ragged(rng, 80, 10, 15)
    g = rng.standard_normal((10, 8)).astype(np.float32)
    t = EmbeddingTable(W, copy=True, padding_idx=4)
    u, r = t.pool.bag_backward(ids, offsets, g, "mean")
    assert 4 not in u
    dense = np.zeros_like(W)
    u2, r2 = ref.bag_backward(W, ids, offsets, g, "mean", padding_idx=4)
    dense[u2] = r2
    fe.optim.SGD(t, lr=0.5).step(u, r)
    np.testing.assert_array_equal(t.weights, W - np.float32(0.5) * dense)


# ------------------------------------------------------------------ hypothesis

@settings(max_examples=60, deadline=None)
@given(V=st.integers(1, 40), D=st.integers(1, 20), seed=st.integers(0, 2 ** 16),
       mode=st.sampled_from(MODES), n_bags=st.integers(0, 12), max_len=st.integers(0, 25),
       pad=st.one_of(st.none(), st.integers(0, 39)), weighted=st.booleans(), nt=st.integers(1, 3),
       last=st.booleans())
def test_hypothesis_bag_and_backward(V, D, seed, mode, n_bags, max_len, pad, weighted, nt, last):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((V, D), dtype=np.float32)
    pad = None if pad is None else pad % V
    lengths = rng.integers(0, max_len + 1, n_bags)
    ids = rng.integers(0, V, int(lengths.sum()))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if not last:
        offsets = offsets[:-1]
    psw = rng.standard_normal(ids.size).astype(np.float32) if weighted and mode == "sum" else None
    kw = dict(mode=mode, per_sample_weights=psw, include_last_offset=last, padding_idx=pad)
    got = pooling.bag(W, ids, offsets, n_threads=nt, **kw)
    np.testing.assert_array_equal(got, ref.bag(W, ids, offsets, **kw))
    g = rng.standard_normal((n_bags, D)).astype(np.float32)
    u, r = pooling.bag_backward(W, ids, offsets, g, mode, psw, include_last_offset=last, padding_idx=pad,
                                n_threads=nt)
    u2, r2 = ref.bag_backward(W, ids, offsets, g, mode, psw, include_last_offset=last, padding_idx=pad)
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(r, r2)


# ------------------------------------------------------------------ torch (skipped where absent)

@pytest.fixture(scope="module")
def gpt2_like():
    return np.random.default_rng(7).standard_normal((50257, 768), dtype=np.float32)


def _ulps(a, b):
    """Largest distance between a and b in float32 units in the last place of the larger value."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(np.float32)).astype(np.float64)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def test_ulps_helper():
    x = np.float32(1.5)
    assert _ulps([x], [np.nextafter(x, np.float32(2))]) == 1.0
    assert _ulps([x], [x]) == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_torch_embedding_bag_on_a_real_size_table(gpt2_like, rng, mode):
    torch = pytest.importorskip("torch")
    W = gpt2_like
    tw = torch.from_numpy(W)
    F = torch.nn.functional
    ids = rng.integers(0, 50257, (16, 64))
    ids[3, :10] = 50256
    ids[4, ::3] = 0
    for pad in (None, 0):
        ours = pooling.bag(W, ids, mode=mode, padding_idx=pad)
        theirs = F.embedding_bag(torch.from_numpy(ids), tw, mode=mode, padding_idx=pad).numpy()
        # mean may divide (ours) where torch multiplies by 1 / count: one rounding apart at most
        assert _ulps(ours, theirs) <= (1 if mode == "mean" else 0)
    flat, offsets = _ragged(rng, 50257, 40, 64)
    for last in (False, True):
        off = np.append(offsets, flat.size) if last else offsets
        ours = pooling.bag(W, flat, off, mode=mode, include_last_offset=last)
        theirs = F.embedding_bag(torch.from_numpy(flat), tw, torch.from_numpy(off), mode=mode,
                                 include_last_offset=last).numpy()
        assert _ulps(ours, theirs) <= (1 if mode == "mean" else 0)
    if mode == "sum":
        psw = rng.standard_normal(flat.size).astype(np.float32)
        ours = pooling.bag(W, flat, offsets, mode="sum", per_sample_weights=psw)
        theirs = F.embedding_bag(torch.from_numpy(flat), tw, torch.from_numpy(offsets), mode="sum",
                                 per_sample_weights=torch.from_numpy(psw)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_torch_backward(rng, mode):
    torch = pytest.importorskip("torch")
    W = rng.standard_normal((3000, 64), dtype=np.float32)
    flat, offsets = _ragged(rng, 3000, 50, 40)
    flat[::5] = 7
    g = rng.standard_normal((50, 64)).astype(np.float32)
    tw = torch.from_numpy(W.copy()).requires_grad_(True)
    torch.nn.functional.embedding_bag(torch.from_numpy(flat), tw, torch.from_numpy(offsets), mode=mode,
                                      padding_idx=7).backward(torch.from_numpy(g))
    u, r = pooling.bag_backward(W, flat, offsets, g, mode, padding_idx=7)
    dense = tw.grad.numpy()
    np.testing.assert_allclose(r, dense[u], rtol=1e-5, atol=1e-6)
    rest = np.ones(3000, bool)
    rest[u] = False
    assert not dense[rest].any()  # nothing outside the ids (and padding gets nothing)


# ------------------------------------------------------------------ gensim's get_mean_vector

@pytest.fixture(scope="module")
def kv_pair():
    gensim_models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(3)
    W = rng.standard_normal((500, 50), dtype=np.float32) * rng.uniform(0.1, 3, (500, 1)).astype(np.float32)
    keys = [f"w{i}" for i in range(500)]
    kv = gensim_models.KeyedVectors(50)
    kv.add_vectors(keys, W)
    return kv, EmbeddingTable(W, vocab=keys), W


@pytest.mark.parametrize("pre", [True, False])
@pytest.mark.parametrize("post", [True, False])
def test_mean_vector_equals_gensim(kv_pair, pre, post):
    kv, t, W = kv_pair
    rng = np.random.default_rng(11)
    for trial in range(30):
        n = int(rng.integers(1, 40))
        keys = [f"w{i}" for i in rng.integers(0, 500, n)]
        keys[0] = "not-a-word"
        if trial % 3 == 0:
            keys.append(int(rng.integers(0, 500)))
            keys.append(rng.standard_normal(50).astype(np.float32))
        weights = None if trial % 2 else rng.standard_normal(len(keys)).astype(np.float32).tolist()
        g = kv.get_mean_vector(keys, weights, pre_normalize=pre, post_normalize=post)
        ours = t.pool.mean_vector(keys, weights, pre_normalize=pre, post_normalize=post)
        assert ours.dtype == np.float32 and ours.shape == (50,)
        np.testing.assert_array_equal(ours, g)
        np.testing.assert_array_equal(ours, ref.mean_vector(W, keys, weights, vocab=t.vocab,
                                                            pre_normalize=pre, post_normalize=post))


def test_mean_vector_edge_cases(W):
    vocab = Vocabulary([f"w{i}" for i in range(300)])
    Wz = W.copy()
    Wz[5] = 0
    # all keys missing: zeros, as gensim; a zero row contributes zeros (gensim would give NaNs)
    np.testing.assert_array_equal(pooling.mean_vector(W, ["xx", "yy"], vocab=vocab), np.zeros(24, np.float32))
    got = pooling.mean_vector(Wz, ["w5", "w6"], vocab=vocab)
    np.testing.assert_array_equal(got, ref.mean_vector(Wz, ["w5", "w6"], vocab=vocab))
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(pooling.mean_vector(W, "w7", vocab=vocab, pre_normalize=False), W[7])
    np.testing.assert_array_equal(pooling.mean_vector(W, [7, 300], pre_normalize=False), W[7])
    with pytest.raises(ValueError, match="cannot compute mean with no input"):
        pooling.mean_vector(W, [], vocab=vocab)
    with pytest.raises(KeyError, match="key 'xx' at position 1 is not in the vocabulary"):
        pooling.mean_vector(W, ["w1", "xx"], vocab=vocab, ignore_missing=False)
    with pytest.raises(KeyError, match="key 300 at position 0 is not in the vocabulary"):
        pooling.mean_vector(W, [300], ignore_missing=False)
    with pytest.raises(ValueError, match="keys and weights must have the same number of elements: 2 keys, 3 weights"):
        pooling.mean_vector(W, ["w1", "w2"], [1, 2, 3], vocab=vocab)
    with pytest.raises(TypeError, match="weights must be numbers, got dtype <U1"):
        pooling.mean_vector(W, ["w1"], ["a"], vocab=vocab)
    with pytest.raises(ValueError, match=r"a vector key must have shape \(24,\), got \(3,\) at position 0"):
        pooling.mean_vector(W, [np.ones(3, np.float32)], vocab=vocab)
    with pytest.raises(TypeError, match=r"keys must be str, int or \(24,\) arrays, got float at position 0"):
        pooling.mean_vector(W, [1.5], vocab=vocab)


# ------------------------------------------------------------------ sentence vectors and SIF

@pytest.fixture
def counted(W):
    counts = np.random.default_rng(5).integers(1, 10000, 300)
    return EmbeddingTable(W, vocab=Vocabulary([f"w{i}" for i in range(300)], counts=counts)), counts


def test_sentence_vectors_modes_and_missing(counted, W):
    t, _ = counted
    sents = ["w1 w2 w3", "xx w4", "", ["w5", "yy", "zz"]]
    for mode in MODES:
        vecs, missing, comp = t.pool.sentence_vectors(sents, mode=mode)
        np.testing.assert_array_equal(missing, [0, 1, 0, 2])
        assert comp is None
        np.testing.assert_array_equal(vecs, ref.bag(W, np.array([1, 2, 3, 4, 5]), [0, 3, 4, 4], mode=mode))
    res = t.pool.sentence_vectors(sents)
    assert res.n_missing == 3
    with pytest.raises(KeyError, match=r"key 'xx' at position \(1, 0\) is not in the vocabulary"):
        t.pool.sentence_vectors(sents, ignore_missing=False)
    with pytest.raises(TypeError, match="sentences must be a list of sentences .* got one str"):
        t.pool.sentence_vectors("w1 w2")
    with pytest.raises(ValueError, match="mode must be one of 'mean', 'sum', 'max', 'sif', got 'avg'"):
        t.pool.sentence_vectors(sents, mode="avg")
    with pytest.raises(ValueError, match="component is only used with mode='sif', got mode='mean'"):
        t.pool.sentence_vectors(sents, component=np.ones(24, np.float32))
    with pytest.raises(TypeError, match="sentence vectors need a vocabulary"):
        pooling.sentence_vectors(W, sents, vocab=None)


def test_sif_equals_reference(counted, W, rng):
    t, counts = counted
    words = [[f"w{i}" for i in rng.integers(0, 300, rng.integers(0, 15))] for _ in range(40)]
    bags = [[int(w[1:]) for w in s] for s in words]
    X, _, c0 = t.pool.sentence_vectors(words, mode="sif", remove_pc=False)
    assert c0 is None
    Xr, _ = ref.sif(W, bags, counts, remove_pc=False)
    np.testing.assert_array_equal(X, Xr)  # the weighted means: bit for bit
    # the component: the same direction as numpy's SVD, up to sign
    Y, _, u = t.pool.sentence_vectors(words, mode="sif")
    Yr, ur = ref.sif(W, bags, counts)
    assert abs(float(np.dot(u, ur))) > 1 - 1e-5
    np.testing.assert_allclose(Y, Yr, rtol=1e-4, atol=1e-6 * np.abs(Xr).max())
    # a given component is removed as given (new sentences embedded like a reference set)
    Z, _, u2 = t.pool.sentence_vectors(words[:5], mode="sif", component=u)
    np.testing.assert_array_equal(u2, u)
    Zr, _ = ref.sif(W, bags[:5], counts, component=u)
    np.testing.assert_allclose(Z, Zr, rtol=1e-6, atol=1e-7 * np.abs(Xr).max())
    np.testing.assert_allclose(Z @ (u / np.linalg.norm(u)), 0, atol=1e-6 * np.abs(Xr).max())
    # more sentences than dims: the Gram-matrix path
    many = [[f"w{i}" for i in rng.integers(0, 300, 6)] for _ in range(60)]
    _, _, um = t.pool.sentence_vectors(many, mode="sif")
    _, urm = ref.sif(W, [[int(w[1:]) for w in s] for s in many], counts)
    assert abs(float(np.dot(um, urm))) > 1 - 1e-5
    # other smoothing, counts given explicitly
    X2, *_ = pooling.sentence_vectors(W, words, vocab=t.vocab, mode="sif", counts=counts * 2 + 1, a=0.01,
                                      remove_pc=False)
    np.testing.assert_array_equal(X2, ref.sif(W, bags, counts * 2 + 1, a=0.01, remove_pc=False)[0])


def test_sif_errors(W):
    t = EmbeddingTable(W, vocab=[f"w{i}" for i in range(300)])
    with pytest.raises(ValueError, match=r"mode='sif' needs word counts: the vocabulary has none \(pass counts=\)"):
        t.pool.sentence_vectors(["w1"], mode="sif")
    with pytest.raises(ValueError, match="counts has 5 entries but the table has 300 rows"):
        t.pool.sentence_vectors(["w1"], mode="sif", counts=np.ones(5))
    with pytest.raises(ValueError, match="counts sum to zero"):
        t.pool.sentence_vectors(["w1"], mode="sif", counts=np.zeros(300))
    with pytest.raises(ValueError, match="a must be positive, got 0"):
        t.pool.sentence_vectors(["w1"], mode="sif", counts=np.ones(300), a=0)
    with pytest.raises(TypeError, match="counts must be a 1-D array of numbers"):
        t.pool.sentence_vectors(["w1"], mode="sif", counts=np.array(["a"] * 300))
    with pytest.raises(ValueError, match=r"component has shape \(5,\), expected \(24,\)"):
        t.pool.sentence_vectors(["w1"], mode="sif", counts=np.ones(300), component=np.ones(5))


# ------------------------------------------------------------------ the table's delegations

def test_table_delegations_use_its_padding_and_vocab(W, rng):
    t = EmbeddingTable(W, vocab=[f"w{i}" for i in range(300)], padding_idx=2)
    ids = rng.integers(0, 300, (4, 10))
    ids[0, :3] = 2
    np.testing.assert_array_equal(t.pool.bag(ids), ref.bag(W, ids, padding_idx=2))
    np.testing.assert_array_equal(t.pool.bag(ids, padding_idx=None), ref.bag(W, ids))
    np.testing.assert_array_equal(t.pool.mean_vector(["w1", "w3"]), ref.mean_vector(W, ["w1", "w3"], vocab=t.vocab))
    s = t.pool.sentence_vectors(["w2 w4", "w5"])
    np.testing.assert_array_equal(s.vectors, ref.bag(W, np.array([2, 4, 5]), [0, 2], padding_idx=2))



# ------------------------------------------------------------------ CLI: sentences, neighbors --sentence

@pytest.fixture(scope="module")
def cli_vectors(tmp_path_factory):
    d = tmp_path_factory.mktemp("poolcli")
    from fastembed.corpus import planted_corpus
    t = fe.train_word2vec(planted_corpus(3000, seed=0), dim=16, min_count=1, epochs=2, progress=False, seed=1)
    fe.save(t, d / "native", format="native")  # keeps the counts (SIF)
    fe.save(t, d / "plain.txt", format="word2vec")  # no counts
    return d, fe.load(d / "native")


def _cli(args, capsys, monkeypatch, stdin=""):
    import io
    from fastembed.cli import main
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sentences(cli_vectors, capsys, monkeypatch, tmp_path):
    d, t = cli_vectors
    lines = "the cat sat on the mat\nthe king wore the crown\nxyzzy\n\n"
    for mode in ("mean", "max", "sif"):
        code, out, err = _cli(["sentences", "--vectors", d / "native", "--mode", mode], capsys, monkeypatch, lines)
        assert code == 0, err
        got = np.loadtxt(out.splitlines(), dtype=np.float32, ndmin=2)
        want = t.pool.sentence_vectors(lines.splitlines(), mode=mode)
        np.testing.assert_array_equal(got, want.vectors)  # %.9g round-trips float32
        assert f"4 sentences -> 4 x 16 ({mode}); skipped {want.n_missing} unknown word(s) in " \
               f"{int((want.missing > 0).sum())} sentence(s); 2 sentence(s) with no known word got zeros" in err
    npy = tmp_path / "v.npy"
    code, _, err = _cli(["sentences", "--vectors", d / "native", "-o", npy], capsys, monkeypatch, lines)
    assert code == 0 and f"wrote {npy}" in err
    np.testing.assert_array_equal(np.load(npy), t.pool.sentence_vectors(lines.splitlines()).vectors)
    src = tmp_path / "lines.txt"
    src.write_text("THE CAT\n", encoding="utf-8")
    code, out, _ = _cli(["sentences", "--vectors", d / "native", "-i", src, "--lower"], capsys, monkeypatch)
    np.testing.assert_array_equal(np.loadtxt(out.splitlines(), dtype=np.float32, ndmin=2),
                                  t.pool.sentence_vectors(["the cat"]).vectors)
    code, _, err = _cli(["sentences", "--vectors", d / "plain.txt", "--mode", "sif"], capsys, monkeypatch, lines)
    assert code == 2 and "--mode sif needs word counts and" in err and "has none; use mean, sum or max" in err
    code, _, err = _cli(["sentences", "--vectors", d / "native", "-i", tmp_path / "nope"], capsys, monkeypatch)
    assert code == 2 and f"no such file or directory: {tmp_path / 'nope'}" in err


def test_cli_neighbors_of_a_sentence(cli_vectors, capsys, monkeypatch):
    d, t = cli_vectors
    code, out, err = _cli(["neighbors", "--sentence", "the cat zzz", "--vectors", d / "native", "-k", "3"],
                          capsys, monkeypatch)
    assert code == 0, err
    assert "skipped 1 unknown word(s): 'zzz'" in err
    lines = out.splitlines()
    assert lines[0] == "'the cat zzz':" and len(lines) == 4
    v = t.pool.mean_vector(["the", "cat"])
    s, i = t.topk(v, 3, exclude=sorted(t.vocab.encode(["the", "cat"]).tolist()))
    assert [ln.split()[-1] for ln in lines[1:]] == t.vocab.decode(i)
    assert "the" not in t.vocab.decode(i) and "cat" not in t.vocab.decode(i)
    code, _, err = _cli(["neighbors", "--sentence", "qqq zzz", "--vectors", d / "native"], capsys, monkeypatch)
    assert code == 2 and "none of the words of 'qqq zzz' is in the vocabulary" in err
    code, _, err = _cli(["neighbors", "--vectors", d / "native"], capsys, monkeypatch)
    assert code == 2 and "give one or more words, or --sentence TEXT" in err


