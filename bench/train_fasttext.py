"""fastText training: fastembed against Facebook's fastText and gensim's FastText, side by side.

    python bench/train_fasttext.py                  # 1.4M-token clustered corpus, 5 epochs, 2 threads
    python bench/train_fasttext.py --quick          # 300k tokens, 2 epochs
    python bench/train_fasttext.py --fasttext-python /work/ftvenv/bin/python --rounds 2

Every trainer reads the same corpus (a file for fastText, the same sentences in memory for gensim and
fastembed) with the same settings: skip-gram (or CBOW), dim 100, window 5, 5 negatives, min_count 5,
sample 1e-4, learning rate 0.05 decaying to 0, character n-grams of 3 to 6 in 2,000,000 buckets.

* quality: neighbour quality of in-vocabulary words, :func:`fastembed.corpus.cluster_quality` (the
  share of same-cluster words among each cluster word's 10 nearest neighbours; the metric of the
  word2vec bench), on each model's word vectors (fastText's and gensim's read back through their
  saved model / ``wv``).
* speed: words per second = corpus words x epochs / wall seconds of the whole training call
  (vocabulary, initialisation of the 2M x 100 bucket rows and the epochs), 2 threads each.
  fastembed is run at every SIMD level given (``--levels``, default: avx2 and the best).
* OOV check: the saved ``.bin`` of fastembed read by fastembed, gensim and fastText (when built):
  the largest difference of their vectors for unseen words.

Facebook's fastText runs in a child process of ``--fasttext-python`` (a venv where ``pip install
fasttext`` built it); without it its rows say why they are missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import fastembed as fe
from fastembed._kernels import _simd
from fastembed.corpus import clustered_corpus, cluster_quality

SETTINGS = dict(dim=100, window=5, negative=5, min_count=5, sample=1e-4, alpha=0.05, minn=3, maxn=6,
                bucket=2_000_000)
OOV = ["c7_3x", "w12345", "zzqv", "c99_19", "clusterish"]

_FT_CHILD = r"""
import json, sys, time, numpy as np, fasttext
path, out, model, epochs, threads, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
t0 = time.perf_counter()
m = fasttext.train_unsupervised(path, model=model, dim=100, ws=5, epoch=epochs, minCount=5, neg=5, minn=3, maxn=6,
                                bucket=2000000, thread=threads, t=1e-4, lr=0.05, verbose=0)  # 0.9.3 has no seed=
secs = time.perf_counter() - t0
m.save_model(out)
print(json.dumps({"seconds": secs, "words": len(m.words)}))
"""

_FT_VECTORS = r"""
import sys, numpy as np, fasttext
m = fasttext.load_model(sys.argv[1])
np.save(sys.argv[2], np.stack([m.get_word_vector(w) for w in sys.argv[3].split(",")]))
"""


def _has_fasttext(py):
    return py and os.path.exists(py) and subprocess.run([py, "-c", "import fasttext"],
                                                        capture_output=True).returncode == 0


def run_fastembed(corpus, sg, epochs, threads, seed, per_pair):
    m = fe.FastText(**SETTINGS, sg=sg, epochs=epochs, workers=threads, seed=seed, per_pair=per_pair, progress=False)
    t0 = time.perf_counter()
    m.train(corpus)
    return m, time.perf_counter() - t0


def run_gensim(corpus, sg, epochs, threads, seed):
    from gensim.models import FastText as GF
    t0 = time.perf_counter()
    g = GF(sentences=corpus, vector_size=100, window=5, negative=5, hs=0, min_count=5, sample=1e-4, alpha=0.05,
           min_alpha=0.0, min_n=3, max_n=6, bucket=2_000_000, sg=sg, epochs=epochs, workers=threads, seed=seed)
    return g, time.perf_counter() - t0


def run_fasttext(py, path, out, sg, epochs, threads, seed):
    r = subprocess.run([py, "-c", _FT_CHILD, path, out, "skipgram" if sg else "cbow", str(epochs), str(threads),
                        str(seed)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip()[-500:])
    return json.loads(r.stdout)["seconds"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tokens", type=int, default=None)
    ap.add_argument("--epochs", default=None, help="comma list (default 5; 2 with --quick)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="seeds (rounds) per trainer")
    ap.add_argument("--models", default="sg", help="comma list of sg, cbow")
    ap.add_argument("--levels", default=None, help="SIMD levels for fastembed (default: avx2 and the best)")
    ap.add_argument("--per-pair", default="1,0", help="fastembed's per_pair settings to run (1 fastText's order)")
    ap.add_argument("--no-gensim", action="store_true")
    ap.add_argument("--fasttext-python", default=os.environ.get("FASTEMBED_FASTTEXT_PYTHON", "/work/ftvenv/bin/python"))
    a = ap.parse_args(argv)
    tokens = a.tokens or (300_000 if a.quick else 1_400_000)
    epoch_list = [int(e) for e in a.epochs.split(",")] if a.epochs else [2 if a.quick else 5]
    supported = _simd.supported_levels()
    levels = a.levels.split(",") if a.levels else sorted({lv for lv in ("avx2", supported[-1]) if lv in supported},
                                                          key=supported.index)
    have_ft = _has_fasttext(a.fasttext_python)
    try:
        import gensim  # noqa: F401
        have_gensim = not a.no_gensim
    except ImportError:
        have_gensim = False
    corpus = clustered_corpus(tokens, seed=0)
    n_words = sum(len(s) for s in corpus)
    results = {}  # name -> list of (quality, words/s)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "corpus.txt")
        with open(path, "w", encoding="utf-8") as f:
            for s in corpus:
                f.write(" ".join(s) + "\n")
        oov_report = None
        for model, epochs in [(mo, e) for mo in a.models.split(",") for e in epoch_list]:
            sg = 1 if model == "sg" else 0
            for r in range(a.rounds):
                seed = r + 1
                if have_ft:
                    time.sleep(0.25)
                    out = os.path.join(d, "ft.bin")
                    secs = run_fasttext(a.fasttext_python, path, out, sg, epochs, a.threads, seed)
                    q = cluster_quality(fe.load(out))
                    results.setdefault((model, epochs, "fastText (Facebook)"), []).append((q, n_words * epochs / secs, secs))
                if have_gensim:
                    time.sleep(0.25)
                    g, secs = run_gensim(corpus, sg, epochs, a.threads, seed)
                    results.setdefault((model, epochs, "gensim FastText"), []).append(
                        (cluster_quality(g.wv), n_words * epochs / secs, secs))
                    del g
                for level in levels:
                    prev = _simd.set_level(level)
                    try:
                        for pp in a.per_pair.split(","):
                            time.sleep(0.25)
                            m, secs = run_fastembed(corpus, sg, epochs, a.threads, seed, pp == "1")
                            name = f"fastembed {level}" + (" per_pair" if pp == "1" else " per_position")
                            results.setdefault((model, epochs, name), []).append(
                                (cluster_quality(m.table), n_words * epochs / secs, secs))
                            if oov_report is None:
                                oov_report = _oov_check(m, d, a.fasttext_python if have_ft else None, have_gensim)
                            del m
                    finally:
                        _simd.set_level(prev)
    print(f"\nfastText training: clustered corpus, {n_words} tokens, {a.threads} threads, "
          f"dim 100, window 5, neg 5, min_count 5, sample 1e-4, lr 0.05, n-grams 3-6, 2M buckets; "
          f"{a.rounds} seeds each")
    hdr = ["model", "epochs", "trainer", "quality per seed", "quality", "seconds per seed", "words/s (median)",
           "quality / fastText", "speed / fastText"]
    print(" | ".join(hdr))
    for model, epochs in [(mo, e) for mo in a.models.split(",") for e in epoch_list]:
        base = results.get((model, epochs, "fastText (Facebook)"))
        bq = float(np.mean([x[0] for x in base])) if base else None
        bs = float(np.median([x[1] for x in base])) if base else None
        for (mm, ee, name), rows in results.items():
            if (mm, ee) != (model, epochs):
                continue
            q = float(np.mean([x[0] for x in rows]))
            s = float(np.median([x[1] for x in rows]))
            print(" | ".join([model, str(epochs), name, " ".join(f"{x[0]:.4f}" for x in rows), f"{q:.4f}",
                              " ".join(f"{x[2]:.1f}" for x in rows), f"{s / 1e3:.0f}k",
                              f"{q / bq:.3f}" if bq else "-", f"{s / bs:.2f}x" if bs else "-"]))
    if not have_ft:
        print(f"(no Facebook fastText: {a.fasttext_python} cannot import fasttext)")
    if oov_report:
        print("unseen-word vectors of fastembed's saved .bin, max |difference|: " + oov_report)


def _oov_check(m, d, ft_python, have_gensim):
    p = os.path.join(d, "fe.bin")
    m.save(p)
    ours = fe.load_fasttext(p).vectors(OOV)
    parts = [f"fastembed model vs its .bin {np.abs(m.wv.vectors(OOV) - ours).max():.3g}"]
    if have_gensim:
        from gensim.models.fasttext import load_facebook_model
        g = load_facebook_model(p)
        parts.append(f"gensim vs fastembed {np.abs(np.stack([g.wv[w] for w in OOV]) - ours).max():.3g}")
    if ft_python:
        out = os.path.join(d, "oov.npy")
        subprocess.run([ft_python, "-c", _FT_VECTORS, p, out, ",".join(OOV)], check=True)
        parts.append(f"fastText vs fastembed {np.abs(np.load(out) - ours).max():.3g} (max |value| "
                     f"{np.abs(ours).max():.3g})")
    os.remove(p)
    return ", ".join(parts)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
