"""The same gensim script, one import changed: gensim vs fastembed.compat.gensim.

Each measurement runs a user script in a fresh process; the scripts for the two libraries differ
in their import line only (``from gensim.models import ...`` vs ``from fastembed.compat.gensim
import ...``). Results are written as JSON under --out and compared (equal answers, near-ties
aside) by ``table``.

    python bench/gensim_dropin.py data                    # the 400k x 300 word2vec text file (once)
    python bench/gensim_dropin.py kv --lib fastembed      # load, 1000 most_similar, analogies
    python bench/gensim_dropin.py kv --lib gensim --phases load,most_similar
    python bench/gensim_dropin.py native --lib gensim     # each library's own saved copy (loads in
                                                          # seconds: the analogy chunks load it)
    python bench/gensim_dropin.py analogies --lib gensim --chunk 0   # gensim's analogies, a chunk of
                                                          # sections per run (each run < 5 minutes)
    python bench/gensim_dropin.py w2v --lib gensim --sg 1 --seed 1
    python bench/gensim_dropin.py table                   # the ratio tables, medians and spread

Run every timing command under the CPU lock (flock /tmp/fe-cpu.lock ...), one at a time.

The vectors file: 400,000 keys x 300 float32 in word2vec text (1.2 GB). The keys are the 905
words of gensim's questions-words.txt (lower-cased, among the first 30,000 rows, so every question
is answered with restrict_vocab=300000) and made-up pronounceable words; the vectors are Gaussian,
with each analogy section's relation planted as an offset (plus noise) between its word pairs, so
accuracy is neither 0 nor 1 and the answers test the arithmetic.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fastembed-gensim-dropin")
IMPORTS = {
    "kv": {"gensim": "from gensim.models import KeyedVectors",
           "fastembed": "from fastembed.compat.gensim import KeyedVectors"},
    "w2v": {"gensim": "from gensim.models import Word2Vec",
            "fastembed": "from fastembed.compat.gensim import Word2Vec"},
}

# The user's script: identical for both libraries but for {import_line}. The harness around it
# (argv, timers, json) is the same text too.
KV_SCRIPT = """
import json, sys, time
{import_line}
path, queries_path, questions_path, out_path, phases = sys.argv[1:6]
phases = phases.split(",")
res = {{}}
t0 = time.perf_counter()
kv = KeyedVectors.load(path) if path.endswith(".kv") else KeyedVectors.load_word2vec_format(path, binary=False)
res["load"] = time.perf_counter() - t0
if "save" in phases:
    kv.save(questions_path)
if "most_similar" in phases:
    words = open(queries_path, encoding="utf-8").read().split()
    t0 = time.perf_counter()
    sims = [kv.most_similar(w, topn=10) for w in words]
    res["most_similar"] = time.perf_counter() - t0
    res["most_similar_answers"] = sims
if "analogies" in phases:
    t0 = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(questions_path)
    res["analogies"] = time.perf_counter() - t0
    res["analogies_answers"] = [score, sections]
json.dump(res, open(out_path, "w"))
"""

W2V_SCRIPT = """
import json, sys, time
{import_line}
from fastembed.corpus import clustered_corpus, cluster_quality
sg, seed, workers, epochs = (int(x) for x in sys.argv[1:5])
out_path = sys.argv[5]
corpus = clustered_corpus(2_000_000, seed=0)
model = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sg=sg, min_count=5, sample=1e-3, epochs=epochs,
                 workers=workers, seed=seed)
t0 = time.perf_counter()
model.build_vocab(corpus)
vocab_s = time.perf_counter() - t0
t0 = time.perf_counter()
effective, raw = model.train(corpus, total_examples=model.corpus_count, epochs=model.epochs)
train_s = time.perf_counter() - t0
json.dump(dict(vocab_seconds=vocab_s, train_seconds=train_s, effective=effective, raw=raw,
               quality=cluster_quality(model.wv)), open(out_path, "w"))
"""


def run_script(template: str, lib: str, kind: str, args) -> None:
    code = template.format(import_line=IMPORTS[kind][lib])
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, env=env)


# ------------------------------------------------------------------------------------------ data

def _questions_path() -> str:
    from gensim.test.utils import datapath  # the file ships with gensim
    return datapath("questions-words.txt")


def _sections(path: str):
    sections, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(": "):
                cur = [line.strip(), []]
                sections.append(cur)
            elif line.split():
                cur[1].append(line.split())
    return sections


def make_data(out: str, rows: int, dim: int, seed: int = 0) -> None:
    import fastembed as fe
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"vectors-{rows // 1000}k-{dim}.txt")
    rng = np.random.default_rng(seed)
    sections = _sections(_questions_path())
    qwords = sorted({w.lower() for _, qs in sections for q in qs for w in q})
    # made-up pronounceable words, unique, not colliding with the question words
    cons, vows = list("bcdfghjklmnprstvwz"), list("aeiou")
    made, seen = [], set(qwords)
    while len(made) < rows - len(qwords):
        n = int(rng.integers(1, 5))
        w = "".join(cons[int(rng.integers(len(cons)))] + vows[int(rng.integers(len(vows)))] for _ in range(n))
        if rng.random() < 0.5:
            w += cons[int(rng.integers(len(cons)))]
        if rng.random() < 0.3:
            w += str(int(rng.integers(100)))
        if w not in seen:
            seen.add(w)
            made.append(w)
    keys = made[:]
    slots = np.sort(rng.choice(30000, size=len(qwords), replace=False))
    for s, w in zip(slots.tolist(), qwords):
        keys.insert(s, w)
    W = rng.standard_normal((rows, dim), dtype=np.float32)
    index = {w: i for i, w in enumerate(keys)}
    assigned = set()
    for _, qs in sections:
        rel = rng.standard_normal(dim).astype(np.float32) * 1.5
        for q in qs:
            for a, b in ((q[0].lower(), q[1].lower()), (q[2].lower(), q[3].lower())):
                ia, ib = index[a], index[b]
                noise = rng.standard_normal(dim).astype(np.float32) * 0.6
                if ib not in assigned:
                    W[ib] = W[ia] + rel + noise
                    assigned.update((ia, ib))
                elif ia not in assigned:
                    W[ia] = W[ib] - rel + noise
                    assigned.update((ia, ib))
    fe.save(fe.EmbeddingTable(W, vocab=keys), path)
    queries = [keys[i] for i in rng.choice(100000, size=1000, replace=False).tolist()]
    with open(os.path.join(out, "queries.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(queries) + "\n")
    print(f"wrote {path} ({os.path.getsize(path) / 1e9:.2f} GB) and {len(queries)} queries")


def vectors_path(out: str) -> str:
    paths = sorted(glob.glob(os.path.join(out, "vectors-*.txt")))
    if not paths:
        raise SystemExit(f"no vectors file in {out}: run `python bench/gensim_dropin.py data` first")
    return paths[0]


def chunk_files(out: str, max_questions: int):
    """questions-words.txt split into files of whole sections, at most max_questions each (one
    large section alone): gensim's analogies take minutes per thousand questions."""
    sections = _sections(_questions_path())
    chunks, cur, n = [], [], 0
    for name, qs in sections:
        if cur and n + len(qs) > max_questions:
            chunks.append(cur)
            cur, n = [], 0
        cur.append((name, qs))
        n += len(qs)
    if cur:
        chunks.append(cur)
    paths = []
    for i, ch in enumerate(chunks):
        p = os.path.join(out, f"questions-chunk{i}.txt")
        with open(p, "w", encoding="utf-8") as f:
            for name, qs in ch:
                f.write(name + "\n" + "".join(" ".join(q) + "\n" for q in qs))
        paths.append(p)
    return paths


# ------------------------------------------------------------------------------------------ tables

def _load(out: str, pattern: str):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, pattern)))]


def _med(xs):
    return statistics.median(xs) if xs else None


def _spread(xs):
    return f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"


def _same_lists(a, b, tol=1e-5):
    """(identical, equal up to near-tie swaps) for two most_similar answers."""
    if a == b:
        return True, True
    if len(a) != len(b):
        return False, False
    sa, sb = np.array([s for _, s in a]), np.array([s for _, s in b])
    if np.abs(sa - sb).max() > tol:
        return False, False
    for i, ((ka, x), (kb, _)) in enumerate(zip(a, b)):
        if ka != kb and not any(k == ka and abs(s - x) <= 2 * tol for k, s in b):
            return False, False
    return False, True


def table(out: str) -> None:
    ours, theirs = _load(out, "kv-fastembed-*.json"), _load(out, "kv-gensim-*.json")
    gchunks = _load(out, "analogies-gensim-chunk*.json")
    rows = []
    for phase, target in (("load", 5), ("most_similar", 3), ("analogies", 10)):
        o = [r[phase] for r in ours if phase in r]
        g = [r[phase] for r in theirs if phase in r]
        if phase == "analogies" and not g and gchunks:
            # gensim's full evaluation, summed over its chunk runs (one run per chunk)
            g = [sum(r["analogies"] for r in gchunks)]
        mo, mg = _med(o), _med(g)
        ratio = f"{mg / mo:.1f}x" if mo and mg else "-"
        rows.append((phase, f"{mo:.2f}s" if mo else "-", _spread(o), len(o), f"{mg:.2f}s" if mg else "-", _spread(g),
                     len(g), ratio, f">= {target}x", "met" if mo and mg and mg / mo >= target else "missed"))
    print("\n### The same script, one import changed: 400k x 300 word2vec text file\n")
    print("| phase | fastembed.compat (median) | spread | runs | gensim 4.4 (median) | spread | runs | speed-up | target | |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(map(str, r)) + " |")
    # equal answers
    if ours and theirs and "most_similar_answers" in ours[0] and "most_similar_answers" in theirs[0]:
        a, b = ours[0]["most_similar_answers"], theirs[0]["most_similar_answers"]
        same = [_same_lists(x, y) for x, y in zip(a, b)]
        keys = sum([k for k, _ in x] == [k for k, _ in y] for x, y in zip(a, b))
        diff = max(abs(s1 - s2) for x, y in zip(a, b) for (_, s1), (_, s2) in zip(x, y))
        print(f"\nmost_similar: {keys} of {len(same)} answers with the same keys in the same order, "
              f"{sum(s[1] for s in same)} equal up to near-tie order; largest score difference {diff:.2g} "
              f"(float32 sums in another order)")
    if ours and "analogies_answers" in ours[0] and (gchunks or (theirs and "analogies_answers" in theirs[0])):
        osec = {s["section"]: s for s in ours[0]["analogies_answers"][1]}
        gsecs = [s for r in gchunks for s in r["analogies_answers"][1] if s["section"] != "Total accuracy"] \
            if gchunks else theirs[0]["analogies_answers"][1][:-1]
        diff = n = 0
        for s in gsecs:
            mine = osec[s["section"]]
            n += len(s["correct"]) + len(s["incorrect"])
            diff += len({tuple(q) for q in s["correct"]} ^ {tuple(q) for q in mine["correct"]})
        oc = len(osec["Total accuracy"]["correct"])
        gc = sum(len(s["correct"]) for s in gsecs)
        print(f"analogies: {n} questions; correct: fastembed {oc}, gensim {gc}; questions judged differently: {diff}")
    w = _load(out, "w2v-*.json")
    if w:
        print("\n### Word2Vec through the compat class: clustered corpus (2M tokens), dim 100, window 5, negative 5, "
              "min_count 5, sample 1e-3, 2 workers\n")
        print("| model | epochs | fastembed quality (per seed) | gensim quality (per seed) | quality ratio | target | "
              "fastembed eff. words/s (median, spread) | gensim eff. words/s | speed-up | target |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (sg, epochs) in sorted({(r["sg"], r["epochs"]) for r in w}, reverse=True):
            name = "skip-gram" if sg else "CBOW"
            f = [r for r in w if r["lib"] == "fastembed" and r["sg"] == sg and r["epochs"] == epochs]
            g = [r for r in w if r["lib"] == "gensim" and r["sg"] == sg and r["epochs"] == epochs]
            if not f or not g:
                continue
            fq, gq = [r["quality"] for r in f], [r["quality"] for r in g]
            fs = [r["effective"] / r["train_seconds"] / 1e6 for r in f]
            gs = [r["effective"] / r["train_seconds"] / 1e6 for r in g]
            qr = np.mean(fq) / np.mean(gq)
            sr = _med(fs) / _med(gs)
            print(f"| {name} | {epochs} | {' '.join(f'{q:.4f}' for q in fq)} (mean {np.mean(fq):.4f}) | "
                  f"{' '.join(f'{q:.4f}' for q in gq)} (mean {np.mean(gq):.4f}) | {qr:.3f} | >= 0.99 "
                  f"{'met' if qr >= 0.99 else 'missed'} | {_med(fs):.2f}M ({_spread(fs)}) | {_med(gs):.2f}M "
                  f"({_spread(gs)}) | {sr:.2f}x | >= 1.5x {'met' if sr >= 1.5 else 'missed'} |")


# ------------------------------------------------------------------------------------------ main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["data", "kv", "native", "analogies", "w2v", "table", "chunks"])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--lib", choices=["gensim", "fastembed"])
    ap.add_argument("--phases", default="most_similar,analogies")
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=0)
    ap.add_argument("--max-questions", type=int, default=5000)
    ap.add_argument("--sg", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if a.what == "data":
        make_data(a.out, a.rows, a.dim)
    elif a.what == "chunks":
        for p in chunk_files(a.out, a.max_questions):
            print(p)
    elif a.what == "kv":
        res = os.path.join(a.out, f"kv-{a.lib}-{stamp}.json")
        run_script(KV_SCRIPT, a.lib, "kv", [vectors_path(a.out), os.path.join(a.out, "queries.txt"),
                                            _questions_path(), res, a.phases])
        print(json.dumps({k: v for k, v in json.load(open(res)).items() if not k.endswith("answers")}))
    elif a.what == "native":
        run_script(KV_SCRIPT, a.lib, "kv", [vectors_path(a.out), "-", os.path.join(a.out, f"vectors.{a.lib}.kv"),
                                            os.path.join(a.out, f"native-{a.lib}.json"), "save"])
    elif a.what == "analogies":
        chunk = chunk_files(a.out, a.max_questions)[a.chunk]
        res = os.path.join(a.out, f"analogies-{a.lib}-chunk{a.chunk}.json")
        native = os.path.join(a.out, f"vectors.{a.lib}.kv")
        run_script(KV_SCRIPT, a.lib, "kv", [native if os.path.exists(native) else vectors_path(a.out),
                                            os.path.join(a.out, "queries.txt"), chunk, res, "analogies"])
        r = json.load(open(res))
        print(json.dumps({"load": r["load"], "analogies": r["analogies"], "score": r["analogies_answers"][0]}))
    elif a.what == "w2v":
        res = os.path.join(a.out, f"w2v-{a.lib}-sg{a.sg}-e{a.epochs}-seed{a.seed}.json")
        run_script(W2V_SCRIPT, a.lib, "w2v", [a.sg, a.seed, a.workers, a.epochs, res])
        r = json.load(open(res))
        r.update(lib=a.lib, sg=a.sg, seed=a.seed, workers=a.workers, epochs=a.epochs)
        json.dump(r, open(res, "w"))
        print(json.dumps(r))
    else:
        table(a.out)


if __name__ == "__main__":
    main()
