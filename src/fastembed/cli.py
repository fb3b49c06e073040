"""The ``fastembed`` command line (also ``python -m fastembed``).

User mistakes (unknown words, missing files, unreadable formats, bad options) print one line on
stderr and exit with status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import List, Optional

import numpy as np

__all__ = ["main", "build_parser"]


class UserError(Exception):
    """A mistake in the command line or its inputs: one line on stderr, exit code 2."""


# ------------------------------------------------------------------ helpers

def _fmt_vec(v, n=6) -> str:
    items = ", ".join(f"{x:+.3f}" for x in v[:n])
    return f"[{items}{', ...' if len(v) > n else ''}]"


def _load(path: str, fmt: str = "auto"):
    import fastembed as fe
    if not os.path.exists(path):
        raise UserError(f"no such file or directory: {path}")
    t = fe.load(path, format=fmt)
    if t.vocab is None:
        raise UserError(f"{path} has no keys (words); word commands need a vocabulary")
    return t


def _check_words(table, words: List[str]) -> None:
    missing = [w for w in words if w not in table.vocab]
    if missing:
        raise UserError(f"not in the vocabulary: {', '.join(repr(w) for w in missing)}")


def _train_planted(dim: int, epochs: int = 5, progress=True, seed: int = 1):
    import fastembed as fe
    from fastembed.corpus import planted_corpus
    return fe.train_word2vec(planted_corpus(20000, seed=0), dim=dim, min_count=1, epochs=epochs,
                             progress=progress, seed=seed)


def _header(title: str) -> None:
    print(f"\n== {title} ==")


# ------------------------------------------------------------------ demo

def cmd_demo(args) -> None:
    import fastembed as fe
    from fastembed.positions import SinusoidalPositions
    if args.dim < 2:
        raise UserError(f"--dim must be at least 2, got {args.dim}")
    words = ["cat", "dog", "airplane", "king", "queen"]

    _header("1. one-hot vectors: every word is its own axis")
    oh = fe.one_hot(np.arange(len(words)), len(words))
    for w, row in zip(words, oh):
        print(f"  {w:>9} {row.astype(int).tolist()}")
    print("  cosine(cat, dog) = cosine(cat, airplane) = 0: every pair is equally far apart,")
    print("  so one-hot vectors say nothing about meaning. Dense vectors are learned instead.")

    if args.vectors:
        print(f"\nloading {args.vectors} ...")
        table = _load(args.vectors)
        source = args.vectors
    else:
        _header(f"2. learning dense vectors: word2vec on a small planted corpus (EMBED_DIM={args.dim})")
        print("  sentences like 'the cat purred on the mat', 'the king wore the crown', 'he drove the car'")
        t0 = time.perf_counter()
        table = _train_planted(args.dim, progress=not args.no_progress)
        print(f"  trained {len(table)} words x {table.dim} dims in {time.perf_counter() - t0:.1f} s")
        source = "the planted corpus"

    vocab = table.vocab
    present = [w for w in ("cat", "king", "airplane") if w in vocab] or vocab.keys[:3]
    _header("3. a lookup: token ids -> rows of the table")
    ids = vocab.encode(present)
    rows = table.lookup(ids)
    for w, i, r in zip(present, ids, rows):
        print(f"  {w!r:>12} -> id {int(i):>5} -> {_fmt_vec(r)}")
    print(f"  the table is {len(table)} x {table.dim} float32; lookup(ids) copies rows, the same as "
          "one_hot(ids) @ table without the zeros")

    _header(f"4. nearest neighbours (cosine) in {source}")
    for w in present:
        nn = table.most_similar(w, topn=5)
        print(f"  {w:>10}: " + ", ".join(f"{k} {s:.2f}" for k, s in nn))

    if all(w in vocab for w in ("king", "man", "woman")):
        _header("5. king - man + woman")
        ans = table.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
        print("  " + ", ".join(f"{k} {s:.2f}" for k, s in ans))
        if "queen" in vocab:
            print(f"  queen ranks {_rank_of(ans, 'queen', table)}: the gender direction (woman - man) "
                  "moved king to queen")

    _header("6. positions: 'dog bites man' vs 'man bites dog'")
    toks = ["dog", "bites", "man"]
    if not all(w in vocab for w in toks):
        toks = vocab.keys[:3]
        print(f"  (those words are not in this vocabulary; using {toks})")
    a = np.array([vocab.encode(toks)])
    b = a[:, ::-1].copy()
    pos = SinusoidalPositions(table.dim, max_len=16)
    la, lb = table.lookup(a)[0], table.lookup(b)[0]
    same = np.array_equal(np.sort(la, axis=0), np.sort(lb, axis=0))
    print(f"  lookup only: both sentences are the same {len(toks)} vectors in another order "
          f"(same set: {same}); attention, which treats its inputs as a set, could not tell them apart")
    xa, xb = table.embed(a, pos)[0], table.embed(b, pos)[0]
    print(f"  embed(ids, SinusoidalPositions): each row is token + position, so {toks[0]!r} at position 0 and "
          f"{toks[0]!r} at position {len(toks) - 1} are different vectors")
    print(f"    {toks[0]!r}@0 = {_fmt_vec(xa[0], 4)}")
    print(f"    {toks[0]!r}@{len(toks) - 1} = {_fmt_vec(xb[-1], 4)}   distance {np.linalg.norm(xa[0] - xb[-1]):.3f}")

    if not args.vectors:
        _header("7. how EMBED_DIM changes the picture")
        print(f"  {'dim':>5} {'cos(cat,dog)':>13} {'cos(cat,airplane)':>18}   king - man + woman")
        for d in sorted({2, 4, args.dim}):
            t = table if d == args.dim else _train_planted(d, progress=False)
            ans = t.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
            print(f"  {d:>5} {t.similarity('cat', 'dog'):>13.2f} {t.similarity('cat', 'airplane'):>18.2f}   {ans}")
        print("  tiny dims cannot keep animals, vehicles, royalty, gender and age apart; a few dozen can.")
    print("\nnext: fastembed neighbors cat --vectors FILE | fastembed plot --vectors FILE cat dog king -o map.png")


def _rank_of(pairs, key, table) -> str:
    for i, (k, _) in enumerate(pairs):
        if k == key:
            return f"#{i + 1}"
    return f"#{len(pairs)}+"


# ------------------------------------------------------------------ word commands

def cmd_neighbors(args) -> None:
    t = _load(args.vectors)
    _check_words(t, args.words)
    for w in args.words:
        print(f"{w}:")
        for k, s in t.most_similar(w, topn=args.k, restrict_vocab=args.restrict):
            print(f"  {s:+.4f}  {k}")


def cmd_analogy(args) -> None:
    t = _load(args.vectors)
    _check_words(t, [args.a, args.b, args.c])
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    for k, s in t.analogy(args.a, args.b, args.c, topn=args.k, method=args.method):
        print(f"  {s:+.4f}  {k}")


def cmd_similarity(args) -> None:
    t = _load(args.vectors)
    _check_words(t, [args.w1, args.w2])
    print(f"{t.similarity(args.w1, args.w2):.6f}")


# ------------------------------------------------------------------ files

def cmd_convert(args) -> None:
    import fastembed as fe
    t = _load(args.input, args.input_format) if args.input_format != "safetensors" else fe.load(args.input)
    fe.save(t, args.output, format=args.to)
    print(f"wrote {len(t)} x {t.dim} vectors to {args.output} ({args.to})")


def cmd_info(args) -> None:
    import fastembed as fe
    from fastembed.io import detect_format
    if not os.path.exists(args.path):
        raise UserError(f"no such file or directory: {args.path}")
    fmt = detect_format(args.path)
    t = fe.load(args.path, mmap=(fmt == "native"))
    n = t.norms()
    print(f"path:    {args.path}")
    print(f"format:  {fmt}")
    print(f"shape:   {len(t)} x {t.dim} ({t.weights.dtype}, {t.weights.nbytes / 2 ** 20:.1f} MiB)")
    if t.vocab is not None:
        print(f"vocab:   {', '.join(t.vocab.keys[:8])}{', ...' if len(t) > 8 else ''}")
    if len(t):
        print(f"norms:   min {n.min():.4f}  mean {n.mean():.4f}  max {n.max():.4f}  zero rows {(n == 0).sum()}")


def cmd_train(args) -> None:
    import fastembed as fe
    if not os.path.exists(args.corpus):
        raise UserError(f"no such corpus file: {args.corpus}")
    model = args.model

    def report(h):
        if model == "glove":
            print(f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['pairs']} pairs, "
                  f"{h['pairs_per_sec'] / 1e6:.2f}M pairs/s", file=sys.stderr)
        else:
            print(f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['raw_words']} words, "
                  f"{h['words_per_sec'] / 1e3:.0f}k words/s", file=sys.stderr)
    window = args.window if args.window is not None else (10 if model == "glove" else 5)
    epochs = args.epochs if args.epochs is not None else (25 if model == "glove" else 5)
    try:
        if model == "glove":
            t = fe.train_glove(args.corpus, dim=args.dim, window=window, min_count=args.min_count, epochs=epochs,
                               learning_rate=args.learning_rate, x_max=args.x_max, alpha=args.glove_alpha,
                               symmetric=not args.asymmetric, vectors=args.vectors, workers=args.workers,
                               seed=args.seed, max_vocab=args.max_vocab, memory=int(args.memory_mb * 2 ** 20),
                               tmpdir=args.tmpdir, progress=not args.no_progress, callbacks=[report])
        else:
            w = fe.Word2Vec(dim=args.dim, window=window, negative=args.negative, min_count=args.min_count,
                            sample=args.sample, epochs=epochs, alpha=args.alpha, sg=1 if model == "sg" else 0,
                            cbow_mean=not args.cbow_sum, workers=args.workers, seed=args.seed,
                            max_vocab=args.max_vocab, progress=not args.no_progress, callbacks=[report])
            t = w.train(args.corpus)
            if args.save_model:
                w.save(args.save_model)
                print(f"wrote the full model (for further training) to {args.save_model}")
    except (ValueError, FloatingPointError) as exc:
        raise UserError(str(exc)) from None
    fmt = args.format or ("word2vec-binary" if args.output.endswith(".bin") else "native"
                          if not os.path.splitext(args.output)[1] else "word2vec")
    fe.save(t, args.output, format=fmt)
    print(f"wrote {len(t)} x {t.dim} vectors to {args.output} ({fmt})")


def cmd_evaluate(args) -> None:
    t = _load(args.vectors)
    if not args.analogies and not args.pairs:
        raise UserError("give --analogies FILE and/or --pairs FILE")
    for path in (args.analogies, args.pairs):
        if path and not os.path.exists(path):
            raise UserError(f"no such file: {path}")
    if args.analogies:
        r = t.evaluate_analogies(args.analogies, restrict_vocab=args.restrict, method=args.method)
        for s in r.sections:
            n = s["correct"] + s["incorrect"]
            print(f"{s['section']:<32} {s['correct']:>6} / {n:<6} {100 * s['accuracy']:6.2f}%")
        print(f"skipped (out of vocabulary): {r.skipped}")
    if args.pairs:
        r = t.evaluate_word_pairs(args.pairs, restrict_vocab=args.restrict)
        print(f"pairs {r.pairs}: Pearson {r.pearson:.4f}  Spearman {r.spearman:.4f}  OOV {r.oov_ratio:.1f}%")


def cmd_bench(args) -> None:
    from fastembed import benchmarks
    bad = [s for s in args.sections if s not in benchmarks.SECTIONS]
    if bad:
        raise UserError(f"unknown benchmark section(s) {bad}; choose from {sorted(benchmarks.SECTIONS)}")
    sections = args.sections or (["lookup", "embed", "topk"] if args.quick else None)
    benchmarks.run(sections, quick=args.quick, n_threads=args.threads)


def cmd_plot(args) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("plot needs matplotlib: pip install 'fastembed-engine[plot]'") from None
    t = _load(args.vectors) if args.vectors else _train_planted(args.dim, progress=False)
    words = args.words or ["cat", "dog", "kitten", "puppy", "car", "airplane", "truck", "king", "queen",
                           "man", "woman", "prince", "princess"]
    _check_words(t, words)
    X = t.lookup(t.encode(words)).astype(np.float64)
    X = X - X.mean(axis=0)
    if len(words) < 2:
        raise UserError("plot needs at least two words")
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    xy = X @ vt[:2].T if vt.shape[0] >= 2 else np.c_[X @ vt[:1].T, np.zeros(len(words))]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(xy[:, 0], xy[:, 1], s=30)
    for (x, y), w in zip(xy, words):
        ax.annotate(w, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=11)
    ax.set_title(f"{len(words)} words, {t.dim}-dim vectors projected to 2-D (PCA)")
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    from fastembed import __version__
    from fastembed.io import FORMATS
    p = argparse.ArgumentParser(prog="fastembed",
                                description="Embedding tables: lookup, search, analogies, I/O, word2vec and GloVe training.")
    p.add_argument("--version", action="version", version=f"fastembed {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="a guided tour of embeddings on the real engine")
    d.add_argument("--dim", type=int, default=16, help="EMBED_DIM: columns of the learned table (default 16)")
    d.add_argument("--vectors", help="run the tour on a vector file instead of training")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_demo)

    n = sub.add_parser("neighbors", aliases=["neighbours"], help="nearest words by cosine")
    n.add_argument("words", nargs="+", metavar="WORD")
    n.add_argument("--vectors", required=True, metavar="PATH")
    n.add_argument("-k", type=int, default=10, help="how many (default 10)")
    n.add_argument("--restrict", type=int, help="search only the first N (most frequent) words")
    n.set_defaults(func=cmd_neighbors)

    a = sub.add_parser("analogy", help="A : B :: C : ? (e.g. man king woman)")
    a.add_argument("a", metavar="A")
    a.add_argument("b", metavar="B")
    a.add_argument("c", metavar="C")
    a.add_argument("--vectors", required=True, metavar="PATH")
    a.add_argument("-k", type=int, default=5)
    a.add_argument("--method", choices=["add", "mul"], default="add", help="3CosAdd or 3CosMul")
    a.set_defaults(func=cmd_analogy)

    s = sub.add_parser("similarity", help="cosine similarity of two words")
    s.add_argument("w1", metavar="W1")
    s.add_argument("w2", metavar="W2")
    s.add_argument("--vectors", required=True, metavar="PATH")
    s.set_defaults(func=cmd_similarity)

    c = sub.add_parser("convert", help="convert between vector formats")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")
    c.add_argument("--to", choices=[f for f in FORMATS], default="native")
    c.add_argument("--from", dest="input_format", choices=("auto",) + FORMATS, default="auto")
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("info", help="shape, vocabulary sample and norms of a vector file")
    i.add_argument("path", metavar="PATH")
    i.set_defaults(func=cmd_info)

    t = sub.add_parser("train", help="train word vectors (word2vec skip-gram or CBOW, or GloVe) on a text "
                                     "corpus (one sentence a line; .gz/.bz2 too)")
    t.add_argument("corpus", metavar="CORPUS")
    t.add_argument("-o", "--output", required=True, metavar="OUT")
    t.add_argument("--model", choices=("sg", "cbow", "glove"), default="sg",
                   help="sg: word2vec skip-gram; cbow: word2vec CBOW; glove: GloVe (default sg)")
    t.add_argument("--format", choices=FORMATS, help="default: by OUT's extension (.bin binary, "
                                                     "none native, else word2vec text)")
    t.add_argument("--dim", type=int, default=100, help="vector size (default 100)")
    t.add_argument("--window", type=int, default=None,
                   help="context words each side (default 5 for word2vec, 10 for GloVe)")
    t.add_argument("--min-count", type=int, default=5, help="ignore words seen fewer times (default 5)")
    t.add_argument("--epochs", type=int, default=None, help="passes (default 5 for word2vec, 25 for GloVe)")
    t.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
    t.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    t.add_argument("--max-vocab", type=int, default=None, help="keep only the most frequent words")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    w2v = t.add_argument_group("word2vec (sg, cbow)")
    w2v.add_argument("--negative", type=int, default=5, help="noise words per pair (default 5)")
    w2v.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (default 1e-3)")
    w2v.add_argument("--alpha", type=float, default=0.025, help="initial learning rate (default 0.025)")
    w2v.add_argument("--cbow-sum", action="store_true", help="CBOW: sum the context vectors (default: mean)")
    w2v.add_argument("--save-model", metavar="DIR", default=None,
                     help="also save the full model (vocabulary, counts, both weight matrices) to DIR, to "
                          "train it further with fastembed.Word2Vec.load(DIR)")
    gl = t.add_argument_group("GloVe")
    gl.add_argument("--learning-rate", type=float, default=0.05, help="AdaGrad's initial step (default 0.05)")
    gl.add_argument("--x-max", type=float, default=100.0, help="weighting cutoff x_max (default 100)")
    gl.add_argument("--glove-alpha", type=float, default=0.75, help="weighting exponent alpha (default 0.75)")
    gl.add_argument("--asymmetric", action="store_true", help="count the right context only (default: both sides)")
    gl.add_argument("--vectors", choices=("sum", "word"), default="sum",
                    help="output word + context vectors (sum, default) or word vectors only")
    gl.add_argument("--memory-mb", type=float, default=1024.0,
                    help="memory for counting co-occurrences, in MiB (default 1024); more spills to disk")
    gl.add_argument("--tmpdir", default=None, help="where spilled co-occurrence runs go (default: system temp)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="analogy accuracy and/or word-pair correlation")
    e.add_argument("--vectors", required=True, metavar="PATH")
    e.add_argument("--analogies", metavar="FILE", help="questions-words.txt format")
    e.add_argument("--pairs", metavar="FILE", help="word1<TAB>word2<TAB>score lines")
    e.add_argument("--restrict", type=int, default=300000)
    e.add_argument("--method", choices=["add", "mul"], default="add")
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser("bench", help="kernel timings against numpy (and torch / faiss if installed)")
    b.add_argument("sections", nargs="*", help="lookup, embed, topk, analogy, io, backward, word2vec")
    b.add_argument("--quick", action="store_true", help="fewer, smaller cases (lookup, embed, topk)")
    b.add_argument("--threads", type=int, default=2)
    b.set_defaults(func=cmd_bench)

    pl = sub.add_parser("plot", help="2-D map (PCA) of words as a PNG (needs matplotlib)")
    pl.add_argument("words", nargs="*", metavar="WORD")
    pl.add_argument("--vectors", metavar="PATH", help="default: train on the planted corpus")
    pl.add_argument("--dim", type=int, default=16, help="EMBED_DIM when training (default 16)")
    pl.add_argument("-o", "--output", required=True, metavar="PNG")
    pl.set_defaults(func=cmd_plot)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (UserError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"fastembed: error: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"fastembed: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except ValueError as e:  # malformed files and arguments: the message names what and where
        print(f"fastembed: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fastembed neighbors ... | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
