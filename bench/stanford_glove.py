"""fastembed's GloVe against Stanford's C GloVe (github.com/stanfordnlp/GloVe), side by side.

    python bench/stanford_glove.py --build [--src DIR]   # build Stanford's binaries into bench/_stanford_glove
    python bench/stanford_glove.py [--seeds 1 2] [--threads 2]

Stanford's source is taken from --src, $FE_STANFORD_GLOVE_SRC, bench/GloVe or /work/glove-src (a checkout,
or `git --git-dir=<fetched repo> archive HEAD | tar x -C DIR`); it is built with its own Makefile
(gcc -O3 -march=native, its canonical build). The table: neighbour quality (cluster_quality: the
share of same-cluster words among each cluster word's 10 nearest neighbours) and wall time of the
whole pipeline (vocabulary, counting, shuffle, 15 epochs) on two clustered corpora of 1.4M tokens:
"bench" (topic_share 0.3) and "noisy" (topic_share 0.15: 85% of the tokens are Zipf background
words). Settings as Stanford's demo.sh except the window: dim 50, window 10, min_count 5, x_max 10,
alpha 0.75, 15 iterations, W + C output, 2 threads.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "_stanford_glove")
TOOLS = ("vocab_count", "cooccur", "shuffle", "glove")
SETTINGS = dict(dim=50, window=10, min_count=5, epochs=15, x_max=10.0, alpha=0.75)


def find_source(src=None):
    for d in (src, os.environ.get("FE_STANFORD_GLOVE_SRC"), os.path.join(HERE, "GloVe"), "/work/glove-src"):
        if d and os.path.isfile(os.path.join(d, "src", "cooccur.c")) and os.path.isfile(os.path.join(d, "Makefile")):
            return d
    return None


def binaries():
    """The directory of Stanford's built tools, or None when they are not built (see --build)."""
    d = os.path.join(BUILD, "build")
    return d if all(os.access(os.path.join(d, t), os.X_OK) for t in TOOLS) else None


def build(src=None):
    """Copy Stanford's source into bench/_stanford_glove and run its Makefile; returns binaries()."""
    s = find_source(src)
    if s is None:
        raise SystemExit("Stanford's GloVe source not found: pass --src, set FE_STANFORD_GLOVE_SRC or put a "
                         "checkout in bench/GloVe")
    if os.path.isdir(BUILD):
        shutil.rmtree(BUILD)
    shutil.copytree(s, BUILD, ignore=shutil.ignore_patterns("build", ".git"))
    subprocess.run(["make"], cwd=BUILD, check=True, stdout=subprocess.DEVNULL)
    return binaries()


def stanford_vocab(bins, corpus, out, min_count):
    with open(corpus, "rb") as fin, open(out, "wb") as fout:
        subprocess.run([os.path.join(bins, "vocab_count"), "-min-count", str(min_count), "-verbose", "0"],
                       stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, check=True)


def stanford_cooccur(bins, corpus, vocab, out, window, symmetric=True, distance_weighting=True):
    """Run Stanford's cooccur; returns its records (i, j 1-based int32, val float64), both directions."""
    with open(corpus, "rb") as fin, open(out, "wb") as fout:
        subprocess.run([os.path.join(bins, "cooccur"), "-memory", "1.0", "-vocab-file", vocab, "-verbose", "0",
                        "-window-size", str(window), "-symmetric", str(int(symmetric)),
                        "-distance-weighting", str(int(distance_weighting))],
                       stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, check=True)
    return np.fromfile(out, dtype=[("i", "<i4"), ("j", "<i4"), ("v", "<f8")])


def run_stanford(bins, corpus, work, seed, threads):
    """The whole pipeline as demo.sh runs it; returns (vectors path, seconds)."""
    vocab, cooc, shuf, vec = (os.path.join(work, n) for n in ("vocab.txt", "cooc.bin", "shuf.bin", "vectors"))
    t0 = time.perf_counter()
    stanford_vocab(bins, corpus, vocab, SETTINGS["min_count"])
    stanford_cooccur(bins, corpus, vocab, cooc, SETTINGS["window"])
    with open(cooc, "rb") as fin, open(shuf, "wb") as fout:
        subprocess.run([os.path.join(bins, "shuffle"), "-memory", "1.0", "-verbose", "0", "-seed", str(seed)],
                       stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, check=True)
    subprocess.run([os.path.join(bins, "glove"), "-save-file", vec, "-threads", str(threads), "-input-file", shuf,
                    "-x-max", str(SETTINGS["x_max"]), "-alpha", str(SETTINGS["alpha"]), "-iter",
                    str(SETTINGS["epochs"]), "-vector-size", str(SETTINGS["dim"]), "-binary", "0",
                    "-write-header", "0", "-model", "2", "-vocab-file", vocab, "-verbose", "0", "-seed", str(seed)],
                   stderr=subprocess.DEVNULL, check=True)
    return vec + ".txt", time.perf_counter() - t0


def load_stanford(path):
    """Stanford's text vectors without its <unk> row (the mean of rare words' vectors, not a word)."""
    import fastembed as fe
    keys, rows = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split(" ")
            if p[0] != "<unk>":
                keys.append(p[0])
                rows.append(np.array(p[1:], np.float32))
    return fe.EmbeddingTable(np.stack(rows), vocab=fe.Vocabulary(keys))


def main():
    from fastembed.corpus import clustered_corpus, cluster_quality
    from fastembed.glove import GloVe
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--src")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=1_400_000)
    a = ap.parse_args()
    bins = build(a.src) if a.build else binaries()
    if bins is None:
        print("skipped: Stanford's GloVe is not built (python bench/stanford_glove.py --build)")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, share in (("bench", 0.3), ("noisy", 0.15)):
            corpus = os.path.join(tmp, f"{name}.txt")
            with open(corpus, "w", encoding="utf-8") as f:
                for s in clustered_corpus(a.tokens, seed=0, topic_share=share):
                    f.write(" ".join(s) + "\n")
            res = {}
            for seed in a.seeds:
                time.sleep(0.25)
                vec, secs = run_stanford(bins, corpus, tmp, seed, a.threads)
                res.setdefault("Stanford glove.c", []).append((cluster_quality(load_stanford(vec)), secs))
                for label, extra in (("fastembed", {}), ("fastembed, bias_learning_rate=1", {"bias_learning_rate": 1.0})):
                    time.sleep(0.25)
                    t0 = time.perf_counter()
                    t = GloVe(**SETTINGS, workers=a.threads, seed=seed, progress=False, **extra).train(corpus)
                    res.setdefault(label, []).append((cluster_quality(t), time.perf_counter() - t0))
            sq = np.mean([q for q, _ in res["Stanford glove.c"]])
            st = np.median([s for _, s in res["Stanford glove.c"]])
            for label, v in res.items():
                q = np.mean([x for x, _ in v])
                secs = np.median([s for _, s in v])
                rows.append([name, label, " ".join(f"{x:.3f}" for x, _ in v), f"{q:.4f}", f"{q / sq:.3f}x",
                             f"{secs:.1f}s", f"{st / secs:.2f}x"])
    print(f"\n### GloVe vs Stanford's glove.c: clustered corpora of {a.tokens / 1e6:.1f}M tokens, {a.threads} threads")
    hdr = ["corpus", "trainer", "quality per seed", "mean", "vs Stanford", "time (median)", "speed vs Stanford"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "|".join("---" for _ in hdr) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nseeds {', '.join(map(str, a.seeds))}; dim 50, window 10, min_count 5, x_max 10, alpha 0.75, 15 iterations, "
          "W + C; time: the whole pipeline (vocabulary, counting, shuffle, training) from the corpus file.")


if __name__ == "__main__":
    sys.exit(main())
