"""The ``fastembed`` command line (also ``python -m fastembed``).

User mistakes (unknown words, missing files, unreadable formats, bad options) print one line on
stderr and exit with status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
from typing import List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from fastembed import pooling, simd
from fastembed._onehot import one_hot
from fastembed._version import __version__
from fastembed.corpus import planted_corpus
from fastembed.glove import train_glove
from fastembed.io import FORMATS, SAVE_FORMATS, FileFormatError, check_save_format, detect_format, load, save
from fastembed.positions import SinusoidalPositions
from fastembed.text.sentences import SentenceIndex, read_lines
from fastembed.text.static import StaticModel
from fastembed.training import Word2Vec, train_word2vec
from fastembed.fasttext import FastText

__all__ = ["main", "build_parser"]


class UserError(Exception):
    """A mistake in the command line or its inputs: one line on stderr, exit code 2."""


HINT_TEXT_BYTES = 50 * 2 ** 20  # text vector files larger than this get a hint to convert them once
PLOT_TOP_WORDS = 20             # plot --vectors without words: this many of the most frequent words
PLANTED_WORDS = ["cat", "dog", "kitten", "puppy", "car", "airplane", "truck", "king", "queen", "man", "woman",
                 "prince", "princess"]
DEMO_VECTORS = "fastembed-demo-vectors.txt"  # in the current directory unless --save says where
VECTORS_HELP = "a vector file or native directory (any format fastembed.load reads)"

# The library's error messages suggest keyword arguments; on the command line each is a flag. One
# table, so every suggestion the CLI prints is a flag it has (tests/test_cli.py checks both).
CLI_SPELLING = [
    (r"pass duplicates='first'", "pass --duplicates first"),
    (r"pass unicode_errors='replace'", "pass --unicode-errors replace"),
    (r"pass tensor=", "pass --tensor NAME"),
]


# ------------------------------------------------------------------ helpers

def _fmt_vec(v, n=6) -> str:
    items = ", ".join(f"{x:+.3f}" for x in v[:n])
    return f"[{items}{', ...' if len(v) > n else ''}]"


def _positive_int(text: str) -> int:
    """argparse type: an int >= 1 (checked while parsing, before any work)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def _check_inputs(*paths: Optional[str]) -> None:
    """Every input file the command names exists (checked before any work)."""
    for p in paths:
        if p is not None and not os.path.exists(p):
            raise UserError(f"no such file or directory: {p}")


def _check_output(path: Optional[str], flag: str) -> None:
    """The directory an output goes to exists (checked before any work, not after training)."""
    if path is None:
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"{flag} {path}: the directory {parent} does not exist")


def _load(path: str, args=None, fmt: str = "auto", hint: bool = True, need_vocab: bool = True):
    """A table with keys; native and spaCy directories are memory-mapped. The load options
    (--duplicates, --unicode-errors, --tensor) come from ``args``. A large text file, parsed again
    on every command, gets a hint on stderr to convert it once (``hint=False``: not for convert)."""
    _check_inputs(path)
    kind = detect_format(path) if fmt == "auto" else fmt
    if hint:
        _hint_convert(path, kind)
    opts = {k: getattr(args, k) for k in ("duplicates", "unicode_errors", "tensor") if hasattr(args, k)}
    t = load(path, format=fmt, mmap=kind in ("native", "spacy"), **opts)
    if need_vocab and t.vocab is None:
        raise UserError(f"{path} has no keys (words); word commands need a vocabulary")
    return t


def cli_spelling(message: str, format_flag: Optional[str] = None) -> str:
    """A library message with its keyword-argument suggestions spelled as this CLI's flags
    (:data:`CLI_SPELLING`); ``format='x'`` becomes ``format_flag x`` (convert's --from for a file
    it reads, --to / train's --format for one it writes) when the command has such a flag."""
    for pattern, flag in CLI_SPELLING:
        message = re.sub(pattern, flag, message)
    if format_flag is not None:
        message = re.sub(r"format='([\w-]+)'( or '([\w-]+)')?",
                         lambda m: f"{format_flag} {m.group(1)}" + (f" or {format_flag} {m.group(3)}"
                                                                    if m.group(3) else ""), message)
    return message


def _format_flag(args, exc: BaseException) -> Optional[str]:
    """The flag that picks a format for what failed: convert reads with --from and writes with
    --to; train writes with --format; other commands detect formats and have none."""
    if isinstance(exc, FileFormatError):
        return "--from" if hasattr(args, "input_format") else None
    return "--to" if hasattr(args, "to") else "--format" if getattr(args, "command", None) == "train" else None


def _hint_convert(path: str, kind: str) -> None:
    if kind not in ("word2vec", "glove") or os.path.isdir(path):
        return
    size = os.path.getsize(path)
    if size <= HINT_TEXT_BYTES:
        return
    native = os.path.splitext(path[:-3] if path.endswith(".gz") else path[:-4] if path.endswith(".bz2")
                              else path)[0] + ".native"
    print(f"fastembed: hint: {path} is a {size / 2 ** 20:.0f} MB {kind} text file, parsed again by every command; "
          f"convert it once with `fastembed convert {shlex.quote(path)} {shlex.quote(native)} --to native` and pass "
          f"--vectors {shlex.quote(native)} (memory-mapped: it loads in milliseconds)", file=sys.stderr)


def _check_words(table, words: List[str], hint: str = "") -> None:
    missing = [w for w in words if w not in table.vocab]
    if missing:
        raise UserError(f"not in the vocabulary: {', '.join(repr(w) for w in missing)}{hint}")


def _train_planted(dim: int, epochs: int = 5, progress=True, seed: int = 1):
    return train_word2vec(planted_corpus(20000, seed=0), dim=dim, min_count=1, epochs=epochs,
                             progress=progress, seed=seed)


def _header(title: str) -> None:
    print(f"\n== {title} ==")


# ------------------------------------------------------------------ demo

def cmd_demo(args) -> None:
    if args.dim < 2:
        raise UserError(f"--dim must be at least 2, got {args.dim}")
    _check_inputs(args.vectors)
    _check_output(args.save, "--save")
    words = ["cat", "dog", "airplane", "king", "queen"]

    _header("1. one-hot vectors: every word is its own axis")
    oh = one_hot(np.arange(len(words)), len(words))
    for w, row in zip(words, oh):
        print(f"  {w:>9} {row.astype(int).tolist()}")
    print("  cosine(cat, dog) = cosine(cat, airplane) = 0: every pair is equally far apart,")
    print("  so one-hot vectors say nothing about meaning. Dense vectors are learned instead.")

    if args.vectors:
        print(f"\nloading {args.vectors} ...")
        table = _load(args.vectors, args)
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
        nn = table.words.most_similar(w, topn=5)
        print(f"  {w:>10}: " + ", ".join(f"{k} {s:.2f}" for k, s in nn))

    if all(w in vocab for w in ("king", "man", "woman")):
        _header("5. king - man + woman")
        ans = table.words.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
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
            ans = t.words.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
            print(f"  {d:>5} {t.words.similarity('cat', 'dog'):>13.2f} {t.words.similarity('cat', 'airplane'):>18.2f}   {ans}")
        print("  tiny dims cannot keep animals, vehicles, royalty, gender and age apart; a few dozen can.")
    if args.vectors:
        path = args.vectors
    else:
        path = args.save or DEMO_VECTORS
        save(table, path, format="word2vec")
        print(f"\nsaved the {len(table)} x {table.dim} vectors trained above to {path}")
    q = shlex.quote(path)
    shown = [w for w in ("cat", "dog", "king") if w in vocab] or vocab.keys[:3]
    print("next, on these vectors:")
    print(f"  fastembed neighbors {shlex.quote(present[0])} --vectors {q}")
    print(f"  fastembed plot --vectors {q} {' '.join(shlex.quote(w) for w in shown)} -o map.png")


def _rank_of(pairs, key, table) -> str:
    for i, (k, _) in enumerate(pairs):
        if k == key:
            return f"#{i + 1}"
    return f"#{len(pairs)}+"


# ------------------------------------------------------------------ word commands

def cmd_neighbors(args) -> None:
    if not args.words and not args.sentence:
        raise UserError("give one or more words, or --sentence TEXT")
    t = _load(args.vectors, args)
    _check_words(t, args.words)
    # every answer is computed before the first line is printed: an error prints nothing else
    blocks = [_sentence_neighbors(t, text, args.k, args.restrict) for text in args.sentence or []]
    for w in args.words:
        blocks.append((f"{w}:", t.words.most_similar(w, topn=args.k, restrict_vocab=args.restrict)))
    for title, pairs in blocks:
        print(title)
        for k, s in pairs:
            print(f"  {s:+.4f}  {k}")


def _sentence_neighbors(t, text: str, k: int, restrict):
    """(title, [(word, score)]): words nearest (cosine) to gensim's mean vector of the sentence's
    known words; those words themselves are left out of the answers, as most_similar does."""
    words = text.split()
    known = [w for w in words if w in t.vocab]
    unknown = [w for w in words if w not in t.vocab]
    if unknown:
        print(f"fastembed: skipped {len(unknown)} unknown word(s): {', '.join(repr(w) for w in unknown)}",
              file=sys.stderr)
    if not known:
        raise UserError(f"none of the words of {text!r} is in the vocabulary")
    v = t.pool.mean_vector(known)
    if not np.any(v):
        raise UserError(f"the mean vector of {text!r} is zero")
    scores, ids = t.topk(v, k, exclude=sorted(set(t.vocab.encode(known).tolist())), restrict=restrict)
    return f"{text!r}:", [(t.vocab.keys[i], s_) for s_, i in zip(scores, ids) if i >= 0]


def cmd_sentences(args) -> None:
    _check_inputs(args.vectors, args.input)
    _check_output(args.output, "--output")
    t = _load(args.vectors, args)
    if args.mode == "sif" and t.vocab.counts is None:
        raise UserError(f"--mode sif needs word counts and {args.vectors} has none; use mean, sum or max")
    if args.input:
        with open(args.input, encoding="utf-8") as f:
            lines = f.read().splitlines()
    else:
        lines = sys.stdin.read().splitlines()
    if args.lower:
        lines = [line.lower() for line in lines]
    res = t.pool.sentence_vectors(lines, mode=args.mode)
    vecs = res.vectors
    if args.output and args.output.endswith(".npy"):
        np.save(args.output, vecs)
    elif args.output:
        np.savetxt(args.output, vecs, fmt="%.9g")
    else:
        np.savetxt(sys.stdout, vecs, fmt="%.9g")
    n_lines = int((res.missing > 0).sum())
    empty = sum(1 for line, m in zip(lines, res.missing) if len(line.split()) == m)
    print(f"fastembed: {len(lines)} sentences -> {vecs.shape[0]} x {vecs.shape[1]} ({args.mode}); skipped "
          f"{res.n_missing} unknown word(s) in {n_lines} sentence(s); {empty} sentence(s) with no known "
          f"word got zeros" + (f"; wrote {args.output}" if args.output else ""), file=sys.stderr)


def cmd_analogy(args) -> None:
    t = _load(args.vectors, args)
    _check_words(t, [args.a, args.b, args.c])
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    for k, s in t.words.analogy(args.a, args.b, args.c, topn=args.k, method=args.method):
        print(f"  {s:+.4f}  {k}")


def cmd_similarity(args) -> None:
    t = _load(args.vectors, args)
    _check_words(t, [args.w1, args.w2])
    print(f"{t.words.similarity(args.w1, args.w2):.6f}")


# ------------------------------------------------------------------ files

def cmd_convert(args) -> None:
    _check_inputs(args.input)
    _check_output(args.output, "OUT")
    t = _load(args.input, args, args.input_format, hint=False, need_vocab=False)
    save(t, args.output, format=args.to)
    print(f"wrote {len(t)} x {t.dim} vectors to {args.output} ({args.to})")


def cmd_info(args) -> None:
    _check_inputs(args.path)
    fmt = detect_format(args.path)
    t = _load(args.path, args, hint=False, need_vocab=False)
    n = t.norms()
    print(f"path:    {args.path}")
    print(f"format:  {fmt}")
    print(f"shape:   {len(t)} x {t.dim} ({t.weights.dtype}, {t.weights.nbytes / 2 ** 20:.1f} MiB)")
    if t.vocab is not None:
        print(f"vocab:   {', '.join(t.vocab.keys[:8])}{', ...' if len(t) > 8 else ''}")
    if len(t):
        print(f"norms:   min {n.min():.4f}  mean {n.mean():.4f}  max {n.max():.4f}  zero rows {(n == 0).sum()}")


def cmd_train(args) -> None:
    if not os.path.exists(args.corpus):
        raise UserError(f"no such corpus file: {args.corpus}")
    # everything that could fail after training is checked first: the output's directory and format
    _check_output(args.output, "--output")
    _check_output(args.save_model, "--save-model")
    if args.tmpdir is not None and not os.path.isdir(args.tmpdir):
        raise UserError(f"--tmpdir {args.tmpdir}: no such directory")
    fmt = args.format or ("word2vec-binary" if args.output.endswith(".bin") else "native"
                          if not os.path.splitext(args.output)[1] else "word2vec")
    try:
        check_save_format(fmt)  # the io registry says which formats can be written
    except ValueError as exc:
        raise UserError(f"--format {fmt}: {exc}") from None
    model = args.model

    def report(h):
        # through the bar's writer: a plain print would garble the progress bar on a terminal
        if model == "glove":
            tqdm.write(f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['pairs']} pairs, "
                       f"{h['pairs_per_sec'] / 1e6:.2f}M pairs/s", file=sys.stderr)
        else:
            tqdm.write(f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['raw_words']} words, "
                       f"{h['words_per_sec'] / 1e3:.0f}k words/s", file=sys.stderr)
    window = args.window if args.window is not None else (10 if model == "glove" else 5)
    epochs = args.epochs if args.epochs is not None else (25 if model == "glove" else 5)
    try:
        if model == "glove":
            t = train_glove(args.corpus, dim=args.dim, window=window, min_count=args.min_count, epochs=epochs,
                               learning_rate=args.learning_rate, x_max=args.x_max, alpha=args.glove_alpha,
                               symmetric=not args.asymmetric, vectors=args.vectors, workers=args.workers,
                               seed=args.seed, max_vocab=args.max_vocab, memory=int(args.memory_mb * 2 ** 20),
                               tmpdir=args.tmpdir, progress=not args.no_progress, callbacks=[report])
        elif model in ("fasttext", "fasttext-cbow"):
            if args.save_model:
                raise UserError("--save-model is for word2vec; a fastText model is saved whole with "
                                "--format fasttext-bin")
            ft = FastText(dim=args.dim, window=window, negative=args.negative, min_count=args.min_count,
                          sample=1e-4 if args.sample is None else args.sample, epochs=epochs,
                          alpha=0.05 if args.alpha is None else args.alpha, sg=1 if model == "fasttext" else 0,
                          minn=args.minn, maxn=args.maxn, bucket=args.bucket, workers=args.workers, seed=args.seed,
                          max_vocab=args.max_vocab, progress=not args.no_progress, callbacks=[report])
            t = ft.train(args.corpus)
            if fmt == "fasttext-bin":  # the whole model: n-gram rows, so readers get vectors for unseen words
                ft.save(args.output)
                print(f"wrote the fastText model ({len(t)} words x {t.dim}, {ft.bucket} n-gram buckets) to "
                      f"{args.output} ({fmt})")
                return
        else:
            w = Word2Vec(dim=args.dim, window=window, negative=args.negative, min_count=args.min_count,
                            sample=1e-3 if args.sample is None else args.sample, epochs=epochs,
                            alpha=0.025 if args.alpha is None else args.alpha, sg=1 if model == "sg" else 0,
                            cbow_mean=not args.cbow_sum, workers=args.workers, seed=args.seed,
                            max_vocab=args.max_vocab, progress=not args.no_progress, callbacks=[report])
            t = w.train(args.corpus)
            if args.save_model:
                w.save(args.save_model)
                print(f"wrote the full model (for further training) to {args.save_model}")
    except (ValueError, FloatingPointError) as exc:
        raise UserError(str(exc)) from None
    save(t, args.output, format=fmt)
    print(f"wrote {len(t)} x {t.dim} vectors to {args.output} ({fmt})")


def cmd_evaluate(args) -> None:
    if not args.analogies and not args.pairs:
        raise UserError("give --analogies FILE and/or --pairs FILE")
    _check_inputs(args.vectors, args.analogies, args.pairs)
    t = _load(args.vectors, args)
    if args.analogies:
        r = t.words.evaluate_analogies(args.analogies, restrict_vocab=args.restrict, method=args.method)
        for s in r.sections:
            n = s["correct"] + s["incorrect"]
            if n == 0:  # every question of the section has a word outside the vocabulary
                print(f"{s['section']:<32} skipped: no question in the vocabulary")
            else:
                print(f"{s['section']:<32} {s['correct']:>6} / {n:<6} {100 * s['accuracy']:6.2f}%")
        print(f"skipped (out of vocabulary): {r.skipped}")
    if args.pairs:
        r = t.words.evaluate_word_pairs(args.pairs, restrict_vocab=args.restrict)
        print(f"pairs {r.pairs}: Pearson {r.pearson:.4f}  Spearman {r.spearman:.4f}  OOV {r.oov_ratio:.1f}%")


def cmd_bench(args) -> None:
    # the benchmarks are tooling, not product: imported when this command runs, never at start-up
    from fastembed import bench
    bad = [s for s in args.sections if s not in bench.SECTIONS]
    if bad:
        raise UserError(f"unknown benchmark section(s) {bad}; choose from {sorted(bench.SECTIONS)}")
    if args.simd is not None:  # an unknown or unsupported level is refused before any timing
        try:
            simd.resolve_level(args.simd)
        except ValueError as exc:
            raise UserError(f"--simd: {exc}") from None
    sections = args.sections or (["lookup", "embed", "topk"] if args.quick else None)
    bench.run(sections, quick=args.quick, n_threads=args.threads, simd=args.simd)


def _positive(value, name: str) -> None:
    if value is not None and value < 1:
        raise UserError(f"{name} must be at least 1, got {value}")


def _check_model_dir(path: str) -> None:
    if not os.path.exists(path):
        raise UserError(f"no such model directory: {path}")
    if not os.path.isdir(path):
        raise UserError(f"{path} is a file; MODEL is a model2vec or sentence-transformers static model directory")


def _check_input(path: str, what: str) -> None:
    if path == "-":
        return
    if not os.path.exists(path):
        raise UserError(f"no such {what}: {path}")
    if os.path.isdir(path):
        raise UserError(f"{what} {path} is a directory, expected a text file (one sentence a line)")
    if not os.access(path, os.R_OK):
        raise UserError(f"cannot read {what} {path}")


def _threads(n) -> Optional[int]:
    if n == 0:
        raise UserError("--threads 0 is not a thread count (use a positive number, or -1 for all cores)")
    return n


def cmd_encode(args) -> None:
    """Sentence vectors of every line of a file (or stdin) into a .npy array."""
    _check_model_dir(args.model)
    _check_input(args.input, "input file")
    if not args.output.endswith(".npy"):
        raise UserError(f"-o/--output must name a .npy file, got {args.output}")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise UserError(f"the output's directory does not exist: {out_dir}")
    if not os.access(out_dir, os.W_OK):
        raise UserError(f"cannot write to {out_dir}")
    _positive(args.batch_size, "--batch-size")
    _positive(args.max_length, "--max-length")
    nt = _threads(args.threads)
    model = StaticModel.from_pretrained(args.model)
    sentences = read_lines(args.input)
    t0 = time.perf_counter()
    kw = {} if args.max_length is None else {"max_length": args.max_length}
    vec = model.encode(sentences, batch_size=args.batch_size, n_threads=nt,
                       show_progress_bar=False if args.no_progress else None, **kw)
    dt = time.perf_counter() - t0
    tmp = args.output + ".tmp.npy"
    np.save(tmp, vec)
    os.replace(tmp, args.output)
    print(f"fastembed: {len(sentences)} sentences -> {args.output} ({vec.shape[0]} x {vec.shape[1]} float32) in "
          f"{dt:.2f} s", file=sys.stderr)


def cmd_search(args) -> None:
    """Top-k lines of a corpus for each query (the corpus is encoded once and kept on disk)."""
    _check_model_dir(args.model)
    _check_input(args.corpus, "corpus")
    if args.corpus == "-":
        raise UserError("--corpus must be a file (its vectors and index are kept beside it), not stdin")
    if not args.queries:
        raise UserError("give at least one query")
    empty = [q for q in args.queries if not q.strip()]
    if empty:
        raise UserError("a query is empty")
    _positive(args.k, "-k")
    nt = _threads(args.threads)
    cache = os.path.dirname(os.path.abspath(args.corpus))
    if not os.access(cache, os.W_OK):
        raise UserError(f"cannot write the corpus's vectors and index beside it: {cache} is not writable")
    model = StaticModel.from_pretrained(args.model)
    log = (lambda m: print(f"fastembed: {m}", file=sys.stderr))
    idx = SentenceIndex.open(model, args.corpus, rebuild=args.rebuild, n_threads=nt, log=log,
                             progress=False if args.no_progress else None)
    for q, hits in zip(args.queries, idx.search(args.queries, args.k, n_threads=nt)):
        if len(args.queries) > 1:
            print(f"# {q}")
        for line, score, text in hits:
            print(f"{score:.4f}\t{line + 1}\t{text}")


def _frequent_words(table, n: int) -> List[str]:
    """The n most frequent words: by count when the vocabulary has counts (ties in row order),
    else the first n rows (vector files are written most frequent first)."""
    vocab = table.vocab
    if vocab.counts is not None:
        order = np.argsort(-vocab.counts, kind="stable")[:n]
        return [vocab.keys[i] for i in order]
    return vocab.keys[:n]


def unit_pca(X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """PCA of the rows of X scaled to unit length (so long, frequent-word vectors do not pull the
    axes): ((n, 2) coordinates, (2,) shares of the variance the two axes explain). Signs are fixed
    so that each axis's largest coordinate is positive."""
    X = np.asarray(X, np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    U = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    C = U - U.mean(axis=0)
    _, sv, vt = np.linalg.svd(C, full_matrices=False)
    var = sv ** 2
    total = var.sum()
    xy = np.zeros((len(X), 2))
    share = np.zeros(2)
    k = min(2, vt.shape[0])
    xy[:, :k] = C @ vt[:k].T
    if total > 0:
        share[:k] = var[:k] / total
    for j in range(2):
        if len(X) and xy[np.argmax(np.abs(xy[:, j])), j] < 0:
            xy[:, j] = -xy[:, j]
    return xy, share


def place_labels(fig, ax, labels, iterations: int = 400, pad: float = 2.0, marker: float = 4.0) -> None:
    """Move annotation labels until no two boxes overlap and none covers a word's marker.

    A repulsion pass in display coordinates (pixels: labels have a fixed size there, whatever the
    data's scale): every overlapping pair of boxes moves apart along the axis where they overlap
    least, each by half the overlap (plus ``pad`` pixels); a box covering a marker (a square of
    ``marker`` pixels around a point) moves off it; boxes stay inside the axes. The labels are
    ``ax.annotate`` objects with ``textcoords="offset points"``; their offsets are updated. Needs
    a figure whose layout is final (limits set, tight_layout done)."""
    if not labels:
        return
    from matplotlib.text import Text
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    anchors = ax.transData.transform(np.array([t.xy for t in labels], np.float64))
    # the text's own box (an Annotation's window extent also covers its leader line)
    boxes = np.array([Text.get_window_extent(t, renderer).bounds for t in labels], np.float64)  # x0, y0, w, h
    pos, size = boxes[:, :2].copy(), boxes[:, 2:]
    frame = ax.get_window_extent(renderer)
    lo = np.array([frame.x0, frame.y0]) + 1
    hi = np.array([frame.x1, frame.y1]) - size - 1
    n = len(labels)
    order = np.arange(n)
    for _ in range(iterations):
        a0, a1 = pos, pos + size
        # overlaps of every pair of labels (positive on both axes: the boxes intersect)
        ov = np.minimum(a1[:, None, :], a1[None, :, :]) - np.maximum(a0[:, None, :], a0[None, :, :]) + pad
        hit = (ov[..., 0] > 0) & (ov[..., 1] > 0) & (order[:, None] < order[None, :])
        # overlaps of labels with markers
        m0, m1 = anchors - marker, anchors + marker
        om = np.minimum(a1[:, None, :], m1[None, :, :]) - np.maximum(a0[:, None, :], m0[None, :, :]) + pad
        mhit = (om[..., 0] > 0) & (om[..., 1] > 0)
        if not hit.any() and not mhit.any():
            break
        move = np.zeros_like(pos)
        centre = pos + size / 2
        for i, j in zip(*np.nonzero(hit)):
            axis = 0 if ov[i, j, 0] < ov[i, j, 1] else 1
            d = centre[j, axis] - centre[i, axis]
            sign = 1.0 if d > 0 or (d == 0 and i < j) else -1.0
            move[i, axis] -= sign * ov[i, j, axis] / 2
            move[j, axis] += sign * ov[i, j, axis] / 2
        for i, k in zip(*np.nonzero(mhit)):
            axis = 0 if om[i, k, 0] < om[i, k, 1] else 1
            d = centre[i, axis] - anchors[k, axis]
            move[i, axis] += (1.0 if d >= 0 else -1.0) * om[i, k, axis]
        pos = np.clip(pos + move, lo, np.maximum(lo, hi))
    for t, p, a in zip(labels, pos, anchors):
        t.xyann = tuple((p - a) * 72.0 / fig.dpi)  # pixels -> points
        t.set_horizontalalignment("left")
        t.set_verticalalignment("bottom")


def plot_words(table, words: List[str], *, title: Optional[str] = None, dpi: int = 110):
    """A matplotlib Figure (Agg canvas, no pyplot state) mapping ``words`` to 2-D with
    :func:`unit_pca`, labels placed by :func:`place_labels`. Returns (figure, labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    xy, share = unit_pca(table.lookup(table.vocab.encode(words)))
    fig = Figure(figsize=(7, 6), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(xy[:, 0], xy[:, 1], s=30, zorder=3)
    span = np.ptp(xy, axis=0)
    span = np.where(span > 0, span, 1.0)
    lo, hi = xy.min(axis=0) - 0.08 * span, xy.max(axis=0) + 0.25 * span  # room for labels up and right
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    labels = [ax.annotate(w, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=11,
                          arrowprops=dict(arrowstyle="-", color="0.6", lw=0.6, shrinkA=0, shrinkB=3))
              for (x, y), w in zip(xy, words)]
    ax.set_title(title or f"{len(words)} words, {table.dim}-dim unit vectors projected to 2-D (PCA)")
    ax.set_xlabel(f"principal component 1 ({100 * share[0]:.1f}% of the variance)")
    ax.set_ylabel(f"principal component 2 ({100 * share[1]:.1f}% of the variance)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    place_labels(fig, ax, labels)
    return fig, labels


def cmd_plot(args) -> None:
    try:
        import matplotlib  # noqa: F401 - the optional dependency, checked before any work
    except ImportError:
        raise UserError("plot needs matplotlib: pip install 'fastembed-engine[plot]'") from None
    _check_inputs(args.vectors)
    _check_output(args.output, "--output")
    t = _load(args.vectors, args) if args.vectors else _train_planted(args.dim, progress=False)
    if args.words:
        words = list(dict.fromkeys(args.words))
    else:
        words = _frequent_words(t, args.top) if args.vectors else PLANTED_WORDS
    if args.skip_missing:
        missing = [w for w in words if w not in t.vocab]
        if missing:
            print(f"fastembed: warning: skipped {len(missing)} word(s) not in the vocabulary: "
                  f"{', '.join(repr(w) for w in missing)}", file=sys.stderr)
            words = [w for w in words if w in t.vocab]
    else:
        _check_words(t, words, hint=" (pass --skip-missing to plot the others)")
    if len(words) < 2:
        raise UserError(f"plot needs at least two words in the vocabulary, got {len(words)}")
    fig, _ = plot_words(t, words)
    fig.savefig(args.output, dpi=fig.dpi)
    print(f"wrote {args.output}")


# ------------------------------------------------------------------ parser

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastembed",
                                description="Embedding tables: lookup, search, analogies, I/O, word2vec and GloVe training.")
    p.add_argument("--version", action="version", version=f"fastembed {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # how vector files are read, for every command that reads one (the flags the library's load
    # errors point to: see CLI_SPELLING)
    lo = argparse.ArgumentParser(add_help=False)
    lg = lo.add_argument_group("reading vector files")
    lg.add_argument("--duplicates", choices=("error", "first"), default="error",
                    help="a key repeated in a text or binary file: an error, or keep its first vector "
                         "(default: %(default)s)")
    lg.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"), default="strict",
                    help="keys that are not valid UTF-8: an error, or decode them with replacement "
                         "characters / dropping bad bytes (default: %(default)s)")
    lg.add_argument("--tensor", metavar="NAME", default=None,
                    help="safetensors: the tensor to read when the file holds several 2-D tensors "
                         "(default: the only one)")

    d = sub.add_parser("demo", parents=[lo], help="a guided tour of embeddings on the real engine")
    d.add_argument("--dim", type=int, default=16, help="EMBED_DIM: columns of the learned table (default: %(default)s)")
    d.add_argument("--vectors", metavar="PATH", help="run the tour on a vector file instead of training "
                                                     "(default: train on a small planted corpus)")
    d.add_argument("--save", metavar="PATH", help="where to write the trained vectors for the commands the demo "
                                                  f"suggests (word2vec text; default: {DEMO_VECTORS} in the "
                                                  "current directory)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar (default: a bar while training)")
    d.set_defaults(func=cmd_demo)

    n = sub.add_parser("neighbors", aliases=["neighbours"], parents=[lo], help="nearest words by cosine")
    n.add_argument("words", nargs="*", metavar="WORD", help="words to find the neighbours of")
    n.add_argument("--sentence", action="append", metavar="TEXT",
                   help="neighbours of a sentence: the mean of its word vectors (unknown words skipped; "
                        "may be repeated)")
    n.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    n.add_argument("-k", type=_positive_int, default=10, help="how many neighbours (default: %(default)s)")
    n.add_argument("--restrict", type=_positive_int, metavar="N",
                   help="search only the first N (most frequent) words (default: all)")
    n.set_defaults(func=cmd_neighbors)

    se = sub.add_parser("sentences", parents=[lo], help="one vector per input line (mean / sum / max / SIF of its words)")
    se.add_argument("--vectors", required=True, metavar="PATH")
    se.add_argument("--mode", choices=pooling.SENTENCE_MODES, default="mean",
                    help="pooling of the word vectors (sif: Arora et al. 2017, needs word counts)")
    se.add_argument("-i", "--input", metavar="FILE", help="sentences, one a line (default: stdin)")
    se.add_argument("-o", "--output", metavar="OUT", help="OUT.npy: a (lines, dim) float32 array; another "
                                                          "name: text, one vector a line (default: stdout)")
    se.add_argument("--lower", action="store_true", help="lowercase the lines first")
    se.set_defaults(func=cmd_sentences)

    a = sub.add_parser("analogy", parents=[lo], help="A : B :: C : ? (e.g. man king woman)")
    a.add_argument("a", metavar="A", help="A is to B ...")
    a.add_argument("b", metavar="B", help="... as C is to ?")
    a.add_argument("c", metavar="C", help="the word whose counterpart is asked for")
    a.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    a.add_argument("-k", type=_positive_int, default=5, help="how many answers (default: %(default)s)")
    a.add_argument("--method", choices=["add", "mul"], default="add",
                   help="add: 3CosAdd (B - A + C), mul: 3CosMul (Levy & Goldberg) (default: %(default)s)")
    a.set_defaults(func=cmd_analogy)

    s = sub.add_parser("similarity", parents=[lo], help="cosine similarity of two words")
    s.add_argument("w1", metavar="W1", help="a word")
    s.add_argument("w2", metavar="W2", help="another word")
    s.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    s.set_defaults(func=cmd_similarity)

    c = sub.add_parser("convert", parents=[lo], help="convert between vector formats")
    c.add_argument("input", metavar="IN", help="a vector file (or native directory) to read")
    c.add_argument("output", metavar="OUT", help="the file (or native directory) to write")
    c.add_argument("--to", choices=SAVE_FORMATS, default="native",
                   help="the format of OUT (default: %(default)s, memory-mappable)")
    c.add_argument("--from", dest="input_format", choices=("auto",) + FORMATS, default="auto",
                   help="the format of IN (default: %(default)s, detected from its content)")
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("info", parents=[lo], help="shape, vocabulary sample and norms of a vector file")
    i.add_argument("path", metavar="PATH", help="a vector file or native directory")
    i.set_defaults(func=cmd_info)

    t = sub.add_parser("train", help="train word vectors (word2vec skip-gram or CBOW, fastText, or GloVe) on a text "
                                     "corpus (one sentence a line; .gz/.bz2 too)")
    t.add_argument("corpus", metavar="CORPUS")
    t.add_argument("-o", "--output", required=True, metavar="OUT")
    t.add_argument("--model", choices=("sg", "cbow", "glove", "fasttext", "fasttext-cbow"), default="sg",
                   help="sg: word2vec skip-gram; cbow: word2vec CBOW; glove: GloVe; fasttext / fasttext-cbow: "
                        "fastText skip-gram / CBOW with character n-grams (default sg)")
    t.add_argument("--format", metavar="FORMAT",
                   help=f"the format of OUT, one of {', '.join(SAVE_FORMATS)} (checked before training; "
                        "default: by OUT's extension: .bin word2vec-binary, none native, else word2vec text)")
    t.add_argument("--dim", type=int, default=100, help="vector size (default 100)")
    t.add_argument("--window", type=int, default=None,
                   help="context words each side (default 5 for word2vec, 10 for GloVe)")
    t.add_argument("--min-count", type=int, default=5, help="ignore words seen fewer times (default 5)")
    t.add_argument("--epochs", type=int, default=None, help="passes (default 5 for word2vec, 25 for GloVe)")
    t.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
    t.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    t.add_argument("--max-vocab", type=int, default=None, help="keep only the most frequent words")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    w2v = t.add_argument_group("word2vec and fastText (sg, cbow, fasttext, fasttext-cbow)")
    w2v.add_argument("--negative", type=int, default=5, help="noise words per pair (default 5)")
    w2v.add_argument("--sample", type=float, default=None,
                     help="subsampling threshold (default 1e-3 for word2vec, 1e-4 for fastText)")
    w2v.add_argument("--alpha", type=float, default=None,
                     help="initial learning rate (default 0.025 for word2vec, 0.05 for fastText)")
    w2v.add_argument("--cbow-sum", action="store_true", help="CBOW: sum the context vectors (default: mean)")
    w2v.add_argument("--save-model", metavar="DIR", default=None,
                     help="also save the full model (vocabulary, counts, both weight matrices) to DIR, to "
                          "train it further with fastembed.Word2Vec.load(DIR)")
    ftg = t.add_argument_group("fastText (fasttext, fasttext-cbow); --format fasttext-bin writes the whole model")
    ftg.add_argument("--minn", type=int, default=3, help="shortest character n-gram (default 3)")
    ftg.add_argument("--maxn", type=int, default=6, help="longest character n-gram; 0: none (default 6)")
    ftg.add_argument("--bucket", type=int, default=2_000_000,
                     help="rows the n-grams are hashed into (default 2000000)")
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

    e = sub.add_parser("evaluate", parents=[lo], help="analogy accuracy and/or word-pair correlation")
    e.add_argument("--vectors", required=True, metavar="PATH", help=VECTORS_HELP)
    e.add_argument("--analogies", metavar="FILE", help="analogy questions, questions-words.txt format "
                                                       "(default: none)")
    e.add_argument("--pairs", metavar="FILE", help="word1<TAB>word2<TAB>score lines (default: none)")
    e.add_argument("--restrict", type=_positive_int, default=300000, metavar="N",
                   help="answer among the first N (most frequent) words; questions with other words are "
                        "skipped, as gensim does (default: %(default)s)")
    e.add_argument("--method", choices=["add", "mul"], default="add",
                   help="add: 3CosAdd, mul: 3CosMul (default: %(default)s)")
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser("bench", help="kernel timings against numpy (and torch / faiss if installed)")
    b.add_argument("sections", nargs="*", help="lookup, embed, topk, analogy, io, backward, word2vec, simd")
    b.add_argument("--quick", action="store_true", help="fewer, smaller cases of lookup, embed and topk: under a "
                                                        "minute (default: every case)")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--simd", metavar="LEVEL", default=None,
                   help="run at this SIMD level (see fastembed.simd; default: the best this CPU supports, "
                        "or FASTEMBED_SIMD)")
    b.set_defaults(func=cmd_bench)

    en = sub.add_parser("encode", help="sentence vectors of a static model (model2vec / sentence-transformers) "
                                       "for every line of a file, into a .npy array")
    en.add_argument("model", metavar="MODEL", help="a model2vec or sentence-transformers static model directory")
    en.add_argument("input", metavar="FILE", nargs="?", default="-", help="UTF-8 text, one sentence a line "
                                                                          "(default or '-': stdin)")
    en.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="the (lines, dim) float32 array")
    en.add_argument("--batch-size", type=int, default=4096, help="sentences per step (default: %(default)s)")
    en.add_argument("--max-length", type=int, default=None, help="tokens per sentence (default: the model's)")
    en.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    en.add_argument("--no-progress", action="store_true",
                    help="no progress bar (default: a bar for more than 100,000 lines on a terminal)")
    en.set_defaults(func=cmd_encode)

    sr = sub.add_parser("search", help="the lines of a corpus most similar to a query, with a static model "
                                       "(the corpus's vectors and an exact int8 index are kept beside it)")
    sr.add_argument("model", metavar="MODEL", help="a model2vec or sentence-transformers static model directory")
    sr.add_argument("queries", metavar="QUERY", nargs="*", help="the text(s) to search for (at least one)")
    sr.add_argument("--corpus", required=True, metavar="FILE", help="UTF-8 text, one sentence a line")
    sr.add_argument("-k", type=int, default=5, help="lines per query (default: %(default)s)")
    sr.add_argument("--rebuild", action="store_true",
                    help="encode the corpus again (default: reuse the kept vectors if corpus and model are unchanged)")
    sr.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    sr.add_argument("--no-progress", action="store_true",
                    help="no progress bar while encoding the corpus (default: a bar for more than 100,000 lines "
                         "on a terminal)")
    sr.set_defaults(func=cmd_search)

    pl = sub.add_parser("plot", parents=[lo], help="2-D map (PCA of unit vectors) of words as a PNG (needs matplotlib)")
    pl.add_argument("words", nargs="*", metavar="WORD",
                    help=f"words to plot (default: with --vectors the --top most frequent words, else "
                         f"{len(PLANTED_WORDS)} words of the planted corpus)")
    pl.add_argument("--vectors", metavar="PATH", help=VECTORS_HELP + " (default: train on the planted corpus)")
    pl.add_argument("--dim", type=int, default=16, help="EMBED_DIM when training (default: %(default)s)")
    pl.add_argument("--top", type=_positive_int, default=PLOT_TOP_WORDS, metavar="N",
                    help="with --vectors and no words: plot the N most frequent words (default: %(default)s)")
    pl.add_argument("--skip-missing", action="store_true",
                    help="leave out words not in the vocabulary, with a warning (default: such words are an "
                         "error listing them all)")
    pl.add_argument("-o", "--output", required=True, metavar="PNG", help="the image to write")
    pl.set_defaults(func=cmd_plot)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # `fastembed search MODEL --corpus FILE "query"`: argparse takes the positionals before an
        # option in one go, so queries after --corpus arrive here
        if getattr(args, "func", None) is cmd_search and not any(x.startswith("-") and x != "-" for x in extra):
            args.queries = list(args.queries) + extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        args.func(args)
    except (UserError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"fastembed: error: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"fastembed: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except ValueError as e:  # malformed files and arguments: the message names what and where
        print(f"fastembed: error: {cli_spelling(str(e), _format_flag(args, e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fastembed neighbors ... | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
