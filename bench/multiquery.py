"""Multi-query top-k against its limits and peers (issue 28's targets), one table per SIMD level.

    python bench/multiquery.py [--quick] [--simd avx2] [--limits-from FILE]

Rows: Q = 1 / 16 on 1M x 100 and 400k x 300 (target: Q=16 <= 1.4x the Q=1 time, >= 4x torch mm +
topk) and Q = 64 / 256 on 50257 x 768 and 1M x 100 (target: >= 0.75 of the measured SGEMM rate
including the selection, >= 1.2x faiss IndexFlatIP). Columns: our time, peers, ratios, and the
limit (max of the table read at the two-thread read rate and 2 Q V D flops at numpy's SGEMM rate)
with the fraction of it we reach.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limits as L  # noqa: E402

from fastembed import EmbeddingTable  # noqa: E402
from fastembed._kernels import _simd  # noqa: E402
from fastembed._validate import as_queries  # noqa: E402


def _opt(name):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001
        return None


CASES = [((1000000, 100), (1, 16, 64, 256)), ((400000, 300), (1, 16)), ((50257, 768), (1, 16, 64, 256))]
QUICK_CASES = [((200000, 100), (1, 16, 64)), ((50257, 768), (1, 64))]


def table(lim: L.Limits, n_threads: int, quick: bool, k: int = 10, rounds: int = 5):
    torch, faiss = _opt("torch"), _opt("faiss")
    if torch:
        torch.set_num_threads(n_threads)
    rng = np.random.default_rng(0)
    rows = []
    for (V, D), Qs in (QUICK_CASES if quick else CASES):
        W = rng.standard_normal((V, D), dtype=np.float32) * rng.uniform(0.5, 2, (V, 1)).astype(np.float32)
        t = EmbeddingTable(W)
        inv = np.array(t.inv_norms())
        tW, tinv = (torch.from_numpy(W), torch.from_numpy(inv)) if torch else (None, None)
        index = None
        if faiss:
            faiss.omp_set_num_threads(n_threads)
            index = faiss.IndexFlatIP(D)
            index.add(W * inv[:, None])
        q1 = None
        for Q in Qs:
            qs = rng.standard_normal((Q, D), dtype=np.float32)
            qn, _ = as_queries(qs, D, True)
            fns = {"ours": lambda: t.topk(qs, k, n_threads=n_threads)}
            if torch:
                tq = torch.from_numpy(qn)
                fns["torch"] = lambda: torch.topk(torch.mm(tq, tW.T) * tinv, k, dim=1)
            if index is not None:
                fns["faiss"] = lambda: index.search(qn, k)
            r = L.best_of(fns, rounds=rounds)
            if Q == 1:
                q1 = r["ours"]
            lim_t = lim.limit_time(read_bytes=W.nbytes, flops=2.0 * Q * V * D)
            rows.append([f"{V}x{D}", Q, f"{r['ours'] * 1e3:.2f}", f"{r.get('torch', 0) * 1e3:.2f}",
                         f"{r.get('faiss', 0) * 1e3:.2f}",
                         "-" if q1 is None or Q == 1 else f"{r['ours'] / q1:.2f}",
                         f"{r['torch'] / r['ours']:.2f}" if torch else "-",
                         f"{r['faiss'] / r['ours']:.2f}" if faiss else "-",
                         f"{lim_t * 1e3:.2f}", L.frac(lim_t, r["ours"]),
                         f"{2.0 * Q * V * D / r['ours'] / 1e9:.0f}",
                         L.frac(lim_t, r.get("torch")), L.frac(lim_t, r.get("faiss"))])
        del W, t, tW, index
    hdr = ["table", "Q", "ours ms", "torch ms", "faiss ms", "ours/Q=1", "torch/ours", "faiss/ours",
           "limit ms", "ours frac", "ours GFLOP/s", "torch frac", "faiss frac"]
    return hdr, rows


def show(hdr, rows, title):
    print(f"\n### {title} [simd {_simd.get_level()}]\n")
    w = [max(len(str(r[i])) for r in [hdr] + rows) for i in range(len(hdr))]
    print("| " + " | ".join(str(h).ljust(x) for h, x in zip(hdr, w)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(x) for c, x in zip(r, w)) + " |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--simd", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if a.simd:
        _simd.set_level(a.simd)
    lim = L.measure(a.threads, quick=a.quick)
    print(lim)
    hdr, rows = table(lim, a.threads, a.quick, rounds=a.rounds)
    show(hdr, rows, f"multi-query cosine top-10 (n_threads={a.threads}; limit = max(table read at "
                    f"{lim.read_gbs:.1f} GB/s, 2QVD flops at {lim.sgemm_gflops:.0f} GFLOP/s))")
