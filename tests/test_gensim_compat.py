"""fastembed.compat.gensim's KeyedVectors and fastText loaders, method by method against gensim's
answers (ties and near-ties may differ by float rounding only), every error case, and the
optional dependencies (gensim, scipy, POT) absent."""
import copy
import logging
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastembed as fe
from fastembed.compat import gensim as cg
from fastembed.compat.gensim import FastTextKeyedVectors, KeyedVectors, load_facebook_model, load_facebook_vectors

TOL = 3e-6  # float32 cosines computed in another order (gensim: BLAS sgemv; fastembed: its kernels)


def gensim_data(name):
    pytest.importorskip("gensim", reason="gensim's test data ships with gensim")
    from gensim.test.utils import datapath
    return datapath(name)


def G():
    return pytest.importorskip("gensim.models", reason="comparing with gensim needs gensim")


def assert_same_pairs(ours, theirs, tol=TOL):
    """The same (key, score) lists up to float rounding: scores within tol, and keys equal except
    where neighbouring scores tie within tol (their order is then rounding's choice)."""
    assert len(ours) == len(theirs)
    sa = np.array([s for _, s in ours])
    sb = np.array([s for _, s in theirs])
    np.testing.assert_allclose(sa, sb, rtol=0, atol=tol)
    for i, ((ka, _), (kb, _)) in enumerate(zip(ours, theirs)):
        if ka != kb:
            close = [k for k, s in theirs if abs(s - sa[i]) <= 2 * tol]
            assert ka in close, (i, ka, kb)


@pytest.fixture(scope="module")
def bin_path():
    return gensim_data("euclidean_vectors.bin")


@pytest.fixture
def pair(bin_path):
    kv = KeyedVectors.load_word2vec_format(bin_path, binary=True)
    g = G().KeyedVectors.load_word2vec_format(bin_path, binary=True)
    return kv, g


@pytest.fixture
def small(tmp_path):
    """A small text file written without gensim: 40 keys x 6, frequency order."""
    rng = np.random.default_rng(5)
    W = rng.normal(size=(40, 6)).astype(np.float32)
    keys = [f"w{i}" for i in range(40)]
    p = tmp_path / "small.txt"
    fe.save(fe.EmbeddingTable(W, vocab=keys), p)
    return p, keys, W


# ------------------------------------------------------------------ loading

def test_loading_matches_gensim_bit_for_bit(pair, bin_path, tmp_path):
    kv, g = pair
    assert kv.index_to_key == g.index_to_key and kv.key_to_index == g.key_to_index
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.vectors.dtype == np.float32 and kv.vector_size == g.vector_size == 10 and len(kv) == len(g) == 2747
    assert [kv.get_vecattr(k, "count") for k in kv.index_to_key[:5]] == [g.get_vecattr(k, "count") for k in
                                                                       g.index_to_key[:5]]
    assert str(kv) == str(g) == "KeyedVectors<vector_size=10, 2747 keys>"
    assert kv.table.vocab.keys is kv.index_to_key and np.shares_memory(kv.vectors, kv.table.weights)
    lim = KeyedVectors.load_word2vec_format(bin_path, binary=True, limit=7)
    assert len(lim) == 7 and lim.get_vecattr(lim.index_to_key[0], "count") == 7
    assert len(KeyedVectors.load_word2vec_format(bin_path, binary=True, limit=0)) == 2747  # gensim: 0 = no limit
    half = KeyedVectors.load_word2vec_format(bin_path, binary=True, datatype=np.float16)
    gh = G().KeyedVectors.load_word2vec_format(bin_path, binary=True, datatype=np.float16)
    assert half.vectors.dtype == np.float16 and half.vectors.nbytes * 2 == kv.vectors.nbytes
    np.testing.assert_array_equal(half.vectors, gh.vectors)
    assert half["war"].dtype == np.float16
    assert half.most_similar("war", topn=3)[0][0] == kv.most_similar("war", topn=3)[0][0]
    # text, with and without a header, round trip through gensim's writer
    txt = tmp_path / "v.txt"
    g.save_word2vec_format(str(txt), binary=False)
    t = KeyedVectors.load_word2vec_format(txt)
    assert t.index_to_key == g.index_to_key
    np.testing.assert_array_equal(t.vectors, G().KeyedVectors.load_word2vec_format(str(txt)).vectors)
    g.save_word2vec_format(str(txt), binary=False, write_header=False)
    nh = KeyedVectors.load_word2vec_format(txt, no_header=True)
    assert nh.index_to_key == g.index_to_key and nh.get_vecattr(nh.index_to_key[0], "count") == 2747


def test_fvocab_counts_and_unicode_errors(tmp_path):
    model, vocab = gensim_data("w2v_keyedvectors_load_test.modeldata"), gensim_data("w2v_keyedvectors_load_test.vocab")
    with pytest.raises(UnicodeDecodeError, match=r"w2v_keyedvectors_load_test.vocab, line 1"):
        KeyedVectors.load_word2vec_format(model, fvocab=vocab, unicode_errors="strict")
    kv = KeyedVectors.load_word2vec_format(model, fvocab=vocab, unicode_errors="replace")
    assert kv.get_vecattr("ありがとう\ufffd", "count") == 123
    # an undecodable key in the vectors file: UnicodeDecodeError naming the file and line
    p = tmp_path / "bad.txt"
    p.write_bytes(b"2 2\nok 1 2\n\xe3\x81 3 4\n")
    with pytest.raises(UnicodeDecodeError, match=r"bad.txt, line 3: key is not valid utf8"):
        KeyedVectors.load_word2vec_format(p)
    assert KeyedVectors.load_word2vec_format(p, unicode_errors="ignore").index_to_key == ["ok", ""]
    assert G().KeyedVectors.load_word2vec_format(str(p), unicode_errors="ignore").index_to_key == ["ok", ""]
    v = tmp_path / "vocab.txt"
    v.write_text("ok 5\n")
    with pytest.raises(ValueError, match=r"vocab.txt: the vocabulary file has no count for 'x'"):
        p.write_bytes(b"2 2\nok 1 2\nx 3 4\n")
        KeyedVectors.load_word2vec_format(p, fvocab=v)
    v.write_text("ok 5\nx\n")
    with pytest.raises(ValueError, match=r"vocab.txt, line 2: expected 'word count', got 'x'"):
        KeyedVectors.load_word2vec_format(p, fvocab=v)
    v.write_text("ok 5\nx 1.5\n")
    with pytest.raises(ValueError, match=r"vocab.txt, line 2: the count '1.5' is not an integer"):
        KeyedVectors.load_word2vec_format(p, fvocab=v)
    v.write_text("x 9\nok 5\n")
    kv = KeyedVectors.load_word2vec_format(p, fvocab=v)
    assert [kv.get_vecattr(k, "count") for k in ("ok", "x")] == [5, 9]


@pytest.mark.parametrize("binary", [False, True])
def test_truncated_files_raise_eoferror_as_gensim(tmp_path, small, binary):
    p, keys, W = small
    kv = KeyedVectors.load_word2vec_format(p)
    out = tmp_path / "t.bin"
    kv.save_word2vec_format(out, binary=binary)
    raw = out.read_bytes()
    out.write_bytes(b"99" + raw[2:])  # the header claims more vectors than follow (gensim's test)
    with pytest.raises(EOFError, match=r"unexpected end of input: .*t.bin.*the header says 99"):
        KeyedVectors.load_word2vec_format(out, binary=binary)
    with pytest.raises(EOFError):
        G().KeyedVectors.load_word2vec_format(str(out), binary=binary)


def test_duplicate_keys_keep_the_first_vector_as_gensim(tmp_path):
    p = tmp_path / "dup.txt"
    p.write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    kv = KeyedVectors.load_word2vec_format(p)
    assert kv.index_to_key == ["a", "b"] and kv["a"].tolist() == [1, 2]
    assert [kv.get_vecattr(k, "count") for k in ("a", "b")] == [3, 2]
    g = G().KeyedVectors.load_word2vec_format(str(p))
    # gensim keeps the first vector too, but its "shrinking matrix" step never runs (the key list was
    # preallocated, so its length equals the rows): it leaves an unfilled slot, key None, zero row
    assert g.index_to_key == kv.index_to_key + [None] and not g.vectors[2].any()
    np.testing.assert_array_equal(g.vectors[:2], kv.vectors)
    assert [g.get_vecattr(k, "count") for k in ("a", "b")] == [3, 2]


def test_loader_argument_errors(small):
    p = small[0]
    with pytest.raises(NotImplementedError, match=r"datatype=float64: fastembed tables store float32 or float16"):
        KeyedVectors.load_word2vec_format(p, datatype=np.float64)
    with pytest.raises(NotImplementedError, match="no_header only available for text-format files"):
        KeyedVectors.load_word2vec_format(p, binary=True, no_header=True)
    with pytest.raises(ValueError, match="binary_chunk_size must be a positive int, got 0"):
        KeyedVectors.load_word2vec_format(p, binary_chunk_size=0)
    assert len(KeyedVectors.load_word2vec_format(p, binary_chunk_size=5)) == 40
    with pytest.raises(fe.io.FileFormatError, match=r"small.txt, byte \d+"):
        KeyedVectors.load_word2vec_format(p, binary=True)  # a text file read as binary
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(str(p) + ".missing")
    with pytest.raises(NotImplementedError, match="dtype=float64"):
        KeyedVectors(5, dtype=np.float64)
    with pytest.raises(TypeError, match="dtype='nope' is not a numpy dtype"):
        KeyedVectors(5, dtype="nope")
    with pytest.raises(ValueError, match="vector_size must be a non-negative int, got -1"):
        KeyedVectors(-1)
    with pytest.raises(ValueError, match="count must be a non-negative int, got 1.5"):
        KeyedVectors(3, count=1.5)


# ------------------------------------------------------------------ questions against gensim

def test_most_similar_forms_match_gensim(pair):
    kv, g = pair
    cases = [dict(positive="war", topn=5), dict(positive=["war"], negative=["peace"], topn=7),
             dict(positive=["war", "conflict"], negative="call"), dict(positive=[("war", 2.0), "peace"],
                                                                          negative=[("call", -0.5)], topn=6),
             dict(positive=[("war", 1.0)], negative=["peace", ("israel", 3.0)], topn=4),
             dict(positive="war", topn=5, restrict_vocab=100), dict(positive="war", topn=5, clip_start=10, clip_end=400),
             dict(positive="war", topn=5, clip_end=-100), dict(positive=[kv["war"]], topn=5),
             dict(positive=kv.vectors[0:5], topn=5), dict(positive=[(kv["war"], 2.0), 3], topn=5),
             dict(negative="war", topn=3), dict(positive=[0, 1], topn=3)]
    for c in cases:
        gc = dict(c)
        for name in ("positive", "negative"):  # the same vectors for gensim
            x = gc.get(name)
            if isinstance(x, np.ndarray):
                gc[name] = np.array(x)
        assert_same_pairs(kv.most_similar(**c), g.most_similar(**gc))
    for c in (dict(positive="war", topn=None), dict(positive="war", topn=None, restrict_vocab=50),
              dict(positive="war", topn=None, clip_start=5, clip_end=60)):
        ours, theirs = kv.most_similar(**c), g.most_similar(**c)
        assert ours.dtype == theirs.dtype == np.float32 and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=TOL)
    assert kv.most_similar("war", topn=0) == [] and kv.most_similar("war", topn=np.uint8(0)) == []
    assert_same_pairs(kv.similar_by_word("war", topn=4), g.similar_by_word("war", topn=4))
    assert_same_pairs(kv.similar_by_key("war", topn=4, restrict_vocab=30), g.similar_by_key("war", topn=4, restrict_vocab=30))
    assert_same_pairs(kv.similar_by_vector(kv["peace"], topn=4), g.similar_by_vector(g["peace"], topn=4))
    assert all(isinstance(s, float) for _, s in kv.most_similar("war"))


def test_most_similar_errors(pair):
    kv, g = pair
    with pytest.raises(KeyError, match="Key 'not_in_vocab' not present in vocabulary"):
        kv.most_similar("not_in_vocab")
    with pytest.raises(ValueError, match="cannot compute mean with no input"):
        kv.most_similar()
    with pytest.raises(ValueError, match="cannot compute similarity with no input"):
        kv.most_similar_cosmul(negative=["war"])
    with pytest.raises(KeyError, match="Key 'zzz' not present in vocabulary"):
        kv.most_similar_cosmul("zzz")
    with pytest.raises(TypeError):
        kv.most_similar(positive=[2.5])  # gensim: 'float' object is not subscriptable


def test_indexer_receives_gensims_mean_vector(pair):
    kv, g = pair

    class Recorder:
        def most_similar(self, vector, topn):
            self.vector, self.topn = vector, topn
            return [("x", 1.0)]

    ours, theirs = Recorder(), Recorder()
    assert kv.most_similar(["war", ("peace", 2.0)], ["call"], topn=3, indexer=ours) == [("x", 1.0)]
    g.most_similar(["war", ("peace", 2.0)], ["call"], topn=3, indexer=theirs)
    assert ours.topn == 3
    np.testing.assert_allclose(ours.vector, theirs.vector, atol=1e-6)


def test_cosmul_matches_gensim_and_honours_restrict_vocab(pair):
    kv, g = pair
    for c in (dict(positive="war", negative="peace", topn=5), dict(positive=["war", "conflict"], negative=["call"]),
              dict(positive=["war"], topn=3)):
        assert_same_pairs(kv.most_similar_cosmul(**c), g.most_similar_cosmul(**c), tol=1e-5)
    np.testing.assert_allclose(kv.most_similar_cosmul("war", topn=None), g.most_similar_cosmul("war", topn=None),
                               atol=1e-5)
    # gensim ignores restrict_vocab here; fastembed restricts, as the argument says
    first = set(kv.index_to_key[:50])
    assert {k for k, _ in kv.most_similar_cosmul("war", topn=10, restrict_vocab=50)} <= first


def test_pairwise_questions_match_gensim(pair):
    kv, g = pair
    for a, b in (("war", "conflict"), ("war", "war"), ("good", "nice"), ("peace", "call")):
        assert kv.similarity(a, b) == pytest.approx(g.similarity(a, b), abs=TOL)
        assert kv.distance(a, b) == pytest.approx(g.distance(a, b), abs=TOL)
    assert kv.distance("war", "war") == 0 and kv.similarity("war", "war") == 1
    assert isinstance(kv.similarity("war", "peace"), np.float32)
    np.testing.assert_allclose(kv.distances("war"), g.distances("war"), atol=TOL)
    np.testing.assert_allclose(kv.distances("war", ["peace", "call"]), g.distances("war", ["peace", "call"]), atol=TOL)
    np.testing.assert_allclose(kv.distances(kv["war"], ["peace"]), g.distances(g["war"], ["peace"]), atol=TOL)
    for ws1, ws2 in ((["war", "peace"], ["call"]), (["war"], ["war"]), (["war", "zzz"], ["peace"])):
        assert kv.n_similarity(ws1, ws2) == pytest.approx(g.n_similarity(ws1, ws2), abs=TOL)
    for bad in (([], ["war"]), (["war"], [])):
        with pytest.raises(ZeroDivisionError, match="At least one of the passed list is empty"):
            kv.n_similarity(*bad)
        with pytest.raises(ZeroDivisionError):
            g.n_similarity(*bad)
    assert kv.rank("war", "war") == g.rank("war", "war") == 1
    for other in ("terrorism", "peace", "call", kv.index_to_key[-1]):
        assert kv.rank("war", other) == g.rank("war", other)
    assert kv.closer_than("war", "war") == [] and set(kv.closer_than("war", "terrorism")) == set(
        g.closer_than("war", "terrorism"))
    with pytest.warns(DeprecationWarning, match="words_closer_than"):
        assert kv.words_closer_than("war", "terrorism") == kv.closer_than("war", "terrorism")
    assert kv.most_similar_to_given("war", ["terrorism", "call", "waging"]) == "terrorism"
    assert kv.doesnt_match(["war", "peace", "conflict", "bush"]) == g.doesnt_match(["war", "peace", "conflict", "bush"])
    ours, theirs = kv.rank_by_centrality(["war", "peace", "zzz", "call"]), g.rank_by_centrality(["war", "peace", "zzz",
                                                                                                 "call"])
    assert [w for _, w in ours] == [w for _, w in theirs]
    np.testing.assert_allclose([s for s, _ in ours], [s for s, _ in theirs], atol=TOL)
    with pytest.raises(ValueError, match="cannot select a word from an empty list"):
        kv.doesnt_match(["zzz"])
    assert kv.relative_cosine_similarity("good", "nice", 10) == pytest.approx(
        g.relative_cosine_similarity("good", "nice", 10), abs=1e-5)
    v = np.arange(10, dtype=np.float32)
    np.testing.assert_allclose(KeyedVectors.cosine_similarities(v, kv.vectors[:20]),
                               G().KeyedVectors.cosine_similarities(v, g.vectors[:20]), atol=TOL)


def test_vectors_and_means_match_gensim(pair):
    kv, g = pair
    assert kv.norms is None and g.norms is None
    np.testing.assert_array_equal(kv["war"], g["war"])
    np.testing.assert_array_equal(kv[["war", "peace"]], g[["war", "peace"]])
    np.testing.assert_array_equal(kv[3], g[3])
    assert not kv["war"].flags.writeable
    np.testing.assert_allclose(kv.get_vector("war", norm=True), g.get_vector("war", norm=True), atol=1e-7)
    assert kv.get_index("war") == g.get_index("war") and kv.get_index(5) == 5 and kv.get_index("zzz", 7) == 7
    with pytest.raises(KeyError, match="Key 'zzz' not present"):
        kv.get_index("zzz")
    with pytest.raises(KeyError, match="Key 'zzz' not present"):
        kv["zzz"]
    with pytest.raises(ValueError, match="need at least one array"):
        kv[[]]
    assert kv.has_index_for("war") and "war" in kv and "zzz" not in kv and 5 in kv and 99999 not in kv
    keys = ["conflict", "administration", "terrorism", "call", "an out-of-vocabulary word"]
    for kw in (dict(), dict(weights=[1, 2, 3, 1, 2]), dict(pre_normalize=False), dict(post_normalize=True)):
        np.testing.assert_allclose(kv.get_mean_vector(keys, **kw), g.get_mean_vector(keys, **kw), atol=1e-6)
    np.testing.assert_allclose(kv.get_mean_vector([kv["war"], "peace"]), g.get_mean_vector([g["war"], "peace"]),
                               atol=1e-6)
    with pytest.raises(KeyError, match="Key 'an out-of-vocabulary word' not present in vocabulary"):
        kv.get_mean_vector(keys, ignore_missing=False)
    with pytest.raises(ValueError, match="cannot compute mean with no input"):
        kv.get_mean_vector([])
    with pytest.raises(ValueError, match="keys and weights array must have same number of elements"):
        kv.get_mean_vector(keys, weights=[1, 2])
    kv.fill_norms()
    g.fill_norms()
    np.testing.assert_allclose(kv.norms, g.norms, rtol=1e-6)
    np.testing.assert_allclose(kv.get_normed_vectors(), g.get_normed_vectors(), atol=1e-6)


def test_evaluations_match_gensim(pair, caplog):
    kv, g = pair
    q = gensim_data("questions-words.txt")
    for kw in (dict(), dict(restrict_vocab=500), dict(case_insensitive=False), dict(dummy4unknown=True)):
        ours, theirs = kv.evaluate_word_analogies(q, **kw), g.evaluate_word_analogies(q, **kw)
        assert ours[0] == theirs[0]
        assert ours[1] == theirs[1]  # every section's lists of questions
    with caplog.at_level(logging.INFO, logger="fastembed.compat.gensim"):
        kv.evaluate_word_analogies(q)
    assert "Total accuracy" in caplog.text
    mul = kv.evaluate_word_analogies(q, similarity_function="most_similar_cosmul")  # gensim ignores the argument
    add = kv.evaluate_word_analogies(q)
    assert [len(s["correct"]) + len(s["incorrect"]) for s in mul[1]] == [len(s["correct"]) + len(s["incorrect"])
                                                                         for s in add[1]]
    with pytest.raises(ValueError, match="similarity_function must be 'most_similar' or 'most_similar_cosmul', got 'x'"):
        kv.evaluate_word_analogies(q, similarity_function="x")
    pairs = gensim_data("wordsim353.tsv")
    for kw in (dict(), dict(dummy4unknown=True), dict(restrict_vocab=1000), dict(case_insensitive=False)):
        (r, pr), (rho, prho), oov = kv.evaluate_word_pairs(pairs, **kw)
        (gr, gpr), (grho, gprho), goov = g.evaluate_word_pairs(pairs, **kw)
        assert r == pytest.approx(gr, abs=1e-6) and rho == pytest.approx(grho, abs=1e-6)
        assert pr == pytest.approx(gpr, rel=1e-4) and prho == pytest.approx(gprho, rel=1e-4)
        assert oov == goov
    assert kv.evaluate_word_pairs(pairs, dummy4unknown=True)[2] == pytest.approx(69.12181303116147)


def test_evaluation_files_errors(pair, tmp_path):
    kv, _ = pair
    p = tmp_path / "q.txt"
    p.write_text("war peace call bush\n")
    with pytest.raises(ValueError, match=r"Missing section header before line #0 in .*q.txt"):
        kv.evaluate_word_analogies(p)
    p.write_text(": s\nwar peace\n\nwar peace call bush\n")  # short and blank lines are skipped, as gensim
    score, sections = kv.evaluate_word_analogies(p)
    assert len(sections[0]["correct"]) + len(sections[0]["incorrect"]) == 1
    p.write_text(": only a section\n")
    assert kv.evaluate_word_analogies(p) == (0.0, [{"section": "only a section", "correct": [], "incorrect": []},
                                                   {"section": "Total accuracy", "correct": [], "incorrect": []}])
    w = tmp_path / "w.tsv"
    w.write_text("# c\nzzz\tyyy\t3\nbad line\n")
    with pytest.raises(ValueError, match="No valid similarity judgements found in .*w.tsv"):
        kv.evaluate_word_pairs(w)


def test_wmdistance_matches_gensim(pair):
    pytest.importorskip("ot", reason="wmdistance needs POT")
    kv, g = pair
    d1, d2 = ["war", "peace", "call", "zzz"], ["conflict", "bush", "war"]
    # (unit vectors from norms rounded once to float32 by each: equal to ~1e-8)
    assert kv.wmdistance(d1, d2) == pytest.approx(g.wmdistance(d1, d2), rel=1e-6)
    assert kv.wmdistance(d1, d2, norm=False) == pytest.approx(g.wmdistance(d1, d2, norm=False), rel=1e-9)
    assert kv.wmdistance(["war"], ["war", "war"]) == 0.0
    assert kv.wmdistance(["zzz"], ["war"]) == float("inf")


# ------------------------------------------------------------------ optional dependencies absent

def test_without_scipy_or_pot_the_error_names_the_package(pair, monkeypatch):
    kv, _ = pair
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match=r"evaluate_word_pairs returns p-values .* needs scipy \(pip install scipy\)"):
        kv.evaluate_word_pairs(gensim_data("wordsim353.tsv"))
    monkeypatch.setitem(sys.modules, "ot", None)
    with pytest.raises(ImportError, match=r"wmdistance needs POT.*pip install POT"):
        kv.wmdistance(["war"], ["peace"])


def test_the_compat_module_works_without_gensim(tmp_path, small):
    # a process where `import gensim` fails: loading, questions, saving work; a gensim pickle is
    # refused naming gensim
    p = small[0]
    pk = tmp_path / "obj.pkl"
    with open(pk, "wb") as f:
        pickle.dump({"a": 1}, f)
    code = textwrap.dedent(f"""
        import sys
        sys.modules["gensim"] = None
        import numpy as np
        from fastembed.compat.gensim import KeyedVectors, Word2Vec
        kv = KeyedVectors.load_word2vec_format({str(p)!r})
        assert kv.most_similar("w0", topn=3)[0][0] != "w0"
        kv.save({str(tmp_path / 'saved')!r})
        assert KeyedVectors.load({str(tmp_path / 'saved')!r}).index_to_key == kv.index_to_key
        m = Word2Vec([["a", "b", "c"]] * 50, vector_size=4, min_count=1, workers=1)
        assert len(m.wv) == 3
        try:
            KeyedVectors.load({str(pk)!r})
        except ImportError as e:
            assert "needs gensim (pip install gensim)" in str(e), e
            print("refused")
        assert "gensim" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"


# ------------------------------------------------------------------ writing vectors

def test_writes_through_the_facade_refresh_norms(pair):
    # the facade's own writes refresh the norms; gensim's keep stale ones (its most_similar then
    # fails or scores with old norms), so gensim is given fill_norms(force=True) after each write
    kv, g = pair
    kv.most_similar("war")  # fills the table's norm cache
    v = np.random.default_rng(1).normal(size=10).astype(np.float32) * 100
    kv["war"] = v
    g["war"] = v
    g.fill_norms(force=True)
    assert_same_pairs(kv.most_similar("peace", topn=8), g.most_similar("peace", topn=8))
    kv[["peace", "__new__"]] = np.stack([v * 2, -v])
    g[["peace", "__new__"]] = np.stack([v * 2, -v])
    g.fill_norms(force=True)
    assert len(kv) == len(g) == 2748 and kv.index_to_key == g.index_to_key
    assert_same_pairs(kv.most_similar("call", topn=8), g.most_similar("call", topn=8))
    kv.add_vectors(["a1", "war"], np.ones((2, 10)), replace=False)
    g.add_vectors(["a1", "war"], np.ones((2, 10)), replace=False)
    g.fill_norms(force=True)
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    kv.add_vectors(["a1", "war"], np.full((2, 10), 2.0), replace=True)
    g.add_vectors(["a1", "war"], np.full((2, 10), 2.0), replace=True)
    g.fill_norms(force=True)
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.vectors.dtype == np.float32 and np.shares_memory(kv.vectors, kv.table.weights)
    assert_same_pairs(kv.most_similar("a1", topn=5), g.most_similar("a1", topn=5))
    kv.unit_normalize_all()
    g.unit_normalize_all()
    np.testing.assert_allclose(kv.vectors, g.vectors, atol=1e-6)
    assert_same_pairs(kv.most_similar("call", topn=5), g.most_similar("call", topn=5))
    with pytest.raises(ValueError, match=r"weights has shape \(1, 3\), expected \(1, 10\)"):
        kv.add_vectors("x", np.ones(3))


def test_writing_vectors_directly_then_fill_norms_force(pair):
    kv, g = pair
    before = kv.most_similar("war", topn=3)
    kv.vectors[kv.get_index("war")] *= -1  # gensim's users write kv.vectors directly...
    g.vectors[g.get_index("war")] *= -1
    kv.fill_norms(force=True)  # ...and refresh the norms, as gensim's contract says
    g.fill_norms(force=True)
    assert_same_pairs(kv.most_similar("war", topn=3), g.most_similar("war", topn=3))
    assert kv.most_similar("war", topn=3) != before
    kv.vectors[0] = 0
    kv.norms = None  # the other gensim idiom
    assert kv.table.inv_norms()[0] == 0
    with pytest.raises(ValueError, match="fastembed computes norms from the vectors"):
        kv.norms = np.ones(len(kv))


def test_preallocated_add_vector_and_resize_as_gensim():
    gk = G().KeyedVectors
    kv, g = KeyedVectors(3, count=2), gk(3, count=2)
    for x in (kv, g):
        assert x.add_vector("a", np.array([1.0, 2, 3])) == 0
        assert x.add_vector("b", np.array([4.0, 5, 6])) == 1
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.index_to_key == g.index_to_key == ["a", "b"]
    with pytest.warns(UserWarning, match="Adding single vectors"):
        assert kv.add_vector("c", np.ones(3)) == 2
    half = KeyedVectors(3, count=3)
    half.add_vector("x", np.array([1.0, 0, 0]))
    assert half.most_similar("x", topn=2) and half.index_to_key[1:] == [None, None]
    assert [k for k, _ in half.most_similar("x", topn=2)] == [None, None]
    kv2, g2 = KeyedVectors(4), gk(4)
    for x in (kv2, g2):
        x.index_to_key = ["p", "q", "r"]
        x.key_to_index = {"p": 0, "q": 1, "r": 2}
        x.resize_vectors(seed=7)
    np.testing.assert_array_equal(kv2.vectors, g2.vectors)
    kv3 = KeyedVectors(2)
    assert kv3.vectors.dtype == np.float32
    kv3.add_vectors(["a"], np.array([[1.0, 1.0]]))
    assert kv3.vectors.dtype == np.float32 and len(kv3) == 1


def test_vecattrs_sorting_and_vectors_for_all(pair):
    kv, g = pair
    for x in (kv, g):
        x.set_vecattr("war", "tag", 5)
        x.set_vecattr("war", "count", 1)
        x.set_vecattr("peace", "count", 10 ** 6)
    assert kv.get_vecattr("war", "tag") == g.get_vecattr("war", "tag") == 5
    with pytest.raises(TypeError, match="Can't allocate type <class 'object'> for attribute tag, conflicts with its "
                                        "existing type int64"):
        kv.set_vecattr("war", "tag", "s")
    kv.sort_by_descending_frequency()
    g.sort_by_descending_frequency()
    assert kv.index_to_key == g.index_to_key and kv.index_to_key[0] == "peace"
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.key_to_index == g.key_to_index and kv.get_vecattr("war", "tag") == 5
    assert_same_pairs(kv.most_similar("war", topn=5), g.most_similar("war", topn=5))
    words = ["conflict", "administration", "zzz", "conflict", "terrorism"]
    for copy_attrs in (False, True):
        a, b = kv.vectors_for_all(words, copy_vecattrs=copy_attrs), g.vectors_for_all(words, copy_vecattrs=copy_attrs)
        assert a.index_to_key == b.index_to_key == ["conflict", "administration", "terrorism"]
        np.testing.assert_array_equal(a.vectors, b.vectors)
        assert [a.get_vecattr(k, "count") for k in a.index_to_key] == [b.get_vecattr(k, "count") for k in
                                                                       b.index_to_key]


def test_vectors_assignment_and_deprecated_names(pair):
    kv, _ = pair
    with pytest.warns(UserWarning, match="the float64 array assigned to vectors is held as a float32 copy"):
        kv.vectors = np.ones((len(kv), 10))
    assert kv.vectors.dtype == np.float32 and kv.table.weights.shape == (len(kv), 10)
    with pytest.raises(ValueError, match=r"vectors must be a 2-D array, got shape \(3,\)"):
        kv.vectors = np.ones(3)
    with pytest.raises(TypeError, match="vectors must be a float array, got dtype int64"):
        kv.vectors = np.ones((2, 2), np.int64)
    kept = kv.vectors
    kv.vectors = np.ones((3, 10), np.float32)
    with pytest.raises(ValueError, match="index_to_key has 2747 keys but vectors has 3 rows"):
        kv.most_similar("war")
    kv.vectors = kept
    for name, msg in (("vectors_norm", "computed dynamically"), ("index2word", "replaced by index_to_key"),
                      ("index2entity", "replaced by index_to_key"), ("vocab", "removed from KeyedVector")):
        with pytest.raises(AttributeError, match=msg):
            getattr(kv, name)
    with pytest.warns(DeprecationWarning, match="init_sims"):
        kv.init_sims()
    with pytest.warns(DeprecationWarning, match="word_vec"):
        kv.word_vec(0)
    with pytest.raises(NotImplementedError, match="Doc2Vec"):
        kv.similarity_unseen_docs()
    kv.add_lifecycle_event("mine", x=1)
    assert kv.lifecycle_events[-1]["event"] == "mine" and kv.lifecycle_events[-1]["x"] == 1


# ------------------------------------------------------------------ files

@pytest.mark.parametrize("binary", [False, True])
def test_save_word2vec_format_as_gensim(pair, tmp_path, binary):
    kv, g = pair
    for x in (kv, g):
        x.set_vecattr("peace", "count", 10 ** 6)  # sorted by count: peace first
    a, b = tmp_path / "ours", tmp_path / "theirs"
    kv.save_word2vec_format(a, fvocab=str(a) + ".vocab", binary=binary)
    g.save_word2vec_format(str(b), fvocab=str(b) + ".vocab", binary=binary)
    assert open(str(a) + ".vocab").read() == open(str(b) + ".vocab").read()
    ra = G().KeyedVectors.load_word2vec_format(str(a), binary=binary)  # gensim reads ours
    rb = KeyedVectors.load_word2vec_format(b, binary=binary)           # we read gensim's
    assert ra.index_to_key == rb.index_to_key and ra.index_to_key[0] == "peace"
    np.testing.assert_array_equal(ra.vectors, rb.vectors)
    kv.save_word2vec_format(a, binary=binary, prefix="p_", total_vec=5000, write_header=True)
    g.save_word2vec_format(str(b), binary=binary, prefix="p_", total_vec=5000)
    assert open(a, "rb").readline() == open(b, "rb").readline() == b"5000 10\n"
    kv.save_word2vec_format(a, binary=binary, write_header=False, sort_attr="none")
    kv.save_word2vec_format(a, binary=binary, write_header=False, sort_attr="none", append=True)
    if not binary:
        both = KeyedVectors.load_word2vec_format(a, no_header=True)
        assert len(both) == len(kv)  # the repeated keys keep their first vectors
    with pytest.raises(ValueError, match="Cannot store vocabulary with 'none' because that attribute does not exist"):
        kv.save_word2vec_format(a, fvocab=str(a) + ".v", sort_attr="none")
    kv["has space"] = np.ones(10)
    with pytest.raises(ValueError, match="key 'has space' at row 2747 cannot be written in format"):
        kv.save_word2vec_format(a, binary=binary)


def test_save_and_load_native(pair, tmp_path):
    kv, g = pair
    kv.set_vecattr("war", "tag", 3)
    kv.set_vecattr("war", "label", "x")
    d = tmp_path / "model.kv"
    kv.save(d)
    back = KeyedVectors.load(d)
    assert back.index_to_key == kv.index_to_key and back.key_to_index == kv.key_to_index
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert back.get_vecattr("war", "tag") == 3 and back.get_vecattr("war", "label") == "x"
    assert back.get_vecattr("war", "count") == kv.get_vecattr("war", "count")
    assert back.lifecycle_events[-1]["event"] == "saved"
    mm = KeyedVectors.load(d, mmap="r")
    assert not mm.vectors.flags.writeable and mm.most_similar("war", topn=3) == kv.most_similar("war", topn=3)
    with pytest.raises(ValueError, match="read-only"):
        mm.vectors[0] = 1
    t = fe.load(d)  # fastembed opens it as a table
    assert t.vocab.keys == kv.index_to_key
    kv.save(d)  # replaces its own save
    with pytest.raises(NotImplementedError, match="mmap='r\\+'"):
        KeyedVectors.load(d, mmap="r+")
    for kw, msg in ((dict(separately=["vectors"]), "separately"), (dict(pickle_protocol=2), "pickle_protocol"),
                    (dict(sep_limit=5), "sep_limit"), (dict(ignore=["x"]), "ignore")):
        with pytest.raises(NotImplementedError, match=msg):
            kv.save(tmp_path / "other", **kw)
    with open(tmp_path / "handle", "wb") as f, pytest.raises(TypeError, match="pass a path, not BufferedWriter"):
        kv.save(f)
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="exists and is a file"):
        kv.save(tmp_path / "afile")
    (tmp_path / "userdir").mkdir()
    (tmp_path / "userdir" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="refusing to replace a directory holding files"):
        kv.save(tmp_path / "userdir")
    w2v = tmp_path / "v.bin"
    kv.save_word2vec_format(w2v, binary=True)
    with pytest.raises(ValueError, match="is a word2vec-binary file, not a saved model: use KeyedVectors.load_word2vec_format"):
        KeyedVectors.load(w2v)
    # a plain fastembed native directory loads too
    fe.save(fe.EmbeddingTable(kv.vectors, vocab=list(kv.index_to_key)), tmp_path / "plain", format="native")
    assert KeyedVectors.load(tmp_path / "plain").index_to_key == kv.index_to_key


def test_gensim_pickles_load_through_gensim(pair, tmp_path, monkeypatch):
    kv, g = pair
    g.set_vecattr("war", "tag", 4)
    p = tmp_path / "g.kv"
    g.save(str(p))
    back = KeyedVectors.load(p)
    assert isinstance(back, KeyedVectors) and back.index_to_key == g.index_to_key
    np.testing.assert_array_equal(back.vectors, g.vectors)
    assert back.get_vecattr("war", "tag") == 4
    assert_same_pairs(back.most_similar("war"), g.most_similar("war"))
    old = KeyedVectors.load(gensim_data("old_keyedvectors_320.dat"))
    assert old.get_vector("computer") is not None
    monkeypatch.setitem(sys.modules, "gensim.utils", None)
    with pytest.raises(ImportError, match=r"g.kv is a pickle \(gensim's .save\(\) format\): loading it needs gensim"):
        KeyedVectors.load(p)


def test_pickle_and_deepcopy_of_the_facade(pair):
    kv, _ = pair
    kv.most_similar("war")
    for other in (pickle.loads(pickle.dumps(kv)), copy.deepcopy(kv)):
        assert other.most_similar("war", topn=5) == kv.most_similar("war", topn=5)
        other["war"] = np.zeros(10)
        assert kv["war"].any()


# ------------------------------------------------------------------ fastText

@pytest.fixture(scope="module")
def ft_pair():
    p = gensim_data("lee_fasttext.bin")
    from gensim.models.fasttext import load_facebook_vectors as g_load
    return load_facebook_vectors(p), g_load(p)


def test_fasttext_vectors_match_gensim(ft_pair):
    f, g = ft_pair
    np.testing.assert_array_equal(f.vectors, g.vectors)
    np.testing.assert_array_equal(f.vectors_ngrams, g.vectors_ngrams)
    assert f.index_to_key == g.index_to_key and (f.min_n, f.max_n, f.bucket) == (g.min_n, g.max_n, g.bucket)
    assert f.get_vecattr("night", "count") == g.get_vecattr("night", "count")
    for w in ("blargh", "nightss", "x"):
        assert w in f and w in g and not f.has_index_for(w)
        np.testing.assert_allclose(f[w], g[w], atol=1e-6)
        np.testing.assert_allclose(f.get_vector(w, norm=True), g.get_vector(w, norm=True), atol=1e-6)
        assert f.similarity(w, "night") == pytest.approx(g.similarity(w, "night"), abs=1e-5)
        assert_same_pairs(f.most_similar(w, topn=5), g.most_similar(w, topn=5), tol=1e-5)
    assert_same_pairs(f.most_similar(["night", "blargh"], ["day"], topn=5),
                      g.most_similar(["night", "blargh"], ["day"], topn=5), tol=1e-5)
    np.testing.assert_allclose(f.get_sentence_vector(["night", "blargh"]), g.get_sentence_vector(["night", "blargh"]),
                               atol=1e-6)
    np.testing.assert_allclose(f.distances("blargh", ["night"]), g.distances("blargh", ["night"]), atol=1e-5)
    with pytest.raises(KeyError, match="Key 'blargh' not present"):
        f.get_index("blargh")
    with pytest.raises(AttributeError, match="vectors_vocab: fastembed keeps the word vectors"):
        f.vectors_vocab
    with pytest.raises(NotImplementedError, match="resize_vectors: fastembed does not train fastText"):
        f.resize_vectors()


def test_fasttext_without_ngrams_and_save_load(ft_pair, tmp_path):
    f, _ = ft_pair
    none = FastTextKeyedVectors(4, 3, 6, 0)
    none.add_vectors(["a"], np.ones((1, 4)))
    assert "zz" not in none
    with pytest.raises(KeyError, match="cannot calculate vector for OOV word without ngrams"):
        none["zz"]
    d = tmp_path / "ft"
    f.save(d)
    back = KeyedVectors.load(d)
    assert isinstance(back, FastTextKeyedVectors)
    np.testing.assert_array_equal(back["blargh"], f["blargh"])
    with pytest.raises(ValueError, match="holds a saved FastTextKeyedVectors, not a "):
        class Other(KeyedVectors):
            pass
        Other.load(d)


def test_load_facebook_model_settings(tmp_path):
    p = gensim_data("lee_fasttext.bin")
    from gensim.models.fasttext import load_facebook_model as g_load
    m, gm = load_facebook_model(p), g_load(p)
    for k in ("vector_size", "window", "epochs", "negative", "min_count", "sample", "sg", "hs", "word_ngrams",
              "corpus_total_words", "nwords", "vocab_size"):
        assert getattr(m, k) == getattr(gm, k), k
    for k in ("bucket", "min_n", "max_n"):
        assert getattr(m.wv, k) == getattr(gm.wv, k), k
    np.testing.assert_array_equal(m.wv.vectors, gm.wv.vectors)
    with pytest.raises(NotImplementedError, match="FastText.train: fastembed does not train fastText models"):
        m.train([["a"]])
    with pytest.raises(NotImplementedError, match="FastText.build_vocab"):
        m.build_vocab([["a"]])
    with pytest.raises(NotImplementedError, match="FastText training: fastembed does not train fastText models"):
        cg.FastText([["a"]])
    bad = tmp_path / "bad.bin"
    bad.write_bytes(open(p, "rb").read()[:5000])
    with pytest.raises((EOFError, ValueError), match="bad.bin"):
        load_facebook_vectors(bad)


def test_most_similar_builds_the_exact_index_once_queries_repeat(tmp_path):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((20000, 256), dtype=np.float32)  # 5.1M values: above AUTO_INDEX_MIN_VALUES
    keys = [f"k{i}" for i in range(len(W))]
    p = tmp_path / "big.bin"
    fe.save(fe.EmbeddingTable(W, vocab=keys), p, format="word2vec-binary")
    kv = KeyedVectors.load_word2vec_format(p, binary=True)
    plain = KeyedVectors.load_word2vec_format(p, binary=True)
    plain.auto_index = None
    queries = [f"k{i}" for i in rng.choice(len(W), 6, replace=False)]
    first = kv.most_similar(queries[0])
    assert kv.table.index is None  # one query does not pay for a build
    answers = [kv.most_similar(q) for q in queries]
    assert kv.table.index is not None and kv.table.index.kind == "int8"
    assert answers == [plain.most_similar(q) for q in queries]  # the scan's answers, bit for bit
    assert first == answers[0] and plain.table.index is None
    kv["k1"] = np.ones(256)  # a write drops the index; two more queries rebuild it
    assert kv.table.index is None
    kv.most_similar("k2")
    assert kv.table.index is None
    assert kv.most_similar("k2") == plain.most_similar("k2")
    assert kv.table.index is not None
    small = KeyedVectors.load_word2vec_format(gensim_data("euclidean_vectors.bin"), binary=True)
    for _ in range(3):
        small.most_similar("war")
    assert small.table.index is None  # below the size where the index pays
    half = KeyedVectors.load_word2vec_format(p, binary=True, datatype=np.float16)
    for _ in range(3):
        half.most_similar("k0")
    assert half.table.index is None  # half tables scan their 2-byte rows


def test_intersect_word2vec_format_takes_the_known_keys_vectors(small, tmp_path):
    p, keys, W = small
    kv = KeyedVectors.load_word2vec_format(p)
    other = tmp_path / "other.txt"
    fe.save(fe.EmbeddingTable(np.full((3, 6), 7.0, np.float32), vocab=["w1", "zz", "w5"]), other)
    kv.most_similar("w1")  # norms cached: the merge must refresh them
    with pytest.raises(NotImplementedError, match=r"lockf=0.0: fastembed's trainer has no per-word lock factors"):
        kv.intersect_word2vec_format(other)
    kv.intersect_word2vec_format(other, lockf=1.0)
    assert len(kv) == 40 and "zz" not in kv
    assert (kv["w1"] == 7).all() and (kv["w5"] == 7).all() and np.array_equal(kv["w2"], W[2])
    assert kv.most_similar("w1", topn=1) == [("w5", pytest.approx(1.0))]
    fe.save(fe.EmbeddingTable(np.ones((1, 3), np.float32), vocab=["w1"]), other)
    with pytest.raises(ValueError, match="incompatible vector size 3 in file"):
        kv.intersect_word2vec_format(other, lockf=1.0)
    ft = load_facebook_vectors(gensim_data("lee_fasttext.bin"))
    got = ft.vectors_for_all(["night", "blargh"], allow_inference=False)
    assert got.index_to_key == ["night"]
    inferred = ft.vectors_for_all(["night", "blargh"])
    assert inferred.index_to_key == ["night", "blargh"] and isinstance(inferred, KeyedVectors)
    np.testing.assert_array_equal(inferred["blargh"], ft["blargh"])


def test_index_answers_equal_the_scan_with_restrict_and_clips(tmp_path):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((17000, 256), dtype=np.float32)
    kv = KeyedVectors(256)
    kv.add_vectors([f"k{i}" for i in range(len(W))], W)
    plain = KeyedVectors(256)
    plain.add_vectors([f"k{i}" for i in range(len(W))], W)
    plain.auto_index = None
    for _ in range(2):
        kv.most_similar("k3")
    assert kv.table.index is not None
    for kw in (dict(restrict_vocab=5000), dict(restrict_vocab=10 ** 9), dict(clip_end=900), dict(topn=50),
               dict(negative=["k9"]), dict(positive=[("k1", 2.0), "k8"])):
        q = kw.pop("positive", "k3")
        assert kv.most_similar(q, **kw) == plain.most_similar(q, **kw), kw
