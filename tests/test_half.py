"""Half-precision storage (float16, bfloat16): every kernel at every SIMD level against the numpy
reference and against the float32 table of the exact upcast, bit for bit; conversions, writes that
round back, files (safetensors F16 / BF16 memory-mapped, native, text), torch interop, errors."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from fastembed._dtypes import BFLOAT16, FLOAT16, FLOAT32, STORAGE, resolve
from fastembed.optim import SGD
from fastembed._kernels import _gather, _topk
from fastembed.optim import Adagrad
from fastembed.testing import assert_topk_equivalent
from conftest import make_memmap

HALF = ["float16", "bfloat16"]
DIMS = [1, 7, 16, 33, 100, 300]


def _same_bits(a, b):
    """Equal as float32 bit patterns (NaNs included: the upcast is exact, payloads too)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


def _stored(rng, V, D, dtype, special=False):
    """(V, D) rows in storage dtype ``dtype`` from N(0, 1) floats (plus zeros, subnormals, a zero row)."""
    w = rng.standard_normal((V, D)).astype(np.float32)
    if special and V > 3:
        w[1] = 0.0
        w[2, : D // 2] = 1e-7  # float16 subnormals, ordinary bfloat16
        w[3, ::3] = -0.0
    return STORAGE[dtype].from_float32(w)


def _pair(rng, V, D, dtype, vocab=False, special=False):
    """A half table and the float32 table of its exact upcast."""
    st = STORAGE[dtype]
    h = _stored(rng, V, D, dtype, special)
    keys = [f"w{i}" for i in range(V)] if vocab else None
    t = EmbeddingTable(h, dtype=dtype, vocab=keys)
    f = EmbeddingTable(st.to_float32(h), vocab=keys)
    return t, f, h


# ------------------------------------------------------------------ the storage dtypes themselves

def test_registry_names_and_kernel_codes():
    assert [STORAGE[n].kernel for n in ("float32", "float16", "bfloat16")] == [0, 1, 2]
    assert resolve("bfloat16") is BFLOAT16 and resolve(np.float16) is FLOAT16 and resolve("float32") is FLOAT32
    assert resolve(np.dtype("float16")) is FLOAT16
    for bad in ("int8", np.uint16, "float64", "bf16"):
        with pytest.raises(ValueError, match=r"dtype=.*(int8|uint16|float64|bf16).*stored as one of"):
            resolve(bad)


def test_float16_upcast_is_numpys_with_quiet_nans():
    h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    got = FLOAT16.to_float32(h.view(np.float16))
    want = h.view(np.float16).astype(np.float32)
    finite = ~np.isnan(want)
    _same_bits(got[finite], want[finite])
    nan_bits = got[~finite].view(np.uint32)
    assert (nan_bits & 0x00400000).all()  # quiet, as F16C makes them
    np.testing.assert_array_equal(nan_bits & ~np.uint32(0x00400000), want[~finite].view(np.uint32) & ~np.uint32(0x00400000))


def test_bfloat16_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.standard_normal(10000).astype(np.float32),
        (rng.integers(0, 2**32, 10000, dtype=np.uint64).astype(np.uint32)).view(np.float32),  # every bit pattern
        np.array([1 + 2**-8, 1 + 3 * 2**-8, 3.4e38, -3.4e38, np.inf, -np.inf, 0.0, -0.0, 1e-45], np.float32),
    ])
    got = BFLOAT16.from_float32(x)
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    nan = np.isnan(x)
    np.testing.assert_array_equal(got[~nan], want[~nan])
    np.testing.assert_array_equal(ref._round_to(x, "bfloat16"), got)  # the reference's own rounding agrees
    assert np.isnan(BFLOAT16.to_float32(got[nan])).all()  # NaN stays NaN, even with a low payload
    assert BFLOAT16.from_float32(np.array([0x7F800001], np.uint32).view(np.float32))[0] == 0x7FC0
    # the upcast is a shift: exact, round trip is the identity on every bit pattern but NaN payloads
    allbits = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    back = BFLOAT16.from_float32(BFLOAT16.to_float32(allbits))
    ok = ~np.isnan(BFLOAT16.to_float32(allbits))
    np.testing.assert_array_equal(back[ok], allbits[ok])


# ------------------------------------------------------------------ construction

def test_float16_array_is_kept_without_a_copy():
    w = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float16)
    t = EmbeddingTable(w, copy=False)
    assert t.storage is FLOAT16 and t.dtype == np.float16 and np.shares_memory(t.weights, w)
    assert not np.shares_memory(EmbeddingTable(w).weights, w)  # a writable array: copied by default
    assert t.nbytes == 20 * 8 * 2 and t.astype("float32").nbytes == 20 * 8 * 4
    assert "dtype=float16" in repr(t)
    assert EmbeddingTable(w, copy=True).storage is FLOAT16
    assert not np.shares_memory(EmbeddingTable(w, copy=True).weights, w)
    assert EmbeddingTable(w, dtype="float32").storage is FLOAT32


@pytest.mark.parametrize("dtype", HALF + [np.float16])
def test_dtype_at_construction_rounds_to_nearest_even(rng, dtype):
    w = rng.standard_normal((30, 9)).astype(np.float32)
    t = EmbeddingTable(w, dtype=dtype)
    st = resolve(dtype)
    assert t.storage is st and t.nbytes == w.size * 2
    np.testing.assert_array_equal(t.weights, st.from_float32(w))
    _same_bits(t[:], st.to_float32(st.from_float32(w)))
    # float64 to float16: one rounding (not through float32)
    w64 = rng.standard_normal((4, 5))
    if st is FLOAT16:
        np.testing.assert_array_equal(EmbeddingTable(w64, dtype=dtype).weights, w64.astype(np.float16))


def test_bfloat16_bits_are_taken_as_they_are():
    bits = BFLOAT16.from_float32(np.arange(12, dtype=np.float32).reshape(3, 4))
    t = EmbeddingTable(bits, dtype="bfloat16", copy=False)
    assert np.shares_memory(t.weights, bits)
    _same_bits(t[:], np.arange(12, dtype=np.float32).reshape(3, 4))
    with pytest.raises(TypeError, match="uint16"):
        EmbeddingTable(bits)  # integer arrays are not rows unless they are named bfloat16 bits


def test_wrong_dtypes_are_named():
    w = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="dtype='int8'"):
        EmbeddingTable(w, dtype="int8")
    with pytest.raises(ValueError, match="float64"):
        EmbeddingTable(w, dtype=np.float64)
    with pytest.raises(ValueError, match="kind must be 1 .* got 0"):
        _topk.scan_half(np.zeros((3, 4), np.uint16), 0, None, np.zeros((1, 4), np.float32), 0, 3, None, None,
                        None, np.zeros((1, 1), np.float32), np.zeros((1, 1), np.int64), 1)
    with pytest.raises(ValueError, match="kind must be 1 .* got 5"):
        _gather.to_float32(np.zeros((3, 4), np.uint16), 5, np.zeros((3, 4), np.float32), 1)
    t = EmbeddingTable(w, dtype="bfloat16")
    with pytest.raises(TypeError, match="bag reads float32 rows; this table is stored as bfloat16"):
        t.pool.bag([[0, 1]])


# ------------------------------------------------------------------ kernels at every SIMD level

@pytest.mark.parametrize("dtype", HALF)
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
        assert _gather.gather(st.bits(h), ids, out, 2, stream, st.kernel) == -1
        _same_bits(out, ref.lookup(h, ids, dtype=dtype))
    with pytest.raises(IndexError, match="57"):
        t.lookup([0, 57])
    with pytest.raises(IndexError, match="-1"):
        t.lookup([-1])


@pytest.mark.parametrize("dtype", HALF)
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
    assert _gather.embed_half(st.bits(h), st.kernel, flat, pos, pidx, 1.5, types, None, out, 2, True) == -1
    _same_bits(out, ref.embed(h, ids, pos, scale=1.5, type_table=types, dtype=dtype).reshape(15, D))


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("D", DIMS)
def test_norms_equal_reference_and_the_upcast(rng, simd_level, dtype, D):
    t, f, h = _pair(rng, 83, D, dtype, special=True)
    for nt in (1, 2):
        _same_bits(t.norms(n_threads=nt), ref.row_norms(h, dtype=dtype))
        _same_bits(t.inv_norms(n_threads=nt), ref.inv_norms(h, dtype=dtype))
    _same_bits(t.norms(), f.norms())


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("D", [1, 16, 33, 100, 300])
@pytest.mark.parametrize("strategy", ["scan", "gemm"])
def test_topk_scores_equal_the_float32_upcast_bit_for_bit(rng, simd_level, dtype, D, strategy):
    V = 203
    t, f, h = _pair(rng, V, D, dtype, special=True)
    h[V - 5:] = h[:5]  # duplicated rows: exact ties, broken by the smaller id
    t, f = EmbeddingTable(h, dtype=dtype), EmbeddingTable(STORAGE[dtype].to_float32(h))
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
    if strategy == "gemm":  # every block height: the same answer
        q = rng.standard_normal((20, D))
        want = t.topk(q, 5, strategy="gemm")
        for nb in (1, 64, 1000):
            got = t.topk(q, 5, strategy="gemm", block_rows=nb, n_threads=2)
            _same_bits(got[0], f.topk(q, 5, strategy="gemm", block_rows=nb)[0])
            assert_topk_equivalent(got[0][0], got[1][0], want[0][0], want[1][0])


@pytest.mark.parametrize("dtype", HALF)
def test_word_questions_equal_the_float32_upcast(rng, simd_level, dtype):
    t, f, _ = _pair(rng, 300, 24, dtype, vocab=True)
    assert t.words.most_similar("w3", topn=5) == f.words.most_similar("w3", topn=5)
    assert t.words.most_similar(positive=["w1", "w2"], negative=["w9"], topn=4) == \
        f.words.most_similar(positive=["w1", "w2"], negative=["w9"], topn=4)
    _same_bits(t.words.most_similar("w3", topn=None), f.words.most_similar("w3", topn=None))
    assert t.words.most_similar_cosmul(positive=["w1", "w2"], negative=["w5"], topn=4) == \
        f.words.most_similar_cosmul(positive=["w1", "w2"], negative=["w5"], topn=4)
    for method in ("add", "mul"):
        assert t.words.analogy("w1", "w2", "w3", topn=3, method=method) == f.words.analogy("w1", "w2", "w3", topn=3, method=method)
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


@pytest.mark.parametrize("dtype", HALF)
def test_analogy_equals_reference(rng, dtype):
    t, _, h = _pair(rng, 120, 16, dtype)
    a, b, c = rng.integers(0, 120, (3, 6))
    s, i = t.words.analogy_ids(a, b, c, topn=4)
    rs, ri = ref.analogy(h, a, b, c, topn=4, dtype=dtype)
    for j in range(6):
        assert_topk_equivalent(s[j], i[j], rs[j], ri[j])


@pytest.mark.parametrize("dtype", HALF)
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


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_optimizer_updates_in_float32_and_rounds_back(rng, dtype, optimizer):
    st = STORAGE[dtype]
    h = _stored(rng, 40, 10, dtype)
    t = EmbeddingTable(h.copy(), dtype=dtype, padding_idx=7)
    mine = h.copy()
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
        np.testing.assert_array_equal(t.weights, mine)
    # the row was computed in float32, then rounded once: a step below half an ulp rounds away
    t2 = EmbeddingTable(st.from_float32(np.ones((2, 3), np.float32)), dtype=dtype)
    SGD(t2, lr=1.0).step([0], np.full((1, 3), 1e-4, np.float32))
    _same_bits(t2[:], np.ones((2, 3), np.float32))
    SGD(t2, lr=1.0).step([1], np.full((1, 3), 0.25, np.float32))
    _same_bits(t2[1:], np.full((1, 3), 0.75, np.float32))
    # set_rows rounds too
    t2.set_rows([0], [[1 / 3, 2.0, 3.0]])
    _same_bits(t2[0:1], st.to_float32(st.from_float32(np.array([[1 / 3, 2.0, 3.0]], np.float32))))


@pytest.mark.parametrize("dtype", HALF)
def test_read_only_and_memory_mapped_half_tables(tmp_path, rng, dtype):
    st = STORAGE[dtype]
    h = _stored(rng, 64, 20, dtype)
    mm = make_memmap(tmp_path, h, name="t.half")
    t = EmbeddingTable(mm, dtype=dtype)
    assert t.storage is st and not t.writeable and np.shares_memory(t.weights, mm)
    f = EmbeddingTable(st.to_float32(h))
    _same_bits(t.lookup([3, 63]), f.lookup([3, 63]))
    q = rng.standard_normal((2, 20))
    _same_bits(t.topk(q, 5)[0], f.topk(q, 5)[0])
    with pytest.raises(ValueError, match="read-only"):
        SGD(t, lr=0.1).step([0], np.ones((1, 20), np.float32))
    ro = h.copy()
    ro.flags.writeable = False
    t = EmbeddingTable(ro, dtype=dtype)
    _same_bits(t.embed([[1, 2]], np.zeros((2, 20), np.float32)), f.embed([[1, 2]], np.zeros((2, 20), np.float32)))


def test_astype_round_trips(rng):
    w = rng.standard_normal((10, 6)).astype(np.float32)
    t = EmbeddingTable(w, vocab=[str(i) for i in range(10)], padding_idx=2)
    b = t.astype("bfloat16")
    assert b.storage is BFLOAT16 and b.vocab is t.vocab and b.padding_idx == 2
    np.testing.assert_array_equal(b.weights, BFLOAT16.from_float32(w))
    assert b.astype("bfloat16").storage is BFLOAT16 and not np.shares_memory(b.astype("bfloat16").weights, b.weights)
    h = b.astype("float16")
    np.testing.assert_array_equal(h.weights, BFLOAT16.to_float32(b.weights).astype(np.float16))
    _same_bits(b.astype("float32").weights, BFLOAT16.to_float32(b.weights))
    _same_bits(np.asarray(b), BFLOAT16.to_float32(b.weights))
    with pytest.raises(ValueError, match="float32 copy"):
        b.__array__(copy=False)


# ------------------------------------------------------------------ files

@pytest.mark.parametrize("dtype", HALF)
def test_safetensors_half_is_memory_mapped_without_conversion(tmp_path, rng, dtype):
    st = STORAGE[dtype]
    t = EmbeddingTable(_stored(rng, 33, 12, dtype), dtype=dtype, vocab=[f"k{i}" for i in range(33)])
    p = tmp_path / "t.safetensors"
    fe.save(t, p, format="safetensors")
    n = int.from_bytes(open(p, "rb").read(8), "little")
    header = json.loads(open(p, "rb").read(8 + n)[8:])
    assert header["weight"]["dtype"] == st.safetensors and header["weight"]["data_offsets"] == [0, 33 * 12 * 2]
    for mmap in (True, False):
        u = fe.load(p, mmap=mmap)
        assert u.storage is st and isinstance(u.weights.base, np.memmap) or isinstance(u._w, np.memmap)
        assert not u.writeable and u.vocab.keys == t.vocab.keys
        np.testing.assert_array_equal(u.weights, t.weights)
    # asked for another dtype: converted (exactly to float32; rounded to the other half)
    _same_bits(fe.load(p, dtype="float32").weights, st.to_float32(t.weights))
    other = "bfloat16" if dtype == "float16" else "float16"
    np.testing.assert_array_equal(fe.load(p, dtype=other).weights,
                                  STORAGE[other].from_float32(st.to_float32(t.weights)))
    # the float32 file loads as half when asked
    p32 = tmp_path / "f.safetensors"
    w = rng.standard_normal((9, 4)).astype(np.float32)
    fe.save(EmbeddingTable(w), p32, format="safetensors")
    np.testing.assert_array_equal(fe.load(p32, dtype=dtype).weights, st.from_float32(w))
    with pytest.raises(ValueError, match="dtype='int8'"):
        fe.load(p32, dtype="int8")


@pytest.mark.parametrize("dtype", HALF)
def test_safetensors_interoperates_with_the_safetensors_library(tmp_path, rng, dtype):
    torch = pytest.importorskip("torch")
    sttorch = pytest.importorskip("safetensors.torch")
    tdt = getattr(torch, dtype)
    x = torch.randn(21, 10).to(tdt)
    p = tmp_path / "lib.safetensors"
    sttorch.save_file({"wte.weight": x, "other": torch.zeros(3)}, str(p))
    t = fe.load(p, tensor="wte.weight")
    assert t.storage is STORAGE[dtype]
    _same_bits(t[:], x.float().numpy())
    fe.save(t, tmp_path / "ours.safetensors", format="safetensors")
    y = sttorch.load_file(str(tmp_path / "ours.safetensors"))["weight"]
    assert y.dtype == tdt and torch.equal(y, x)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("fmt", ["native", "word2vec", "glove", "word2vec-binary"])
def test_every_format_saves_half_tables(tmp_path, rng, dtype, fmt):
    st = STORAGE[dtype]
    t = EmbeddingTable(_stored(rng, 25, 7, dtype), dtype=dtype, vocab=[f"k{i}" for i in range(25)])
    p = tmp_path / ("t" if fmt == "native" else "t.txt")
    fe.save(t, p, format=fmt)
    u = fe.load(p, dtype=dtype)
    assert u.storage is st and u.vocab.keys == t.vocab.keys
    np.testing.assert_array_equal(u.weights, t.weights)
    default = fe.load(p)
    assert default.storage is (st if fmt == "native" else FLOAT32)  # native keeps its dtype; text is float32
    _same_bits(default[:], st.to_float32(t.weights))
    if fmt == "native":
        m = fe.load(p, mmap=True)
        assert m.storage is st and isinstance(m._w, np.memmap) and not m.writeable
        np.testing.assert_array_equal(m.weights, t.weights)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc (Linux)")
def test_loading_a_bf16_safetensors_table_peaks_at_half_the_float32_memory(tmp_path):
    V, D = 120000, 256  # 123 MB as float32, 61 MB as bfloat16
    rng = np.random.default_rng(3)
    w = rng.standard_normal((V, D), dtype=np.float32)
    fe.save(EmbeddingTable(w), tmp_path / "f32.safetensors", format="safetensors")
    fe.save(EmbeddingTable(w, dtype="bfloat16"), tmp_path / "bf16.safetensors", format="safetensors")
    del w
    # VmHWM: this process's peak resident set (ru_maxrss would carry the parent's across fork+exec);
    # pages of a memory-mapped file count once touched
    probe = textwrap.dedent("""
        import sys
        import numpy as np
        import fastembed as fe
        def hwm():
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        before = hwm()
        t = fe.load(sys.argv[1])
        t.norms()                      # every row read: every page of the file resident
        t.lookup(np.arange(0, len(t), 997))
        print(t.storage.name, hwm() - before)
    """)
    peaks = {}
    for name in ("f32", "bf16"):
        out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / f"{name}.safetensors")], capture_output=True,
                             text=True, check=True, env=dict(os.environ)).stdout.split()
        peaks[name] = int(out[1])
        assert out[0] == {"f32": "float32", "bf16": "bfloat16"}[name]
    assert peaks["f32"] > 0.9 * V * D * 4 / 1024  # the float32 table was really resident
    assert peaks["bf16"] <= 0.55 * peaks["f32"], peaks


# ------------------------------------------------------------------ torch

@pytest.mark.parametrize("dtype", HALF)
def test_torch_half_tensors_are_shared_and_round_trip(rng, dtype):
    torch = pytest.importorskip("torch")
    x = torch.randn(30, 6).to(getattr(torch, dtype))
    t = EmbeddingTable.from_torch(x)
    assert t.storage.name == dtype
    _same_bits(t[:], x.float().numpy())
    assert np.shares_memory(t.weights.view(np.uint16), x.view(torch.int16).numpy())
    emb = torch.nn.Embedding.from_pretrained(x.clone(), freeze=False, padding_idx=1)
    te = EmbeddingTable.from_torch(emb)
    assert te.storage.name == dtype and te.padding_idx == 1
    ids = torch.tensor([[0, 5, 29]])
    _same_bits(te.lookup(ids.numpy()), emb(ids).float().detach().numpy())
    y = t.to_torch()
    assert y.dtype == getattr(torch, dtype) and torch.equal(y, x)
    before = x.float().numpy().copy()
    t.norms()
    t.inv_norms()
    y.mul_(2)  # shared (with x too): the table sees torch's write and drops its cached norms
    _same_bits(t[:], before * 2)
    _same_bits(x.float().numpy(), before * 2)
    _same_bits(t.inv_norms(), ref.inv_norms(before * 2))
    assert EmbeddingTable.from_torch(x, dtype="float32").storage is FLOAT32
    z = t.to_torch(copy=True)
    assert z.dtype == getattr(torch, dtype) and not np.shares_memory(z.float().numpy(), t.weights)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("D", [3, 17, 100])
def test_scan_tails_ignore_the_next_rows_infinities_and_nans(rng, simd_level, dtype, D):
    # a row's last partial chunk is read with one full load that runs into the next row (cleared
    # after conversion): inf and NaN there must not leak into the row's score
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
