"""fastText .bin models: loading and subword vectors, fastembed against gensim (when installed) and
the pure-Python reference, measured side by side (best of interleaved rounds).

    python bench/bench_fasttext.py            # 100k words, 200k buckets, dim 100 (a 160 MB model)
    python bench/bench_fasttext.py --quick    # 20k words, 50k buckets, dim 50

The model is synthetic (random words of 3 to 12 letters, fastText's default n-grams of 3 to 6
characters) and written in fastText's layout to a temporary directory.
"""
import argparse
import os
import struct
import tempfile
import time

import numpy as np

from fastembed import reference as ref
from fastembed._kernels import _fasttext
from fastembed.bench import best_time
from fastembed.io import load_fasttext
from fastembed.io.fasttext import MAGIC


def random_words(n, rng):
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)
    out, seen = [], set()
    while len(out) < n:
        w = letters[rng.integers(0, 26, int(rng.integers(3, 13)))].tobytes()
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def write_model(path, words, bucket, dim, rng):
    with open(path, "wb") as f:
        f.write(struct.pack("<2i", MAGIC, 12))
        f.write(struct.pack("<12id", dim, 5, 5, 1, 5, 1, 2, 2, bucket, 3, 6, 100, 1e-4))
        f.write(struct.pack("<3iqq", len(words), len(words), 0, 10 ** 6, -1))
        for i, w in enumerate(words):
            f.write(w + b"\0" + struct.pack("<qb", len(words) - i, 0))
        f.write(b"\0" + struct.pack("<2q", len(words) + bucket, dim))
        rng.standard_normal((len(words) + bucket, dim), dtype=np.float32).tofile(f)
        f.write(b"\0" + struct.pack("<2q", len(words), dim))
        np.zeros((len(words), dim), np.float32).tofile(f)


def table(title, times):
    base = next(iter(times))
    print(f"\n### {title}")
    print(f"| {'contender':<40} | {'time':>11} | {'time / first':>12} |")
    print(f"|{'-' * 42}|{'-' * 13}|{'-' * 14}|")
    for k, t in times.items():
        print(f"| {k:<40} | {t * 1e3:>8.1f} ms | {t / times[base]:>11.2f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    nw, bucket, dim = (20_000, 50_000, 50) if a.quick else (100_000, 200_000, 100)
    rng = np.random.default_rng(0)
    words = random_words(nw, rng)
    try:
        from gensim.models.fasttext import load_facebook_vectors
    except ImportError:
        load_facebook_vectors = None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.bin")
        write_model(path, words, bucket, dim, rng)
        print(f"model: {nw} words, {bucket} buckets, dim {dim}, {os.path.getsize(path) / 2 ** 20:.0f} MB")
        m = load_fasttext(path)
        G = m.ngrams
        raw = np.fromfile(path, np.float32, count=nw * dim,
                          offset=os.path.getsize(path) - 17 - 4 * nw * dim - 4 * (nw + bucket) * dim)
        blob = np.frombuffer(b"".join(words), np.uint8)
        offsets = np.zeros(nw + 1, np.int64)
        np.cumsum([len(w) for w in words], out=offsets[1:])

        # 1. loading the model (read, dictionary, every word's vector)
        fns = {"fastembed load_fasttext (2 threads)": lambda: load_fasttext(path, n_threads=2),
               "fastembed load_fasttext (1 thread)": lambda: load_fasttext(path, n_threads=1)}
        if load_facebook_vectors is not None:
            fns["gensim load_facebook_vectors"] = lambda: load_facebook_vectors(path)
        times = best_time(fns, rounds=3, min_time=0)
        table(f"load a {nw} x {dim} model with {bucket} buckets", times)

        # 2. the word vectors alone (n-gram hashing + mean of rows), every word of the vocabulary
        W = raw.reshape(nw, dim)
        out = np.empty((nw, dim), np.float32)
        sub = 2000
        fns = {"fastembed mean_vectors (2 threads)":
               lambda: _fasttext.mean_vectors(W, None, G, blob, offsets, 3, 6, True, out, 2),
               "fastembed mean_vectors (1 thread)":
               lambda: _fasttext.mean_vectors(W, None, G, blob, offsets, 3, 6, True, out, 1)}
        times = best_time(fns, rounds=3, min_time=0.05)
        t0 = time.perf_counter()
        ref.fasttext_vectors(W[:sub], None, G, words[:sub], 3, 6)
        times[f"reference.fasttext_vectors (x{nw // sub})"] = (time.perf_counter() - t0) * nw / sub
        if load_facebook_vectors is not None:
            kv = load_facebook_vectors(path)
            t0 = time.perf_counter()
            kv.recalc_char_ngram_buckets()
            kv.adjust_vectors()
            times["gensim recalc buckets + adjust_vectors"] = time.perf_counter() - t0
        table(f"word vectors of all {nw} words (hash n-grams, average rows)", times)

        # 3. unknown words in batches
        unknown = [w.decode() + "x" for w in words[:10_000]]
        fns = {"fastembed vectors(batch, 2 threads)": lambda: m.vectors(unknown, n_threads=2),
               "fastembed vectors(batch, 1 thread)": lambda: m.vectors(unknown, n_threads=1),
               "fastembed get_vector loop": lambda: [m.get_vector(w) for w in unknown[:1000]]}
        if load_facebook_vectors is not None:
            fns["gensim kv[w] loop"] = lambda: [kv[w] for w in unknown[:1000]]
        times = best_time(fns, rounds=3, min_time=0.05)
        for k in ("fastembed get_vector loop", "gensim kv[w] loop"):
            if k in times:
                times[k + " (x10)"] = times.pop(k) * 10
        t0 = time.perf_counter()
        ref.fasttext_vectors(None, None, G, [w.encode() for w in unknown[:500]], 3, 6)
        times["reference.fasttext_vectors (x20)"] = (time.perf_counter() - t0) * 20
        table("vectors of 10000 unknown words", times)


if __name__ == "__main__":
    main()
