"""fastText training: the kernel against fastembed.reference (bit for bit, every SIMD level), the
n-gram rows against the reader's hashing, thread counts, and the saved ``.bin`` read back by
fastembed, gensim's ``load_facebook_model`` (bit-equal vectors, unseen words included) and
Facebook's ``fasttext`` (when built in /work/ftvenv or importable; skipped otherwise).

Tolerances: fastembed and gensim add a word's rows in the same order and divide once, so they are
compared bit for bit; fastText multiplies by (float)(1.0 / n) instead of dividing, at most one
rounding apart, so against it the bound is 2 float32 ulps of the vector's largest value.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastembed as fe
from fastembed import reference as ref
from fastembed._kernels import _train
from fastembed.corpus import _CONTEXTS, planted_corpus
from fastembed.io import _registry
from fastembed.io.fasttext import FastTextVectors
from fastembed.training import exp_tables, sampling_tables

FT_PYTHON = os.environ.get("FASTEMBED_FASTTEXT_PYTHON", "/work/ftvenv/bin/python")
WORDS = ["cat", "queen", "kingdomx", "zzq", "ö", "catlike", "a"]


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus(3000, seed=0)


def _batch_inputs(model, corpus, D, rng):
    vocab = model.build_vocab(corpus)
    keep, prob, alias = sampling_tables(vocab, model.sample, model.ns_exponent)
    ids = [vocab.encode(s) for s in corpus]
    words = np.concatenate(ids).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in ids])]).astype(np.int64)
    syn0 = rng.uniform(-0.5, 0.5, model.input_rows.shape).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, model.syn1neg.shape).astype(np.float32) * np.float32(3)  # |f| past 6 too
    return words, starts, keep, prob, alias, syn0, syn1


@pytest.mark.parametrize("D", [1, 19, 32])
@pytest.mark.parametrize("mode", ["sg", "sg_per_position", "cbow", "sg_fixed_window", "no_ngrams"])
def test_ft_kernel_equals_reference(D, mode, simd_level):
    rng = np.random.default_rng(D)
    corpus = [[f"w{i}" for i in rng.integers(0, 20, rng.integers(2, 12))] for _ in range(30)]
    m = fe.FastText(dim=D, min_count=1, window=3, negative=3, sample=0.005, bucket=0 if mode == "no_ngrams" else 37,
                    minn=2, maxn=4, sg=0 if mode == "cbow" else 1, progress=False)
    words, starts, keep, prob, alias, syn0, syn1 = _batch_inputs(m, corpus, D, rng)
    assert words.max() == len(m.vocab) - 1
    s0, s1 = syn0.copy(), syn1.copy()
    exp_t, logsig_t = exp_tables()
    sg, per_pair, shrink = mode != "cbow", mode != "sg_per_position", mode != "sg_fixed_window"
    kept, loss = _train.ft_batch(syn0, syn1, m._sub_starts, m._sub_rows, words, starts, keep, prob, alias, 3, 3,
                                 0.5, 0.1, 12345, exp_t, logsig_t, True, 1, sg, per_pair, shrink)
    rkept, rloss = ref.fasttext_batch(s0, s1, m._sub_starts, m._sub_rows, words, starts, keep, prob, alias, 3, 3,
                                      0.5, 0.1, 12345, exp_t, logsig_t, sg, per_pair, shrink)
    assert kept == rkept and 0 < kept < words.size
    assert loss == pytest.approx(rloss, rel=1e-12)
    np.testing.assert_array_equal(syn0, s0)
    np.testing.assert_array_equal(syn1, s1)
    if mode != "no_ngrams":
        assert not np.array_equal(syn0[len(m.vocab):], m.input_rows[len(m.vocab):])  # the n-gram rows learned


def test_input_rows_are_the_readers_ngrams(corpus):
    """Each word's input rows: its own row, then V + the bucket of each n-gram in fastText's order
    (the hashing of fastembed.io's reader, which is gensim's bit for bit)."""
    m = fe.FastText(dim=4, min_count=1, bucket=1000, minn=2, maxn=5, progress=False)
    vocab = m.build_vocab(corpus[:200] + [["naïve", "日本語", "</s>"]])
    V = len(vocab)
    wv = m.wv
    for i, w in enumerate(vocab.keys):
        rows = m._sub_rows[m._sub_starts[i]: m._sub_starts[i + 1]]
        assert rows[0] == i
        expect = ref.fasttext_ngram_ids(w.encode(), 2, 5, 1000, skip_eos=True)
        np.testing.assert_array_equal(rows[1:] - V, expect)
        np.testing.assert_array_equal(rows[1:] - V, wv.ngram_ids(w))
    # the word vectors are fastText's getWordVector of the initial rows (the reader's kernel)
    np.testing.assert_array_equal(
        m.table.weights, ref.fasttext_vectors(m.input_rows[:V], None, m.input_rows[V:],
                                              [k.encode() for k in vocab.keys], 2, 5))


@pytest.mark.parametrize("init", ["gensim", "word2vec.c"])
@pytest.mark.parametrize("n,D", [(1, 1), (5000, 3), (70000, 7), (3, 100)])
def test_blockwise_initial_rows_equal_word2vecs(n, D, init):
    from fastembed.fasttext import _draw_rows
    from fastembed.training import _initial_vectors
    np.testing.assert_array_equal(_draw_rows(n, D, 7, init), _initial_vectors(n, D, 7, init))


def test_training_is_reproducible_and_thread_invariant_in_shape(corpus):
    kw = dict(dim=12, min_count=1, bucket=500, epochs=2, seed=5, progress=False)
    a = fe.FastText(workers=1, **kw)
    a.train(corpus)
    b = fe.FastText(n_threads=1, **kw)
    b.train(corpus)
    np.testing.assert_array_equal(a.input_rows, b.input_rows)
    np.testing.assert_array_equal(a.table.weights, b.table.weights)
    c = fe.FastText(n_threads=2, **kw)
    c.train(corpus)
    assert np.isfinite(c.input_rows).all() and c.table.shape == a.table.shape
    assert [h["epoch"] for h in c.history] == [1, 2] and c.history[-1]["alpha"] == 0.0
    assert c.history[-1]["loss"] < c.history[0]["loss"]


@pytest.mark.parametrize("sg", [1, 0])
def test_fasttext_learns_the_planted_groups(sg):
    corpus = planted_corpus(20000, seed=0)
    wv = fe.train_fasttext(corpus, dim=32, min_count=1, bucket=20000, epochs=5, sg=sg, workers=1, seed=1,
                           progress=False)
    # the pet group: the other animals and their context words (skip-gram ranks the contexts first)
    pets = {"dog", "kitten", "puppy", "hamster", "rabbit"} | set(_CONTEXTS["pet"])
    near = [k for k, _ in wv.table.words.most_similar("cat", topn=5)]
    assert set(near) <= pets, near
    # an unseen word sharing n-grams with "kitten" lands near it
    assert wv.similarity("kittens", "kitten") > wv.similarity("kittens", "queen")


def test_bin_round_trip_fastembed_and_gensim(corpus, tmp_path):
    m = fe.FastText(dim=16, min_count=1, bucket=1000, epochs=2, workers=2, progress=False)
    m.train(corpus)
    p = tmp_path / "m.bin"
    m.save(p)
    v = fe.load_fasttext(p)
    assert isinstance(v, FastTextVectors) and v.args.bucket == 1000 and (v.minn, v.maxn) == (3, 6)
    assert v.args.model == 2 and v.args.loss == 2 and v.args.t == pytest.approx(1e-4)
    np.testing.assert_array_equal(v.table.weights, m.table.weights)
    assert v.table.vocab.keys == m.vocab.keys and v.table.vocab.counts.tolist() == m.vocab.counts.tolist()
    np.testing.assert_array_equal(v.vectors(WORDS), m.wv.vectors(WORDS))
    np.testing.assert_array_equal(fe.load(p).weights, m.table.weights)
    pytest.importorskip("gensim")
    from gensim.models.fasttext import load_facebook_model
    g = load_facebook_model(str(p))
    np.testing.assert_array_equal(np.stack([g.wv[w] for w in WORDS]), v.vectors(WORDS))
    np.testing.assert_array_equal(g.wv.vectors_ngrams, m.input_rows[len(m.vocab):])
    np.testing.assert_array_equal(g.syn1neg, m.syn1neg)


_FT_CHILD = r"""
import sys, numpy as np, fasttext
m = fasttext.load_model(sys.argv[1])
words = sys.argv[3].split(",")
np.save(sys.argv[2], np.stack([m.get_word_vector(w) for w in words]))
print(len(m.words), m.get_dimension())
"""


def _facebook_python():
    try:
        import fasttext  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    if os.path.exists(FT_PYTHON) and subprocess.run([FT_PYTHON, "-c", "import fasttext"],
                                                    capture_output=True).returncode == 0:
        return FT_PYTHON
    pytest.skip(f"Facebook's fasttext is not importable here nor in {FT_PYTHON} (FASTEMBED_FASTTEXT_PYTHON)")


def test_bin_round_trip_facebook_fasttext(corpus, tmp_path):
    py = _facebook_python()
    m = fe.FastText(dim=16, min_count=1, bucket=1000, epochs=1, sg=0, progress=False)
    m.train(corpus)
    p = tmp_path / "m.bin"
    m.save(p)
    out = tmp_path / "v.npy"
    r = subprocess.run([py, "-c", _FT_CHILD, str(p), str(out), ",".join(WORDS)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(len(m.vocab)), "16"]
    theirs, ours = np.load(out), m.wv.vectors(WORDS)
    bound = 2 * np.spacing(np.abs(ours).max(axis=1, keepdims=True))
    assert (np.abs(theirs - ours) <= bound).all()


def test_vec_and_registry_writer(corpus, tmp_path):
    m = fe.FastText(dim=8, min_count=1, bucket=100, epochs=1, progress=False)
    t = m.train(corpus[:300])
    m.save_vec(tmp_path / "m.vec")
    back = fe.load(tmp_path / "m.vec")
    np.testing.assert_array_equal(back.weights, t.weights)
    assert back.vocab.keys == t.vocab.keys
    # any table saves as a .bin without n-grams and reads back bit for bit
    assert "fasttext-bin" in _registry.SAVE_FORMATS and fe.io.check_save_format("fasttext-bin") == "fasttext-bin"
    fe.save(t, tmp_path / "t.bin", format="fasttext-bin")
    v = fe.load_fasttext(tmp_path / "t.bin")
    np.testing.assert_array_equal(v.table.weights, t.weights)
    assert v.bucket == 0 and v.table.vocab.counts.tolist() == t.vocab.counts.tolist()
    assert fe.io.detect_format(tmp_path / "t.bin") == "fasttext-bin"
    bad = fe.EmbeddingTable(np.zeros((2, 3), np.float32), vocab=fe.Vocabulary(["a b", "c"]))
    with pytest.raises(ValueError, match="key 'a b' at row 0 cannot be written in format 'fasttext-bin'"):
        fe.save(bad, tmp_path / "bad.bin", format="fasttext-bin")
    assert not (tmp_path / "bad.bin").exists()


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="minn must be between 1 and maxn=3"):
        fe.FastText(minn=4, maxn=3)
    with pytest.raises(ValueError, match="minn must be between 1 and maxn=6"):
        fe.FastText(minn=0)
    fe.FastText(minn=0, maxn=0)  # no n-grams
    with pytest.raises(ValueError, match="bucket must be at least 0, got -1"):
        fe.FastText(bucket=-1)
    with pytest.raises(ValueError, match="word_ngrams must be at least 1, got 0"):
        fe.FastText(word_ngrams=0)
    with pytest.raises(TypeError, match="give workers or n_threads, not both"):
        fe.FastText(workers=1, n_threads=2)
    m = fe.FastText(dim=4, min_count=1, bucket=10, progress=False)
    m.build_vocab([["a", "b"]])
    with pytest.raises(NotImplementedError, match="cannot grow the vocabulary"):
        m.build_vocab([["c"]], update=True)
    with pytest.raises(RuntimeError, match="nothing to save"):
        fe.FastText().save("x.bin")
    with pytest.raises(NotImplementedError, match="load_fasttext"):
        fe.FastText.load("x.bin")


def test_memmapped_read_only_model_is_not_written(corpus, tmp_path):
    m = fe.FastText(dim=8, min_count=1, bucket=100, epochs=1, progress=False)
    m.train(corpus[:200])
    m.save(tmp_path / "m.bin")
    before = (tmp_path / "m.bin").read_bytes()
    v = fe.load_fasttext(tmp_path / "m.bin")
    v.vectors(WORDS)
    assert (tmp_path / "m.bin").read_bytes() == before
