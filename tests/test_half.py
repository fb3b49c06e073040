"""Half-precision storage (the registry's 16-bit unscaled dtypes: float16 and bfloat16 today, and any
added later with no edit here): what is particular to those dtypes (the conversions, float16 arrays
and bfloat16 bits at construction, safetensors F16 / BF16 memory-mapped and with the safetensors
library, torch half tensors, the peak memory of a bfloat16 load). The kernels of every storage dtype
are tested in tests/test_storage_kinds.py."""
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
from fastembed._kernels import _gather, _topk

# the half dtypes, from the registry (fastembed._dtypes.STORAGE): 2-byte elements, no per-row scale
HALF = [name for name, st in STORAGE.items() if st.itemsize == 2 and not st.scaled]
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

def test_the_half_list_comes_from_the_registry():
    # not vacuous: the two half dtypes fastembed has today are among the registry's 16-bit kinds
    assert {"float16", "bfloat16"} <= set(HALF)
    # each has its own safetensors dtype name (the default "F32" would write half rows as float32)
    names = [STORAGE[d].safetensors for d in HALF]
    assert len(set(names)) == len(HALF) and "F32" not in names, names


def test_registry_names_and_kernel_codes():
    assert resolve("bfloat16") is BFLOAT16 and resolve(np.float16) is FLOAT16 and resolve("float32") is FLOAT32
    assert resolve(np.dtype("float16")) is FLOAT16
    for bad in (np.uint16, "float64", "bf16", "int16"):
        with pytest.raises(ValueError, match=r"dtype=.*(int16|uint16|float64|bf16).*stored as one of"):
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
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    # finite values that round to inf are refused (issue 26, finding 8), not stored as torch does
    over = np.isfinite(x) & np.isinf(BFLOAT16.to_float32(want))
    assert over.sum() >= 2
    for v in x[over][:5]:
        with pytest.raises(ValueError, match="beyond bfloat16's largest finite value"):
            BFLOAT16.from_float32(np.array([v], np.float32))
    x, want = x[~over], want[~over]
    got = BFLOAT16.from_float32(x)
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
    with pytest.raises(ValueError, match="dtype='int16'"):
        EmbeddingTable(w, dtype="int16")
    with pytest.raises(ValueError, match="float64"):
        EmbeddingTable(w, dtype=np.float64)
    with pytest.raises(ValueError, match="a float32 table has 4-byte elements, got dtype uint16"):
        _topk.scan(np.zeros((3, 4), np.uint16), 0, None, None, np.zeros((1, 4), np.float32), 0, 3, None, None,
                   None, np.zeros((1, 1), np.float32), np.zeros((1, 1), np.int64), 1)
    with pytest.raises(ValueError, match="kind must be a storage kind code 0..3, got 5"):
        _gather.to_float32(np.zeros((3, 4), np.uint16), 5, np.zeros((3, 4), np.float32), 1)
    with pytest.raises(ValueError, match=r"int8 rows need \(3,\) float32 scales"):
        _gather.to_float32(np.zeros((3, 4), np.int8), 3, np.zeros((3, 4), np.float32), 1)
    with pytest.raises(ValueError, match="float16 rows have no scales"):
        _gather.to_float32(np.zeros((3, 4), np.float16), 1, np.zeros((3, 4), np.float32), 1, np.ones(3, np.float32))


# ------------------------------------------------------------------ conversions

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
    other = next(d for d in HALF if d != dtype)
    np.testing.assert_array_equal(fe.load(p, dtype=other).weights,
                                  STORAGE[other].from_float32(st.to_float32(t.weights)))
    # the float32 file loads as half when asked
    p32 = tmp_path / "f.safetensors"
    w = rng.standard_normal((9, 4)).astype(np.float32)
    fe.save(EmbeddingTable(w), p32, format="safetensors")
    np.testing.assert_array_equal(fe.load(p32, dtype=dtype).weights, st.from_float32(w))
    with pytest.raises(ValueError, match="dtype='int16'"):
        fe.load(p32, dtype="int16")


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
