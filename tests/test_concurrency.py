"""The thread-safety contract of EmbeddingTable (see the README and fastembed/table.py), under
stress: 8 reader threads and 1 writer.

* concurrent reads are safe; writes are serialised;
* the norm cache is never stale: after a write returns, ``inv_norms()`` equals a fresh computation;
* rows that no write touches always score exactly, whatever runs concurrently.

``FASTEMBED_STRESS_SECONDS`` (default 1.5) sets how long it runs; the release check runs it for 30 s:
``FASTEMBED_STRESS_SECONDS=30 python -m pytest tests/test_concurrency.py``.
"""
import os
import threading
import time

import numpy as np

from fastembed import EmbeddingTable
from fastembed.optim import Adagrad

SECONDS = float(os.environ.get("FASTEMBED_STRESS_SECONDS", "1.5"))


def test_readers_and_a_writer_under_the_contract():
    rng = np.random.default_rng(0)
    V, D = 4000, 64
    t = EmbeddingTable(rng.standard_normal((V, D), dtype=np.float32))
    half = V // 2  # the writer only touches rows [0, half); readers check rows [half, V)
    frozen = np.array(t.weights[half:])
    stop = threading.Event()
    errors = []
    counts = {"reads": 0, "writes": 0, "cache_checks": 0}

    def reader(seed):
        r = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                rows = r.integers(half, V, 3)
                q = frozen[rows - half]
                s, i = t.topk(q, 2, restrict=np.arange(half, V))
                if not (i[:, 0] == rows).all() or np.abs(s[:, 0] - 1).max() > 1e-5:
                    errors.append(f"reader: untouched rows {rows} answered {i[:, 0]} {s[:, 0]}")
                got = t.lookup(rows)
                if not np.array_equal(got, q):
                    errors.append("reader: an untouched row changed")
                t.inv_norms()  # races the writer to fill the cache
                counts["reads"] += 1
        except Exception as e:  # noqa: BLE001 - any exception is a failure of the contract
            errors.append(f"reader raised {e!r}")

    def writer():
        r = np.random.default_rng(99)
        opt = Adagrad(t, lr=0.05)
        try:
            while not stop.is_set():
                ids = np.unique(r.integers(0, half, 50))
                g = r.standard_normal((ids.size, D), dtype=np.float32)
                if r.random() < 0.5:
                    opt.step(ids, g)
                else:
                    t.scatter_add(ids, g, 0.01)
                counts["writes"] += 1
                # after the write returned, the cache must describe the rows as they are now
                fresh = EmbeddingTable(np.array(t.weights)).inv_norms()
                if not np.array_equal(t.inv_norms(), fresh):
                    errors.append("stale norm cache after a write returned")
                counts["cache_checks"] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"writer raised {e!r}")

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(8)] + [threading.Thread(target=writer)]
    for th in threads:
        th.start()
    time.sleep(SECONDS)
    stop.set()
    for th in threads:
        th.join(60)
    assert not errors, errors[:5]
    assert counts["writes"] > 5 and counts["reads"] > 20 and counts["cache_checks"] > 5, counts


def test_cache_filled_during_a_write_is_discarded():
    # deterministic version of the race: a fill that overlaps a write must not be stored
    t = EmbeddingTable(np.ones((4, 2), np.float32))
    with t.writing() as w:
        stale = t.inv_norms()          # computed while the write runs: not cached
        w[1] = [3.0, 4.0]
    assert stale[1] == np.float32(1 / np.sqrt(2))
    assert t.inv_norms()[1] == np.float32(0.2)


def test_read_only_tables_refuse_writes(tmp_path):
    t = EmbeddingTable(np.ones((3, 2), np.float32))
    t2 = EmbeddingTable(t.weights, copy=False)  # a read-only view, shared
    import pytest
    with pytest.raises(ValueError, match="read-only"):
        with t2.writing():
            pass
    with pytest.raises(ValueError, match="read-only"):
        t2.scatter_add([0], np.ones((1, 2)))


def test_concurrent_batched_topk_is_deterministic_and_leaves_blas_alone():
    """Issue 26, finding 1: batched top-k calls running in several threads at once, each with its
    own n_threads, give the single-threaded answer bit for bit, and the process' BLAS thread count
    is what it was (batched scoring has no BLAS and changes no global setting)."""
    import pytest
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl reads the BLAS thread count")
    rng = np.random.default_rng(5)
    t = EmbeddingTable(rng.standard_normal((6000, 48)).astype(np.float32), vocab=[f"w{i}" for i in range(6000)])
    qs = [rng.standard_normal((64, 48)) for _ in range(4)]
    want = {(j, s): t.topk(q, 9, strategy=s, n_threads=1) for j, q in enumerate(qs) for s in ("gemm", "scan")}
    a, b, c = (rng.integers(0, 6000, 200) for _ in range(3))
    want_analogy = t.words.analogy_ids(a, b, c, topn=3, n_threads=1)
    blas_before = [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    errors = []

    def worker(wid):
        try:
            for m in range(12):
                j, s = (wid + m) % 4, ("gemm", "scan")[m % 2]
                got = t.topk(qs[j], 9, strategy=s, n_threads=1 + (wid + m) % 3)
                assert np.array_equal(got[0].view(np.int32), want[(j, s)][0].view(np.int32))
                assert np.array_equal(got[1], want[(j, s)][1])
                if m % 4 == 0:
                    ga = t.words.analogy_ids(a, b, c, topn=3, n_threads=1 + wid % 2)
                    assert np.array_equal(ga[1], want_analogy[1]) and np.array_equal(ga[0], want_analogy[0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]
    blas_after = [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    assert blas_after == blas_before


def test_every_strategy_block_size_and_thread_count_gives_the_same_bits():
    """Scores come from one fixed-order dot product on every path (impl/tile.h), so a query's
    answer does not depend on the strategy, the block height, the thread count or its batch."""
    rng = np.random.default_rng(9)
    W = rng.standard_normal((2501, 37)).astype(np.float32)
    W[7] = W[2400]  # an exact tie
    t = EmbeddingTable(W)
    q = rng.standard_normal((33, 37))
    q[3] = W[2400]
    base = t.topk(q, 6, strategy="scan", n_threads=1)
    for strategy in ("scan", "gemm"):
        for nt in (1, 2, 3):
            for nb in ((None, 1, 100, 4096) if strategy == "gemm" else (None,)):
                got = t.topk(q, 6, strategy=strategy, n_threads=nt, block_rows=nb)
                np.testing.assert_array_equal(got[0].view(np.int32), base[0].view(np.int32))
                np.testing.assert_array_equal(got[1], base[1])
    for i in (0, 3, 32):  # each query asked alone gets the batch's answer
        alone = t.topk(q[i], 6)
        np.testing.assert_array_equal(alone[0].view(np.int32), base[0][i].view(np.int32))
        np.testing.assert_array_equal(alone[1], base[1][i])
