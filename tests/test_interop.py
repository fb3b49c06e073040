"""PyTorch and gensim interop (issue 17): zero-copy where safe, never an alias torch could use to
write a read-only map, norms that follow torch's in-place updates, gensim's KeyedVectors surface."""
import subprocess
import sys

import numpy as np
import pytest

from fastembed import interop, EmbeddingTable, Vocabulary
from conftest import make_memmap


# ------------------------------------------------------------------ numpy and DLPack

def test_array_protocol_is_a_read_only_view():
    W = np.random.default_rng(0).standard_normal((1000, 30), dtype=np.float32)
    t = EmbeddingTable(W, copy=False)
    a = np.asarray(t)
    assert np.shares_memory(a, W) and not a.flags.writeable
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    c = np.array(t, copy=True)
    assert c.flags.writeable and not np.shares_memory(c, W)


def test_dlpack_of_a_read_only_map_is_a_copy(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    W = np.arange(12, dtype=np.float32).reshape(4, 3)
    t = EmbeddingTable(make_memmap(tmp_path, W))
    x = torch.from_dlpack(t)
    x[0, 0] = 99.0  # would crash the process if it aliased the read-only map
    assert t.weights[0, 0] == 0.0
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__(copy=False)
    assert t.__dlpack_device__() == (1, 0)


def test_writing_through_torch_never_crashes_on_a_map(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed")
    W = np.arange(12, dtype=np.float32).reshape(4, 3)
    make_memmap(tmp_path, W)
    code = ("import numpy as np, torch, fastembed as fe\n"
            f"m = np.memmap({str(tmp_path / 'table.f32')!r}, dtype=np.float32, mode='r', shape=(4, 3))\n"
            "t = fe.EmbeddingTable(m)\n"
            "for x in (torch.from_dlpack(t), t.to_torch()):\n"
            "    x.add_(1.0)\n"
            "print(float(t.weights[0, 0]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "0.0"


def test_dlpack_alias_of_a_writable_table_disables_the_norm_cache():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    t = EmbeddingTable(np.eye(3, dtype=np.float32))
    t.inv_norms()
    x = torch.from_dlpack(t)
    x[0] *= 4.0                      # the table cannot see this write...
    np.testing.assert_allclose(t.inv_norms(), [0.25, 1, 1])  # ...so it recomputes


# ------------------------------------------------------------------ torch

def test_from_torch_follows_sgd_steps():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    torch.manual_seed(0)
    emb = torch.nn.Embedding(200, 16, padding_idx=0)
    t = EmbeddingTable.from_torch(emb)
    assert t.padding_idx == 0 and np.shares_memory(t.weights, emb.weight.detach().numpy())
    opt = torch.optim.SGD(emb.parameters(), lr=5.0)
    row = np.array(t.weights[7])
    assert t.topk(row, 1)[0][0] == pytest.approx(1.0, abs=1e-6)
    for _ in range(5):
        opt.zero_grad()
        emb(torch.tensor([7, 8, 9])).pow(2).sum().mul(-1).backward()  # grow rows 7..9
        opt.step()
    now = np.array(t.weights[7])
    assert not np.allclose(now, row)
    s, i = t.topk(now, 1)
    assert i[0] == 7 and s[0] == pytest.approx(1.0, abs=1e-5)  # a stale norm would give ~e6


def test_to_torch_shares_and_tracks():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    t = EmbeddingTable(np.eye(3, dtype=np.float32))
    x = t.to_torch()
    t.inv_norms()
    x[1].mul_(2.0)
    assert t.weights[1, 1] == 2.0
    np.testing.assert_allclose(t.inv_norms(), [1, 0.5, 1])
    c = t.to_torch(copy=True)
    c.zero_()
    assert t.weights[0, 0] == 1.0


def test_torch_ids_out_and_queries():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    W = np.random.default_rng(1).standard_normal((50, 8), dtype=np.float32)
    t = EmbeddingTable(W)
    ids = torch.tensor([[1, 2], [3, 49]])
    out = torch.empty(2, 2, 8)
    got = t.lookup(ids, out=out)
    assert got is out
    np.testing.assert_array_equal(out.numpy(), W[[[1, 2], [3, 49]]])
    s, i = t.topk(torch.from_numpy(W[:2].copy()), 1)
    assert i[:, 0].tolist() == [0, 1]
    s, i = t.topk(torch.from_numpy(W[:2].copy()).to(torch.bfloat16), 1)
    assert i[:, 0].tolist() == [0, 1]
    with pytest.raises(ValueError, match="out must be float32, got float64"):
        t.lookup(ids, out=torch.empty(2, 2, 8, dtype=torch.float64))


def test_from_torch_dtypes_and_errors():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    w = torch.randn(10, 4)
    for dt, storage in ((torch.float16, "float16"), (torch.bfloat16, "bfloat16"), (torch.float64, "float32")):
        t = EmbeddingTable.from_torch(w.to(dt))  # half tensors keep their dtype (tests/test_half.py)
        assert t.storage.name == storage
        np.testing.assert_array_equal(t[:], w.to(dt).float().numpy())
    with pytest.raises(ValueError, match=r"expected a 2-D \(V, D\) tensor, got shape \(10,\)"):
        EmbeddingTable.from_torch(torch.zeros(10))
    with pytest.raises(TypeError, match="expected a floating-point tensor"):
        EmbeddingTable.from_torch(torch.zeros(3, 2, dtype=torch.int64))
    t = EmbeddingTable.from_torch(w, copy=True)
    assert not np.shares_memory(t.weights, w.numpy())
    bag = torch.nn.EmbeddingBag(12, 3)
    assert EmbeddingTable.from_torch(bag).shape == (12, 3)


# ------------------------------------------------------------------ gensim

@pytest.fixture
def kv():
    gensim = pytest.importorskip("gensim", reason="gensim is not installed")
    rng = np.random.default_rng(2)
    k = gensim.models.KeyedVectors(vector_size=6, count=0, dtype=np.float32)
    keys = [f"w{i}" for i in range(30)]
    k.add_vectors(keys, rng.standard_normal((30, 6)).astype(np.float32))
    for i, key in enumerate(keys):
        k.set_vecattr(key, "count", 100 - i)
    return k


def test_gensim_round_trip_keeps_counts(kv):
    t = interop.from_gensim(kv)
    assert t.vocab.keys == kv.index_to_key and t.vocab.counts.tolist() == list(range(100, 70, -1))
    np.testing.assert_array_equal(t.weights, kv.vectors)
    assert not np.shares_memory(t.weights, kv.vectors)
    shared = interop.from_gensim(kv, copy=False)
    assert np.shares_memory(shared.weights, kv.vectors)
    back = interop.to_gensim(t)
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert back.get_vecattr("w3", "count") == 97
    assert "w3" in t and "nope" not in t and 3 not in t


def test_gensim_questions_match_gensim(kv):
    t = interop.from_gensim(kv)
    np.testing.assert_array_equal(t["w4"], kv.get_vector("w4"))
    np.testing.assert_allclose(t.unit_rows([4])[0], kv.get_vector("w4", norm=True), rtol=1e-6)
    np.testing.assert_allclose(t.words.distances("w1"), kv.distances("w1"), atol=1e-6)
    np.testing.assert_allclose(t.words.distances("w1", ["w2", "w5"]), kv.distances("w1", ["w2", "w5"]), atol=1e-6)
    assert t.words.closer_than("w1", "w7") == kv.closer_than("w1", "w7")
    assert t.words.most_similar_to_given("w1", ["w2", "w3", "w9"]) == kv.most_similar_to_given("w1", ["w2", "w3", "w9"])
    assert [k for k, _ in t.words.most_similar("w1", topn=5)] == [k for k, _ in kv.most_similar("w1", topn=5)]
    assert t.words.most_similar("w1", topn=0) == kv.most_similar("w1", topn=0) == []
    assert len(t.words.most_similar("w1", topn=3, restrict_vocab=10 ** 6)) == 3


