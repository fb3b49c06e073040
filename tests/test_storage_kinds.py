"""Every storage dtype of the registry (fastembed._dtypes.STORAGE) that is not float32 (float16,
bfloat16, the row-scaled int8, and any kind added later, with no edit here): every kernel at every
SIMD level against the numpy reference and against the float32 table of the same values, bit for
bit; writes that round back; read-only and memory-mapped tables; every file format."""
import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from fastembed._dtypes import FLOAT32, INT8, STORAGE
from fastembed._kernels import _gather, _simd
from fastembed.io import _registry
from fastembed.optim import SGD, Adagrad
from fastembed.testing import assert_topk_equivalent
from conftest import make_memmap

KINDS = [name for name, st in STORAGE.items() if not st.is_float32]
DIMS = [1, 7, 16, 33, 100, 300]
# every format save writes, from the io registry: a new format is tested with no edit here
SAVE_FORMATS = list(_registry.SAVE_FORMATS)
KEEPS_DTYPE = {"native", "safetensors"}  # formats known to store the rows as they are (the rest: float32)


def _same_bits(a, b):
    """Equal as float32 bit patterns (NaNs included: the conversions are exact, payloads too)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


def _encode(dtype, w):
    """float32 rows in storage dtype ``dtype``, as the reference takes them: the stored array, or
    (codes, scales) for a row-scaled dtype."""
    rows, scales = STORAGE[dtype].encode(np.asarray(w, np.float32))
    return rows if scales is None else (rows, scales)


def _table(h, dtype, **kw):
    """A table over the stored rows ``h`` (as :func:`_encode` gives them)."""
    if STORAGE[dtype].scaled:
        return EmbeddingTable(h[0], dtype=dtype, scales=h[1], **kw)
    return EmbeddingTable(h, dtype=dtype, **kw)


def _values(h, dtype):
    """The float32 values of stored rows (fastembed._dtypes' conversion)."""
    return STORAGE[dtype].to_float32(*(h if STORAGE[dtype].scaled else (h,)))


def _held(t):
    """What a table holds, in the reference's form."""
    return t.weights if t.scales is None else (t.weights, t.scales)


def _copy(h):
    return tuple(np.array(x) for x in h) if isinstance(h, tuple) else np.array(h)


def _stored(rng, V, D, dtype, special=False):
    """(V, D) rows in storage dtype ``dtype`` from N(0, 1) floats (plus zeros, subnormals, a zero row)."""
    w = rng.standard_normal((V, D)).astype(np.float32)
    if special and V > 3:
        w[1] = 0.0
        w[2, : D // 2] = 1e-7  # float16 subnormals, ordinary bfloat16
        w[3, ::3] = -0.0
    return _encode(dtype, w)


def _pair(rng, V, D, dtype, vocab=False, special=False):
    """A table of ``dtype`` and the float32 table of its values."""
    h = _stored(rng, V, D, dtype, special)
    keys = [f"w{i}" for i in range(V)] if vocab else None
    return _table(h, dtype, vocab=keys), EmbeddingTable(_values(h, dtype), vocab=keys), h


# ------------------------------------------------------------------ the registry

def test_kind_codes_come_from_the_kernels():
    kinds = {name: code for name, code, _, _ in _simd.storage_kinds()}
    assert kinds == {name: st.kernel for name, st in STORAGE.items()}
    assert {name: scaled for name, _, _, scaled in _simd.storage_kinds()} == {n: st.scaled for n, st in STORAGE.items()}
    assert {name: size for name, _, size, _ in _simd.storage_kinds()} == {n: st.itemsize for n, st in STORAGE.items()}


@pytest.mark.parametrize("dtype", KINDS)
def test_encoding_is_the_references(rng, dtype):
    w = rng.standard_normal((50, 19)).astype(np.float32) * rng.uniform(1e-3, 1e3, (50, 1)).astype(np.float32)
    w[4] = 0.0
    got = _encode(dtype, w)
    want = ref._round_to(w, dtype)
    if STORAGE[dtype].scaled:
        np.testing.assert_array_equal(got[0], want[0])
        _same_bits(got[1], want[1])
    else:
        np.testing.assert_array_equal(got, want)
    _same_bits(_values(got, dtype), ref._rows(got, dtype))
    t = EmbeddingTable(w, dtype=dtype)
    assert t.storage is STORAGE[dtype] and t.nbytes < w.nbytes
    _same_bits(t[:], _values(got, dtype))


# ------------------------------------------------------------------ kernels at every SIMD level

@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("D", DIMS)
def test_lookup_equals_reference_bit_for_bit(rng, simd_level, dtype, D):
    t, f, h = _pair(rng, 57, D, dtype, special=True)
    st = STORAGE[dtype]
    for ids in (rng.integers(0, 57, (4, 9)), np.array(56), np.zeros(0, np.int64), np.arange(57)[::-1]):
        want = ref.lookup(h, ids, dtype=dtype)
        _same_bits(t.lookup(ids), want)
        _same_bits(t.lookup(ids), f.lookup(ids))
        out = np.empty(np.shape(ids) + (D,), np.float32)
        for nt in (1, 2):
            assert t.lookup(ids, out=out, n_threads=nt) is out
            _same_bits(out, want)
    # streaming stores (large outputs) into an unaligned destination: the same bits
    ids = rng.integers(0, 57, 300).astype(np.int32)
    buf = np.empty(300 * D + 1, np.float32)
    out = buf[1:].reshape(300, D)
    for stream in (False, True):
        assert _gather.gather(st.bits(t.weights), ids, out, 2, stream, st.kernel, t.scales) == -1
        _same_bits(out, ref.lookup(h, ids, dtype=dtype))
    with pytest.raises(IndexError, match="57"):
        t.lookup([0, 57])
    with pytest.raises(IndexError, match="-1"):
        t.lookup([-1])


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("D", [1, 7, 33, 300])
def test_embed_equals_reference_bit_for_bit(rng, simd_level, dtype, D):
    t, f, h = _pair(rng, 40, D, dtype)
    pos = rng.standard_normal((12, D)).astype(np.float32)
    types = rng.standard_normal((2, D)).astype(np.float32)
    ids = rng.integers(0, 40, (3, 5))
    tt = rng.integers(0, 2, (3, 5))
    for kw in ({}, {"offset": [0, 3, 7]}, {"scale": "sqrt"}, {"token_types": tt, "type_table": types},
               {"position_ids": rng.integers(0, 12, (3, 5))}):
        want = ref.embed(h, ids, pos, dtype=dtype, **kw)
        for nt in (1, 2):
            _same_bits(t.embed(ids, pos, n_threads=nt, **kw), want)
        _same_bits(t.embed(ids, pos, **kw), f.embed(ids, pos, **kw))
    # the streaming path of the kernel
    out = np.empty((15, D), np.float32)
    st = STORAGE[dtype]
    flat = ids.reshape(-1).astype(np.int64)
    pidx = np.tile(np.arange(5), 3).astype(np.int64)
    assert _gather.embed(st.bits(t.weights), st.kernel, t.scales, flat, pos, pidx, 1.5, types, None, out, 2,
                         True) == -1
    _same_bits(out, ref.embed(h, ids, pos, scale=1.5, type_table=types, dtype=dtype).reshape(15, D))


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("D", DIMS)
def test_norms_equal_reference_and_the_float32_values(rng, simd_level, dtype, D):
    t, f, h = _pair(rng, 83, D, dtype, special=True)
    for nt in (1, 2):
        _same_bits(t.norms(n_threads=nt), ref.row_norms(h, dtype=dtype))
        _same_bits(t.inv_norms(n_threads=nt), ref.inv_norms(h, dtype=dtype))
    _same_bits(t.norms(), f.norms())


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("D", [1, 16, 33, 100, 300])
@pytest.mark.parametrize("strategy", ["scan", "gemm"])
def test_topk_scores_equal_the_float32_values_bit_for_bit(rng, simd_level, dtype, D, strategy):
    V = 203
    w = rng.standard_normal((V, D)).astype(np.float32)
    w[V - 5:] = w[:5]  # duplicated rows: exact ties, broken by the smaller id
    h = _encode(dtype, w)
    t, f = _table(h, dtype), EmbeddingTable(_values(h, dtype))
    for Q in (1, 2, 3, 7):
        q = rng.standard_normal((Q, D))
        for metric in ("cosine", "dot"):
            for kw in ({}, {"restrict": 150}, {"exclude": [0, 4, 202]}, {"restrict": rng.random(V) < 0.5}):
                for k in (1, 10, V + 3):
                    want = f.topk(q, k, metric=metric, strategy=strategy, **kw)
                    for nt in (1, 2):
                        got = t.topk(q, k, metric=metric, strategy=strategy, n_threads=nt, **kw)
                        _same_bits(got[0], want[0])
                        np.testing.assert_array_equal(got[1], want[1])
            if metric == "cosine" and strategy == "scan":
                s, i = t.topk(q, 10, strategy=strategy)
                rs, ri = ref.topk(h, q, 10, dtype=dtype)
                for j in range(Q):
                    assert_topk_equivalent(s[j], i[j], rs[j], ri[j])
    if strategy == "gemm":  # every block height: the same answer, the scan's
        q = rng.standard_normal((20, D))
        want = t.topk(q, 5, strategy="scan")
        for nb in (1, 64, 1000):
            got = t.topk(q, 5, strategy="gemm", block_rows=nb, n_threads=2)
            _same_bits(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("dtype", KINDS)
def test_word_questions_equal_the_float32_values(rng, simd_level, dtype):
    t, f, _ = _pair(rng, 300, 24, dtype, vocab=True)
    assert t.words.most_similar("w3", topn=5) == f.words.most_similar("w3", topn=5)
    assert t.words.most_similar(positive=["w1", "w2"], negative=["w9"], topn=4) == \
        f.words.most_similar(positive=["w1", "w2"], negative=["w9"], topn=4)
    _same_bits(t.words.most_similar("w3", topn=None), f.words.most_similar("w3", topn=None))
    assert t.words.most_similar_cosmul(positive=["w1", "w2"], negative=["w5"], topn=4) == \
        f.words.most_similar_cosmul(positive=["w1", "w2"], negative=["w5"], topn=4)
    for method in ("add", "mul"):
        assert t.words.analogy("w1", "w2", "w3", topn=3, method=method) == \
            f.words.analogy("w1", "w2", "w3", topn=3, method=method)
        a, b, c = (rng.integers(0, 300, 40) for _ in range(3))  # many questions: the shared-word scorer
        for nt in (1, 2):
            s1, i1 = t.words.analogy_ids(a, b, c, topn=3, method=method, n_threads=nt)
            s2, i2 = f.words.analogy_ids(a, b, c, topn=3, method=method)
            _same_bits(s1, s2)
            np.testing.assert_array_equal(i1, i2)
    assert t.words.rank("w1", "w2") == f.words.rank("w1", "w2")
    assert t.words.doesnt_match(["w1", "w2", "w3"]) == f.words.doesnt_match(["w1", "w2", "w3"])
    _same_bits(t.words.distances("w4"), f.words.distances("w4"))
    assert t.words.similarity("w1", "w7") == f.words.similarity("w1", "w7")
    _same_bits(t.unit_rows([5]), f.unit_rows([5]))
    _same_bits(t["w5"], f["w5"])
    _same_bits(t[3:9], f[3:9])


@pytest.mark.parametrize("dtype", KINDS)
def test_analogy_and_scores_equal_reference(rng, dtype):
    t, _, h = _pair(rng, 120, 16, dtype)
    a, b, c = rng.integers(0, 120, (3, 6))
    s, i = t.words.analogy_ids(a, b, c, topn=4)
    rs, ri = ref.analogy(h, a, b, c, topn=4, dtype=dtype)
    for j in range(6):
        assert_topk_equivalent(s[j], i[j], rs[j], ri[j])
    q = t.unit_rows([3, 7]).astype(np.float32)
    _same_bits(t.cosines(q), ref.scores(h, q, t.inv_norms(), dtype=dtype))


@pytest.mark.parametrize("dtype", KINDS)
def test_backward_is_dtype_independent(rng, dtype):
    t, f, _ = _pair(rng, 50, 12, dtype)
    ids = rng.integers(0, 50, (6, 7))
    g = rng.standard_normal((6, 7, 12)).astype(np.float32)
    for sg in (False, True):
        u1, r1 = t.backward(ids, g, scale_grad_by_freq=sg, n_threads=2)
        u2, r2 = f.backward(ids, g, scale_grad_by_freq=sg, n_threads=1)
        np.testing.assert_array_equal(u1, u2)
        _same_bits(r1, r2)
        ru, rr = ref.backward(t.shape, ids, g, scale_grad_by_freq=sg)
        np.testing.assert_array_equal(u1, ru)
        _same_bits(r1, rr)
        assert r1.dtype == np.float32


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_optimizer_updates_in_float32_and_rounds_back(rng, dtype, optimizer):
    h = _stored(rng, 40, 10, dtype)
    t = _table(_copy(h), dtype, padding_idx=7)
    mine = _copy(h)
    state = np.zeros(40, np.float64)
    opt = Adagrad(t, lr=0.3) if optimizer == "adagrad" else None
    for step in range(3):
        ids = np.unique(rng.integers(0, 40, 12))
        ids = ids[ids != 7]
        rows = rng.standard_normal((ids.size, 10)).astype(np.float32)
        if opt is None:
            SGD(t, lr=0.05).step(ids, rows, n_threads=2)
        else:
            opt.step(ids, rows)
        ref.apply_sparse(mine, state, ids, rows, 0.05 if opt is None else 0.3, optimizer, dtype=dtype)
        _same_bits(t[:], ref._rows(mine, dtype))
    # set_rows rounds to the storage dtype too
    t.set_rows([0], [[1 / 3] + [2.0] * 9])
    _same_bits(t[0:1], ref._rows(ref._round_to(np.array([[1 / 3] + [2.0] * 9], np.float32), dtype), dtype))


@pytest.mark.parametrize("dtype", [k for k in KINDS if not STORAGE[k].scaled])
def test_a_step_below_half_an_ulp_rounds_away(dtype):
    st = STORAGE[dtype]
    t2 = EmbeddingTable(st.from_float32(np.ones((2, 3), np.float32)), dtype=dtype)
    SGD(t2, lr=1.0).step([0], np.full((1, 3), 1e-4, np.float32))
    _same_bits(t2[:], np.ones((2, 3), np.float32))
    SGD(t2, lr=1.0).step([1], np.full((1, 3), 0.25, np.float32))
    _same_bits(t2[1:], np.full((1, 3), 0.75, np.float32))


@pytest.mark.parametrize("dtype", KINDS)
def test_read_only_and_memory_mapped_tables(tmp_path, rng, dtype):
    h = _stored(rng, 64, 20, dtype)
    parts = h if isinstance(h, tuple) else (h,)
    mm = [make_memmap(tmp_path, p, name=f"t{i}.bin") for i, p in enumerate(parts)]
    t = _table(tuple(mm) if isinstance(h, tuple) else mm[0], dtype)
    assert t.storage is STORAGE[dtype] and not t.writeable and np.shares_memory(t.weights, mm[0])
    f = EmbeddingTable(_values(h, dtype))
    _same_bits(t.lookup([3, 63]), f.lookup([3, 63]))
    q = rng.standard_normal((2, 20))
    _same_bits(t.topk(q, 5)[0], f.topk(q, 5)[0])
    with pytest.raises(ValueError, match="read-only"):
        SGD(t, lr=0.1).step([0], np.ones((1, 20), np.float32))
    ro = _copy(h)
    for p in (ro if isinstance(ro, tuple) else (ro,)):
        p.flags.writeable = False
    t = _table(ro, dtype)
    _same_bits(t.embed([[1, 2]], np.zeros((2, 20), np.float32)), f.embed([[1, 2]], np.zeros((2, 20), np.float32)))


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("fmt", SAVE_FORMATS)
def test_every_format_saves_every_kind(tmp_path, rng, dtype, fmt):
    st = STORAGE[dtype]
    t = _table(_stored(rng, 25, 7, dtype), dtype, vocab=[f"k{i}" for i in range(25)])
    p = tmp_path / ("t" if _registry.REGISTRY[fmt].directory else f"t.{fmt}")
    try:
        fe.save(t, p, format=fmt)
    except ImportError as exc:  # a format that needs an optional library (spaCy) which is not installed
        pytest.skip(f"{fmt}: {exc}")
    u = fe.load(p, dtype=dtype)
    assert u.storage is st and u.vocab.keys == t.vocab.keys
    np.testing.assert_array_equal(u.weights, t.weights)
    _same_bits(u[:], t[:])
    default = fe.load(p)
    kept = default.storage is st
    assert kept or default.storage is FLOAT32  # the stored dtype, or float32 (text formats, spaCy)
    assert kept or fmt not in KEEPS_DTYPE, f"{fmt} loads a {dtype} table as {default.storage.name} by default"
    _same_bits(default[:], t[:])
    if kept:
        m = fe.load(p, mmap=True)
        assert m.storage is st and not m.writeable
        np.testing.assert_array_equal(m.weights, t.weights)
        _same_bits(m[:], t[:])


@pytest.mark.parametrize("dtype", [k for k in KINDS if not STORAGE[k].scaled])
@pytest.mark.parametrize("D", [3, 17, 100])
def test_scan_tails_ignore_the_next_rows_infinities_and_nans(rng, simd_level, dtype, D):
    # a row's last partial chunk is read with one full load that runs into the next row (cleared
    # after conversion): inf and NaN there must not leak into the row's score (int8 rows are finite)
    st = STORAGE[dtype]
    w = rng.standard_normal((64, D)).astype(np.float32)
    w[1::2, :] = np.inf
    w[3::4, ::2] = np.nan
    h = st.from_float32(w)
    t, f = EmbeddingTable(h, dtype=dtype), EmbeddingTable(st.to_float32(h))
    q = rng.standard_normal((1, D))
    for nt in (1, 2):
        s1, i1 = t.topk(q, 64, metric="dot", strategy="scan", n_threads=nt)
        s2, i2 = f.topk(q, 64, metric="dot", strategy="scan")
        _same_bits(s1, s2)
        np.testing.assert_array_equal(i1, i2)
    finite = np.isfinite(s1)
    assert finite.sum() == 32 and (i1[finite] % 2 == 0).all()  # every finite row, and only those, scores finite


# ------------------------------------------------------------------ int8, row-scaled

def test_int8_table_is_a_quarter_of_float32_and_errors_are_named(rng):
    w = rng.standard_normal((1000, 300)).astype(np.float32)
    t = EmbeddingTable(w, dtype="int8")
    assert t.storage is INT8 and t.weights.dtype == np.int8 and t.scales.shape == (1000,)
    assert t.nbytes <= 0.3 * w.nbytes  # codes plus one float32 scale a row
    assert np.abs(t[:] - w).max() <= np.abs(w).max(axis=1).max() / 127 / 2 * 1.0001
    assert not t.scales.flags.writeable
    codes, scales = t.weights, t.scales
    u = EmbeddingTable(codes, dtype="int8", scales=scales)
    _same_bits(u[:], t[:])
    assert "dtype=int8" in repr(u)
    with pytest.raises(ValueError, match="int8 codes need their scales: pass scales="):
        EmbeddingTable(codes, dtype="int8")
    with pytest.raises(ValueError, match=r"scales has shape \(3,\), expected \(1000,\)"):
        EmbeddingTable(codes, dtype="int8", scales=np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"scales\[2\] = .*nan.*finite and >= 0"):
        EmbeddingTable(codes, dtype="int8", scales=np.r_[1.0, 1.0, np.nan, np.ones(997)].astype(np.float32))
    with pytest.raises(ValueError, match="scales= goes with dtype='int8'"):
        EmbeddingTable(w, scales=scales)
    bad = w.copy()
    bad[5, 3] = np.inf
    with pytest.raises(ValueError, match="row 5 has NaN or infinite values: int8 storage needs finite rows"):
        EmbeddingTable(bad, dtype="int8")
    with pytest.raises(TypeError, match="int8"):
        EmbeddingTable(codes)  # integer arrays are not rows unless their dtype is named


@pytest.mark.parametrize("dtype", KINDS)
@pytest.mark.parametrize("D", [1, 17, 100])
def test_bags_equal_reference_bit_for_bit(rng, simd_level, dtype, D):
    t, f, h = _pair(rng, 70, D, dtype, vocab=True, special=True)
    ids = rng.integers(0, 70, (9, 13))
    flat = rng.integers(0, 70, 40)
    offsets = np.array([0, 3, 3, 17, 39])
    psw = rng.standard_normal(40).astype(np.float32)
    for mode in ("sum", "mean", "max"):
        for nt in (1, 2):
            _same_bits(t.pool.bag(ids, mode=mode, n_threads=nt), ref.bag(h, ids, mode=mode, dtype=dtype))
            _same_bits(t.pool.bag(flat, offsets, mode=mode, n_threads=nt),
                       ref.bag(h, flat, offsets, mode=mode, dtype=dtype))
        _same_bits(t.pool.bag(ids, mode=mode, padding_idx=5), f.pool.bag(ids, mode=mode, padding_idx=5))
    _same_bits(t.pool.bag(flat, offsets, mode="sum", per_sample_weights=psw),
               ref.bag(h, flat, offsets, mode="sum", per_sample_weights=psw, dtype=dtype))
    s, a = t.pool.bag(ids, mode="max", return_argmax=True)
    rs, ra = ref.bag(h, ids, mode="max", return_argmax=True, dtype=dtype)
    np.testing.assert_array_equal(a, ra)
    g = rng.standard_normal((9, D)).astype(np.float32)
    for mode in ("sum", "mean", "max"):
        u1, r1 = t.pool.bag_backward(ids, None, g, mode)
        u2, r2 = f.pool.bag_backward(ids, None, g, mode)
        np.testing.assert_array_equal(u1, u2)
        _same_bits(r1, r2)
    sents = [["w1", "w2", "nope"], [], ["w3"]]
    _same_bits(t.pool.sentence_vectors(sents).vectors, f.pool.sentence_vectors(sents).vectors)
    _same_bits(t.pool.mean_vector(["w1", "w9"]), f.pool.mean_vector(["w1", "w9"]))
