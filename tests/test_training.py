import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from fastembed.corpus import PLANTED_GROUPS, iter_file_sentences, planted_corpus
from fastembed.training import Word2Vec, sampling_tables


# ------------------------------------------------------------------ sparse gradients

@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("shape", [(0,), (1,), (7, 13), (64, 512)])
def test_backward_equals_add_at(rng, scale, shape, simd_level):
    t = EmbeddingTable.random(300, 24, seed=1)
    ids = rng.integers(0, 300, shape)
    g = rng.standard_normal(shape + (24,), dtype=np.float32)
    u, r = t.backward(ids, g, scale_grad_by_freq=scale)
    ru, rr = ref.backward(t.shape, ids, g, scale_grad_by_freq=scale)
    np.testing.assert_array_equal(u, ru)
    np.testing.assert_array_equal(r, rr)
    for nt in (1, 2, 3):
        np.testing.assert_array_equal(t.backward(ids, g, scale_grad_by_freq=scale, n_threads=nt)[1], r)


def test_backward_padding_and_dtypes(rng):
    t = EmbeddingTable.random(50, 4, seed=0, padding_idx=7)
    ids = np.array([[7, 1, 7, 49], [1, 1, 0, 7]], np.uint16)
    g = rng.standard_normal((2, 4, 4))  # float64 grads are accepted
    u, r = t.backward(ids, g)
    assert u.tolist() == [0, 1, 49]
    ru, rr = ref.backward(t.shape, ids, g.astype(np.float32), padding_idx=7)
    np.testing.assert_array_equal(r, rr)
    with pytest.raises(ValueError, match=r"grad_out has shape \(2, 4, 3\), expected \(2, 4, 4\)"):
        t.backward(ids, g[..., :3])
    with pytest.raises(IndexError, match=r"id 50 at position \(1,\)"):
        t.backward([1, 50], np.zeros((2, 4)))
    with pytest.raises(TypeError, match="grad_out must be a float array"):
        t.backward([1], np.zeros((1, 4), int))


# ------------------------------------------------------------------ word2vec

@pytest.fixture(scope="module")
def planted():
    return planted_corpus(12000, seed=0)


def test_planted_relations_after_training(planted):
    w = Word2Vec(dim=16, min_count=1, epochs=5, progress=False, workers=2, seed=1)
    t = w.train(planted)
    assert set(t.vocab.keys) >= set(PLANTED_GROUPS)
    assert t.words.similarity("cat", "dog") > t.words.similarity("cat", "airplane")
    animals = {"dog", "kitten", "puppy", "hamster", "rabbit"}
    assert {k for k, _ in t.words.most_similar("cat", topn=3)} <= animals
    assert t.words.rank("cat", "dog") < t.words.rank("cat", "airplane")
    assert t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert t.words.analogy("man", "king", "woman", method="mul")[0][0] == "queen"
    losses = [h["loss"] for h in w.history]
    assert len(losses) == 5 and losses[-1] < losses[0]
    h = w.history[-1]
    assert h["effective_words"] < h["raw_words"] and h["words_per_sec"] > 0  # subsampling dropped words
    assert t.vocab.counts[0] >= t.vocab.counts[-1]  # frequency-sorted


def test_reproducible_with_one_worker(planted):
    a = fe.train_word2vec(planted[:3000], dim=8, min_count=1, epochs=2, workers=1, seed=7, progress=False)
    b = fe.train_word2vec(planted[:3000], dim=8, min_count=1, epochs=2, workers=1, seed=7, progress=False)
    c = fe.train_word2vec(planted[:3000], dim=8, min_count=1, epochs=2, workers=1, seed=8, progress=False)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.vocab.keys == b.vocab.keys
    assert not np.array_equal(a.weights, c.weights)


def test_corpus_file_streamed_and_callbacks(planted, tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(" ".join(s) for s in planted[:3000]) + "\n", encoding="utf-8")
    seen = []
    t = fe.train_word2vec(str(p), dim=8, min_count=1, epochs=2, workers=1, seed=3, progress=False,
                          callbacks=[seen.append])
    assert [s["epoch"] for s in seen] == [1, 2] and "loss" in seen[0]
    mem = fe.train_word2vec(planted[:3000], dim=8, min_count=1, epochs=2, workers=1, seed=3, progress=False)
    np.testing.assert_array_equal(t.weights, mem.weights)  # a file and the same lists: same vectors
    gz = tmp_path / "corpus.txt.gz"
    import gzip
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert len(fe.train_word2vec(gz, dim=4, min_count=1, epochs=1, progress=False)) == len(t)


def test_min_count_max_vocab(planted):
    t = fe.train_word2vec(planted[:2000], dim=4, min_count=1, epochs=1, max_vocab=10, progress=False)
    assert len(t) == 10
    counts = t.vocab.counts
    assert (np.diff(counts) <= 0).all()


def test_training_errors(tmp_path):
    with pytest.raises(ValueError, match="the corpus has no words"):
        fe.train_word2vec([[]], progress=False)
    with pytest.raises(ValueError, match=r"no word occurs at least min_count=5 times \(the most frequent, 'a', "
                                         r"occurs 2 times\): lower min_count"):
        fe.train_word2vec([["a", "b", "a"]], progress=False)
    with pytest.raises(TypeError, match="must be re-iterable"):
        fe.train_word2vec((s for s in [["a", "b"]]), progress=False)
    with pytest.raises(TypeError, match="sentence 0 is a str"):
        fe.train_word2vec(["a b c"], min_count=1, progress=False)
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"ok line\n\xff\xfe\x00\x01garbage\n")
    with pytest.raises(ValueError, match=r"data.bin, line 2: not valid utf-8 text"):
        fe.train_word2vec(binary, progress=False)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"a b\x00c\n")
    with pytest.raises(ValueError, match=r"nul.txt, line 1: contains NUL bytes"):
        list(iter_file_sentences(nul))
    with pytest.raises(FileNotFoundError, match="no such corpus file"):
        fe.train_word2vec(str(tmp_path / "missing.txt"), progress=False)
    with pytest.raises(ValueError, match="dim must be at least 1, got 0"):
        fe.train_word2vec([["a"]], dim=0, progress=False)
    with pytest.raises(ValueError, match="alpha must be > 0.0, got -1"):
        fe.train_word2vec([["a"]], alpha=-1, progress=False)
    # issue 19: values that used to be accepted silently
    with pytest.raises(ValueError, match="alpha must be finite, got inf"):
        fe.train_word2vec([["a"]], alpha=float("inf"), progress=False)
    with pytest.raises(ValueError, match="sample must be finite, got nan"):
        fe.train_word2vec([["a"]], sample=float("nan"), progress=False)
    with pytest.raises(ValueError, match="min_alpha must be <= 0.025"):
        fe.train_word2vec([["a"]], min_alpha=0.5, progress=False)
    with pytest.raises(TypeError, match="dim must be an int, got 2.5"):
        fe.train_word2vec([["a"]], dim=2.5, progress=False)
    with pytest.raises(ValueError, match=r"seed must be at most 9223372036854775807, got 18446744073709551616"):
        fe.train_word2vec([["a"]], seed=2 ** 64, progress=False)
    t = fe.train_word2vec([["a", "b"]] * 5, seed=2 ** 40, min_count=1, dim=4, epochs=1, progress=False)
    assert len(t) == 2


def test_long_lines_are_split(tmp_path):
    p = tmp_path / "long.txt"
    p.write_text(" ".join(["w%d" % (i % 7) for i in range(25000)]))
    sents = list(iter_file_sentences(p))
    assert [len(s) for s in sents] == [10000, 10000, 5000]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), n=st.integers(1, 60))
def test_hypothesis_backward(seed, n):
    rng = np.random.default_rng(seed)
    t = EmbeddingTable.random(10, 3, seed=seed)
    ids = rng.integers(0, 10, n)
    g = rng.standard_normal((n, 3), dtype=np.float32)
    u, r = t.backward(ids, g)
    ru, rr = ref.backward(t.shape, ids, g)
    np.testing.assert_array_equal(r, rr)


@pytest.mark.parametrize("D", [1, 19, 32])
@pytest.mark.parametrize("mode", ["sg", "cbow_mean", "cbow_sum", "sg_fixed_window", "cbow_fixed_window"])
def test_w2v_kernel_equals_reference(D, mode, simd_level):
    from fastembed._kernels import _train
    from fastembed.training import exp_tables
    rng = np.random.default_rng(D)
    corpus = [[f"w{i}" for i in rng.integers(0, 20, rng.integers(2, 12))] for _ in range(30)]
    w = Word2Vec(dim=D, min_count=1, window=3, negative=3, sample=0.005, progress=False)
    vocab = w.build_vocab(corpus)
    keep, prob, alias = sampling_tables(vocab, w.sample, w.ns_exponent)
    exp_t, logsig_t = exp_tables()
    ids = [vocab.encode(s) for s in corpus]
    words = np.concatenate(ids).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in ids])]).astype(np.int64)
    assert words.max() == len(vocab) - 1  # the last id is trained too
    syn0 = rng.uniform(-0.5, 0.5, (len(vocab), D)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, (len(vocab), D)).astype(np.float32) * np.float32(3)  # |f| past 6 too
    s0, s1 = syn0.copy(), syn1.copy()
    sg, mean = mode.startswith("sg"), mode in ("cbow_mean", "cbow_fixed_window")
    shrink = not mode.endswith("fixed_window")
    kept, loss = _train.w2v_batch(syn0, syn1, words, starts, keep, prob, alias, 3, 3, 0.5, 0.1, 12345,
                                  exp_t, logsig_t, True, 1, sg, mean, shrink)
    rkept, rloss = ref.w2v_batch(s0, s1, words, starts, keep, prob, alias, 3, 3, 0.5, 0.1, 12345, exp_t, logsig_t,
                                 sg, mean, shrink)
    assert kept == rkept and 0 < kept < words.size
    assert loss == pytest.approx(rloss, rel=1e-12)
    np.testing.assert_array_equal(syn0, s0)
    np.testing.assert_array_equal(syn1, s1)


@pytest.mark.parametrize("sg", [1, 0])
def test_streams_do_not_depend_on_batches(planted, monkeypatch, sg):
    # each sentence's random stream is keyed by (seed, epoch, its number in the epoch): with a
    # constant learning rate, cutting the corpus into other batches gives the same bits (the
    # old batch-seed + sentence-index scheme gave sentence s of batch b+1 the stream of s+1 of b)
    import fastembed.training as tr

    def run(batch):
        monkeypatch.setattr(tr, "BATCH_WORDS", batch)
        return fe.train_word2vec(planted[:400], dim=8, min_count=1, epochs=2, alpha=0.02, min_alpha=0.02,
                                 workers=1, sg=sg, progress=False).weights
    np.testing.assert_array_equal(run(50), run(100000))
    assert tr.epoch_key(1, 0) != tr.epoch_key(1, 1) != tr.epoch_key(2, 0)


def test_initial_vectors_as_gensim(planted):
    w = Word2Vec(dim=10, min_count=1, seed=3, progress=False)
    w.build_vocab(planted[:100])
    V = len(w.vocab)
    rng = np.random.default_rng(3)
    expect = rng.random((V, 10), dtype=np.float32) * np.float32(2) - np.float32(1)
    np.testing.assert_array_equal(w.table.weights, expect / np.float32(10))
    assert not w.syn1neg.any()
    pytest.importorskip("gensim")
    from gensim.models.keyedvectors import prep_vectors
    np.testing.assert_array_equal(w.table.weights, prep_vectors((V, 10), seed=3))
    old = Word2Vec(dim=10, min_count=1, seed=3, init="word2vec.c", progress=False)
    old.build_vocab(planted[:100])
    assert np.abs(old.table.weights).max() <= 0.05 < np.abs(w.table.weights).max()


def test_set_vocab_starts_and_grows_the_model_on_a_given_vocabulary(planted):
    from fastembed.vocab import Vocabulary
    w = Word2Vec(dim=6, min_count=1, seed=4, progress=False)
    counted = Word2Vec(dim=6, min_count=1, seed=4, progress=False)
    vocab = counted.build_vocab(planted[:200])
    assert (counted.corpus_count, counted.corpus_total_words) == (200, sum(len(s) for s in planted[:200]))
    order = Vocabulary(vocab.keys[::-1], vocab.counts[::-1])  # the caller's order is kept
    w.set_vocab(order)
    assert w.vocab.keys == vocab.keys[::-1] and w.vocab.counts.tolist() == vocab.counts[::-1].tolist()
    np.testing.assert_array_equal(w.table.weights, counted.table.weights)  # the same draw, row by row
    assert not w.syn1neg.any() and w.corpus_count == 0
    w.syn1neg[:] = 1
    grown = Vocabulary(order.keys + ["zebra"], np.concatenate([order.counts, [3]]))
    before = np.array(w.table.weights)
    w.set_vocab(grown, update=True)
    np.testing.assert_array_equal(w.table.weights[:-1], before)
    assert w.syn1neg[:-1].all() and not w.syn1neg[-1].any() and w.vocab.keys[-1] == "zebra"
    w.set_vocab(order)  # afresh
    assert not w.syn1neg.any() and len(w.vocab) == len(order)
    with pytest.raises(ValueError, match=f"the new vocabulary must start with its {len(order)} keys in their order"):
        w.set_vocab(Vocabulary(["zebra"] + order.keys, np.ones(len(order) + 1, np.int64)), update=True)
    with pytest.raises(RuntimeError, match=r"set_vocab\(update=True\) needs a model with a vocabulary"):
        Word2Vec(progress=False).set_vocab(order, update=True)
    with pytest.raises(TypeError, match="vocab must be a fastembed Vocabulary with counts"):
        w.set_vocab(Vocabulary(["a"]))
    with pytest.raises(ValueError, match="count 0 of key 'b' must be >= 1"):
        w.set_vocab(Vocabulary(["a", "b"], [2, 0]))
    with pytest.raises(ValueError, match="the vocabulary is empty"):
        w.set_vocab(Vocabulary([], np.zeros(0, np.int64)))


def test_fixed_windows_train_every_pair_of_the_window(planted, tmp_path):
    # with shrink_windows=False no position's window is shrunk: each sentence trains more pairs, so
    # the summed loss of one epoch (loss per kept word times kept words) is larger
    runs = {}
    for shrink in (True, False):
        w = Word2Vec(dim=8, min_count=1, window=4, epochs=1, workers=1, sample=0, progress=False, shrink_windows=shrink)
        w.train(planted[:2000])
        runs[shrink] = w
    h = {k: v.history[0] for k, v in runs.items()}
    assert h[False]["loss"] > 1.3 * h[True]["loss"]  # per kept word: about (2w) / (w + 1) times the pairs
    runs[False].save(tmp_path / "m")
    assert Word2Vec.load(tmp_path / "m", progress=False).shrink_windows is False
    with pytest.raises(TypeError, match="shrink_windows"):
        Word2Vec(shrink_windows="no")


@pytest.mark.parametrize("e", [0.0, 0.75, 1.0, -0.5])
def test_ns_exponent_shapes_the_negative_distribution(planted, e, tmp_path):
    from fastembed._kernels import _train
    w = Word2Vec(dim=4, min_count=1, ns_exponent=e, progress=False)
    vocab = w.build_vocab(planted[:300])
    _, prob, alias = sampling_tables(vocab, w.sample, w.ns_exponent)
    p2, a2 = _train.alias_table(vocab.counts.astype(np.float64) ** e)
    np.testing.assert_array_equal(prob, p2)
    np.testing.assert_array_equal(alias, a2)
    w.train(planted[:300], epochs=1)
    w.save(tmp_path / "m")
    assert Word2Vec.load(tmp_path / "m", progress=False).ns_exponent == e
    with pytest.raises(ValueError, match="ns_exponent"):
        Word2Vec(ns_exponent=float("nan"))


def test_cbow_learns_planted_relations(planted):
    w = Word2Vec(dim=16, min_count=1, epochs=5, sg=0, progress=False, workers=2, seed=1)
    t = w.train(planted)
    assert {k for k, _ in t.words.most_similar("cat", topn=3)} <= {"dog", "kitten", "puppy", "hamster", "rabbit"}
    assert t.words.similarity("car", "truck") > t.words.similarity("car", "kitten")
    losses = [h["loss"] for h in w.history]
    assert losses[-1] < losses[0]
    summed = fe.train_word2vec(planted[:2000], dim=8, min_count=1, epochs=1, sg=0, cbow_mean=False, workers=1,
                               progress=False)
    mean = fe.train_word2vec(planted[:2000], dim=8, min_count=1, epochs=1, sg=0, workers=1, progress=False)
    assert not np.array_equal(summed.weights, mean.weights)


def _renamed(corpus, mapping):
    return [[mapping.get(w, w) for w in s] for s in corpus]


def test_continued_training_with_new_words(planted):
    w = Word2Vec(dim=16, min_count=1, epochs=5, progress=False, workers=2, seed=1)
    w.train(planted)
    cat_dog = w.wv.words.similarity("cat", "dog")
    V0 = len(w.vocab)
    # a second corpus where "lion" takes cat's contexts and "rocket" car's
    more = _renamed(planted_corpus(6000, seed=7), {"cat": "lion", "car": "rocket"})
    before = np.array(w.wv.weights)
    keys0 = list(w.vocab.keys)
    w.build_vocab(more, update=True)
    assert w.vocab.keys[:V0] == keys0
    assert sorted(w.vocab.keys[V0:]) == ["lion", "rocket"]
    np.testing.assert_array_equal(w.wv.weights[:V0], before)  # known words keep their vectors
    assert w.vocab.counts[w.vocab["dog"]] > w.vocab.counts[w.vocab["lion"]]  # counts were added
    epochs_before = w.epochs_trained
    w.train(more, epochs=3)
    t = w.wv
    animals = {"dog", "kitten", "puppy", "hamster", "rabbit", "cat"}
    vehicles = {"airplane", "truck", "train", "bus", "bicycle", "car"}
    assert {k for k, _ in t.words.most_similar("lion", topn=3)} <= animals
    assert {k for k, _ in t.words.most_similar("rocket", topn=3)} <= vehicles
    assert t.words.similarity("cat", "dog") > 0.5 * cat_dog  # the old words keep their relations
    assert w.epochs_trained == epochs_before + 3 and len(w.history) == 8
    assert w.history[-1]["alpha"] == pytest.approx(w.min_alpha)  # each call decays to min_alpha
    # without update=True new words are skipped
    w2 = Word2Vec(dim=8, min_count=1, epochs=1, progress=False, workers=1)
    w2.train(planted[:500])
    w2.train(more[:500], epochs=1)
    assert "lion" not in w2.vocab


def test_save_load_continue(planted, tmp_path):
    w = Word2Vec(dim=8, min_count=1, epochs=2, sg=0, progress=False, workers=1, seed=4)
    w.train(planted[:2000])
    path = tmp_path / "model"
    w.save(path)
    assert sorted(p.name for p in path.iterdir()) == ["counts.npy", "keys.txt", "meta.json", "syn1neg.npy",
                                                      "vectors.npy", "word2vec.json"]
    assert fe.load(path).vocab.keys == w.vocab.keys  # the directory is a native table too
    m = Word2Vec.load(path, workers=1, progress=False)
    np.testing.assert_array_equal(m.wv.weights, w.wv.weights)
    np.testing.assert_array_equal(m.syn1neg, w.syn1neg)
    np.testing.assert_array_equal(m.vocab.counts, w.vocab.counts)
    assert (m.sg, m.dim, m.seed, m.epochs_trained, m.history) == (0, 8, 4, 2, w.history)
    assert m.wv.writeable
    # continuing the loaded model gives the bits continuing the original does
    w.train(planted[2000:3000], epochs=1)
    m.train(planted[2000:3000], epochs=1)
    np.testing.assert_array_equal(m.wv.weights, w.wv.weights)
    # saving over a model replaces it whole; a failed save leaves the old one and no debris
    w.save(path)
    np.testing.assert_array_equal(Word2Vec.load(path).syn1neg, w.syn1neg)
    import fastembed.training as tr
    real = tr.np.save

    def boom(f, a, *args, **kw):
        if str(f).endswith("syn1neg.npy"):
            raise OSError("disk full")
        return real(f, a, *args, **kw)
    tr.np.save = boom
    try:
        with pytest.raises(OSError, match="disk full"):
            m.save(path)
    finally:
        tr.np.save = real
    from fastembed.io import wait_for_cleanup
    wait_for_cleanup()  # the directory the first save replaced is deleted on the worker pool
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    np.testing.assert_array_equal(Word2Vec.load(path).syn1neg, w.syn1neg)


def test_model_errors(planted, tmp_path):
    with pytest.raises(ValueError, match=r"init must be one of \('gensim', 'word2vec.c'\), got 'zeros'"):
        Word2Vec(init="zeros")
    with pytest.raises(ValueError, match="sg must be at most 1, got 2"):
        Word2Vec(sg=2)
    with pytest.raises(RuntimeError, match=r"build_vocab\(update=True\) needs a model with a vocabulary"):
        Word2Vec(progress=False).build_vocab(planted[:10], update=True)
    with pytest.raises(RuntimeError, match="nothing to save"):
        Word2Vec().save(tmp_path / "m")
    with pytest.raises(ValueError, match="not a saved Word2Vec model"):
        Word2Vec.load(tmp_path)
    w = Word2Vec(dim=4, min_count=1, epochs=1, progress=False, workers=1)
    w.train(planted[:50])
    w.save(tmp_path / "m")
    (tmp_path / "m" / "word2vec.json").write_text('{"format": "fastembed-word2vec", "version": 9}')
    with pytest.raises(ValueError, match="expected format 'fastembed-word2vec' version 1, got 'fastembed-word2vec' version 9"):
        Word2Vec.load(tmp_path / "m")
    w.save(tmp_path / "m")
    np.save(tmp_path / "m" / "syn1neg.npy", np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"syn1neg.npy: expected a float32 array of shape \(\d+, 4\), got float32 \(2, 4\)"):
        Word2Vec.load(tmp_path / "m")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        w.save(tmp_path / "f")
    with pytest.raises(ValueError, match="end_alpha must be <= 0.01"):
        w.train(planted[:50], start_alpha=0.01, end_alpha=0.5)


@pytest.mark.parametrize("sg", [1, 0])
def test_divergence_raises_without_bad_reads(sg):
    # issue 13: alpha=1e30 gave a NaN dot product and a wild sigmoid-table read (SIGSEGV)
    with pytest.raises(FloatingPointError, match=r"word2vec training diverged: \d+ dot products were NaN or "
                                                 r"infinite in this batch \(learning rate 1e\+30\); lower alpha"):
        fe.train_word2vec(planted_corpus(300), dim=8, min_count=1, epochs=1, alpha=1e30, workers=1, sg=sg,
                          progress=False)


def test_sigmoid_table_indexing():
    from fastembed._kernels import _train
    from fastembed.training import exp_tables
    exp_t, logsig_t = exp_tables()
    scale = np.float32(_train.EXP_TABLE_SIZE) / np.float32(2 * _train.MAX_EXP)
    f = np.linspace(-5.999, 5.999, 2001).astype(np.float32)
    idx = ((f + np.float32(6)) * scale).astype(np.int64)
    assert idx.max() < _train.EXP_TABLE_SIZE
    # just below MAX_EXP the float product rounds to SIZE: the kernel clamps it in integers
    edge = np.float32(5.9999995)
    assert int((edge + np.float32(6)) * scale) == _train.EXP_TABLE_SIZE
    step = 2 * _train.MAX_EXP / _train.EXP_TABLE_SIZE
    assert np.abs(exp_t[idx] - 1 / (1 + np.exp(-f))).max() <= 0.25 * step + 1e-6  # at most one grid step off
    assert np.abs(logsig_t[idx] - np.log(1 / (1 + np.exp(-f)))).max() <= step + 1e-6


def test_loader_equals_plain_python_reader(tmp_path):
    rng = np.random.default_rng(3)
    W = np.round(rng.standard_normal((500, 7)), 5).astype(np.float32)
    keys = [f"k{i}" for i in range(500)]
    for fmt in ("word2vec", "glove"):
        p = tmp_path / f"v.{fmt}"
        fe.save(EmbeddingTable(W, vocab=keys), p, format=fmt)
        rkeys, rW = ref.load_text(p)
        t = fe.load(p)
        assert t.vocab.keys == rkeys
        np.testing.assert_array_equal(t.weights, rW)
