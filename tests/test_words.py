import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastembed import EmbeddingTable, reference as ref, words
from fastembed.testing import analogy_sensitivity, assert_topk_equivalent
from _planted_words import planted_table


@pytest.fixture(scope="module")
def planted():
    return planted_table()


# ------------------------------------------------------------------ keys

def test_table_with_keys(planted):
    t = planted
    np.testing.assert_array_equal(t["cat"], t.weights[t.vocab["cat"]])
    np.testing.assert_array_equal(t[["cat", "dog"]], t.weights[[8, 9]])
    np.testing.assert_array_equal(t.lookup([["cat"], ["dog"]]), t.weights[[[8], [9]]])
    assert t.vocab.encode([["cat", "dog"], ["car", "king"]]).shape == (2, 2)
    assert t.vocab.decode(8) == "cat"
    s, i = t.topk("cat", 2)
    assert i[0] == t.vocab["cat"]
    with pytest.raises(KeyError, match="'zebra'"):
        t["zebra"]
    with pytest.raises(TypeError, match="no vocabulary"):
        EmbeddingTable.zeros(3, 2).words.most_similar("a")
    with pytest.raises(ValueError, match="vocabulary has 2 keys but the table has 3 rows"):
        EmbeddingTable.zeros(3, 2, vocab=["a", "b"])


# ------------------------------------------------------------------ similarity, analogies

def test_planted_relations(planted):
    t = planted
    top = t.words.most_similar("cat", topn=3)
    assert top[0][0] in ("dog", "kitten", "puppy") and all(k != "cat" for k, _ in top)
    assert isinstance(top[0], tuple) and isinstance(top[0][1], float)
    assert t.words.similarity("cat", "dog") > t.words.similarity("cat", "airplane")
    assert t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert t.words.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert t.words.analogy("man", "king", "woman")[0][0] == "queen"
    assert t.words.analogy("man", "king", "woman", method="mul")[0][0] == "queen"
    assert t.words.analogy("boy", "prince", "girl")[0][0] == "princess"
    batch = t.words.analogy(["man", "boy", "cat"], ["king", "prince", "kitten"], ["woman", "girl", "dog"])
    assert [b[0][0] for b in batch] == ["queen", "princess", "puppy"]
    assert t.words.doesnt_match(["cat", "dog", "kitten", "car"]) == "car"
    assert t.words.rank("cat", "dog") <= 3
    assert t.words.n_similarity(["cat", "dog"], ["kitten", "puppy"]) > t.words.n_similarity(["cat", "dog"], ["car"])
    assert t.words.rank("king", "king") == 1
    # vectors work as queries too; their keys are not excluded then
    assert t.words.most_similar(positive=[t["cat"]], topn=1)[0][0] == "cat"
    assert t.words.most_similar("cat", topn=None).shape == (len(t),)
    assert t.words.most_similar_cosmul("cat", topn=None).shape == (len(t),)
    assert t.words.most_similar("cat", topn=3, restrict_vocab=12)[0][0] in ("dog", "kitten")


def test_most_similar_matches_gensim_formula(planted):
    t = planted
    W = t.weights.astype(np.float64)
    U = W / np.linalg.norm(W, axis=1, keepdims=True)
    q = (U[0] + U[3] - U[2]) / 3
    q /= np.linalg.norm(q)
    expect = np.argsort(-(U @ q), kind="stable")
    expect = [i for i in expect if i not in (0, 3, 2)][:5]
    got = [t.vocab[k] for k, _ in t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=5)]
    assert got == expect


def test_errors(planted):
    t = planted
    with pytest.raises(ValueError, match="no input"):
        t.words.most_similar()
    with pytest.raises(ValueError, match="no positive input"):
        t.words.most_similar_cosmul(negative=["cat"])
    with pytest.raises(ValueError, match="cancel"):
        t.words.most_similar(positive=["cat"], negative=["cat"])
    with pytest.raises(ValueError, match="equal lengths"):
        t.words.analogy(["man"], ["king", "boy"], ["woman"])
    with pytest.raises(ValueError, match="method must be 'add' or 'mul'"):
        t.words.analogy("man", "king", "woman", method="pair")
    with pytest.raises(KeyError, match="'unicorn'"):
        t.words.analogy("man", "king", "unicorn")
    with pytest.raises(IndexError, match=r"a id 99 at position \(0,\) is out of range for a table of 55 rows"):
        t.words.analogy_ids([99], [1], [2])


@pytest.mark.parametrize("method", ["add", "mul"])
def test_batched_analogy_equals_reference(planted, method, simd_level):
    t = planted
    rng = np.random.default_rng(0)
    a, b, c = (rng.integers(0, len(t), 300) for _ in range(3))
    s, i = t.words.analogy_ids(a, b, c, topn=3, method=method)
    rs, ri = ref.analogy(t.weights, a, b, c, topn=3, method=method)
    # The tolerance follows each score's conditioning, not its size: a 3CosMul score divides by
    # (1 + cos_a) / 2, which near 0 amplifies the float32 rounding of the cosines hundreds of times
    # (score 45.17246 vs reference 45.174137 with a denominator of 0.0016). Two summation orders of a
    # D-term float32 dot product differ by at most about 2 D roundings of its inputs.
    sens = analogy_sensitivity(t.weights, a, b, c, method=method)
    ulps = 2 * t.weights.shape[1]
    assert_topk_equivalent(s, i, rs, ri, sensitivity=sens, ulps=ulps)
    s1, i1 = t.words.analogy_ids(a, b, c, topn=3, method=method, n_threads=1)
    s2, i2 = t.words.analogy_ids(a, b, c, topn=3, method=method, n_threads=2)
    np.testing.assert_array_equal(i1, i2)
    s, i = t.words.analogy_ids(a, b, c, topn=2, method=method, restrict_vocab=20)
    rs, ri = ref.analogy(t.weights, a, b, c, topn=2, method=method, restrict_vocab=20)
    assert_topk_equivalent(s, i, rs, ri, sensitivity=sens, ulps=ulps)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10 ** 6), Q=st.integers(1, 40), method=st.sampled_from(["add", "mul"]),
       topn=st.integers(1, 4))
def test_hypothesis_batched_vs_single_queries(seed, Q, method, topn):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((60, 8), dtype=np.float32)
    t = EmbeddingTable(W, vocab=[f"k{i}" for i in range(60)])
    a, b, c = (rng.integers(0, 60, Q) for _ in range(3))
    s, i = t.words.analogy_ids(a, b, c, topn=topn, method=method)
    for q in range(Q):
        if method == "add":
            single = t.words.most_similar(positive=[int(b[q]), int(c[q])], negative=[int(a[q])], topn=topn)
        else:
            single = t.words.most_similar_cosmul(positive=[int(b[q]), int(c[q])], negative=[int(a[q])], topn=topn)
        ids = np.array([t.vocab[k] for k, _ in single])
        sc = np.array([x for _, x in single], np.float32)
        tol = 2e-6 * max(1.0, float(np.abs(sc).max()) if sc.size else 1.0)
        assert_topk_equivalent(s[q][: ids.size], i[q][: ids.size], sc, ids, tol=tol)


# ------------------------------------------------------------------ ranks, weighted terms, shared-word analogies

def test_rank_of_a_key_with_itself_is_one():
    # gensim: rank(k, k) = len(closer_than(k, k)) + 1 = 1; it used to count every row (the key's own
    # score was replaced by -inf before being read as the threshold)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(50, 8)).astype(np.float32)
    W[7] = W[3] * 2  # a parallel copy: as close as the key itself
    t = EmbeddingTable(W, vocab=[f"k{i}" for i in range(50)])
    assert [words.rank(t, f"k{i}", f"k{i}") for i in range(50)] == [1] * 50
    cos = (W @ W[0]) / np.linalg.norm(W, axis=1) / np.linalg.norm(W[0])
    order = [int(i) for i in np.argsort(-cos) if i != 0]
    assert [words.rank(t, "k0", f"k{j}") for j in order[:5]] == [1, 2, 3, 4, 5]


def test_most_similar_weighted_terms_and_query_matrices(planted):
    t = planted
    U = t.unit_rows(np.arange(len(t)))
    vocab = t.vocab

    def expect(q, exclude):
        cos = (U @ (q / np.linalg.norm(q)))
        order = [int(i) for i in np.argsort(-cos, kind="stable") if int(i) not in exclude]
        return [vocab.keys[i] for i in order[:5]], cos

    # gensim's weighted terms: (key, w) adds w * unit(key), in either list; a bare negative weighs -1
    got = words.most_similar(t, positive=[("king", 2.0), "woman"], negative=["man", ("girl", 0.5)], topn=5)
    q = 2 * U[vocab["king"]] + U[vocab["woman"]] - U[vocab["man"]] + 0.5 * U[vocab["girl"]]
    keys, cos = expect(q, {vocab[k] for k in ("king", "woman", "man", "girl")})
    assert [k for k, _ in got] == keys
    np.testing.assert_allclose([s for _, s in got], cos[[vocab[k] for k in keys]], rtol=1e-5)
    # a weighted row id and a weighted vector
    v = t.lookup(vocab["cat"]).astype(np.float64)
    got = words.most_similar(t, positive=[(vocab["dog"], 1.0), (v, 3.0)], topn=5)
    keys, _ = expect(U[vocab["dog"]] + 3 * v, {vocab["dog"]})
    assert [k for k, _ in got] == keys
    # a (n, D) array is n query vectors (their keys are not excluded)
    rows = t.lookup(np.array([vocab["cat"], vocab["kitten"]]))
    got = words.most_similar(t, positive=rows, topn=5)
    keys, _ = expect(rows[0].astype(np.float64) + rows[1], set())
    assert [k for k, _ in got] == keys
    assert words.most_similar(t, positive=rows, topn=5) == words.most_similar(t, positive=list(rows), topn=5)
    assert len(words.most_similar_cosmul(t, positive=rows, topn=3)) == 3
    with pytest.raises(TypeError, match=r"weighted terms such as \('king', 2.0\) are taken by most_similar only"):
        words.most_similar_cosmul(t, positive=[("king", 2.0)])


@pytest.mark.parametrize("restrict", [None, 30])
def test_shared_word_analogy_path_equals_direct_path(planted, restrict):
    t = planted
    rng = np.random.default_rng(4)
    pool = rng.choice(len(t), 12, replace=False)
    a, b, c = (pool[rng.integers(0, 12, 200)] for _ in range(3))
    ok = (a != b) | (b != c)
    a, b, c = a[ok], b[ok], c[ok]
    q = t.unit_rows(b) - t.unit_rows(a) + t.unit_rows(c)
    keep = np.linalg.norm(q, axis=1) > 1e-6
    a, b, c = a[keep], b[keep], c[keep]
    s1, i1 = t.words.analogy_ids(a, b, c, topn=4, restrict_vocab=restrict)  # 12 words, ~190 questions: shared
    s2, i2 = t.topk(t.unit_rows(b) - t.unit_rows(a) + t.unit_rows(c), 4,
                    exclude=list(np.stack([a, b, c], 1)), restrict=restrict)
    assert_topk_equivalent(s1, i1, s2, i2, tol=1e-5)
    for nt in (1, 3):
        np.testing.assert_array_equal(t.words.analogy_ids(a, b, c, topn=4, restrict_vocab=restrict, n_threads=nt)[1], i1)


def test_more_error_messages(planted):
    t = planted
    with pytest.raises(ValueError, match=r"expected a row id, a key or a \(16,\) float vector"):
        t.words.similarity(np.ones(3), "cat")
    with pytest.raises(ValueError, match="at least one key on each side"):
        t.words.n_similarity([], ["cat"])
    with pytest.raises(ValueError, match="at least one key"):
        t.words.doesnt_match([])


def test_analogies_on_a_memory_mapped_table(planted, tmp_path):
    from conftest import make_memmap
    mm = EmbeddingTable(make_memmap(tmp_path, np.asarray(planted.weights)), vocab=planted.vocab)
    rng = np.random.default_rng(1)
    a, b, c = (rng.integers(0, len(mm), 150) for _ in range(3))
    for method in ("add", "mul"):
        np.testing.assert_array_equal(mm.words.analogy_ids(a, b, c, topn=2, method=method)[1],
                                      planted.words.analogy_ids(a, b, c, topn=2, method=method)[1])
    assert mm.words.analogy("man", "king", "woman")[0][0] == "queen"
