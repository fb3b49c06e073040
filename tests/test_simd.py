"""SIMD levels: the run-time choice (API, FASTEMBED_SIMD, errors) and identical bits at every level."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastembed
from fastembed import EmbeddingTable, reference as ref, simd
from fastembed._dtypes import STORAGE
from fastembed._kernels import _gather, _simd, _topk, _train
from fastembed._validate import as_queries
from conftest import ONE_LEVEL, SIMD_LEVELS, needs_two_levels

# ------------------------------------------------------------------ choosing the level


def test_levels_api():
    compiled, supported = simd.compiled_levels(), simd.supported_levels()
    assert compiled[0] == "generic" and set(supported) <= set(compiled) and "generic" in supported
    assert simd.best_level() == supported[-1]
    assert simd.baseline_level() in supported
    if "sse2" in compiled:
        assert simd.baseline_level() == "sse2"
    previous = simd.get_level()
    try:
        for level in supported:
            assert simd.set_level(level) in compiled
            assert simd.get_level() == level
        simd.set_level("default")
        assert simd.get_level() == simd.baseline_level()
        simd.set_level(" BEST ")
        assert simd.get_level() == simd.best_level()
        with simd.using("generic") as active:
            assert active == "generic" == simd.get_level()
        assert simd.get_level() == simd.best_level()
    finally:
        simd.set_level(previous)


def test_unknown_and_unsupported_levels_are_errors():
    level = simd.get_level()
    with pytest.raises(ValueError, match=r"unknown SIMD level 'avx9': this build has generic"):
        simd.set_level("avx9")
    with pytest.raises(TypeError, match="SIMD level must be a str, got 2"):
        simd.set_level(2)
    assert simd.get_level() == level  # a failed switch changes nothing
    # a level compiled in that the CPU lacks (as on an AVX2-only Zen 3): never a silent fallback
    compiled = ("generic", "sse2", "avx2", "avx512")
    with pytest.raises(ValueError, match=r"SIMD level 'avx512' is not supported by this CPU; it supports "
                                         r"generic, sse2, avx2"):
        _simd.resolve_level("avx512", compiled, compiled[:3], "sse2")
    assert _simd.resolve_level("best", compiled, compiled[:3], "sse2") == "avx2"
    assert _simd.resolve_level("Default", compiled, compiled[:3], "sse2") == "sse2"
    with pytest.raises(ValueError, match=r"unknown SIMD level 'neon'.*this CPU supports generic, sse2$"):
        _simd.resolve_level("neon", compiled, compiled[:2], "sse2")


def _run(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


def test_environment_variable_chooses_the_level():
    r = _run("import fastembed.simd as s; print(s.get_level())", FASTEMBED_SIMD="default")
    assert r.returncode == 0 and r.stdout.strip() == simd.baseline_level(), r.stderr
    r = _run("import fastembed.simd as s; print(s.get_level())", FASTEMBED_SIMD=SIMD_LEVELS[0])
    assert r.stdout.strip() == SIMD_LEVELS[0], r.stderr
    r = _run("import fastembed", FASTEMBED_SIMD="avx9")
    assert r.returncode != 0
    assert "FASTEMBED_SIMD='avx9': unknown SIMD level 'avx9': this build has generic" in r.stderr


def test_show_config_reports_levels(capsys):
    info = fastembed.show_config()
    out = capsys.readouterr().out
    assert info["simd"] == simd.get_level()
    assert info["simd_compiled"].split() == list(simd.compiled_levels())
    assert info["simd_supported"].split() == list(simd.supported_levels())
    assert "simd_supported" in out and info["compiler"]


# ------------------------------------------------------------------ identical bits at every level


def _at_every_level(fn):
    """fn() at each supported level; the results (tuples of arrays / numbers)."""
    out = {}
    for level in SIMD_LEVELS:
        with simd.using(level):
            out[level] = fn()
    return out


def _assert_all_equal(results):
    """The results of every level are equal; a skip saying so when there is only one level (call it
    after the test's other checks, which still run)."""
    if len(results) < 2:
        pytest.skip(ONE_LEVEL)
    levels = list(results)
    first = results[levels[0]]
    for level in levels[1:]:
        for a, b in zip(first, results[level]):
            np.testing.assert_array_equal(a, b, err_msg=f"{levels[0]} vs {level}")


def test_the_level_comparison_compares_and_says_when_there_is_one_level():
    with pytest.raises(pytest.skip.Exception, match="one SIMD level on this CPU"):
        _assert_all_equal({"generic": (np.zeros(2),)})
    with pytest.raises(AssertionError, match="generic vs avx2"):
        _assert_all_equal({"generic": (np.zeros(2),), "avx2": (np.ones(2),)})
    _assert_all_equal({"generic": (np.zeros(2), 3), "avx2": (np.zeros(2), 3)})


@pytest.mark.parametrize("D", [1, 13, 16, 37, 100, 300])
def test_rows_norms_and_scans_identical_bits_across_levels(rng, D):
    V = 1037
    W = rng.standard_normal((V, D), dtype=np.float32) * rng.uniform(0.1, 3, (V, 1)).astype(np.float32)
    W[7] = 0
    W[8] = W[9]  # an exact tie
    pos = rng.standard_normal((64, D), dtype=np.float32)
    types = rng.standard_normal((2, D), dtype=np.float32)
    ids = rng.integers(0, V, 300)
    pidx = rng.integers(0, 64, 300)
    tidx = rng.integers(0, 2, 300)
    q, _ = as_queries(rng.standard_normal((5, D)), D, True)

    def run():
        res = []
        for stream in (False, True):
            out = np.empty((300, D), np.float32)
            _gather.gather(W, ids, out, 2, stream)
            res.append(out)
            out = np.empty((300, D), np.float32)
            _gather.embed(W, 0, None, ids, pos, pidx, 27.7, types, tidx, out, 2, stream)
            res.append(out)
        inv = np.empty(V, np.float32)
        nrm = np.empty(V, np.float32)
        _topk.row_norms(W, 0, None, inv, 2, True)
        _topk.row_norms(W, 0, None, nrm, 2, False)
        res += [inv, nrm]
        for nq in (1, 3, 5):
            s = np.empty((nq, 10), np.float32)
            i = np.empty((nq, 10), np.int64)
            _topk.scan(W, 0, None, inv, q[:nq], 0, V, None, None, None, s, i, 2)
            res += [s, i]
        return res

    results = _at_every_level(run)
    # equal to the numpy reference's fixed orders (at the best level), then every level to the others
    res = results[SIMD_LEVELS[-1]]
    np.testing.assert_array_equal(res[0], W[ids])
    np.testing.assert_array_equal(res[1], (W[ids] * np.float32(27.7) + pos[pidx]) + types[tidx])
    np.testing.assert_array_equal(res[4], ref.inv_norms(W))
    np.testing.assert_array_equal(res[5], ref.row_norms(W))
    inv = res[4]
    for nq, (s, i) in zip((1, 3, 5), zip(res[6::2], res[7::2])):
        for j in range(nq):
            want = [ref._dot16(W[r], q[j]) * inv[r] for r in i[j]]
            np.testing.assert_array_equal(s[j], np.array(want, np.float32))
    _assert_all_equal(results)


def test_learning_kernels_identical_bits_across_levels(rng):
    from fastembed.training import Word2Vec, exp_tables, sampling_tables
    D = 37
    corpus = [[f"w{i}" for i in rng.integers(0, 30, rng.integers(2, 15))] for _ in range(40)]
    w = Word2Vec(dim=D, min_count=1, window=3, negative=4, sample=0.01, progress=False)
    vocab = w.build_vocab(corpus)
    keep, prob, alias = sampling_tables(vocab, w.sample, w.ns_exponent)
    exp_t, logsig_t = exp_tables()
    sent = [vocab.encode(s) for s in corpus]
    words = np.concatenate(sent).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum([len(s) for s in sent])]).astype(np.int64)
    syn0 = rng.uniform(-0.5, 0.5, (len(vocab), D)).astype(np.float32)
    syn1 = rng.uniform(-2, 2, (len(vocab), D)).astype(np.float32)
    grad = rng.standard_normal((500, D), dtype=np.float32)
    gids = rng.integers(0, 60, 500)

    def run():
        s0, s1 = syn0.copy(), syn1.copy()
        kept, loss = _train.w2v_batch(s0, s1, words, starts, keep, prob, alias, 3, 4, 0.5, 0.1, 99, exp_t, logsig_t,
                                      True, 1)
        t = EmbeddingTable(np.zeros((60, D), np.float32))
        u1, r1 = t.backward(gids, grad, n_threads=2)
        u2, r2 = t.backward(gids, grad, scale_grad_by_freq=True, n_threads=2)
        from fastembed.optim import Adagrad
        Adagrad(t, lr=0.3).step(u1, r1)
        return s0, s1, np.array([kept, loss]), r1, r2, t.weights

    results = _at_every_level(run)
    s0, s1 = syn0.copy(), syn1.copy()
    ref.w2v_batch(s0, s1, words, starts, keep, prob, alias, 3, 4, 0.5, 0.1, 99, exp_t, logsig_t)
    np.testing.assert_array_equal(results[SIMD_LEVELS[0]][0], s0)
    np.testing.assert_array_equal(results[SIMD_LEVELS[0]][1], s1)
    _assert_all_equal(results)


def test_norms_equal_reference_bit_for_bit(rng, simd_level):
    for D in (0, 1, 15, 17, 300):
        W = rng.standard_normal((50, D), dtype=np.float32) * np.float32(1e3)
        t = EmbeddingTable(W)
        np.testing.assert_array_equal(t.norms(), ref.row_norms(W))
        np.testing.assert_array_equal(t.inv_norms(), ref.inv_norms(W))


def test_topk_scan_and_gemm_paths_at_every_level(rng, simd_level):
    W = rng.standard_normal((3001, 100), dtype=np.float32)
    t = EmbeddingTable(W)
    for Q in (1, 2, 7, 15):
        q = rng.standard_normal((Q, 100))
        for strategy in ("scan", "gemm"):
            s, i = t.topk(q, 10, strategy=strategy)
            rs, ri = ref.topk(W, q, 10)
            from fastembed.testing import assert_topk_equivalent
            assert_topk_equivalent(s, i, rs, ri, tol=1e-5)


@needs_two_levels
@pytest.mark.parametrize("dtype", list(STORAGE))
@pytest.mark.parametrize("D", [3, 37, 300])
def test_bags_identical_bits_across_levels(rng, dtype, D):
    """Pooling runs through the one dispatch table (csrc/impl/pool.h), so FASTEMBED_SIMD reaches it:
    every level gives the bits of every other, for every storage kind."""
    t = EmbeddingTable(rng.standard_normal((211, D), dtype=np.float32), dtype=dtype)
    ids = rng.integers(0, 211, (17, 23))
    psw = rng.standard_normal((17, 23)).astype(np.float32)
    g = rng.standard_normal((17, D)).astype(np.float32)

    def run():
        res = [t.pool.bag(ids, mode=m, n_threads=2) for m in ("sum", "mean", "max")]
        res.append(t.pool.bag(ids, mode="sum", per_sample_weights=psw))
        for m in ("sum", "mean", "max"):
            res.extend(t.pool.bag_backward(ids, None, g, m, n_threads=2))
        return res

    _assert_all_equal(_at_every_level(run))
