import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from fastembed import EmbeddingTable, reference as ref
from fastembed.testing import assert_topk_equivalent
from conftest import make_memmap

PATHS = ["scan", "gemm"]


def run(t, q, k, path, **kw):
    return t.topk(q, k, strategy=path, **kw)


# ------------------------------------------------------------------ the tolerance helper itself

def test_helper_accepts_swaps_of_equal_scores():
    s = np.array([0.9, 0.5, 0.5, 0.1], np.float32)
    assert_topk_equivalent(s, [1, 2, 3, 4], s, [1, 3, 2, 4])
    # a tie at the cut: 7 and 8 both score 0.1, each answer kept a different one
    assert_topk_equivalent(s, [1, 2, 3, 7], s, [1, 2, 3, 8])


def test_helper_rejects_real_differences():
    s = np.array([0.9, 0.5, 0.4], np.float32)
    with pytest.raises(AssertionError, match="is missing"):
        assert_topk_equivalent(s, [1, 2, 3], s, [1, 9, 3])  # id 2 (0.5) is not a tie at the cut
    with pytest.raises(AssertionError, match="score 1 differs"):
        assert_topk_equivalent(s, [1, 2, 3], np.array([0.9, 0.45, 0.4], np.float32), [1, 2, 3])
    with pytest.raises(AssertionError, match="id 2 scored"):
        assert_topk_equivalent(np.array([0.9, 0.5, 0.4]), [1, 2, 3], np.array([0.9, 0.5, 0.4]), [1, 3, 2])
    with pytest.raises(AssertionError, match="numbers of results"):
        assert_topk_equivalent([0.9, -np.inf], [1, -1], [0.9, 0.1], [1, 2])


def test_helper_tolerance_follows_conditioning_of_3cosmul():
    # a : b :: c : ? by 3CosMul, where row 5 is nearly opposite to a: (1 + cos_a) / 2 ~ 0.002 divides
    # the score, so the float32 rounding of the cosines moves it hundreds of times more than its size
    # suggests. Answer A: float32 cosines (the kernels' 16-lane order); answer B: float64.
    from fastembed.reference import _dot16
    from fastembed.testing import EPS32, analogy_sensitivity
    rng = np.random.default_rng(0)
    D = 50
    W = rng.standard_normal((6, D)).astype(np.float32)
    W[5] = (-W[0] / np.linalg.norm(W[0]) + 0.09 * rng.standard_normal(D) / np.sqrt(D)).astype(np.float32)
    W64 = W.astype(np.float64)
    U = W64 / np.sqrt((W64 * W64).sum(axis=1))[:, None]
    U32 = U.astype(np.float32)
    cand = np.array([3, 4, 5])
    f32 = np.float32
    c32 = {x: np.array([_dot16(U32[r], U32[x]) for r in cand], np.float32) for x in (0, 1, 2)}
    C32 = {x: (f32(1) + v) / f32(2) for x, v in c32.items()}
    s32 = C32[1] * C32[2] / (C32[0] + f32(1e-6))
    C64 = {x: (1 + U[cand] @ U[x]) / 2 for x in (0, 1, 2)}
    s64 = C64[1] * C64[2] / (C64[0] + 1e-6)
    oa, ob = np.argsort(-s32, kind="stable"), np.argsort(-s64, kind="stable")
    sa, ia, sb, ib = s32[oa], cand[oa], s64[ob].astype(np.float32), cand[ob]
    assert ia[0] == ib[0] == 5 and C64[0][2] < 0.002 and sb[0] > 100  # the premise: ill-conditioned
    # a tolerance that follows the score's size rejects these two equivalent answers ...
    with pytest.raises(AssertionError, match="score 0 differs"):
        assert_topk_equivalent(sa, ia, sb, ib, tol=2e-6 * float(sb[0]))
    # ... one that follows its conditioning accepts them
    sens = analogy_sensitivity(W, [0], [1], [2], method="mul")
    assert_topk_equivalent(sa, ia, sb, ib, sensitivity=sens, ulps=2 * D)
    # and still rejects real differences: 1% on the ill-conditioned score, 1e-4 on a well-conditioned one
    with pytest.raises(AssertionError, match="score 0 differs"):
        assert_topk_equivalent(sa * np.array([1.01, 1, 1], np.float32), ia, sb, ib, sensitivity=sens, ulps=2 * D)
    with pytest.raises(AssertionError, match="score 1 differs"):
        assert_topk_equivalent(sa + np.array([0, 1e-4, 0], np.float32), ia, sb, ib, sensitivity=sens, ulps=2 * D)
    assert 2 * D * EPS32 * sens(0, [3, 4]).max() < 2e-5  # well-conditioned rows keep a tight tolerance
    with pytest.raises(TypeError, match="give ulps"):
        assert_topk_equivalent(sa, ia, sb, ib, sensitivity=sens)


# ------------------------------------------------------------------ equivalence

@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("metric", ["cosine", "dot"])
@pytest.mark.parametrize("Q,D", [(1, 1), (1, 37), (5, 64), (40, 300), (3, 7)])
def test_equals_reference(rng, path, metric, Q, D, simd_level):
    W = rng.standard_normal((2000, D), dtype=np.float32) * rng.uniform(0.1, 3, (2000, 1)).astype(np.float32)
    t = EmbeddingTable(W)
    q = rng.standard_normal((Q, D))
    s, i = run(t, q, 10, path, metric=metric)
    rs, ri = ref.topk(W, q, 10, metric=metric)
    assert s.dtype == np.float32 and i.dtype == np.int64 and s.shape == (Q, 10)
    assert_topk_equivalent(s, i, rs, ri, tol=1e-5 * (1 if metric == "cosine" else np.abs(rs).max() + 1))
    assert (np.diff(s, axis=1) <= 0).all()


def test_single_query_shape_and_public_api(rng):
    W = rng.standard_normal((100, 8), dtype=np.float32)
    t = EmbeddingTable(W)
    s, i = t.topk(W[17], k=3)
    assert s.shape == (3,) and i[0] == 17 and s[0] == pytest.approx(1.0)
    q = np.ascontiguousarray(W[:4].astype(np.float64))
    before = q.copy()
    t.topk(q, 5)
    np.testing.assert_array_equal(q, before)  # queries never modified


@pytest.mark.parametrize("path", PATHS)
def test_exact_ties_break_by_smaller_id(path):
    W = np.tile(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32), (50, 1))  # 50 exact copies of each
    t = EmbeddingTable(W)
    s, i = run(t, np.array([[1.0, 0.0]]), 5, path)
    np.testing.assert_array_equal(i[0], [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(s[0], 1.0)


@pytest.mark.parametrize("path", PATHS)
def test_k_edge_cases(rng, path):
    W = rng.standard_normal((30, 4), dtype=np.float32)
    t = EmbeddingTable(W)
    q = rng.standard_normal((2, 4))
    s1, i1 = run(t, q, 1, path)
    rs, ri = ref.topk(W, q, 30)
    np.testing.assert_array_equal(i1[:, 0], ri[:, 0])
    sN, iN = run(t, q, 30, path)
    assert_topk_equivalent(sN, iN, rs, ri)
    assert sorted(iN[0]) == list(range(30))
    sK, iK = run(t, q, 35, path)  # k > N: padded with -1 / -inf
    np.testing.assert_array_equal(iK[:, 30:], -1)
    assert np.isneginf(sK[:, 30:]).all()
    np.testing.assert_array_equal(iK[:, :30], iN)
    s0, i0 = run(t, np.zeros((0, 4)), 5, path)
    assert s0.shape == (0, 5) and i0.shape == (0, 5)


@pytest.mark.parametrize("path", PATHS)
def test_zero_rows_score_zero_never_nan(path):
    W = np.array([[1, 0], [0, 0], [-1, 0], [0, 1]], np.float32)
    s, i = run(EmbeddingTable(W), np.array([[1.0, 0.0]]), 4, path)
    np.testing.assert_array_equal(i[0], [0, 1, 3, 2])
    np.testing.assert_array_equal(s[0], [1, 0, 0, -1])
    assert not np.isnan(s).any()


@pytest.mark.parametrize("path", PATHS)
def test_exclude_and_restrict(rng, path):
    W = rng.standard_normal((500, 16), dtype=np.float32)
    t = EmbeddingTable(W)
    q = W[[3, 7, 11]] + 0.01
    full_s, full_i = ref.topk(W, q, 500)

    def expect(allowed, row, k=5):
        keep = [x for x in full_i[row] if allowed(row, x)][:k]
        return keep

    s, i = run(t, q, 5, path, exclude=[3, 7, 11])
    for r in range(3):
        assert list(i[r]) == expect(lambda _, x: x not in (3, 7, 11), r)
    s, i = run(t, q, 5, path, exclude=[[3], [7, 8], []])
    assert i[0, 0] != 3 and 7 not in i[1] and i[2, 0] == 11
    for r, ex in enumerate([[3], [7, 8], []]):
        assert list(i[r]) == expect(lambda _, x: x not in ex, r)
    s, i = run(t, q, 5, path, restrict=100)
    for r in range(3):
        assert list(i[r]) == expect(lambda _, x: x < 100, r)
    subset = np.array([5, 11, 400, 3, 250, 7])
    s, i = run(t, q, 4, path, restrict=subset, exclude=[[3], [7], [11]])
    for r, ex in enumerate([3, 7, 11]):
        assert list(i[r]) == expect(lambda _, x: x in subset and x != ex, r, 4)
    mask = np.zeros(500, bool)
    mask[[1, 2]] = True
    s, i = run(t, q, 4, path, restrict=mask)
    assert set(i[0, :2]) == {1, 2} and (i[:, 2:] == -1).all() and np.isneginf(s[:, 2:]).all()
    s, i = run(t, q, 3, path, restrict=0)
    assert (i == -1).all()


@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_invariance_threads_blocks_memmap(rng, tmp_path, metric):
    W = rng.standard_normal((3001, 33), dtype=np.float32)
    W[100] = W[2000]  # an exact tie across thread boundaries
    t = EmbeddingTable(W)
    tm = EmbeddingTable(make_memmap(tmp_path, W))
    for Q in (1, 3, 20, 40):  # 40 > GEMM_TRANSPOSED_MAX_Q: the direct tile orientation
        q = rng.standard_normal((Q, 33))
        q[0] = W[2000]
        base = run(t, q, 7, "scan", metric=metric, n_threads=1)
        for nt in (2, 3):
            for tt in (t, tm):
                got = run(tt, q, 7, "scan", metric=metric, n_threads=nt)
                np.testing.assert_array_equal(got[0], base[0])
                np.testing.assert_array_equal(got[1], base[1])
        for nb in (256, 1000):  # fixed tile shape per call; blocks never move with threads
            gbase = run(t, q, 7, "gemm", metric=metric, n_threads=1, block_rows=nb)
            for nt in (2, 3):
                got = run(tm, q, 7, "gemm", metric=metric, n_threads=nt, block_rows=nb)
                np.testing.assert_array_equal(got[0], gbase[0])
                np.testing.assert_array_equal(got[1], gbase[1])
            assert gbase[1][0][:2].tolist() == [100, 2000]  # the exact tie across blocks
            assert_topk_equivalent(*base, *gbase, tol=1e-5 * (1 if metric == "cosine" else 50))
        assert base[1][0][:2].tolist() == [100, 2000]


def test_norm_cache():
    W = np.array([[3, 4], [0, 0], [1, 0]], np.float32)
    t = EmbeddingTable(W)
    inv = t.inv_norms()
    assert inv is t.inv_norms()  # cached
    np.testing.assert_allclose(inv, [0.2, 0, 1])
    np.testing.assert_allclose(t.norms(), [5, 0, 1])
    np.testing.assert_allclose(t.norms(), ref.row_norms(W))
    assert not inv.flags.writeable
    t.invalidate_norms()
    assert t.inv_norms() is not inv
    assert t.words.similarity(0, 2) == pytest.approx(0.6) and t.words.similarity(0, 1) == 0.0
    assert t.words.similarity(np.array([1.0, 0.0]), 0) == pytest.approx(0.6)


def test_topk_errors(rng):
    t = EmbeddingTable(rng.standard_normal((20, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="query 1 has zero norm"):
        t.topk(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], float))
    with pytest.raises(ValueError, match="query 0 has NaN or infinite values"):
        t.topk(np.array([np.nan, 0, 0, 0]))
    with pytest.raises(ValueError, match="query 0 has NaN or infinite values"):
        t.topk(np.array([np.inf, 0, 0, 0]), metric="dot")
    with pytest.raises(ValueError, match="queries have dim 3 but the table has dim 4"):
        t.topk(np.ones(3))
    with pytest.raises(TypeError, match="queries must be floating point"):
        t.topk(np.ones(4, int))
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        t.topk(np.ones(4), k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        t.topk(np.ones(4), k=2.5)
    with pytest.raises(ValueError, match="metric must be 'cosine' or 'dot'"):
        t.topk(np.ones(4), metric="l2")
    with pytest.raises(IndexError, match="exclude id 20 is out of range for a table of 20 rows"):
        t.topk(np.ones(4), exclude=[20])
    with pytest.raises(IndexError, match="exclude id -1 is out of range"):
        t.topk(np.ones((2, 4)), exclude=[[1], [-1]])
    with pytest.raises(ValueError, match="per-query exclude has 1 lists for 2 queries"):
        t.topk(np.ones((2, 4)), exclude=[[1]])
    with pytest.raises(ValueError, match="restrict=21 must be between 0 and the table's 20 rows"):
        t.topk(np.ones(4), restrict=21)
    with pytest.raises(IndexError, match="restrict id 99 is out of range"):
        t.topk(np.ones(4), restrict=[1, 99])
    with pytest.raises(ValueError, match=r"boolean restrict mask must have shape \(20,\)"):
        t.topk(np.ones(4), restrict=np.ones(5, bool))
    with pytest.raises(ValueError, match=r"queries must be \(D,\) or \(Q, D\)"):
        t.topk(np.ones((1, 1, 4)))


@settings(max_examples=40, deadline=None)
@given(V=st.integers(1, 200), D=st.integers(1, 20), Q=st.integers(1, 20), k=st.integers(1, 30),
       seed=st.integers(0, 2 ** 16), path=st.sampled_from(PATHS), metric=st.sampled_from(["cosine", "dot"]),
       dup=st.booleans())
def test_hypothesis_topk(V, D, Q, k, seed, path, metric, dup):
    rng = np.random.default_rng(seed)
    W = rng.integers(-3, 4, (V, D)).astype(np.float32) if dup else rng.standard_normal((V, D), dtype=np.float32)
    q = rng.standard_normal((Q, D)) + 0.1
    t = EmbeddingTable(W)
    s, i = run(t, q, k, path, metric=metric)
    rs, ri = ref.topk(W, q, k, metric=metric)
    scale = 1.0 if metric == "cosine" else float(np.abs(W).max() * np.abs(q).max() * D + 1)
    assert_topk_equivalent(s, i, rs, ri, tol=2e-6 * scale)


# ------------------------------------------------------------------ a batch answers as each query alone

@pytest.mark.parametrize("D", [5, 16, 17, 100, 300, 700])
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_batch_equals_each_query_alone_bit_for_bit(rng, D, metric, simd_level):
    """The query-lane kernel (impl/tile.h, from half a vector of queries) and the row-tiled kernel
    (fewer queries) give every (query, row) the bits of the one-query scan: batch sizes on both
    sides of every level's switch, partial vectors of queries, dimensions with and without a
    partial 16-lane chunk, signed zeros (a -0.0 class sum meets the +0.0 the partial chunk adds),
    zero rows, exact ties, 1 and 2 threads."""
    V = 1037
    W = rng.standard_normal((V, D), dtype=np.float32)
    W[3] = -0.0
    W[5] = 0.0
    W[9] = W[8]  # an exact tie: the smaller id first
    W[11, : D // 2] = -0.0
    t = EmbeddingTable(W)
    for Q in (2, 3, 4, 7, 8, 9, 16, 17, 33, 64):
        q = rng.standard_normal((Q, D), dtype=np.float32)
        q[0, 1:] = -0.0
        alone = [t.topk(q[j], 9, metric=metric, strategy="scan", n_threads=1) for j in range(Q)]
        for nt in (1, 2):
            s, i = t.topk(q, 9, metric=metric, strategy="scan", n_threads=nt)
            for j, (s1, i1) in enumerate(alone):
                np.testing.assert_array_equal(i[j], i1, err_msg=f"Q={Q} query {j} n_threads={nt}")
                np.testing.assert_array_equal(s[j].view(np.int32), s1.view(np.int32),
                                              err_msg=f"Q={Q} query {j} n_threads={nt}")
