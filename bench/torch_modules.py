"""fastembed.torch.Embedding / EmbeddingBag against torch.nn.Embedding / nn.EmbeddingBag: one
training step's forward + backward (gradient left in ``weight.grad``) on the CPU, measured side by
side (interleaved rounds, best round), both at the same thread count.

    python bench/torch_modules.py               # 2 threads, GPT-2-sized table (50257 x 768)
    python bench/torch_modules.py --threads 1 --quick

The dense rows include torch's (V, D) zero gradient on both sides (154 MB at this size): that
allocation and the optimizer's pass over it dominate dense training, which is why sparse=True
exists. The "copy GB/s" column is this machine's measured copy bandwidth (np.copyto of 154 MB),
the limit a dense gradient's zeroing approaches.
"""
import argparse
import time

import numpy as np

from fastembed.bench import best_time, print_table, zipf_ids


def _fmt(t):
    return f"{t * 1e3:.2f}ms"


def main(threads: int, quick: bool, rounds: int) -> None:
    import torch

    from fastembed import torch as fet

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    V, D = 50257, 768
    W = torch.from_numpy(rng.standard_normal((V, D), dtype=np.float32))
    big = np.empty((V, D), np.float32)
    src = np.ones((V, D), np.float32)
    np.copyto(big, src)  # pages in
    t0 = time.perf_counter()
    for _ in range(3):
        np.copyto(big, src)
    copy_gbs = 3 * 2 * big.nbytes / (time.perf_counter() - t0) / 1e9

    def step(m, ids, g, opt=None):
        def f():
            m.weight.grad = None
            m(ids).backward(g)
            if opt is not None:
                opt.step()
        return f

    rows = []
    shapes = [(8, 512)] if quick else [(8, 512), (64, 512)]
    for cls, modes in (("Embedding", [None]), ("EmbeddingBag", ["sum", "mean", "max"])):
        for shape in shapes:
            for mode in modes:
                for sparse in (False, True):
                    if sparse and mode == "max":
                        continue  # torch has no sparse max
                    kw = {"sparse": sparse} if mode is None else {"sparse": sparse, "mode": mode}
                    ours = getattr(fet, cls).from_pretrained(W.clone(), freeze=False, n_threads=threads, **kw)
                    theirs = getattr(torch.nn, cls).from_pretrained(W.clone(), freeze=False, **kw)
                    ids = torch.from_numpy(zipf_ids(rng, V, shape))
                    out_shape = shape + (D,) if cls == "Embedding" else (shape[0], D)
                    g = torch.from_numpy(rng.standard_normal(out_shape, dtype=np.float32))
                    # the same answer, or the row is void (torch's dense bag gradient sums duplicates
                    # in another order: compared relative to the largest row, zipf ids repeat id 0
                    # thousands of times)
                    for m in (ours, theirs):
                        m.weight.grad = None
                        m(ids).backward(g)
                    a, b = ours.weight.grad, theirs.weight.grad
                    a, b = (a.to_dense() if a.is_sparse else a), (b.to_dense() if b.is_sparse else b)
                    err = float((a - b).abs().max() / max(float(b.abs().max()), 1e-30))
                    assert err < 1e-5 * max(1, int(np.bincount(ids.reshape(-1).numpy()).max()) ** 0.5), (cls, mode, err)
                    adam = torch.optim.SparseAdam if sparse else torch.optim.Adam
                    fns = {}
                    for name, m in (("ours", ours), ("torch", theirs)):
                        fns[name] = step(m, ids, g)
                        fns[name + "+sgd"] = step(m, ids, g, torch.optim.SGD([m.weight], lr=1e-3))
                        fns[name + "+adam"] = step(m, ids, g, adam([m.weight], lr=1e-3))
                    r = best_time(fns, rounds=rounds)
                    row = [cls, mode or "-", f"{shape}", "sparse" if sparse else "dense"]
                    for suffix in ("", "+sgd", "+adam"):
                        o, t = r["ours" + suffix], r["torch" + suffix]
                        row += [_fmt(o), _fmt(t), f"{t / o:.2f}x"]
                    rows.append(row)
    print_table(f"training step on {V}x{D} float32, zipf ids, {threads} threads (torch.set_num_threads)",
                ["module", "mode", "ids", "grad", "fwd+bwd ours", "torch", "torch/ours",
                 "+SGD ours", "torch", "torch/ours", "+Adam ours", "torch", "torch/ours"], rows,
                ["Adam: torch.optim.Adam on dense gradients, SparseAdam on sparse ones.",
                 f"copy bandwidth (np.copyto, 154 MB): {copy_gbs:.1f} GB/s"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    main(a.threads, a.quick, a.rounds)
