"""Side-by-side timing of fastembed's kernels against numpy (and torch / faiss when installed).

Every contender of a row is timed in the same run, interleaved round by round, and the best round is
kept, so a noisy machine slows all of them alike. Used by ``bench/compare.py`` and ``fastembed bench``.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import numpy as np

__all__ = ["run", "zipf_ids", "best_time", "print_table"]


def _optional(name):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001 - any failure to import a peer means "not installed"
        return None


def zipf_ids(rng, V: int, shape, s: float = 1.0) -> np.ndarray:
    """Ids with Zipf-distributed frequencies over ranks 0..V-1 (rank r has weight 1/(r+1)**s)."""
    w = 1.0 / np.arange(1, V + 1, dtype=np.float64) ** s
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(shape)), V - 1).astype(np.int64)


def best_time(fns: Dict[str, Callable], rounds: int = 5, min_time: float = 0.02) -> Dict[str, float]:
    """Seconds per call of each function: best of ``rounds`` interleaved rounds."""
    numbers = {}
    for k, f in fns.items():
        f()  # warm up (page in, allocate caches)
        n, t = 1, 0.0
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            t = time.perf_counter() - t0
            if t >= min_time or n >= 1 << 20:
                break
            n *= 2 if t == 0 else max(2, min(10, int(min_time / max(t, 1e-9)) + 1))
        numbers[k] = n
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = numbers[k]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return best


def _fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f}us"
    if t < 1:
        return f"{t * 1e3:.2f}ms"
    return f"{t:.2f}s"


def print_table(title: str, header: List[str], rows: List[List[str]], notes: Optional[List[str]] = None):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n### {title}\n")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    for n in notes or []:
        print(f"\n{n}")


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}x"


# ------------------------------------------------------------------------------------------ lookup

def bench_lookup(quick: bool, n_threads: int, rng) -> None:
    from fastembed import EmbeddingTable
    torch = _optional("torch")
    tables = [(50257, 768)] if quick else [(50257, 768), (400000, 300)]
    id_shapes = [(1, 1), (1, 128), (64, 512)] if quick else [(1, 1), (1, 128), (8, 512), (64, 512)]
    rows = []
    for V, D in tables:
        W = rng.standard_normal((V, D), dtype=np.float32)
        t = EmbeddingTable(W)
        tw = torch.from_numpy(W) if torch else None
        for shape in id_shapes:
            for dist in ("uniform", "zipf"):
                ids = (rng.integers(0, V, shape) if dist == "uniform" else zipf_ids(rng, V, shape))
                out = np.empty(shape + (D,), np.float32)
                src = np.empty_like(out)
                flat = ids.reshape(-1)
                fns = {
                    "ours_out": lambda: t.lookup(ids, out=out, n_threads=n_threads),
                    "ours": lambda: t.lookup(ids, n_threads=n_threads),
                    "numpy": lambda: W[ids],
                    "take_clip": lambda: np.take(W, ids, axis=0, out=out, mode="clip"),
                    "copyto": lambda: np.copyto(out, src),
                }
                if torch:
                    tout = torch.from_numpy(out.reshape(-1, D))
                    tids = torch.from_numpy(flat)
                    fns["torch_out"] = lambda: torch.index_select(tw, 0, tids, out=tout)
                r = best_time(fns, rounds=3 if quick else 5)
                gbs = out.nbytes / r["ours_out"] / 1e9
                cgbs = out.nbytes / r["copyto"] / 1e9
                rows.append([f"{V}x{D}", f"{shape}", dist, _fmt_time(r["ours_out"]), _fmt_time(r["ours"]),
                             _fmt_time(r["numpy"]), _fmt_time(r["take_clip"]), _fmt_time(r.get("torch_out")),
                             _ratio(r["numpy"], r["ours_out"]), _ratio(r["numpy"], r["ours"]),
                             _ratio(r.get("torch_out"), r["ours_out"]), f"{gbs:.1f}", f"{gbs / cgbs:.2f}"])
        del W, t, tw
    print_table(
        f"lookup (n_threads={n_threads})",
        ["table", "ids", "dist", "ours out=", "ours", "numpy w[ids]", "np.take clip", "torch out=",
         "numpy/ours_out", "numpy/ours", "torch/ours_out", "GB/s", "vs copyto"],
        rows,
        ["ratios > 1 mean fastembed is faster; GB/s counts output bytes written; 'vs copyto' is our "
         "bandwidth over np.copyto of the same bytes measured in the same run."])


# ------------------------------------------------------------------------------------------ embed

def bench_embed(quick: bool, n_threads: int, rng) -> None:
    from fastembed import EmbeddingTable
    torch = _optional("torch")
    V, D, P = 50257, 768, 1024
    W = rng.standard_normal((V, D), dtype=np.float32)
    pos = rng.standard_normal((P, D), dtype=np.float32)
    t = EmbeddingTable(W)
    rows = []
    for shape in [(8, 512), (64, 512)]:
        for dist in ("uniform", "zipf"):
            B, T = shape
            ids = rng.integers(0, V, shape) if dist == "uniform" else zipf_ids(rng, V, shape)
            out = np.empty(shape + (D,), np.float32)
            pidx = np.arange(T)
            s = np.float32(np.sqrt(D))

            def numpy_out():
                np.take(W, ids, axis=0, out=out, mode="clip")
                np.multiply(out, s, out=out)
                np.add(out, pos[None, :T], out=out)
            fns = {
                "fused": lambda: t.embed(ids, pos, scale="sqrt", out=out, n_threads=n_threads),
                "lookup": lambda: t.lookup(ids, out=out, n_threads=n_threads),
                "numpy": lambda: W[ids] * s + pos[pidx],
                "numpy_out": numpy_out,
            }
            if torch:
                tw, tp = torch.from_numpy(W), torch.from_numpy(pos[:T])
                tids = torch.from_numpy(ids.reshape(-1))
                tout = torch.from_numpy(out.reshape(-1, D))

                def torch_two_pass():
                    torch.index_select(tw, 0, tids, out=tout)
                    tout.view(B, T, D).mul_(float(s)).add_(tp)
                fns["torch"] = torch_two_pass
            r = best_time(fns, rounds=3 if quick else 5)
            rows.append([f"{shape}", dist, _fmt_time(r["fused"]), _fmt_time(r["lookup"]), _fmt_time(r["numpy"]),
                         _fmt_time(r["numpy_out"]), _fmt_time(r.get("torch")),
                         _ratio(r["numpy"], r["fused"]), _ratio(r["numpy_out"], r["fused"]),
                         _ratio(r.get("torch"), r["fused"]), _ratio(r["fused"], r["lookup"])])
    print_table(
        f"embed: token * sqrt(D) + position, 50257x768 table, 1024x768 positions (n_threads={n_threads})",
        ["ids", "dist", "fused", "our lookup", "numpy", "numpy out=", "torch out=", "numpy/fused",
         "numpy_out/fused", "torch/fused", "fused/lookup"],
        rows, ["fused/lookup is the cost of the addition over a plain gather (target <= 1.15x)."])


SECTIONS = {"lookup": bench_lookup, "embed": bench_embed}


def run(sections=None, quick: bool = False, n_threads: int = 2, seed: int = 0) -> None:
    """Print the comparison tables for the chosen sections (all by default)."""
    import fastembed
    torch = _optional("torch")
    if torch:
        torch.set_num_threads(n_threads)
    info = fastembed.show_config(print_out=False)
    print(f"fastembed {info['fastembed']} | numpy {np.__version__} | torch "
          f"{getattr(torch, '__version__', 'not installed')} | faiss "
          f"{getattr(_optional('faiss'), '__version__', 'not installed')} | threads {n_threads} | "
          f"{info['simd']} | {time.strftime('%Y-%m-%d')}")
    rng = np.random.default_rng(seed)
    for name in sections or list(SECTIONS):
        if name not in SECTIONS:
            raise ValueError(f"unknown benchmark section {name!r}; choose from {sorted(SECTIONS)}")
        SECTIONS[name](quick, n_threads, rng)
