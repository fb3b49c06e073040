"""Training benchmarks: word2vec (neighbour quality and speed against gensim) and GloVe (planted
relations, time and peak memory of an 8M-token corpus)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from fastembed.bench.timing import SETTLE_SECONDS, _fmt_time, _optional, _ratio, print_table
from fastembed.corpus import cluster_quality, clustered_corpus, planted_corpus
from fastembed.glove import GloVe
from fastembed.table import EmbeddingTable
from fastembed.training import Word2Vec

__all__ = ["bench_word2vec", "bench_glove"]


# ------------------------------------------------------------------------------------------ training

W2V_SETTINGS = dict(dim=100, window=5, negative=5, min_count=5, sample=1e-3)  # issue 16's


def _gensim_w2v(corpus, sg, epochs, workers, seed):
    from gensim.models import Word2Vec as GW
    return GW(corpus, vector_size=100, window=5, negative=5, hs=0, sg=sg, min_count=5, sample=1e-3, epochs=epochs,
              workers=workers, seed=seed)


def bench_word2vec(quick: bool, n_threads: int, rng) -> None:
    """Skip-gram and CBOW against gensim: neighbour quality on the clustered corpus (2M tokens,
    issue 16's settings, 1/2/5 epochs, 3 seeds, one worker each), speed at 1 and 2 workers, and
    gensim's shipped lee_background.cor (speed, WordSim353 correlation)."""
    gensim = _optional("gensim")
    corpus = clustered_corpus(2_000_000, seed=0)
    seeds = (1,) if quick else (1, 2, 3)
    rows = []
    for sg, name in ((1, "skip-gram"), (0, "CBOW")):
        for epochs in (1, 2, 5):
            ours, theirs = [], []
            for seed in seeds:
                t = Word2Vec(**W2V_SETTINGS, sg=sg, epochs=epochs, seed=seed, workers=1, progress=False).train(corpus)
                ours.append(cluster_quality(t))
                if gensim:
                    theirs.append(cluster_quality(_gensim_w2v(corpus, sg, epochs, 1, seed).wv))
            o = float(np.mean(ours))
            g = float(np.mean(theirs)) if theirs else None
            rows.append([name, epochs, " ".join(f"{q:.3f}" for q in ours), f"{o:.4f}",
                         " ".join(f"{q:.3f}" for q in theirs) or "-", "-" if g is None else f"{g:.4f}",
                         "-" if not g else f"{o / g:.3f}"])
    print_table("word2vec neighbour quality: clustered corpus, 2M tokens (share of same-cluster words among "
                "each cluster word's 10 nearest neighbours; 1 worker)",
                ["model", "epochs", "fastembed per seed", "mean", "gensim per seed", "mean", "ours/gensim"], rows,
                ["dim 100, window 5, negative 5, min_count 5, sample 1e-3, seeds " + ", ".join(map(str, seeds)) + ".",
                 "the corpus has 2000 cluster words (~150 occurrences each) among 20000 Zipf background words: "
                 "1 epoch is too little for either library, 5 epochs saturate skip-gram."])
    rows = []
    for sg, name in ((1, "skip-gram"), (0, "CBOW")):
        for workers in (1, 2):
            time.sleep(SETTLE_SECONDS)
            w = Word2Vec(**W2V_SETTINGS, sg=sg, epochs=1, seed=1, workers=workers, progress=False)
            w.train(corpus)
            h = w.history[0]
            ours = h["effective_words_per_sec"]
            row = [name, workers, f"{h['effective_words']}", _fmt_time(h["seconds"]), f"{ours / 1e6:.2f}M"]
            if gensim:
                from gensim.models import Word2Vec as GW
                gm = GW(vector_size=100, window=5, negative=5, hs=0, sg=sg, min_count=5, sample=1e-3,
                        workers=workers, seed=1)
                gm.build_vocab(corpus)
                time.sleep(SETTLE_SECONDS)
                t0 = time.perf_counter()
                eff, raw = gm.train(corpus, total_examples=gm.corpus_count, epochs=1)
                secs = time.perf_counter() - t0
                row += [_fmt_time(secs), f"{eff / secs / 1e6:.2f}M", f"{ours / (eff / secs):.2f}x"]
            rows.append(row)
    print_table("word2vec speed: clustered corpus, 2M tokens, 1 epoch (effective words/s: words left after "
                "subsampling, what both libraries count)",
                ["model", "workers", "effective words", "fastembed", "words/s", "gensim", "words/s", "ours/gensim"],
                rows)
    if gensim:
        from gensim.test.utils import datapath
        lee = datapath("lee_background.cor")
        if os.path.exists(lee):
            sents = [line.split() for line in open(lee, encoding="utf-8")]
            rows = []
            for sg, name in ((1, "skip-gram"), (0, "CBOW")):
                time.sleep(SETTLE_SECONDS)
                t0 = time.perf_counter()
                t = Word2Vec(**W2V_SETTINGS, sg=sg, epochs=10, seed=1, workers=n_threads, progress=False).train(sents)
                secs = time.perf_counter() - t0
                t0 = time.perf_counter()
                g1 = _gensim_w2v(sents, sg, 10, n_threads, 1).wv
                gsecs = time.perf_counter() - t0
                g2 = _gensim_w2v(sents, sg, 10, n_threads, 2).wv
                words = [w for w in g1.index_to_key[:200] if w in t.vocab]

                def near(m, w):
                    q = m.words if isinstance(m, EmbeddingTable) else m
                    return {k for k, _ in q.most_similar(w, topn=10)}

                def overlap(a, b):
                    return float(np.mean([len(near(a, w) & near(b, w)) / 10 for w in words]))
                rows.append([name, len(t), _fmt_time(secs), _fmt_time(gsecs), _ratio(gsecs, secs),
                             f"{overlap(t, g1):.3f}", f"{overlap(g2, g1):.3f}"])
            print_table(f"word2vec on gensim's lee_background.cor (60k tokens, 10 epochs, {n_threads} workers)",
                        ["model", "vocab", "fastembed", "gensim", "gensim/ours",
                         "top-10 overlap ours vs gensim", "gensim seed 2 vs seed 1"], rows,
                        ["overlap: shared share of the 10 nearest neighbours of the 200 most frequent words; "
                         "ours vs gensim at the level of gensim vs itself with another seed means the same "
                         "training (the run-to-run noise is the floor)."])


_GLOVE_CHILD = r"""
import json, sys, time
import fastembed as fe
path, memory, workers, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
base = hwm()
t0 = time.perf_counter()
g = fe.GloVe(dim=dim, window=10, min_count=5, epochs=15, workers=workers, seed=1, memory=memory, progress=False)
g.build_vocab(path)
vocab_s = time.perf_counter() - t0
g.train(path)
total = time.perf_counter() - t0
print(json.dumps(dict(g.stats, vocab_seconds=vocab_s, total_seconds=total, peak_bytes=hwm() - base,
                      V=len(g.vocab), loss=[h["loss"] for h in g.history])))
"""


def bench_glove(quick: bool, n_threads: int, rng) -> None:
    """GloVe: the planted-corpus relations over seeds x dims, and the time and peak memory of
    counting and training an 8M-token corpus (streamed from a file, in a fresh process)."""
    planted = planted_corpus(60000, seed=0)
    rows, ok = [], 0
    animals = {"dog", "kitten", "puppy", "hamster", "rabbit"}
    for dim in (16, 32, 50):
        for seed in (1, 2, 3):
            t = GloVe(dim=dim, min_count=1, epochs=25, seed=seed, workers=n_threads, progress=False).train(planted)
            top = t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
            near = [k for k, _ in t.words.most_similar("cat", topn=3)]
            good = top == "queen" and set(near) <= animals
            ok += good
            rows.append([dim, seed, top, ", ".join(near), "yes" if good else "NO"])
    print_table(f"GloVe on the planted corpus (60000 sentences): {ok}/9 seeds x dims", ["dim", "seed",
                "king - man + woman", "cat's 3 nearest", "ok"], rows,
                ["window 10, x_max 100, alpha 0.75, 25 epochs. This corpus encodes its relations as presence or "
                 "absence of co-occurrences, which GloVe does not train on (zeros are skipped): at 20000 "
                 "sentences the count noise makes queen/princess a coin toss for some seeds."])
    n_tokens = 2_000_000 if quick else 8_000_000
    corpus = clustered_corpus(n_tokens, seed=0)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "corpus.txt")
        with open(path, "w", encoding="utf-8") as f:
            for s in corpus:
                f.write(" ".join(s) + "\n")
        del corpus
        rows = []
        for memory, dim in ((1 << 30, 50), (1 << 30, 100), (64 << 20, 50)):
            time.sleep(SETTLE_SECONDS)
            r = subprocess.run([sys.executable, "-c", _GLOVE_CHILD, path, str(memory), str(n_threads), str(dim)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                rows.append([f"{memory >> 20} MiB", dim, "failed: " + r.stderr.strip().splitlines()[-1]] + [""] * 9)
                continue
            st = json.loads(r.stdout)
            rows.append([f"{memory >> 20} MiB", dim, f"{st['V']}", f"{st['nonzeros'] / 1e6:.1f}M",
                         f"{st['runs_spilled']}", f"{st['vocab_seconds']:.1f}s", f"{st['count_seconds']:.1f}s",
                         f"{st['merge_seconds'] + st['shuffle_seconds']:.1f}s", f"{st['train_seconds']:.1f}s",
                         f"{st['total_seconds']:.1f}s", f"{st['count_peak_bytes'] / 2 ** 20:.0f} MiB",
                         f"{st['peak_bytes'] / 2 ** 20:.0f} MiB"])
    print_table(f"GloVe: {n_tokens / 1e6:.0f}M-token clustered corpus streamed from a file, window 10, min_count 5, "
                f"15 epochs, {n_threads} threads",
                ["memory=", "dim", "vocab", "non-zeros", "runs spilled", "vocab pass", "counting", "merge+shuffle",
                 "15 epochs", "total", "counting peak", "process peak"], rows,
                ["non-zeros: stored (i <= j) entries; each trains both (i, j) and (j, i).",
                 "counting peak: the maps and scratch, bounded by memory=; process peak: VmHWM above the import, "
                 "including the 16-byte records and the 2 x 2V(dim+1) float32 parameters."])
