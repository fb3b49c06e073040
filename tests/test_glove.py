import gzip

import numpy as np
import pytest

import fastembed as fe
from fastembed import reference as ref
from fastembed._kernels import _glove
from fastembed.corpus import planted_corpus
from fastembed.glove import Cooccurrence, GloVe

ANIMALS = {"dog", "kitten", "puppy", "hamster", "rabbit"}


def _random_corpus(rng, n_sent, vocab, max_len=15):
    return [[f"t{i}" for i in rng.integers(0, vocab, rng.integers(1, max_len))] for _ in range(n_sent)]


def _reference_counts(model, corpus):
    ids = [[model.vocab.get(w) for w in s] for s in corpus]
    ids = [[i for i in s if i is not None] for s in ids]
    return ref.glove_cooccurrence([s for s in ids if len(s) >= 2], model.window, model.symmetric,
                                  model.distance_weighting)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("weighting", [True, False])
def test_counts_equal_reference_one_thread(rng, symmetric, weighting):
    corpus = _random_corpus(rng, 300, 40)
    g = GloVe(window=4, min_count=2, symmetric=symmetric, distance_weighting=weighting, workers=1,
              progress=False)
    c = g.count(corpus)
    X = _reference_counts(g, corpus)
    keys = sorted(X)
    assert list(zip(c.rows.tolist(), c.cols.tolist())) == keys  # ascending (row, col)
    np.testing.assert_array_equal(c.values, [X[k] for k in keys])  # same sums in corpus order
    if symmetric:
        assert (c.rows <= c.cols).all()
        D = c.to_dense()
        np.testing.assert_array_equal(D, D.T)


@pytest.mark.parametrize("workers", [2, 3])
def test_counts_any_thread_count(rng, workers):
    corpus = _random_corpus(rng, 400, 30)
    one = GloVe(window=5, min_count=1, workers=1, progress=False).count(corpus)
    many = GloVe(window=5, min_count=1, workers=workers, progress=False).count(corpus)
    np.testing.assert_array_equal(many.rows, one.rows)
    np.testing.assert_array_equal(many.cols, one.cols)
    # partial sums of one key are added in another order: equal to float64 rounding
    np.testing.assert_allclose(many.values, one.values, rtol=4 * np.finfo(np.float64).eps * 10)


def test_counts_spill_runs_to_disk(rng, tmp_path):
    # a budget just above the minimum: the maps fill and are written out as sorted runs, merged at the end
    corpus = _random_corpus(rng, 6000, 3000, max_len=40)
    g = GloVe(window=2, min_count=1, workers=2, progress=False, tmpdir=str(tmp_path))
    g.build_vocab(corpus)
    small = 3 * 120000 * 16
    g2 = GloVe(window=2, min_count=1, workers=2, progress=False, tmpdir=str(tmp_path), memory=small)
    g2.build_vocab(corpus)
    counter = g2._count(corpus, "utf-8")
    try:
        assert len(counter.spilled) >= 2
        assert counter.peak_bytes <= small
    finally:
        counter.close()
    assert not list(tmp_path.iterdir())  # the runs are removed
    spilled = g2.count(corpus)
    X = _reference_counts(g2, corpus)
    keys = sorted(X)
    assert list(zip(spilled.rows.tolist(), spilled.cols.tolist())) == keys
    np.testing.assert_allclose(spilled.values, [X[k] for k in keys], rtol=1e-14)
    with pytest.raises(ValueError, match=r"memory=1000 bytes is too small to count with window 2 on 2 threads "
                                         r"\(sentences of up to 8192 words\): at least \d+ bytes"):
        GloVe(window=2, min_count=1, workers=2, progress=False, memory=1000).count(corpus)


def test_merge_and_sort_kernels(rng):
    runs = []
    for n in (0, 1, 50, 300):
        k = np.unique(rng.integers(0, 500, n).astype(np.uint64) << np.uint64(32) | rng.integers(0, 9, n).astype(np.uint64))
        v = rng.random(k.size)
        r = np.empty((k.size, 2), np.uint64)
        r[:, 0] = k
        r[:, 1] = v.view(np.uint64)
        runs.append(r)
    merger = _glove.Merger(runs)
    out, got = np.empty((17, 2), np.uint64), []
    while True:
        n = merger.fill(out)
        if not n:
            break
        got.append(out[:n].copy())
    got = np.concatenate(got)
    want = {}
    for r in runs:
        for key, val in zip(r[:, 0].tolist(), r[:, 1].view(np.float64).tolist()):
            want[key] = want.get(key, 0.0) + val
    assert got[:, 0].tolist() == sorted(want)
    np.testing.assert_array_equal(got[:, 1].view(np.float64), [want[k] for k in sorted(want)])
    # sort of a map: entries to the front in key order, the rest free
    m = np.full((64, 2), _glove.EMPTY, np.uint64)
    keys = rng.choice(2 ** 40, 30, replace=False).astype(np.uint64)
    m[rng.choice(64, 30, replace=False), 0] = keys
    assert _glove.map_sort(m, np.empty((30, 2), np.uint64)) == 30
    assert m[:30, 0].tolist() == sorted(keys.tolist()) and (m[30:, 0] == _glove.EMPTY).all()


def test_shuffle_equals_reference(rng):
    rec = rng.integers(-1000, 1000, (257, 4)).astype(np.int32)
    r2 = rec.copy()
    _glove.shuffle(rec, 99)
    ref.glove_shuffle(r2, 99)
    np.testing.assert_array_equal(rec, r2)
    pieces = r2.copy()
    ref.glove_shuffle(r2, 7)
    state = 7
    for k in range(256, 0, -50):  # in calls, as GloVe does for Ctrl-C: the same permutation
        state = _glove.shuffle(pieces, state, k, max(0, k - 50))
    np.testing.assert_array_equal(pieces, r2)
    assert sorted(map(tuple, rec.tolist())) == sorted(map(tuple, r2.tolist()))


@pytest.mark.parametrize("D", [1, 16, 19, 50])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("bias_eta", [0.05, 1.0])
def test_train_kernel_equals_reference(rng, D, symmetric, bias_eta, simd_level):
    V, n = 12, 200
    i, j = rng.integers(0, V, n), rng.integers(0, V, n)
    i[:3] = j[:3] = V - 1  # diagonal records and the last id
    x = rng.random(n) * 300 + 0.5
    rec = ref.glove_records(i, j, x, 100.0, 0.75)
    W = (rng.random((2 * V, D + 1), dtype=np.float32) - np.float32(0.5)) / np.float32(D)
    G = np.ones_like(W)
    W2, G2 = W.copy(), G.copy()
    for _ in range(3):
        c1 = _glove.train(W, G, rec, 0, n, 0.05, 100.0, symmetric, 1, bias_eta)
        c2 = ref.glove_epoch(W2, G2, rec, 0.05, 100.0, symmetric, bias_eta)
        assert c1 == c2
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(G, G2)
    assert _glove.train(W, G, rec, 5, 5, 0.05, 100.0, symmetric, 2, bias_eta) == (0.0, 0)


def test_train_same_bits_at_every_level(rng):
    # the pass at each SIMD level this CPU runs against the first level: the same bits (fixed-order dot)
    from fastembed._kernels import _simd
    levels = _simd.supported_levels()
    if len(levels) < 2:
        pytest.skip("skipped: one level on this CPU")
    V, D, n = 30, 37, 500
    rec = ref.glove_records(rng.integers(0, V, n), rng.integers(0, V, n), rng.random(n) * 50 + 0.5, 10.0, 0.75)
    W0 = (rng.random((2 * V, D + 1), dtype=np.float32) - np.float32(0.5)) / np.float32(D)
    out = {}
    previous = _simd.set_level(levels[0])
    try:
        for level in levels:
            _simd.set_level(level)
            W, G = W0.copy(), np.ones_like(W0)
            cost = [_glove.train(W, G, rec, 0, n, 0.05, 100.0, True, 1, 0.05) for _ in range(2)]
            out[level] = (W, G, cost)
    finally:
        _simd.set_level(previous)
    for level in levels[1:]:
        np.testing.assert_array_equal(out[level][0], out[levels[0]][0], err_msg=level)
        np.testing.assert_array_equal(out[level][1], out[levels[0]][1], err_msg=level)
        assert out[level][2] == out[levels[0]][2]


def test_bias_learning_rate(rng):
    corpus = planted_corpus(400, seed=2)
    kw = dict(dim=6, window=4, min_count=1, epochs=2, workers=1, seed=3, progress=False)
    a = GloVe(**kw).train(corpus)
    b = GloVe(**kw, bias_learning_rate=0.05).train(corpus)  # the default is learning_rate
    np.testing.assert_array_equal(a.weights, b.weights)
    g = GloVe(**kw, bias_learning_rate=1.0)
    c = g.train(corpus)
    assert not np.array_equal(a.weights, c.weights)
    assert "bias_learning_rate=1" in repr(g)
    with pytest.raises(ValueError, match="bias_learning_rate"):
        GloVe(bias_learning_rate=0.0)


def test_one_worker_equals_reference_trainer():
    corpus = planted_corpus(1500, seed=3)
    g = GloVe(dim=8, window=4, min_count=1, epochs=3, workers=1, seed=5, progress=False)
    t = g.train(corpus)
    # the same pipeline in numpy: reference counts, records, shuffle, initial values, epochs
    X = _reference_counts(g, corpus)
    keys = sorted(X)
    rec = ref.glove_records([k[0] for k in keys], [k[1] for k in keys], [X[k] for k in keys], 100.0, 0.75)
    from fastembed.glove import _mix
    ref.glove_shuffle(rec, _mix(5))
    V, D = len(g.vocab), 8
    rng = np.random.default_rng(5)
    W = (rng.random((2 * V, D + 1), dtype=np.float32) - np.float32(0.5)) / np.float32(D)
    G = np.ones_like(W)
    losses = []
    for _ in range(3):
        cost, skipped = ref.glove_epoch(W, G, rec, 0.05, 100.0, True)
        losses.append(cost / g.stats["pairs"])
    np.testing.assert_array_equal(t.weights, W[:V, :D] + W[V:, :D])
    assert [h["loss"] for h in g.history] == losses
    again = GloVe(dim=8, window=4, min_count=1, epochs=3, workers=1, seed=5, progress=False).train(corpus)
    np.testing.assert_array_equal(again.weights, t.weights)


def test_planted_relations():
    # the bench checks 9/9 seeds x dims; one model here
    c = planted_corpus(60000, seed=0)
    seen = []
    g = GloVe(dim=32, min_count=1, epochs=25, workers=2, seed=1, progress=False, callbacks=[seen.append])
    t = g.train(c)
    assert t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert {k for k, _ in t.words.most_similar("cat", topn=3)} <= ANIMALS
    losses = [h["loss"] for h in g.history]
    assert len(losses) == 25 and losses[-1] < 0.1 * losses[0]
    assert seen == g.history
    assert g.stats["nonzeros"] > 0 and g.stats["pairs"] <= 2 * g.stats["nonzeros"]
    assert g.word_vectors.shape == g.context_vectors.shape == (len(t), 32)
    np.testing.assert_array_equal(t.weights, g.word_vectors + g.context_vectors)
    w = GloVe(dim=4, min_count=1, epochs=1, workers=1, progress=False, vectors="word").train(c[:500])
    assert w.dim == 4


def test_file_corpus_and_fit(tmp_path):
    corpus = planted_corpus(800, seed=1)
    p = tmp_path / "c.txt.gz"
    p.write_bytes(gzip.compress(("\n".join(" ".join(s) for s in corpus) + "\n").encode()))
    a = fe.train_glove(str(p), dim=6, min_count=1, epochs=2, workers=1, progress=False)
    b = fe.train_glove(corpus, dim=6, min_count=1, epochs=2, workers=1, progress=False)
    np.testing.assert_array_equal(a.weights, b.weights)
    g = GloVe(dim=6, min_count=1, epochs=2, workers=1, progress=False)
    cooc = g.count(corpus)
    np.testing.assert_array_equal(GloVe(dim=6, min_count=1, epochs=2, workers=1, progress=False).fit(cooc).weights,
                                  a.weights)


def test_glove_errors():
    with pytest.raises(ValueError, match="window must be at most 1024, got 2000"):
        GloVe(window=2000)
    with pytest.raises(ValueError, match=r"vectors must be one of \('sum', 'word'\), got 'both'"):
        GloVe(vectors="both")
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got 0"):
        GloVe(learning_rate=0)
    with pytest.raises(ValueError, match="x_max must be finite, got nan"):
        GloVe(x_max=float("nan"))
    with pytest.raises(TypeError, match="symmetric must be True or False, got 1"):
        GloVe(symmetric=1)
    with pytest.raises(FileNotFoundError, match="tmpdir '/no/such/dir' is not a directory"):
        GloVe(tmpdir="/no/such/dir")
    with pytest.raises(ValueError, match="the corpus has no words"):
        fe.train_glove([[]], progress=False)
    with pytest.raises(ValueError, match=r"no word occurs at least min_count=5 times"):
        fe.train_glove([["a", "b"]], progress=False)
    with pytest.raises(ValueError, match="no two vocabulary words co-occur within the window"):
        fe.train_glove([["a"], ["b"]] * 3, min_count=1, progress=False)
    g = GloVe(min_count=1, progress=False)
    cooc = g.count([["a", "b", "c"]] * 2)
    with pytest.raises(ValueError, match="counted with symmetric=True, this model has symmetric=False"):
        GloVe(symmetric=False, progress=False).fit(cooc)
    bad = Cooccurrence(cooc.vocab, cooc.rows, cooc.cols + 5, cooc.values, True)
    with pytest.raises(IndexError, match="co-occurrence ids out of range for a vocabulary of 3 words"):
        GloVe(progress=False).fit(bad)
    with pytest.raises(ValueError, match="co-occurrence values must be positive"):
        GloVe(progress=False).fit(cooc._replace(values=-cooc.values))
    swapped = cooc._replace(rows=cooc.cols, cols=cooc.rows)
    with pytest.raises(ValueError, match="a symmetric Cooccurrence stores each pair once, with row <= col"):
        GloVe(progress=False).fit(swapped)
    with pytest.raises(TypeError, match="fit takes a Cooccurrence"):
        GloVe(progress=False).fit({})


def test_divergence_raises_without_bad_reads():
    # absurd learning rate: errors become non-finite, the pairs are skipped (no NaN written), and
    # the epoch ends with a clear error
    with pytest.raises(FloatingPointError, match=r"GloVe training diverged: \d+ of \d+ pairs had a non-finite "
                                                 r"error in epoch \d+ \(learning_rate=1e\+30\); lower learning_rate"):
        fe.train_glove(planted_corpus(300), dim=8, min_count=1, epochs=5, learning_rate=1e30, workers=1,
                       progress=False)
