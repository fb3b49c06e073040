"""The overhead of fastembed.distributed (2 shards on a 2-worker Dask LocalCluster) against one local
table."""
from __future__ import annotations

import logging
import tempfile

import numpy as np

from fastembed.bench.timing import _fmt_time, _ratio, best_time, print_table, zipf_ids
from fastembed.distributed import ShardedTable, save_sharded
from fastembed.table import EmbeddingTable

__all__ = ["bench_distributed"]


# ------------------------------------------------------------------------------------------ distributed

def _dask_roundtrip(client) -> float:
    """Seconds for one trivial task: submit, run on a worker, gather (Dask's fixed cost per step)."""
    return best_time({"task": lambda: client.submit(int, 1, pure=False).result()}, rounds=3)["task"]


def bench_distributed(quick: bool, n_threads: int, rng) -> None:
    """Overhead of fastembed.distributed (2 shards on a 2-worker LocalCluster, files memory-mapped
    from local disk) against one local table in this process."""

    try:
        import distributed as dd
    except ImportError:
        print('\n### distributed\n\nskipped: dask is not installed (pip install "fastembed-engine[distributed]")')
        return
    rows, notes = [], []
    cluster = dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                              silence_logs=logging.ERROR)
    client = dd.Client(cluster)
    try:
        rt = _dask_roundtrip(client)
        with tempfile.TemporaryDirectory() as tmp:
            V, D = (400000, 100) if quick else (1000000, 100)
            W = rng.standard_normal((V, D), dtype=np.float32) * rng.uniform(0.5, 2, (V, 1)).astype(np.float32)
            t = EmbeddingTable(W)
            save_sharded(t, f"{tmp}/topk", 2)
            with ShardedTable.open(f"{tmp}/topk", client) as st:
                lo, hi = st.bounds[:2]
                shard = EmbeddingTable(W[lo:hi])  # what one worker computes, timed in this process
                for Q in (1, 256):
                    q = rng.standard_normal((Q, D), dtype=np.float32)
                    assert all(np.array_equal(x, y) for x, y in zip(st.topk(q, 10), t.topk(q, 10, n_threads=n_threads)))
                    r = best_time({"local": lambda: t.topk(q, 10, n_threads=n_threads),
                                   "shard": lambda: shard.topk(q, 10, n_threads=1),
                                   "sharded": lambda: st.topk(q, 10)}, rounds=3 if quick else 5, min_time=0.05)
                    rows.append([f"top-10 cosine, Q={Q}", f"{V}x{D}", _fmt_time(r["local"]), _fmt_time(r["sharded"]),
                                 _ratio(r["sharded"], r["local"]), "1.5x" if Q == 256 else "-",
                                 _fmt_time(r["shard"]), f"{2 * (q.nbytes + Q * 10 * 12) / 1e3:.1f} kB"])
            del t, W, shard
            V, D = 50257, 768
            W = rng.standard_normal((V, D), dtype=np.float32)
            t = EmbeddingTable(W)
            pos = rng.standard_normal((1024, D), dtype=np.float32)
            save_sharded(t, f"{tmp}/lookup", 2)
            with ShardedTable.open(f"{tmp}/lookup", client) as st:
                shape = (64, 512)
                out = np.empty(shape + (D,), np.float32)
                for dist in ("uniform", "zipf"):
                    ids = rng.integers(0, V, shape) if dist == "uniform" else zipf_ids(rng, V, shape)
                    assert np.array_equal(st.lookup(ids), t.lookup(ids))
                    uniq = np.unique(ids)
                    n_unique = uniq.size
                    moved = n_unique * (D * 4 + 8)
                    r = best_time({"fetch": lambda: st._fetch_rows(uniq, n_threads),  # the transfer alone
                                   "local": lambda: t.lookup(ids, n_threads=n_threads),
                                   "sharded": lambda: st.lookup(ids, n_threads=n_threads),
                                   "local_out": lambda: t.lookup(ids, out=out, n_threads=n_threads),
                                   "sharded_out": lambda: st.lookup(ids, out=out, n_threads=n_threads),
                                   "local_embed": lambda: t.embed(ids, pos, scale="sqrt", out=out, n_threads=n_threads),
                                   "sharded_embed": lambda: st.embed(ids, pos, scale="sqrt", out=out,
                                                                     n_threads=n_threads)},
                                  rounds=3 if quick else 5, min_time=0.05)
                    for what, a, b in (("lookup", "local", "sharded"), ("lookup out=", "local_out", "sharded_out"),
                                       ("embed out=", "local_embed", "sharded_embed")):
                        rows.append([f"{what} {shape} {dist}", f"{V}x{D}", _fmt_time(r[a]), _fmt_time(r[b]),
                                     _ratio(r[b], r[a]), "3x" if what == "lookup" else "-", "-",
                                     f"{moved / 1e6:.1f} MB ({n_unique} rows) in {_fmt_time(r['fetch'])}, "
                                     f"{moved / r['fetch'] / 1e9:.1f} GB/s"])
    finally:
        client.close()
        cluster.close()
    print_table(
        f"distributed: 2 shards on a LocalCluster of 2 worker processes x 1 thread vs one local table "
        f"(n_threads={n_threads})",
        ["operation", "table", "local", "sharded", "sharded/local", "target", "one shard alone",
         "bytes moved"], rows,
        [f"Dask's fixed cost per step on this machine: {_fmt_time(rt)} per trivial task (submit, run, gather). "
         "'one shard alone' is one worker's share (half the rows, 1 thread) timed in this process. "
         "Bytes moved: top-k sends the queries to each shard and gets Q x k (score, id) back from each; "
         "lookup/embed get each distinct row once (+ its id) and gather/add positions on the client; "
         "'in' is the time to fetch them (submit, gather on the shards, transfer), the rest is "
         "the client's assembly."] + notes)
