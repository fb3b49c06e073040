"""The exact compressed search indexes (fastembed/index.py: int8, float16, bfloat16): answers
identical to the float32 scan (ids and score bits, tie order) under adversarial inputs, rigorous
bounds, invalidation, memory accounting, the numpy reference, and a memory-mapped table read only
where the bounds cannot decide. Tests taking ``kind`` run for every index kind."""
import ctypes
import mmap
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed as fe
from fastembed import index as fi
from fastembed import reference as ref
from fastembed import search
from fastembed._validate import as_queries, as_restrict
from fastembed.training import train_word2vec

from conftest import ONE_LEVEL, make_memmap


@pytest.fixture(params=fi.KINDS)
def kind(request):
    """Every index kind: the shared bounded-scan engine must answer exactly for each."""
    return request.param


def stored(idx):
    """An index's stored rows: int8 codes or half bits."""
    return idx.codes if idx.kind == "int8" else idx.rows


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.int32)


def assert_same(got, want):
    """ids equal and scores equal bit for bit (the index promises the scan's answer exactly)."""
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(_bits(got[0]), _bits(want[0]))


def check(t, q, k, metric="cosine", n_threads=None, **kw):
    """topk through the attached index equals topk(strategy="scan") without it; returns the
    index's rescored counts."""
    got = t.topk(q, k, metric=metric, n_threads=n_threads, **kw)
    want = t.topk(q, k, metric=metric, strategy="scan", index=None, n_threads=n_threads, **kw)
    assert_same(got, want)
    return t.index.last_stats.rescored


def scan_scores(W, q, metric):
    """Every row's float32 scan score bits (the reference's fixed-order dot product)."""
    qq, _ = as_queries(q, W.shape[1], normalize=metric == "cosine")
    S = np.stack([ref._dot16_rows(W, v) for v in qq])
    if metric == "cosine":
        with np.errstate(invalid="ignore"):  # (NaN rows score NaN)
            S = (S * ref.inv_norms(W)[None, :]).astype(np.float32)
    return qq, S


def index_bounds(idx, qq, metric):
    """(lower, upper) (Q, V) float32 bounds of every row's scan score for the (Q, D) queries as the
    scan takes them: the index's own query operands (fastembed.index) and coefficients, then the
    reference's float32 bound arithmetic (the kernel's operations, the same bits)."""
    qq = np.ascontiguousarray(qq, np.float32)
    if idx.kind == "int8":
        codes, par = fi.quantize_queries(qq, metric, idx.max_norm)
        return ref.int8_bounds(idx.codes, idx.coefficients(metric), codes, par)
    par = fi.half_query_params(qq, metric, idx.max_norm, idx._max_cent_dot)
    return ref.half_index_bounds(idx.rows, idx.kind, idx.coefficients(metric), qq, par)


def assert_bounds_hold(idx, W, q, metric):
    qq, S = scan_scores(W, q, metric)
    lo, up = index_bounds(idx, qq, metric)
    ok = ~np.isnan(S)
    assert (lo[ok] <= S[ok]).all(), np.argwhere(ok & (lo > S))[:5]
    assert (S[ok] <= up[ok]).all(), np.argwhere(ok & (S > up))[:5]
    return lo, up, S


# ------------------------------------------------------------------------------------------ exactness

@pytest.mark.parametrize("metric", ["cosine", "dot"])
@pytest.mark.parametrize("V, D", [(1000, 1), (2000, 7), (3000, 64), (1500, 100), (700, 300)])
def test_equals_scan_gaussian(simd_level, rng, metric, V, D, kind):
    W = rng.standard_normal((V, D), dtype=np.float32)
    t = fe.EmbeddingTable(W)
    t.build_index(kind)
    for Q in (1, 2, 5, 17):
        q = rng.standard_normal((Q, D), dtype=np.float32)
        for k in (1, 10, V):
            resc = check(t, q, k, metric)
            if k == V:
                assert (resc == V).all()  # k = V: every row must be scored exactly
    if D >= 64:  # the bounds do their job: a few dozen rows of thousands re-scored
        check(t, rng.standard_normal(D, dtype=np.float32), 10, metric)
        assert t.index.last_stats.rescored[0] < V // 10


@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_equals_scan_clustered(simd_level, rng, metric, kind):
    """Real-ish vectors: low-rank clusters with anisotropic scales (as trained embeddings are),
    queries drawn from the rows themselves (their nearest neighbours are near-ties)."""
    V, D, C = 6000, 96, 40
    centers = rng.standard_normal((C, D)) * rng.gamma(2.0, 1.0, D)
    W = (centers[rng.integers(0, C, V)] + 0.15 * rng.standard_normal((V, D))).astype(np.float32)
    W *= rng.uniform(0.2, 5.0, (V, 1)).astype(np.float32)
    t = fe.EmbeddingTable(W)
    t.build_index(kind)
    q = W[rng.integers(0, V, 8)] + np.float32(1e-3) * rng.standard_normal((8, D), dtype=np.float32)
    for k in (1, 5, 50):
        check(t, q, k, metric)


def test_trained_word2vec_vectors(rng):
    """Vectors trained by fastembed's word2vec on a small Zipf-distributed corpus."""
    words = [f"w{i}" for i in range(400)]
    sents = [[words[j % 400] for j in rng.zipf(1.3, 30)] for _ in range(600)]
    t = train_word2vec(sents, dim=48, min_count=1, epochs=2, seed=1, workers=1, progress=False)
    t.build_index()
    check(t, t.weights[:20], 10)
    check(t, t.weights[:20], 10, "dot")
    resc = t.index.last_stats.rescored
    assert (resc < len(t)).all()


@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_near_ties_and_duplicates(simd_level, rng, metric, kind):
    """Duplicated rows (exact ties: the id order decides), rows scaled by powers of two (exactly
    tied cosines), rows one ulp apart, zero rows."""
    D = 40
    base = rng.standard_normal((50, D), dtype=np.float32)
    rows = [base, base, base * np.float32(2), base * np.float32(0.5),
            np.nextafter(base, np.float32(np.inf)), np.nextafter(base, -np.float32(np.inf)),
            np.zeros((80, D), np.float32)]
    W = np.ascontiguousarray(np.concatenate(rows)[rng.permutation(380)])
    t = fe.EmbeddingTable(W)
    t.build_index(kind)
    q = np.concatenate([base[:6], rng.standard_normal((4, D), dtype=np.float32)])
    for k in (1, 3, 7, 60, 380):
        check(t, q, k, metric)
    assert_bounds_hold(t.index, W, q, metric)


def test_zero_rows_only_and_zero_query_dot(simd_level, kind):
    t = fe.EmbeddingTable(np.zeros((100, 16), np.float32))
    t.build_index(kind)
    q = np.ones(16, np.float32)
    for k in (1, 10, 100, 150):
        check(t, q, k)
        check(t, q, k, "dot")
    check(t, np.zeros(16, np.float32), 5, "dot")  # a zero dot query scores every row 0


@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_rows_at_the_bound(simd_level, rng, metric):
    """Rows whose quantisation error is as large as it gets (every value half way between two
    codes) and queries aligned with a row's error vector: the bound is nearly tight there, so any
    missing term in it would let a true top row escape re-scoring."""
    D, V = 64, 400
    s = rng.uniform(0.5, 2.0, (V, 1))
    codes = rng.integers(-126, 126, (V, D))
    codes[:, 0] = 127  # max |x| = 127 s: the scale is s
    W = ((codes + 0.5 * np.sign(rng.standard_normal((V, D)))) * s).astype(np.float32)
    W[:, 0] = (127 * s[:, 0]).astype(np.float32)
    t = fe.EmbeddingTable(W)
    idx = t.build_index()
    E = W.astype(np.float64) - idx.scales[:, None].astype(np.float64) * idx.codes  # exact errors
    q = np.concatenate([E[:5], W[:5] + 40 * E[:5], W[5:10] - 40 * E[5:10]]).astype(np.float32)
    lo, up, S = assert_bounds_hold(idx, W, q, metric)
    # a query along row r's own error vector puts r's score at its upper bound (within 1% of the
    # radius): the bound is tight there, so any missing term in it would show as a violation above
    r = np.arange(5)
    assert (((up - S) / (up - lo))[r, r] < 0.01).all()
    for k in (1, 2, 10, V):
        check(t, q, k, metric)


@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_bounds_hold_with_extreme_magnitudes(simd_level, rng, metric, kind):
    """Tiny and huge rows, denormal values, one huge coordinate among small ones."""
    D = 33
    W = rng.standard_normal((60, D)).astype(np.float32)
    W[0] *= np.float32(1e-30)
    W[1] *= np.float32(1e30)
    # denormal values (dot; cosine refuses a row whose inverse norm overflows, so tiny but normal)
    W[2, :] = np.float32(1e-40) if metric == "dot" else np.float32(1e-30)
    W[3, 5] = np.float32(1e6)
    W[4, :] = 0
    W[4, 7] = np.float32(-3.0)
    t = fe.EmbeddingTable(W)
    idx = t.build_index(kind)
    q = rng.standard_normal((6, D)).astype(np.float32)
    q[1] *= np.float32(1e-20)
    q[2] *= np.float32(1e20)
    if metric == "dot":
        assert_bounds_hold(idx, W, q, metric)
    for k in (1, 4, 60):
        check(t, q, k, metric)


def test_nonfinite_rows_dot(simd_level, rng, kind):
    """NaN and inf rows (metric='dot' accepts them): the scan never returns a NaN score; the
    index re-scores such rows always (infinite radius) and agrees."""
    W = rng.standard_normal((200, 20)).astype(np.float32)
    W[3, 4] = np.nan
    W[10, 0] = np.inf
    W[11, 2] = -np.inf
    t = fe.EmbeddingTable(W)
    t.build_index(kind)
    q = np.abs(rng.standard_normal((3, 20))).astype(np.float32)
    for k in (1, 5, 199, 200, 250):
        check(t, q, k, "dot")


def test_k_beyond_candidates_restrict_exclude(simd_level, rng, kind):
    V, D = 500, 24
    W = rng.standard_normal((V, D), dtype=np.float32)
    t = fe.EmbeddingTable(W)
    t.build_index(kind)
    q = rng.standard_normal((3, D), dtype=np.float32)
    mask = np.zeros(V, bool)
    mask[rng.choice(V, 12, replace=False)] = True
    for metric in ("cosine", "dot"):
        for k in (1, 5, 12, 13, 40):  # more than the candidates: -1 / -inf padding
            check(t, q, k, metric, restrict=mask)
            check(t, q, k, metric, restrict=37)
            check(t, q, k, metric, restrict=np.flatnonzero(mask))
        top = t.topk(q, 5, metric=metric, index=None)[1]
        check(t, q, 5, metric, exclude=[int(top[0, 0]), int(top[0, 1])])        # common, as lists
        check(t, q, 5, metric, exclude=np.arange(0, V, 3))                      # common, as a mask
        check(t, q, 5, metric, exclude=[list(top[0, :3]), [], list(top[2, :1])])  # per query
        check(t, q, 5, metric, exclude=[list(top[0, :3]), [], []], restrict=mask)
        check(t, q, V, metric, exclude=np.arange(0, V, 2))


def test_thread_and_level_invariance(rng, kind):
    from fastembed._kernels import _simd
    V, D = 20000, 50
    W = rng.standard_normal((V, D), dtype=np.float32)
    t = fe.EmbeddingTable(W)
    t.build_index(kind, n_threads=1)
    codes1 = stored(t.index).copy()
    t.build_index(kind, n_threads=2)
    np.testing.assert_array_equal(codes1, stored(t.index))
    q = rng.standard_normal((3, D), dtype=np.float32)
    results = []
    prev = _simd.get_level()
    try:
        for level in _simd.supported_levels():
            _simd.set_level(level)
            for nt in (1, 2, 3):
                r = t.topk(q, 10, n_threads=nt)
                results.append((r, t.index.last_stats.rescored.copy(), t.index.last_stats.thresholds.copy()))
    finally:
        _simd.set_level(prev)
    for r, resc, thr in results[1:]:
        assert_same(r, results[0][0])
        np.testing.assert_array_equal(resc, results[0][1])  # the same candidates, whatever the split
        np.testing.assert_array_equal(_bits(thr), _bits(results[0][2]))
    if len(_simd.supported_levels()) < 2:
        pytest.skip(f"{ONE_LEVEL}: only the thread counts were compared")


def test_read_only_and_memmap(tmp_path, rng, kind):
    W = rng.standard_normal((3000, 32), dtype=np.float32)
    ro = W.copy()
    ro.flags.writeable = False
    mm = make_memmap(str(tmp_path), W)
    q = rng.standard_normal((4, 32), dtype=np.float32)
    want = fe.EmbeddingTable(W).topk(q, 7, strategy="scan")
    for arr in (ro, mm):
        t = fe.EmbeddingTable(arr)
        t.build_index(kind)
        assert_same(t.topk(q, 7), want)
        assert not t.writeable
    assert fe.EmbeddingTable(mm).memory_usage()["table_memmap"] is True


def test_most_similar_uses_index(rng):
    V, D = 800, 16
    t = fe.EmbeddingTable(rng.standard_normal((V, D), dtype=np.float32), vocab=[f"w{i}" for i in range(V)])
    want = t.words.most_similar("w3", topn=10)
    want_neg = t.words.most_similar(positive=["w1", "w2"], negative=["w5"], topn=10, restrict_vocab=300)
    idx = t.build_index()
    idx.last_stats = None
    assert t.words.most_similar("w3", topn=10) == want
    assert idx.last_stats is not None and idx.last_stats.rescored[0] >= 10
    assert t.words.most_similar(positive=["w1", "w2"], negative=["w5"], topn=10, restrict_vocab=300) == want_neg


@settings(max_examples=150, deadline=None)
@given(V=st.integers(1, 70), D=st.integers(1, 40), levels=st.integers(1, 5), k=st.integers(1, 80),
       Q=st.integers(1, 4), metric=st.sampled_from(["cosine", "dot"]), seed=st.integers(0, 2 ** 32 - 1),
       nt=st.integers(1, 3), kind=st.sampled_from(fi.KINDS))
def test_hypothesis_equals_scan_and_reference(V, D, levels, k, Q, metric, seed, nt, kind):
    """Tables of few distinct values (many exact and near ties, duplicate and zero rows) scaled by
    powers of two and arbitrary factors: the index's answer is the scan's and the reference's, and
    its re-scored count the reference's."""
    rng = np.random.default_rng(seed)
    W = (rng.integers(-levels, levels + 1, (V, D)) * 2.0 ** rng.integers(-3, 4, (V, 1))).astype(np.float32)
    W[rng.random(V) < 0.2] *= rng.uniform(0.1, 10, 1).astype(np.float32)
    q = rng.integers(-levels, levels + 1, (Q, D)).astype(np.float32)
    q[:, 0] += np.float32(0.5)  # never a zero query
    t = fe.EmbeddingTable(W)
    t.build_index(kind, n_threads=nt)
    resc = check(t, q, k, metric, n_threads=nt)
    if kind != "int8":
        return
    rs, ri, rr = ref.int8_search(W, q, k, metric=metric)
    assert ri.shape[1] == min(k, V)  # k clipped to the rows, as gensim clips topn
    assert_same(t.topk(q, k, metric=metric, n_threads=nt), (rs, ri))
    np.testing.assert_array_equal(rr, resc)


# ------------------------------------------------------------------------------------------ life cycle

def test_invalidation_after_writes(rng, kind):
    W = rng.standard_normal((400, 12), dtype=np.float32)
    t = fe.EmbeddingTable(W.copy())
    idx = t.build_index(kind)
    assert t.index is idx
    q = rng.standard_normal(12, dtype=np.float32)
    t.set_rows([0, 1], -np.ones((2, 12), np.float32) * 3)
    assert t.index is None  # stale: dropped
    with pytest.raises(ValueError, match="not this table's current index"):
        t.topk(q, 5, index=idx)
    idx.last_stats = None
    t.topk(q, 5)  # no index: the scan
    assert idx.last_stats is None
    idx2 = t.build_index(kind)
    assert_same(t.topk(q, 5), t.topk(q, 5, strategy="scan", index=None))
    assert idx2.last_stats is not None
    with t.writing() as w:
        w[5] = 0
    assert t.index is None
    t.build_index(kind)
    t.invalidate_norms()
    assert t.index is None
    t.build_index(kind)
    t.scatter_add([3], np.ones((1, 12), np.float32))
    assert t.index is None
    t.build_index(kind)
    t.index = None
    assert t.index is None and "index" not in repr(t)


def test_explicit_index_and_errors(rng):
    W = rng.standard_normal((100, 8), dtype=np.float32)
    t, other = fe.EmbeddingTable(W), fe.EmbeddingTable(W.copy())
    idx = t.build_index()
    oidx = other.build_index()
    q = W[0]
    assert_same(t.topk(q, 3, index=idx), t.topk(q, 3, strategy="scan", index=None))
    with pytest.raises(ValueError, match="not this table's current index"):
        t.topk(q, 3, index=oidx)
    with pytest.raises(ValueError, match="strategy='gemm'"):
        t.topk(q, 3, index=idx, strategy="gemm")
    with pytest.raises(TypeError, match="index must be 'auto', None or an index.*got 123"):
        t.topk(q, 3, index=123)
    with pytest.raises(TypeError, match="got 'int8'"):
        t.topk(q, 3, index="int8")
    with pytest.raises(TypeError, match=r"float32 table, got float16 with shape \(3, 4\)"):
        fi.build(np.zeros((3, 4), np.float16))
    with pytest.raises(ValueError, match="unknown index kind 'int4'"):
        t.build_index("int4")
    with pytest.raises(ValueError, match="dim 0"):
        fe.EmbeddingTable(np.zeros((5, 0), np.float32)).build_index()
    with pytest.raises(ValueError, match=f"dim <= {fi.MAX_DIM}.*got dim {fi.MAX_DIM + 1}"):
        fe.EmbeddingTable(np.zeros((1, fi.MAX_DIM + 1), np.float32)).build_index()
    with pytest.raises(ValueError, match=r"index is for a \(100, 8\) table, got \(99, 8\)"):
        idx.search(W[:99], None, W[:1], 3, None)
    # strategy="gemm" with index="auto" just runs the GEMM path (the index answers as the scan)
    t.topk(W[:3], 3, strategy="gemm")
    cand = search.Candidates.build(as_restrict(None, 100), None, 1, 100)
    with pytest.raises(ValueError, match="dot and cosine queries only, not CosMulScorer"):
        search.run(W, search.CosMulScorer(W[:2], 1, 1, 1e-3), 3, cand, inv=t.inv_norms(), index=idx)


def test_empty_and_single_row(kind):
    t = fe.EmbeddingTable(np.zeros((0, 4), np.float32))
    t.build_index(kind)
    s, i = t.topk(np.ones(4, np.float32), 3, metric="dot")
    assert (i == -1).all() and np.isneginf(s).all()
    t2 = fe.EmbeddingTable(np.ones((9, 4), np.float32))
    t2.build_index(kind)
    s, i = t2.topk(np.zeros((0, 4), np.float32), 3)  # an empty batch
    assert s.shape == i.shape == (0, 3) and t2.index.last_stats.rescored.shape == (0,)
    t1 = fe.EmbeddingTable(np.array([[1.0, -2.0, 0.5]], np.float32))
    t1.build_index(kind)
    check(t1, np.array([0.3, 0.1, -1.0], np.float32), 1)
    check(t1, np.array([0.3, 0.1, -1.0], np.float32), 4, "dot")


def test_memory_accounting_and_config(rng):
    V, D = 1000, 64
    t = fe.EmbeddingTable(rng.standard_normal((V, D), dtype=np.float32))
    assert t.memory_usage() == {"table": V * D * 4, "table_memmap": False, "inv_norms": 0, "in_memory": V * D * 4}
    idx = t.build_index()
    # codes and code sums (rows padded to a multiple of 16), scales, 3 coefficients per metric
    assert idx.nbytes == 1008 * D + 1008 * 4 + V * 4 + 2 * 3 * 1008 * 4
    t.inv_norms()
    mu = t.memory_usage()
    assert mu["index.int8"] == idx.nbytes and mu["inv_norms"] == V * 4
    assert mu["in_memory"] == V * D * 4 + V * 4 + idx.nbytes
    assert f"index=int8, table_bytes={V * D * 4}, index_bytes={idx.nbytes}" in repr(t)
    cfg = fe.show_config(print_out=False)
    assert cfg["index_kinds"] == "int8 float16 bfloat16" and cfg["int8_kernel"]


# ------------------------------------------------------------------------------------------ reference

@pytest.mark.parametrize("metric", ["cosine", "dot"])
@pytest.mark.parametrize("D", [45, 1100])  # a vector tail; rows longer than the kernel's 1024-column chunk
def test_reference_equivalence(simd_level, rng, metric, D):
    V = 2500 if D < 1000 else 300
    W = rng.standard_normal((V, D), dtype=np.float32) * rng.uniform(0.01, 10, (V, 1)).astype(np.float32)
    W[7] = 0
    W[9] = W[8]
    W[11, D - 2] = np.nan  # a NaN among finite values: codes written, then reset to zero
    W[12, 1] = np.inf
    t = fe.EmbeddingTable(W)
    idx = t.build_index()
    codes, scale, st = ref.int8_quantize(W)
    np.testing.assert_array_equal(codes, idx.codes)
    np.testing.assert_array_equal(_bits(scale), _bits(idx.scales))
    # st: the same sums up to summation order (float64, relative 1e-12)
    _, _, st_k = _kernel_st(W)
    np.testing.assert_allclose(st, st_k, rtol=1e-12, atol=0)
    fin = np.isfinite(W).all(axis=1)
    np.testing.assert_array_equal(st_k[fin, 2], ref._sumsq16(W[fin]))  # the norms' sums, bit for bit
    assert np.all(st_k[~fin] == [np.inf, 0.0, np.inf]) and np.all(idx.codes[~fin] == 0)
    coef = ref.int8_coefficients(scale, st_k, ref.inv_norms(W), D, metric)
    np.testing.assert_array_equal(_bits(coef), _bits(idx.coefficients(metric)))
    q = rng.standard_normal((5, D), dtype=np.float32)
    qq, _ = as_queries(q, D, normalize=metric == "cosine")
    qc, par = ref.int8_query_codes(qq, metric, idx.max_norm)
    lo_r, up_r = ref.int8_bounds(codes, coef, qc, par)
    lo_k, up_k = index_bounds(idx, qq, metric)
    np.testing.assert_array_equal(_bits(lo_r), _bits(lo_k))
    np.testing.assert_array_equal(_bits(up_r), _bits(up_k))
    for k in (1, 10, V):
        rs, ri, rr = ref.int8_search(W, q, k, metric=metric)
        got = t.topk(q, k, metric=metric)
        assert_same(got, (rs, ri))
        np.testing.assert_array_equal(rr, idx.last_stats.rescored)
        assert_same(got, t.topk(q, k, metric=metric, strategy="scan", index=None))


def _kernel_st(W):
    from fastembed._kernels import _index
    V, D = W.shape
    buf = np.zeros(-(-V // 16) * 16 * 4 * -(-D // 4), np.int8)
    rowsum = np.zeros(-(-V // 16) * 16, np.int32)
    scale = np.zeros(V, np.float32)
    st = np.zeros((V, 3), np.float64)
    _index.quantize(W, buf, rowsum, scale, st, 2)
    return buf, scale, st


def test_reference_quantize_special_rows():
    W = np.array([[0, 0, 0], [np.nan, 1, 0], [np.inf, 0, 0], [1e-45, 0, -1e-45], [3e38, -3e38, 1]], np.float32)
    codes, scale, st = ref.int8_quantize(W)
    _, sk, stk = _kernel_st(W)
    np.testing.assert_array_equal(codes, fi.build(W).codes)
    np.testing.assert_array_equal(_bits(scale), _bits(sk))
    np.testing.assert_allclose(st, stk, rtol=1e-12, atol=0)  # float64 sums up to their order
    assert st[0].tolist() == [0, 0, 0] and np.isinf(st[1, 0]) and np.isinf(st[2, 2])
    assert codes[4].tolist() == [127, -127, 0]


# ------------------------------------------------------------------------------------------ larger than memory

def _page_counter():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    return libc


def resident_pages(mm) -> int:
    """Pages of a file mapping resident in memory (mincore): page-aligned start (offset 0)."""
    libc = _page_counter()
    n = -(-mm.nbytes // mmap.PAGESIZE)
    vec = (ctypes.c_ubyte * n)()
    if libc.mincore(ctypes.c_void_p(mm.ctypes.data), ctypes.c_size_t(mm.nbytes), vec) != 0:
        raise OSError(ctypes.get_errno(), "mincore failed")
    return int((np.frombuffer(vec, np.uint8) & 1).sum())


def drop_pages(mm, path) -> None:
    """Unmap the pages from this process and drop the file's clean pages from the page cache."""
    mm._mmap.madvise(mmap.MADV_DONTNEED)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise") or not hasattr(mmap, "MADV_RANDOM"),
                    reason="needs Linux mincore / posix_fadvise / madvise")
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_memmap_query_touches_few_pages(tmp_path, rng, metric, kind):
    """The int8 index in memory, the float32 rows memory-mapped on disk: after the file's pages
    are dropped, a query reads only the pages of the rows it re-scores (a fraction of a percent
    of the table), and answers as the full scan does."""
    V, D = 100_000, 128  # 51 MB of float32 rows, 12500 pages
    path = os.path.join(str(tmp_path), "big.f32")
    w = np.memmap(path, np.float32, "w+", shape=(V, D))
    for r0 in range(0, V, 25_000):
        w[r0:r0 + 25_000] = rng.standard_normal((25_000, D), dtype=np.float32)
    w.flush()
    del w
    mm = np.memmap(path, np.float32, "r", shape=(V, D))
    t = fe.EmbeddingTable(mm)
    idx = t.build_index(kind)
    q = rng.standard_normal(D).astype(np.float32)
    want = t.topk(q, 10, metric=metric, strategy="scan", index=None)  # (fills the norm cache)
    mm._mmap.madvise(mmap.MADV_RANDOM)  # no read-ahead: a fault reads its own page only
    drop_pages(mm, path)
    total = -(-mm.nbytes // mmap.PAGESIZE)
    before = resident_pages(mm)
    if before > total // 100:
        pytest.skip(f"the page cache kept {before} of {total} pages after POSIX_FADV_DONTNEED")
    got = t.topk(q, 10, metric=metric)
    touched = resident_pages(mm) - before
    assert_same(got, want)
    resc = int(idx.last_stats.rescored[0])
    assert 10 <= resc < V // 500
    assert touched <= 2 * resc + 4, (touched, resc)  # a row spans at most 2 pages
    assert touched < total // 100


# ------------------------------------------------------------------------------------------ half index

def _kernel_half(W, kind):
    """The half build kernel's own (h, shift, st) (st is not kept by the index)."""
    from fastembed._kernels import _index
    V, D = W.shape
    h = np.zeros(-(-V // 16) * 16 * D, np.uint16)
    shift = np.zeros(V, np.int32)
    st_k = np.zeros((V, 3))
    _index.hx_build(W, h, shift, st_k, kind == "bfloat16", 1)
    return h[: V * D].reshape(V, D), shift, st_k


@pytest.mark.parametrize("hkind", ["float16", "bfloat16"])
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_half_reference_equivalence(simd_level, rng, metric, hkind):
    """Stored bits, shifts, coefficients and bounds equal the numpy reference's bit for bit; the
    float64 sums up to summation order. Rows span float16's subnormal range after scaling."""
    V, D = 700, 45
    W = rng.standard_normal((V, D), dtype=np.float32) * rng.uniform(0.01, 10, (V, 1)).astype(np.float32)
    W[3] = 0
    W[5, 2] = np.nan
    W[6, 0] = -np.inf
    W[8] *= np.float32(1e-30)
    W[9] *= np.float32(1e30)
    W[10, 1:] *= np.float32(1e-7)  # after scaling, values far below float16's normal range
    W[11] = np.float32(1e-41 if metric == "dot" else 1e-30)  # denormals (cosine refuses them: tiny)
    t = fe.EmbeddingTable(W)
    idx = t.build_index(hkind)
    h, shift, st_r = ref.half_index_rows(W, hkind)
    np.testing.assert_array_equal(h, idx.rows)
    np.testing.assert_array_equal(shift, idx.shift)
    hk, shk, st_k = _kernel_half(W, hkind)
    np.testing.assert_array_equal(hk, h)
    np.testing.assert_allclose(st_r, st_k, rtol=1e-12, atol=0)
    coef = ref.half_index_coefficients(shift, st_k, t.inv_norms() if metric == "cosine" else None, D, metric)
    np.testing.assert_array_equal(_bits(coef), _bits(idx.coefficients(metric)))
    q = rng.standard_normal((5, D), dtype=np.float32)
    qq, _ = as_queries(q, D, normalize=metric == "cosine")
    lo, up, S = assert_bounds_hold(idx, W, q, metric)
    par = fi.half_query_params(qq, metric, idx.max_norm, idx._max_cent_dot)
    lo_r, up_r = ref.half_index_bounds(h, hkind, coef, qq, par)
    np.testing.assert_array_equal(_bits(lo_r), _bits(lo))
    np.testing.assert_array_equal(_bits(up_r), _bits(up))
    for k in (1, 10, V):
        check(t, q, k, metric)


@pytest.mark.parametrize("hkind", ["float16", "bfloat16"])
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_half_rows_at_the_bound(simd_level, rng, metric, hkind):
    """Rows whose rounding error is as large as it gets (every value half way between two
    neighbouring half values) and queries along a row's error vector: there the bound is nearly
    tight, so a missing term would let a true top row escape re-scoring."""
    D, V = 64, 400
    x = rng.uniform(1.0, 2.0, (V, D))
    ulp = 2.0 ** -10 if hkind == "float16" else 2.0 ** -7  # spacing of half values in [1, 2)
    x = (np.floor(x / ulp) + 0.5) * ulp * np.sign(rng.standard_normal((V, D)))
    x[:, 0] = 1.75
    W = (x * rng.uniform(0.5, 2.0, (V, 1))).astype(np.float32)
    t = fe.EmbeddingTable(W)
    idx = t.build_index(hkind)
    H = ref._rows(idx.rows.view(np.float16) if hkind == "float16" else idx.rows, hkind).astype(np.float64)
    E = W.astype(np.float64) - H * np.ldexp(1.0, -idx.shift.astype(np.int64))[:, None]
    q = np.concatenate([E[:5], W[:5] + 40 * E[:5], W[5:10] - 40 * E[5:10]]).astype(np.float32)
    lo, up, S = assert_bounds_hold(idx, W, q, metric)
    r = np.arange(5)
    assert (((up - S) / (up - lo))[r, r] < 0.02).all()
    for k in (1, 2, 10, V):
        check(t, q, k, metric)


def test_half_index_on_clustered_vectors_rescores_few(rng):
    V, D, C = 20000, 96, 40
    centers = rng.standard_normal((C, D)) * rng.gamma(2.0, 1.0, D)
    W = (centers[rng.integers(0, C, V)] + 0.15 * rng.standard_normal((V, D))).astype(np.float32)
    t = fe.EmbeddingTable(W)
    q = W[rng.integers(0, V, 6)] + np.float32(1e-3) * rng.standard_normal((6, D), dtype=np.float32)
    resc = {}
    for k in fi.KINDS:
        t.build_index(k)
        resc[k] = check(t, q, 10)
        # near-ties within the query's cluster (500 rows) are what the bounds cannot separate
        assert (resc[k] < V // 30).all(), (k, resc[k])
    assert resc["float16"].sum() < resc["int8"].sum()  # 11 significant bits against 7 or 8


def test_half_index_errors_and_accounting(rng):
    V, D = 1000, 64
    W = rng.standard_normal((V, D), dtype=np.float32)
    t = fe.EmbeddingTable(W)
    idx = t.build_index("float16")
    assert isinstance(idx, fi.HalfIndex) and idx.kind == "float16"
    # half rows (rows padded to a multiple of 16), shifts, 3 coefficients per metric per padded row
    assert idx.nbytes == 1008 * D * 2 + V * 4 + 2 * 3 * 1008 * 4
    mu = t.memory_usage()
    assert mu["index.float16"] == idx.nbytes
    assert f"index=float16, table_bytes={V * D * 4}, index_bytes={idx.nbytes}" in repr(t)
    assert repr(idx) == f"HalfIndex(num_embeddings={V}, dim={D}, nbytes={idx.nbytes})"
    with pytest.raises(TypeError, match=r"float16 index is built from a C-contiguous \(V, D\) float32 table"):
        fe.EmbeddingTable(W, dtype="float16").build_index("float16")
    with pytest.raises(ValueError, match="unknown index kind 'fp16'"):
        t.build_index("fp16")
    with pytest.raises(ValueError, match=r"inv must be the table's \(V,\) = \(1000,\) float32 inverse norms, "
                                         r"got float32 with shape \(999,\)"):
        fi.build(W, "float16", inv=np.ones(999, np.float32))
    with pytest.raises(ValueError, match=r"got float64 with shape \(1000,\)"):
        fi.build(W, "bfloat16", inv=np.ones(1000))
    assert not idx.rows.flags.writeable or idx.rows.base is None  # a copy, never the index's memory
    # an index of another kind replaces the attached one
    t.build_index("bfloat16")
    assert t.index.kind == "bfloat16" and "index.float16" not in t.memory_usage()
