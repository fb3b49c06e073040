"""fastembed.distributed on a 2-worker LocalCluster: every answer equals one table's."""
import json
import logging
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

distributed = pytest.importorskip(
    "distributed", reason='fastembed.distributed needs dask: pip install "fastembed-engine[distributed]"')
dask = pytest.importorskip("dask")

import fastembed as fe  # noqa: E402
from fastembed import distributed as fd  # noqa: E402
from conftest import ID_DTYPES  # noqa: E402
from dask.sizeof import sizeof  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
V, D = 10000, 48               # the small table: shards of 5000 and 5000 rows (an even split)
BIG_V, BIG_D = 1000000, 100    # 400 MB: more than any worker may hold
MEMORY_LIMIT = 360 * 2 ** 20   # per worker: below the big table, above one of its shards + the process
LOGGERS = ("distributed", "tornado")


@pytest.fixture(scope="module")
def client():
    levels = {n: logging.getLogger(n).level for n in LOGGERS}
    for n in LOGGERS:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    # Memory-mapped shard pages count as a worker's unmanaged memory: Dask would pause the worker at
    # 80% of its limit and try to spill; the nanny still kills it at 95%, which is the limit we test.
    with dask.config.set({"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
                          "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": 0.95,
                          "distributed.admin.system-monitor.gil.enabled": False}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           memory_limit=MEMORY_LIMIT, dashboard_address=":0",
                                           silence_logs=logging.CRITICAL)
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()
            cluster.close()
    for n, lv in levels.items():
        logging.getLogger(n).setLevel(lv)


def _table(seed, n=V, d=D):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, d), dtype=np.float32) * rng.uniform(0.2, 3, (n, 1)).astype(np.float32)
    W[7] = 0.0  # a zero row: cosine 0, as one table scores it
    return fe.EmbeddingTable(W, vocab=[f"w{i}" for i in range(n)])


@pytest.fixture(scope="module")
def local():
    return _table(3)


@pytest.fixture(scope="module")
def sharded_dir(local, tmp_path_factory):
    d = tmp_path_factory.mktemp("sharded")
    fd.save_sharded(local, d, 2)
    return d


@pytest.fixture(scope="module")
def sharded(client, sharded_dir):
    with fd.ShardedTable.open(sharded_dir, client) as t:
        yield t


@pytest.fixture(scope="module")
def sharded3(client, local):
    """Three shards on two workers (one holds two), scattered from the client."""
    t = fd.ShardedTable.from_array(local, client, n_shards=3)
    yield t
    t.close()


def assert_same(a, b):
    """Bit-identical top-k answers: scores and ids."""
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------------ layout and files

def test_shard_bounds():
    np.testing.assert_array_equal(fd.shard_bounds(10000, 2), [0, 5000, 10000])
    np.testing.assert_array_equal(fd.shard_bounds(2000, 2), [0, 1000, 2000])  # small tables shard (issue 26)
    np.testing.assert_array_equal(fd.shard_bounds(10000, 2, align=2048), [0, 4096, 10000])
    np.testing.assert_array_equal(fd.shard_bounds(10, 3, align=1), [0, 3, 7, 10])
    np.testing.assert_array_equal(fd.shard_bounds(5, 1), [0, 5])
    with pytest.raises(ValueError, match="2 shards of a table of 5 rows with boundaries at multiples of 2048 "
                                         "rows leave shard 0 empty"):
        fd.shard_bounds(5, 2, align=2048)
    with pytest.raises(ValueError, match="6 shards of a table of 5 rows with boundaries at multiples of 1 "
                                         "rows leave shard 2 empty"):
        fd.shard_bounds(5, 6)
    with pytest.raises(ValueError, match="n_shards must be at least 1, got 0"):
        fd.shard_bounds(5, 0)
    with pytest.raises(ValueError, match="align must be at least 1, got 0"):
        fd.shard_bounds(5, 1, align=0)


def test_save_sharded_manifest(local, sharded_dir):
    m = json.loads((sharded_dir / fd.MANIFEST).read_text())
    assert (m["format"], m["version"], m["rows"], m["dim"], m["dtype"]) == ("fastembed-sharded", 1, V, D, "float32")
    assert [(s["lo"], s["hi"], s["rows"]) for s in m["shards"]] == [(0, 5000, 5000), (5000, V, V - 5000)]
    for s in m["shards"]:
        f = sharded_dir / s["file"]
        assert f.stat().st_size == s["bytes"] and len(s["sha256"]) == 64
        np.testing.assert_array_equal(fe.load(sharded_dir / s["path"], mmap=True).weights,
                                      local.weights[s["lo"]:s["hi"]])
    assert fe.load(sharded_dir / "vocab").vocab == local.vocab
    with pytest.raises(TypeError, match="save_sharded takes an EmbeddingTable, got ndarray"):
        fd.save_sharded(local.weights, sharded_dir, 2)
    with pytest.raises(ValueError, match="format must be one of"):
        fd.save_sharded(local, sharded_dir, 2, format="glove")


def test_save_sharded_needs_no_dask(tmp_path):
    """The module imports and writes shard files where dask is not installed."""
    code = ("import sys; sys.modules.update(dask=None, distributed=None)\n"
            "import numpy as np, fastembed as fe, fastembed.distributed as fd\n"
            f"m = fd.save_sharded(fe.EmbeddingTable(np.ones((5000, 3), np.float32)), {str(tmp_path)!r}, 2)\n"
            "print(len(m['shards']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "2", r.stderr


def test_open_reports_manifest_problems(client, tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"{tmp_path / fd.MANIFEST}: no sharded-table manifest")):
        fd.ShardedTable.open(tmp_path, client)
    (tmp_path / fd.MANIFEST).write_text('{"format": "fastembed-sharded",\n "version": }')
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / fd.MANIFEST}, line 2: invalid JSON")):
        fd.ShardedTable.open(tmp_path, client)
    (tmp_path / fd.MANIFEST).write_text('{"format": "other", "version": 1}')
    with pytest.raises(ValueError, match="expected format 'fastembed-sharded' version 1, got 'other'"):
        fd.ShardedTable.open(tmp_path, client)


def _broken_copy(src, dst, fname, damage):
    shutil.copytree(src, dst)
    m = json.loads((dst / fd.MANIFEST).read_text())
    f = dst / m["shards"][1][fname]
    damage(f)
    return f


def test_missing_shard_file_is_named(client, sharded_dir, tmp_path):
    f = _broken_copy(sharded_dir, tmp_path / "t", "file", os.remove)
    with pytest.raises(FileNotFoundError, match=re.escape(f"{f}: the file of shard 1 (rows 5000..9999)")):
        fd.ShardedTable.open(tmp_path / "t", client)


def test_truncated_shard_file_is_named(client, sharded_dir, tmp_path):
    def truncate(f):
        with open(f, "r+b") as h:
            h.truncate(os.path.getsize(f) - 100)
    f = _broken_copy(sharded_dir, tmp_path / "t", "file", truncate)
    with pytest.raises(ValueError, match=re.escape(f"{f}: ") + r"\d+ bytes where the manifest says \d+ "
                                         r"\(shard 1 .* is truncated or was replaced\)"):
        fd.ShardedTable.open(tmp_path / "t", client)


def test_corrupt_shard_file_is_named(client, sharded_dir, tmp_path):
    def flip(f):
        with open(f, "r+b") as h:
            h.seek(-5, 2)
            b = h.read(1)
            h.seek(-5, 2)
            h.write(bytes([b[0] ^ 0xFF]))
    f = _broken_copy(sharded_dir, tmp_path / "t", "file", flip)
    fd.ShardedTable.open(tmp_path / "t", client).close()  # same size and header: only a checksum tells
    with pytest.raises(ValueError, match=re.escape(f"{f}: SHA-256 ") + r"[0-9a-f]{64} differs from the "
                                         r"manifest's [0-9a-f]{64} \(shard 1 .* is corrupt\)"):
        fd.ShardedTable.open(tmp_path / "t", client, verify=True)


def test_unreadable_shard_file_is_named(client, sharded_dir, tmp_path):
    def garble(f):
        with open(f, "r+b") as h:
            h.write(b"garbage!")
    f = _broken_copy(sharded_dir, tmp_path / "t", "file", garble)
    with pytest.raises(ValueError, match=re.escape(f"{f}: cannot read shard 1")):
        fd.ShardedTable.open(tmp_path / "t", client)


def test_safetensors_shards(client, local, tmp_path):
    fd.save_sharded(local, tmp_path, 2, format="safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "shard-00000.safetensors",
                                                          "shard-00001.safetensors", "vocab"]
    ids = np.arange(V)[::-1].reshape(100, 100)
    with fd.ShardedTable.open(tmp_path, client, verify=True) as t:
        np.testing.assert_array_equal(t.lookup(ids), local.lookup(ids))
        q = local.weights[20:40]
        assert_same(t.topk(q, 5), local.topk(q, 5))


# ------------------------------------------------------------------ lookup and embed

@pytest.mark.parametrize("dtype", ID_DTYPES)
def test_lookup_equals_one_table(sharded, local, dtype):
    rng = np.random.default_rng(0)
    hi = min(V, np.iinfo(dtype).max + 1)
    for shape in [(7, 33), (5,), ()]:
        ids = rng.integers(0, hi, shape).astype(dtype)
        np.testing.assert_array_equal(sharded.lookup(ids), local.lookup(ids))


def test_lookup_edges(sharded, sharded3, local):
    for t in (sharded, sharded3):
        for ids in (np.zeros(0, np.int64), np.zeros((2, 0), np.uint8), [0], [V - 1], [4999, 5000, 4999, 0, V - 1, 5000], np.zeros((3, 4), np.int64)):
            got = t.lookup(ids)
            np.testing.assert_array_equal(got, local.lookup(ids))
            assert got.dtype == np.float32 and got.shape == np.shape(ids) + (D,)
        out = np.empty((2, 3, D), np.float32)
        ids = [[1, 5000, 9999], [5000, 4999, 1]]
        assert t.lookup(ids, out=out) is out
        np.testing.assert_array_equal(out, local.lookup(ids))
        np.testing.assert_array_equal(t[["w3", "w9000"]], local[["w3", "w9000"]])


def test_lookup_errors_match_one_table(sharded, local):
    for bad in ([[1, 2, 3], [4, 5, V]], [[1, -1]], np.array([[0], [V + 7]], np.uint32)):
        with pytest.raises(IndexError) as one:
            local.lookup(bad)
        with pytest.raises(IndexError, match=re.escape(str(one.value))):
            sharded.lookup(bad)
    with pytest.raises(IndexError, match=re.escape(f"id {V} at position (1, 2) is out of range for a table "
                                                   f"of {V} rows")):
        sharded.lookup([[1, 2, 3], [4, 5, V]])
    with pytest.raises(TypeError, match="ids must be an integer array, got dtype float64"):
        sharded.lookup([1.5])
    with pytest.raises(ValueError, match=re.escape(f"out has shape (2, {D}), expected (3, {D})")):
        sharded.lookup([1, 2, 3], out=np.empty((2, D), np.float32))
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        sharded.lookup(["w1", "nope"])


def test_embed_equals_one_table(sharded, sharded3, local):
    rng = np.random.default_rng(1)
    pos = rng.standard_normal((64, D), dtype=np.float32)
    types = rng.standard_normal((2, D), dtype=np.float32)
    ids = rng.integers(0, V, (4, 16))
    cases = [dict(), dict(scale="sqrt"), dict(offset=[0, 3, 40, 48], scale=2.0),
             dict(position_ids=rng.integers(0, 64, (4, 16)), token_types=rng.integers(0, 2, (4, 16)),
                  type_table=types)]
    for t in (sharded, sharded3):
        for kw in cases:
            np.testing.assert_array_equal(t.embed(ids, pos, **kw), local.embed(ids, pos, **kw))
        np.testing.assert_array_equal(t.embed(ids[0], pos), local.embed(ids[0], pos))
        np.testing.assert_array_equal(t.embed(np.zeros((2, 0), np.int64), pos), local.embed(np.zeros((2, 0), np.int64), pos))
    with pytest.raises(IndexError) as one:
        local.embed(ids, pos, offset=49)
    with pytest.raises(IndexError, match=re.escape(str(one.value))):
        sharded.embed(ids, pos, offset=49)
    with pytest.raises(IndexError, match=re.escape(f"id {V} at position (0, 1) is out of range for a table of {V} rows")):
        sharded.embed([[0, V]], pos)


# ------------------------------------------------------------------ top-k

@pytest.mark.parametrize("Q", [1, 3, 20, 256])
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_topk_bit_identical(sharded, sharded3, local, Q, metric):
    """Q=1 runs the scan path, Q=20 the skinny GEMM tiles, Q=256 the wide GEMM tiles."""
    rng = np.random.default_rng(Q)
    q = rng.standard_normal((Q, D))
    want = local.topk(q, 10, metric=metric)
    for t in (sharded, sharded3):
        for merge in ("client", "tree"):
            assert_same(t.topk(q, 10, metric=metric, merge=merge), want)
    assert_same(sharded.topk(q[0], 4, metric=metric), local.topk(q[0], 4, metric=metric))


def test_topk_options_bit_identical(sharded, sharded3, local):
    rng = np.random.default_rng(5)
    q = rng.standard_normal((40, D)).astype(np.float32)
    mask = rng.random(V) < 0.3
    cases = [dict(k=1), dict(k=V + 5), dict(exclude=[0, 4999, 5000, 9999, 17]),
             dict(exclude=[list(rng.integers(0, V, 3)) for _ in range(40)]),
             dict(exclude=[[] for _ in range(40)]), dict(exclude=[{1, 2}, set()] * 20),
             dict(restrict=100), dict(restrict=5000), dict(restrict=6000), dict(restrict=0), dict(restrict=V),
             dict(restrict=np.array([5, 6000, 5000, 5])), dict(restrict=np.array([], np.int64)),
             dict(restrict=mask), dict(restrict=np.arange(V) < 10, exclude=[3]),
             dict(restrict=3, k=5, metric="dot")]
    for kw in cases:
        kw = dict(kw)
        k = kw.pop("k", 10)
        want = local.topk(q, k, **kw)
        for t in (sharded, sharded3):
            assert_same(t.topk(q, k, **kw), want)
    assert_same(sharded.topk("w5", 3), local.topk("w5", 3))
    assert_same(sharded.topk(["w5", "w6000"], 3), local.topk(["w5", "w6000"], 3))
    empty = sharded.topk(np.zeros((0, D)), 3)
    assert empty[0].shape == (0, 3) and empty[1].shape == (0, 3)


def test_large_arguments_are_scattered(sharded, local, monkeypatch):
    """Arguments over SCATTER_MIN_BYTES travel as scattered data, with the same answers."""
    monkeypatch.setattr(fd, "SCATTER_MIN_BYTES", 0)
    rng = np.random.default_rng(6)
    q = rng.standard_normal((30, D))
    for kw in (dict(exclude=[list(rng.integers(0, V, 4)) for _ in range(30)], restrict=rng.random(V) < 0.5),
               dict(exclude=np.arange(0, V, 3), restrict=np.arange(100, 9000))):
        assert_same(sharded.topk(q, 7, **kw), local.topk(q, 7, **kw))
    ids = rng.integers(0, V, (9, 40))
    np.testing.assert_array_equal(sharded.lookup(ids), local.lookup(ids))


def test_topk_errors_match_one_table(sharded, local):
    q = np.ones(D)
    cases = [(np.zeros(D), {}), (np.ones(D + 1), {}), (np.full(D, np.nan), {}), (q, {"k": 0}),
             (q, {"k": 2.0}), (q, {"metric": "l2"}), (np.ones(D, np.int32), {}),
             (q, {"restrict": V + 1}), (q, {"restrict": np.ones(3, bool)}), (q, {"restrict": "x"}),
             (np.ones((2, D)), {"exclude": [[1], [2], [3]]}), (q, {"exclude": [1, V]}),
             (np.ones((2, D)), {"exclude": [[1], [-1]]}), (q, {"exclude": [1.5]}),
             (q, {"restrict": np.array([-1])}), (q, {"restrict": np.array([[1]])}),
             (q, {"strategy": "fast"}), (np.ones((40, D)), {"block_rows": 0})]
    for queries, kw in cases:
        with pytest.raises(Exception) as one:
            local.topk(queries, **kw)
        with pytest.raises(type(one.value), match=re.escape(str(one.value))):
            sharded.topk(queries, **kw)
    with pytest.raises(IndexError, match=f"exclude id {V} is out of range for a table of {V} rows"):
        sharded.topk(q, exclude=[1, V])
    with pytest.raises(ValueError, match="merge must be 'auto', 'client' or 'tree', got 'x'"):
        sharded.topk(q, merge="x")
    for call in (lambda t: t.topk(q, n_threads=0), lambda t: t.lookup([1], n_threads=0),
                 lambda t: t.embed([[1]], np.ones((4, D), np.float32), n_threads=0)):
        with pytest.raises(ValueError, match="n_threads=0 is not a thread count"):
            call(local)
        with pytest.raises(ValueError, match="n_threads=0 is not a thread count"):
            call(sharded)


def _merge_reference(parts, k):
    """Python's sort of every (score, id) pair: score descending, then the smaller id; empties last."""
    s = np.concatenate([p[0] for p in parts], 1)
    i = np.concatenate([p[1] for p in parts], 1)
    out_s, out_i = np.full((s.shape[0], k), -np.inf, np.float32), np.full((s.shape[0], k), -1, np.int64)
    for q in range(s.shape[0]):
        best = sorted(zip(s[q].tolist(), i[q].tolist()), key=lambda x: (x[1] < 0, -x[0], x[1]))[:k]
        for j, (sc, ix) in enumerate(best):
            out_s[q, j], out_i[q, j] = sc, ix
    return out_s, out_i


SCORES = np.array([0.5, -0.0, 0.0, -1.5, 2.0, 1e-30, -1e-30, 3.4e38, -3.4e38, 0.25], np.float32)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2 ** 32), st.integers(1, 5), st.integers(0, 4), st.integers(1, 12),
       st.sampled_from([1000, 2 ** 40]))
def test_merge_topk_equals_sorting(seed, n_parts, Q, k, id_range):
    """Both merge paths (one 64-bit key for ids < 2**32 - 1, a lexsort above) against sorted()."""
    rng = np.random.default_rng(seed)
    widths = rng.integers(0, 8, n_parts)
    pool = rng.choice(id_range, (Q, int(widths.sum())), replace=False)  # shards hold disjoint rows
    parts = []
    for p, kk in enumerate(widths):
        sc = rng.choice(SCORES, (Q, kk))
        ids = pool[:, widths[:p].sum():widths[:p + 1].sum()].copy()
        if kk:  # empty slots, as a shard with fewer candidates than k pads
            gone = rng.random(Q) < 0.3
            ids[gone, -1], sc[gone, -1] = -1, -np.inf
        parts.append((sc, ids))
    got, want = fd.merge_topk(parts, k), _merge_reference(parts, k)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0].view(np.uint32), want[0].view(np.uint32))  # bits, -0.0 included


def test_merge_topk_tie_rule():
    s = np.array([[0.5, 0.5, -np.inf]], np.float32)
    parts = [(s, np.array([[9, 4, -1]])), (np.array([[0.5, 0.7]], np.float32), np.array([[2, 11]]))]
    ms, mi = fd.merge_topk(parts, 4)
    np.testing.assert_array_equal(mi, [[11, 2, 4, 9]])
    np.testing.assert_array_equal(ms, np.array([[0.7, 0.5, 0.5, 0.5]], np.float32))
    ms, mi = fd.merge_topk([(np.array([[0.1]], np.float32), np.array([[3]]))], 3)
    np.testing.assert_array_equal(mi, [[3, -1, -1]])
    assert np.isneginf(ms[0, 1:]).all()


# ------------------------------------------------------------------ words

def test_most_similar_equals_one_table(sharded, local):
    v = local.weights[11] + 0.5
    for kw in (dict(positive="w5"), dict(positive=["w5", "w6000"], negative="w9"), dict(positive=[5, "w7000"]),
               dict(positive="w4097", topn=3, restrict_vocab=4100), dict(positive=[v], negative=["w1"])):
        assert sharded.words.most_similar(**kw) == local.words.most_similar(**kw)
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        sharded.words.most_similar("nope")
    for kw in (dict(positive=V), dict(positive="w3", negative="w3"), dict(), dict(positive="w3", topn=-1),
               dict(positive=[np.full(D, np.nan)])):
        with pytest.raises(Exception) as one:
            local.words.most_similar(**kw)
        with pytest.raises(type(one.value), match=re.escape(str(one.value))):
            sharded.words.most_similar(**kw)
    with pytest.raises(IndexError, match=f"id {V} at position \\(0,\\) is out of range for a vocabulary of {V} rows"):
        sharded.words.most_similar(V)
    assert sharded.words.most_similar("w5", topn=0) == []
    for kw in (dict(), dict(restrict_vocab=6000), dict(restrict_vocab=100)):
        np.testing.assert_array_equal(sharded.words.most_similar("w5", topn=None, **kw),
                                      local.words.most_similar("w5", topn=None, **kw))
    for kw in (dict(positive="w5"), dict(positive=["w5", v], negative="w9", topn=4),
               dict(positive="w4097", restrict_vocab=5000)):
        assert sharded.words.most_similar_cosmul(**kw) == local.words.most_similar_cosmul(**kw)


def test_analogies_equal_one_table(sharded, sharded3, local):
    rng = np.random.default_rng(9)
    a, b, c = rng.integers(0, V, (3, 64))  # 192 distinct words for 64 questions: one table's direct path
    want = local.words.analogy_ids(a, b, c, topn=3)
    for t in (sharded, sharded3):
        assert_same(t.words.analogy_ids(a, b, c, topn=3), want)
        assert_same(t.words.analogy_ids(a, b, c, topn=2, restrict_vocab=5000),
                    local.words.analogy_ids(a, b, c, topn=2, restrict_vocab=5000))
        ex = [[int(x)] for x in a]
        assert_same(t.words.analogy_ids(a, b, c, exclude=ex), local.words.analogy_ids(a, b, c, exclude=ex))
        for kw in (dict(method="mul"), dict(method="mul", restrict_vocab=7000, topn=4), dict(topn=0),
                   dict(strategy="scan"), dict(strategy="gemm", topn=2)):
            assert_same(t.words.analogy_ids(a, b, c, **kw), local.words.analogy_ids(a, b, c, **kw))
    # few distinct words for many questions: one table's shared-word scorer, run on every shard
    a, b, c = rng.integers(20, 40, (3, 200))  # (row 7 is zero: no zero queries here)
    for t in (sharded, sharded3):
        for kw in (dict(topn=5), dict(topn=3, restrict_vocab=4500), dict(method="mul", topn=2)):
            assert_same(t.words.analogy_ids(a, b, c, **kw), local.words.analogy_ids(a, b, c, **kw))
    assert sharded.words.analogy(["w1", "w2"], ["w3", "w4"], ["w5", "w6"], topn=2) == \
        local.words.analogy(["w1", "w2"], ["w3", "w4"], ["w5", "w6"], topn=2)
    assert sharded.words.analogy("w1", "w3", "w5") == local.words.analogy("w1", "w3", "w5")
    with pytest.raises(IndexError, match=f"b id {V} at position \\(1,\\) is out of range for a table of {V} rows"):
        sharded.words.analogy_ids([1, 2], [3, V], [4, 5])
    with pytest.raises(TypeError, match="a must be an integer array, got dtype float64"):
        sharded.words.analogy_ids([1.9], [2], [3])
    with pytest.raises(ValueError, match="a, b and c must have equal lengths, got 2, 1, 1"):
        sharded.words.analogy_ids([1, 2], [2], [3])
    with pytest.raises(ValueError, match="method must be 'add' or 'mul', got 'x'"):
        sharded.words.analogy_ids([1], [2], [3], method="x")
    with pytest.raises(ValueError, match="question 0: b - a \\+ c is the zero vector"):
        sharded.words.analogy_ids([3], [3], [7])  # row 7 is zero


# ------------------------------------------------------------------ dask.array and scattered shards

def test_to_dask(sharded, sharded3, local):
    x = sharded.to_dask()
    assert x.chunks == ((5000, V - 5000), (D,)) and x.dtype == np.float32
    np.testing.assert_array_equal(x.compute(), local.weights)
    norms = x.map_blocks(lambda b: np.sqrt((b.astype(np.float64) ** 2).sum(1))[:, None], chunks=(x.chunks[0], (1,)))
    np.testing.assert_allclose(norms.compute()[:, 0], local.norms(), rtol=1e-6)
    y = sharded3.to_dask()
    assert y.numblocks == (3, 1)
    np.testing.assert_array_equal(y[4000:7000].compute(), local.weights[4000:7000])


def test_from_array(client, local):
    W = np.asarray(local.weights, np.float64)[:3000]  # converted to float32 like one table
    with fd.ShardedTable.from_array(W, client, n_shards=2, align=1) as t:
        assert t.n_shards == 2 and t.vocab is None and len(t) == 3000
        np.testing.assert_array_equal(t.bounds, [0, 1500, 3000])
        np.testing.assert_array_equal(t.lookup([2999, 0, 1500]), local.weights[[2999, 0, 1500]])
        part = fd._MemoryShard(0, 0, 1500, W[:1500].astype(np.float32))
        assert sizeof(part) >= 1500 * D * 4  # Dask counts scattered rows as managed memory
        with pytest.raises(TypeError, match="this table has no vocabulary"):
            t.words.most_similar("w1")
    with pytest.raises(ValueError, match="this ShardedTable is closed"):
        t.lookup([1])


# ------------------------------------------------------------------ memory and faults

def _rss(dask_worker):
    import psutil
    return psutil.Process().memory_info().rss


def test_table_larger_than_any_worker(client, tmp_path):
    """A 400 MB table on workers limited to 360 MB each: each opens only its own shard (the nanny
    would kill a worker past 95% of its limit) and the answers equal one table's."""
    rng = np.random.default_rng(2)
    big = fe.EmbeddingTable(rng.standard_normal((BIG_V, BIG_D), dtype=np.float32))
    assert big.weights.nbytes > MEMORY_LIMIT
    fd.save_sharded(big, tmp_path, 2)
    workers_before = set(client.ncores())
    with fd.ShardedTable.open(tmp_path, client) as t:
        for Q in (1, 256):
            q = rng.standard_normal((Q, BIG_D))
            assert_same(t.topk(q, 10), big.topk(q, 10))
        ids = rng.integers(0, BIG_V, (64, 512))
        np.testing.assert_array_equal(t.lookup(ids), big.lookup(ids))
        opened = client.run(fd._opened)
        held = [[tok for tok in toks if tok.startswith(str(tmp_path))] for toks in opened.values()]
        assert sorted(len(h) for h in held) == [1, 1] and held[0] != held[1]
        rss = client.run(_rss)
        assert all(r < 0.95 * MEMORY_LIMIT for r in rss.values()), rss
    assert set(client.ncores()) == workers_before  # no worker was killed for memory


class _KillOnce(distributed.WorkerPlugin):
    """SIGKILL the worker process as it starts the first task whose key has the prefix."""

    def __init__(self, marker, prefix):
        self.marker, self.prefix = marker, prefix

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith(self.prefix) and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_mid_query(client, local, sharded_dir, tmp_path):
    rng = np.random.default_rng(4)
    q = rng.standard_normal((256, D))
    want = local.topk(q, 10)
    marker = tmp_path / "killed"
    with fd.ShardedTable.open(sharded_dir, client) as t:
        victim = t._homes[1]
        client.register_plugin(_KillOnce(str(marker), "fastembed-topk-1-"), name="kill-once")
        try:
            assert_same(t.topk(q, 10), want)
        finally:
            client.unregister_worker_plugin("kill-once")
        assert marker.exists()  # shard 1's task did start on a worker that then died
        assert victim not in client.ncores() and t._homes[1] in client.ncores()
        ids = rng.integers(0, V, (8, 64))
        np.testing.assert_array_equal(t.lookup(ids), local.lookup(ids))
    client.wait_for_workers(2, timeout=60)



@pytest.mark.parametrize("shards, what", [("5", "'shards' must be a non-empty list"),
                                          ("[1, 2]", "shard 0 must be an object"),
                                          ("[]", "'shards' must be a non-empty list"),
                                          ('[{"lo": 0, "hi": 2, "rows": 2, "path": 3, "bytes": 1, "sha256": "x"}]',
                                           "shard 0's 'path' must be a str, got 3"),
                                          ('[{"lo": 0, "hi": 2, "rows": 2, "path": "../x", "bytes": 1, "sha256": "x"}]',
                                           "must be relative to the manifest's directory")])
def test_malformed_shard_lists_name_the_manifest(client, tmp_path, shards, what):
    """Issue 26, finding 5: a manifest whose shards are not a list of entries is a ValueError
    naming the manifest (not a TypeError / AttributeError)."""
    (tmp_path / fd.MANIFEST).write_text('{"format": "fastembed-sharded", "version": 1, "rows": 2, "dim": 3, '
                                        '"dtype": "float32", "shard_format": "native", "shards": ' + shards + "}")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path / fd.MANIFEST)) + ": .*" + re.escape(what)):
        fd.ShardedTable.open(tmp_path, client)


def test_threaded_cluster_answers_equal_one_table_under_concurrency(sharded_dir, local):
    """Issue 26, finding 1 through Dask: on a thread-based LocalCluster (the README demo's set-up,
    processes=False) batched top-k calls running at the same time from several client threads give
    one table's ids and score bits every time, and leave numpy's BLAS thread count alone."""
    import threading
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl reads the BLAS thread count")

    def blas():
        return [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]

    before = blas()
    rng = np.random.default_rng(26)
    queries = [rng.standard_normal((64, D), dtype=np.float32) for _ in range(4)]
    expected = [local.topk(q, k=5) for q in queries]
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=2, dashboard_address=":0",
                                  silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as c:
        with fd.ShardedTable.open(sharded_dir, c) as t:
            errors = []

            def ask(i):
                try:
                    for _ in range(3):
                        assert_same(t.topk(queries[i], k=5), expected[i])
                except Exception as exc:  # collected, raised below
                    errors.append(exc)

            threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert not errors, errors[0]
    assert blas() == before
