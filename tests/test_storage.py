"""The storage core (issue 25) and its stale-proof norms (issue 26, finding 2): who may write a
table's rows, the row-source protocol both table kinds implement, the accessors, close()."""
import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, rows, search
from fastembed._validate import as_queries


def test_editing_the_array_given_to_a_table_cannot_make_cosines_stale(rng):
    """Issue 26's repro: a table over a numpy array, a search, then the array edited: the table
    copied the writable array, so its cosines stay cosines (<= 1) and its answers its own."""
    w = rng.standard_normal((50, 8)).astype(np.float32)
    t = EmbeddingTable(w)
    q = w[3].copy()
    before = t.topk(q, k=2)
    w[7] = q * 50  # the caller's array, not the table's
    s, i = t.topk(q, k=2)
    assert s[0] <= 1.0 and (s, i)[1].tolist() == before[1].tolist()
    np.testing.assert_array_equal(s, before[0])


def test_a_shared_array_follows_the_invalidate_contract(rng):
    w = rng.standard_normal((50, 8)).astype(np.float32)
    t = EmbeddingTable(w, copy=False)  # shared: the caller promises invalidate_norms()
    q = w[3].copy()
    t.topk(q, k=2)
    w[7] = q * 50
    t.invalidate_norms()
    s, i = t.topk(q, k=2)
    assert i[0] in (3, 7) and s[0] <= np.float32(1.0) + np.finfo(np.float32).eps


def test_torch_tensors_are_shared_and_watched(rng):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    w = torch.from_numpy(rng.standard_normal((50, 8)).astype(np.float32))
    t = EmbeddingTable(w)
    assert np.shares_memory(t.weights, w.numpy())
    q = w[3].clone().numpy()
    t.topk(q, k=2)
    with torch.no_grad():
        w[7] = torch.from_numpy(q) * 50  # an in-place torch write bumps the version counter
    s, i = t.topk(q, k=2)
    assert set(i.tolist()) == {3, 7} and s.max() <= np.float32(1.0) + np.finfo(np.float32).eps


def test_row_source_protocol_is_implemented():
    t = EmbeddingTable.random(30, 4, vocab=[f"k{i}" for i in range(30)])
    assert isinstance(t, rows.RowSource)
    u = t.unit_rows([1, 2])
    assert u.dtype == np.float64 and u.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-6)
    c = t.cosines(u.astype(np.float32))
    assert c.shape == (2, 30) and c.dtype == np.float32
    s, i = t.search(search.LinearScorer(u.astype(np.float32)), 3)
    np.testing.assert_array_equal(i[:, 0], [1, 2])
    np.testing.assert_array_equal(s, np.take_along_axis(c, i, 1))  # one engine, one cosine
    ss, ii = t.search(search.LinearScorer(u.astype(np.float32)), 3, strategy="gemm")
    np.testing.assert_array_equal(ii, i)
    assert t.cosines(u[0].astype(np.float32), row_hi=5).shape == (5,)
    with pytest.raises(ValueError, match="row_hi must be at most 30"):
        t.cosines(u.astype(np.float32), row_hi=31)


def test_accessors_bind_the_feature_modules():
    t = EmbeddingTable.random(30, 4, vocab=[f"k{i}" for i in range(30)])
    assert t.words.most_similar("k1", topn=3) == fe.words.most_similar(t, "k1", topn=3)
    np.testing.assert_array_equal(t.pool.bag([[1, 2]]), fe.pooling.bag(t.weights, [[1, 2]]))
    assert EmbeddingTable.words is fe.accessors.Words and "word questions" in repr(t.words)
    np.testing.assert_array_equal(t.astype("float16").pool.bag([[1]]), t.astype("float16")[[1]])


def test_huge_k_is_clipped_like_gensims_topn():
    t = EmbeddingTable.random(50, 4, vocab=[f"w{i}" for i in range(50)])
    s, i = t.topk(t["w1"], k=10 ** 12)
    assert s.shape == (50,) and i[0] == 1
    assert len(t.words.most_similar("w1", topn=10 ** 12)) == 49
    assert t.words.analogy_ids([1], [2], [3], topn=10 ** 12)[1].shape == (1, 50)


def test_close_and_context_manager(tmp_path):
    t = EmbeddingTable.random(10, 3, vocab=[f"w{i}" for i in range(10)])
    fe.save(t, tmp_path / "v", format="native")
    with fe.load(tmp_path / "v", mmap=True) as m:
        assert m.lookup([1]).shape == (1, 3)
    for call in (lambda: m.lookup([1]), lambda: m.topk(np.ones(3)), lambda: m.weights,
                 lambda: m.words.most_similar("w1")):
        with pytest.raises(ValueError, match="this table was closed"):
            call()
    assert "closed" in repr(m)
    m.close()  # idempotent


def test_the_table_is_storage_only():
    names = {n for n in dir(EmbeddingTable) if not n.startswith("_")}
    for gone in ("most_similar", "analogy", "bag", "sentence_vectors", "evaluate_analogies", "get_vector",
                 "add_vectors", "apply_sparse", "encode", "from_gensim"):
        assert gone not in names


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("nt", [1, 2])
def test_cosines_equal_the_reference_and_the_topk_scores(rng, dtype, simd_level, nt):
    from fastembed import reference as ref
    w = rng.standard_normal((203, 37)).astype(np.float32)
    t = EmbeddingTable(w, dtype=dtype)
    q = t.unit_rows([5, 9, 100]).astype(np.float32)
    c = t.cosines(q, n_threads=nt)
    want = ref.scores(t.weights, q, t.inv_norms(), dtype=dtype)
    np.testing.assert_array_equal(c.view(np.int32), want.view(np.int32))
    qn, _ = as_queries(q, 37, normalize=True)  # what topk searches with
    s, i = t.topk(q, k=5, strategy="scan", n_threads=nt)
    np.testing.assert_array_equal(s, np.take_along_axis(t.cosines(qn, n_threads=nt), i, 1))
    assert t.cosines(q, row_hi=0).shape == (3, 0)
    assert EmbeddingTable.zeros(4, 0).cosines(np.zeros((2, 0), np.float32)).shape == (2, 4)


def test_large_float64_weights_announce_their_float32_copy(monkeypatch):
    """The dtype rule: float64 rows are rounded to float32 (a copy); from CONVERT_WARN_BYTES of
    input up, a ConversionWarning says so (small arrays stay quiet)."""
    import warnings
    from fastembed import _validate
    w = np.arange(24, dtype=np.float64).reshape(6, 4) / 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = fe.EmbeddingTable(w)  # below the threshold: silent
    assert t.weights.dtype == np.float32 and np.array_equal(t.weights, w.astype(np.float32))
    monkeypatch.setattr(_validate, "CONVERT_WARN_BYTES", w.nbytes)
    with pytest.warns(fe.ConversionWarning, match=r"weights: a 6 x 4 float64 array .* rounded to float32 storage"):
        fe.EmbeddingTable(w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fe.EmbeddingTable(w.astype(np.float32))  # float32 input is never announced
