"""C-side robustness (issues 13 and 19): table indexing in word2vec, diverging training, scratch
allocation failures, unaligned memory, zero-width tables and Ctrl-C in long kernels.

Some of these fail before their fix only under a checking build: the misaligned loads only under
UndefinedBehaviorSanitizer, the zero-width table only with Cython's bounds checks (tools/sanitize.sh
runs the suite with both)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, reference as ref
from fastembed._kernels import _train
from fastembed.training import exp_tables
from _children import finish, sigint_default

# ------------------------------------------------------------------ word2vec sigmoid tables


def _guarded_tables():
    """The sigmoid tables as views of arrays with a NaN entry past their end: a read one past the
    table (index SIZE) poisons the model instead of reading unrelated memory."""
    exp_t, logsig_t = exp_tables()
    out = []
    for t in (exp_t, logsig_t):
        big = np.full(t.size + 1, np.nan, np.float32)
        big[:-1] = t
        out.append(big[:-1])
    return out


def _one_pair_model(f, D=3):
    """Two words whose only (context, target) dot products are exactly f."""
    syn0 = np.zeros((2, D), np.float32)
    syn1 = np.zeros((2, D), np.float32)
    syn0[:, 0] = f
    syn1[:, 0] = 1
    words = np.array([0, 1], np.int32)
    starts = np.array([0, 2], np.int64)
    prob = np.full(2, 0xFFFFFFFF, np.uint32)
    alias = np.arange(2, dtype=np.int32)
    return syn0, syn1, words, starts, prob, alias


@pytest.mark.parametrize("f", [np.nextafter(np.float32(6), np.float32(0)), np.float32(5.9999), np.float32(-5.9999995)])
def test_sigmoid_index_stays_in_the_table(f, simd_level):
    # (5.9999995 + 6) * (1000 / 12) rounds to 1000.0 in float32: one past the 1000-entry tables
    exp_t, logsig_t = _guarded_tables()
    syn0, syn1, words, starts, prob, alias = _one_pair_model(f)
    s0, s1 = syn0.copy(), syn1.copy()
    kept, loss = _train.w2v_batch(syn0, syn1, words, starts, None, prob, alias, 1, 0, 0.025, 0.025, 1,
                                  exp_t, logsig_t, True, 1)
    assert kept == 2 and np.isfinite(loss) and np.isfinite(syn0).all() and np.isfinite(syn1).all()
    rkept, rloss = ref.w2v_batch(s0, s1, words, starts, None, prob, alias, 1, 0, 0.025, 0.025, 1, exp_t, logsig_t)
    np.testing.assert_array_equal(syn0, s0)
    np.testing.assert_array_equal(syn1, s1)
    assert loss == pytest.approx(rloss, rel=1e-12)


def test_non_finite_dot_products_raise_and_never_index_the_tables(simd_level):
    exp_t, logsig_t = _guarded_tables()
    for bad in (np.nan, np.inf, -np.inf):
        syn0, syn1, words, starts, prob, alias = _one_pair_model(np.float32(bad))
        s0, s1 = syn0.copy(), syn1.copy()
        with pytest.raises(FloatingPointError, match=r"word2vec training diverged: 2 dot products were NaN "
                                                     r"or infinite in this batch \(learning rate 0.025\)"):
            _train.w2v_batch(syn0, syn1, words, starts, None, prob, alias, 1, 0, 0.025, 0.025, 1, exp_t, logsig_t,
                             True, 1)
        with pytest.raises(FloatingPointError, match="word2vec training diverged: 2 dot products"):
            with np.errstate(all="ignore"):
                ref.w2v_batch(s0, s1, words, starts, None, prob, alias, 1, 0, 0.025, 0.025, 1, exp_t, logsig_t)
        np.testing.assert_array_equal(syn0, s0)  # NaN pairs skipped, infinities saturated: same bits
        np.testing.assert_array_equal(syn1, s1)


def test_diverging_training_stops_with_a_clear_error():
    # issue 13: this crashed with SIGSEGV (a NaN dot product became table index INT_MIN)
    code = ("import fastembed as fe\n"
            "fe.train_word2vec(fe.corpus.planted_corpus(300), dim=8, min_count=1, epochs=1, alpha=1e30, "
            "workers=1, progress=False)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "FloatingPointError: word2vec training diverged" in r.stderr and "lower alpha" in r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")
def test_w2v_scratch_allocation_failure_is_a_memory_error():
    # issue 13: each thread malloc'ed its scratch inside the OpenMP region and never checked it
    code = textwrap.dedent("""
        import resource, numpy as np
        from fastembed._kernels import _train
        from fastembed.training import exp_tables
        exp_t, logsig_t = exp_tables()
        n = 40_000_000                      # one sentence: 160 MB of words, 160 MB of scratch
        words = np.zeros(n, np.int32)
        words[0] = 1                        # word 1 is kept (and written to the scratch), word 0 dropped
        starts = np.array([0, n], np.int64)
        keep = np.array([0, 0xFFFFFFFF], np.uint32)
        prob, alias = np.full(2, 0xFFFFFFFF, np.uint32), np.arange(2, dtype=np.int32)
        syn0, syn1 = np.zeros((2, 4), np.float32), np.zeros((2, 4), np.float32)
        used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + (64 << 20), resource.RLIM_INFINITY))
        try:
            _train.w2v_batch(syn0, syn1, words, starts, keep, prob, alias, 2, 1, 0.025, 0.025, 1,
                             exp_t, logsig_t, False, 1)
            print("no error")
        except MemoryError as e:
            print("MemoryError:", e)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if "AddressSanitizer" in r.stderr or os.environ.get("ASAN_OPTIONS"):
        pytest.skip("address space limits do not apply under AddressSanitizer")
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert "MemoryError: word2vec: cannot allocate scratch for 1 threads (sentences of up to 40000000 words" in r.stdout


# ------------------------------------------------------------------ alignment and zero-width tables


def _unaligned(a):
    """A copy of ``a`` whose data starts one byte past an aligned address (a legal numpy view)."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = buf[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64])
def test_unaligned_ids(dtype, simd_level):
    # issue 19: UBSan reported misaligned id loads in _gather for ids that are unaligned views
    W = np.arange(40 * 5, dtype=np.float32).reshape(40, 5)
    ids = _unaligned(np.array([[3, 39, 0], [7, 7, 1]], dtype))
    t = EmbeddingTable(W)
    np.testing.assert_array_equal(t.lookup(ids), W[ids.astype(np.int64)])
    np.testing.assert_array_equal(t.lookup(ids, n_threads=2), W[ids.astype(np.int64)])


def test_unaligned_tables_positions_and_gradients(rng, simd_level):
    # issue 19: misaligned float loads in the row kernels for tables at an odd byte address
    for D in (1, 5, 16, 37, 100):
        W = rng.standard_normal((64, D), dtype=np.float32)
        Wu = _unaligned(W)
        t, tu = EmbeddingTable(W), EmbeddingTable(Wu)
        ids = rng.integers(0, 64, (3, 7))
        np.testing.assert_array_equal(tu.lookup(ids), W[ids])
        out = np.empty((2048, D), np.float32)
        big = rng.integers(0, 64, 2048)
        np.testing.assert_array_equal(tu.lookup(big, out=out, n_threads=2), W[big])
        P, T = _unaligned(rng.standard_normal((9, D), dtype=np.float32)), _unaligned(rng.standard_normal((2, D), dtype=np.float32))
        tt = rng.integers(0, 2, (3, 7))
        np.testing.assert_array_equal(tu.embed(ids, P, scale=2.5, type_table=T, token_types=tt),
                                      ref.embed(W, ids, np.array(P), scale=2.5, type_table=np.array(T), token_types=tt))
        np.testing.assert_array_equal(tu.norms(), ref.row_norms(W))
        np.testing.assert_array_equal(tu.inv_norms(), ref.inv_norms(W))
        q = rng.standard_normal((3, D))
        for strategy in ("scan", "gemm"):
            s, i = tu.topk(q, 5, strategy=strategy)
            s2, i2 = t.topk(q, 5, strategy=strategy)
            np.testing.assert_array_equal(s, s2)
            np.testing.assert_array_equal(i, i2)
        g = _unaligned(rng.standard_normal((3, 7, D), dtype=np.float32))
        u, rows = tu.backward(ids, g)
        ru, rrows = ref.backward(W.shape, ids, np.array(g))
        np.testing.assert_array_equal(u, ru)
        np.testing.assert_array_equal(rows, rrows)


@pytest.mark.parametrize("strategy", ["scan", "gemm"])
def test_zero_width_table_dot_topk(strategy, simd_level):
    # issue 19: segfault in fe_offer in the debug build (the address of table[0, 0] of a (V, 0) table)
    t = EmbeddingTable(np.zeros((5, 0), np.float32))
    s, i = t.topk(np.zeros((2, 0)), k=3, metric="dot", strategy=strategy)
    np.testing.assert_array_equal(s, np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(i, [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(t.norms(), np.zeros(5, np.float32))


# ------------------------------------------------------------------ Ctrl-C


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_stops_a_long_scan_quickly_and_leaves_the_process_usable():
    # issue 13: a scan ran to its end (seconds) before Ctrl-C took effect; now it stops between chunks
    code = textwrap.dedent("""
        import sys, time
        import numpy as np
        import fastembed as fe
        rng = np.random.default_rng(0)
        t = fe.EmbeddingTable(rng.standard_normal((200_000, 128), dtype=np.float32))
        t.inv_norms()
        q = rng.standard_normal((8, 128))
        t0 = time.perf_counter()
        t.topk(q, 5, strategy="scan", n_threads=2)
        per_query = (time.perf_counter() - t0) / 8
        n = int(min(20000, max(64, 3.0 / per_query)))   # one scan of about 3 s
        q = rng.standard_normal((n, 128))
        print("ready", per_query, n, flush=True)
        try:
            t.topk(q, 5, strategy="scan", n_threads=2)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        s, i = t.topk(t.weights[7], 3)                    # still usable
        print("usable", int(i[0]), flush=True)
    """)
    p = subprocess.Popen(preexec_fn=sigint_default, args=[sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("ready"), line + p.stderr.read()
        per_query, n = float(line.split()[1]), int(line.split()[2])
        time.sleep(0.3)
        t0 = time.perf_counter()
        p.send_signal(signal.SIGINT)
        line = p.stdout.readline()
        waited = time.perf_counter() - t0
        out, err = finish(p, 120)
    finally:
        if p.poll() is None:
            p.kill()
    if per_query * n < 1.0:
        pytest.skip(f"the scan would take only {per_query * n:.2f} s here: nothing to interrupt")
    assert line.strip() == "interrupted", line + err
    assert waited < 0.5, f"Ctrl-C took {waited:.2f} s to stop the scan"
    assert "usable 7" in out and p.returncode == 0, out + err
