"""Every subcommand in a subprocess, as a user runs it: exit codes and key output lines."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastembed as fe
from fastembed.corpus import planted_corpus


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    r = subprocess.run([sys.executable, "-m", "fastembed", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, env=env, timeout=300)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    t = fe.train_word2vec(planted_corpus(8000, seed=0), dim=16, min_count=1, epochs=5, progress=False, seed=1)
    p = d / "planted.txt"
    fe.save(t, p, format="word2vec")
    return p


def test_help_for_every_command():
    code, out, _ = run("--help")
    assert code == 0
    for cmd in ["demo", "neighbors", "analogy", "similarity", "convert", "info", "train", "evaluate", "bench", "plot"]:
        assert cmd in out
        c, o, _ = run(cmd, "--help")
        assert c == 0 and "usage: fastembed " + cmd in o.replace("neighbours", "neighbors")


def test_demo(tmp_path):
    code, out, err = run("demo", "--dim", "12", "--no-progress", cwd=tmp_path)
    assert code == 0, err
    for line in ["one-hot vectors", "cosine(cat, dog) = cosine(cat, airplane) = 0", "nearest neighbours",
                 "king - man + woman", "queen ranks #1", "'dog bites man' vs 'man bites dog'",
                 "how EMBED_DIM changes the picture"]:
        assert line in out, line
    # the vectors go to the current directory (not a fixed file in the system temp dir)
    assert "saved the " in out and "to fastembed-demo-vectors.txt" in out
    assert fe.load(tmp_path / "fastembed-demo-vectors.txt").dim == 12


def test_demo_on_a_vector_file(vectors):
    code, out, err = run("demo", "--vectors", vectors)
    assert code == 0, err
    assert "nearest neighbours (cosine) in" in out and "queen" in out


def test_word_commands(vectors):
    code, out, _ = run("neighbors", "cat", "king", "--vectors", vectors, "-k", "3")
    assert code == 0 and out.startswith("cat:") and "king:" in out and len(out.strip().splitlines()) == 8
    code, out, _ = run("analogy", "man", "king", "woman", "--vectors", vectors, "-k", "1")
    assert code == 0 and out.splitlines()[1].split()[-1] == "queen"
    code, out, _ = run("analogy", "man", "king", "woman", "--vectors", vectors, "--method", "mul")
    assert code == 0 and "queen" in out
    code, out, _ = run("similarity", "cat", "dog", "--vectors", vectors)
    assert code == 0 and 0.5 < float(out) <= 1.0


def test_convert_info_evaluate(vectors, tmp_path):
    nat = tmp_path / "nat"
    code, out, _ = run("convert", vectors, nat, "--to", "native")
    assert code == 0 and "native" in out
    assert np.array_equal(fe.load(nat).weights, fe.load(vectors).weights)
    code, out, _ = run("convert", nat, tmp_path / "v.bin", "--to", "word2vec-binary")
    assert code == 0
    code, out, _ = run("info", tmp_path / "v.bin")
    assert code == 0 and "format:  word2vec-binary" in out and "x 16" in out and "norms:" in out
    q = tmp_path / "q.txt"
    q.write_text(": family\nman king woman queen\nboy prince girl princess\n: pets\ncat kitten dog puppy\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("cat\tdog\t9\ncat\tairplane\t1\nking\tqueen\t8\n")
    code, out, err = run("evaluate", "--vectors", vectors, "--analogies", q, "--pairs", pairs)
    assert code == 0, err
    assert "Total accuracy" in out and "Spearman" in out


def test_train(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted_corpus(3000, seed=1)) + "\n")
    out = tmp_path / "vec.bin"
    code, o, err = run("train", corpus, "-o", out, "--dim", "8", "--epochs", "2", "--min-count", "1",
                       "--workers", "1", "--no-progress")
    assert code == 0, err
    assert "epoch 2: loss" in err and "word2vec-binary" in o
    t = fe.load(out)
    assert t.dim == 8 and "cat" in t.vocab


@pytest.mark.parametrize("model", ["cbow", "glove"])
def test_train_cbow_glove(tmp_path, model):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted_corpus(3000, seed=1)) + "\n")
    out = tmp_path / "vec.txt"
    extra = ["--save-model", tmp_path / "model"] if model == "cbow" else ["--memory-mb", "64"]
    code, o, err = run("train", corpus, "-o", out, "--model", model, "--dim", "8", "--epochs", "2",
                       "--min-count", "1", "--workers", "1", "--no-progress", *extra)
    assert code == 0, err
    assert "epoch 2: loss" in err and "word2vec)" in o
    assert fe.load(out).dim == 8
    if model == "cbow":
        assert fe.Word2Vec.load(tmp_path / "model").sg == 0
    code, _, err = run("train", corpus, "-o", out, "--model", model, "--min-count", "100000", "--no-progress")
    assert code == 2 and "no word occurs at least min_count=100000 times" in err


def test_plot(vectors, tmp_path):
    png = tmp_path / "map.png"
    code, out, err = run("plot", "--vectors", vectors, "cat", "dog", "airplane", "king", "queen", "-o", png)
    assert code == 0, err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_bench_quick_section():
    code, out, err = run("bench", "--quick", "embed")
    assert code == 0, err
    assert "numpy/fused" in out and "(8, 512)" in out


def test_bench_at_one_simd_level(monkeypatch, capsys):
    # in process, with a one-line section: the flag reaches the kernels, every table title and the
    # run header name the level, and the previous level is restored
    from fastembed import bench, cli, simd
    monkeypatch.setitem(bench.SECTIONS, "tiny",
                        lambda quick, n_threads, rng: bench.print_table(f"level {simd.get_level()}", ["a"], [["1"]]))
    level, before = simd.supported_levels()[0], simd.get_level()
    assert cli.main(["bench", "--simd", level, "tiny"]) == 0
    out = capsys.readouterr().out
    assert f"| simd {level} (this CPU:" in out and f"### level {level} [simd {level}]" in out
    assert simd.get_level() == before


@pytest.mark.parametrize("args,msg", [
    (["neighbors", "unicornword", "--vectors", "VEC"], "not in the vocabulary: 'unicornword'"),
    (["similarity", "cat", "zzz", "--vectors", "VEC"], "not in the vocabulary: 'zzz'"),
    (["neighbors", "cat", "--vectors", "missing.txt"], "no such file or directory: missing.txt"),
    (["info", "missing.bin"], "no such file or directory"),
    (["train", "missing.txt", "-o", "x.bin"], "no such corpus file"),
    (["neighbors", "cat", "--vectors", "BAD"], "bad.txt, line 3: expected a key and 3 values, got 3 tokens"),
    (["evaluate", "--vectors", "VEC"], "give --analogies FILE and/or --pairs FILE"),
    (["bench", "nosuchsection"], "unknown benchmark section"),
    (["bench", "--simd", "avx9", "embed"], "--simd: unknown SIMD level 'avx9': this build has generic"),
    (["demo", "--dim", "1"], "--dim must be at least 2"),
])
def test_user_errors_exit_2_without_traceback(vectors, tmp_path, args, msg):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\ncat 1 2 3\ndog 1 2\n")
    args = [str(vectors) if a == "VEC" else str(bad) if a == "BAD" else a for a in args]
    code, out, err = run(*args, cwd=tmp_path)
    assert code == 2
    assert msg in err and "Traceback" not in err
    assert err.startswith("fastembed: error: ") and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ in-process checks of the polish (issue 17)

def cli_main(capsys, *args):
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    from fastembed import cli
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# options being rewritten on other branches (train, sentences, bench, neighbors --sentence)
HELP_EXEMPT = {"train", "sentences", "bench"}
HELP_EXEMPT_OPTIONS = {("neighbors", "--sentence")}


def test_every_option_has_help_with_its_default():
    import argparse
    from fastembed import cli
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = 0
    for name, p in sub.choices.items():
        if name in HELP_EXEMPT or name == "neighbours":
            continue
        text = p.format_help()
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            opt = a.option_strings[-1] if a.option_strings else a.dest
            if (name, opt) in HELP_EXEMPT_OPTIONS:
                continue
            assert a.help, f"{name} {opt} has no help text"
            if a.option_strings and not a.required:
                assert "default" in a.help, f"{name} {opt}: the help does not say the default"
                if a.default not in (None, False):
                    assert "%(default)s" in a.help, f"{name} {opt}: the default is not taken from the parser"
                    assert f"default: {a.default}" in " ".join(text.split()), (name, opt)
            checked += 1
    assert checked > 25


def test_unit_pca():
    from fastembed.cli import unit_pca
    rng = np.random.default_rng(0)
    U = rng.standard_normal((12, 6))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    scaled = U * rng.uniform(0.1, 50, (12, 1))  # long and short vectors: the same directions
    xy, share = unit_pca(scaled)
    xy1, share1 = unit_pca(U)
    np.testing.assert_allclose(xy, xy1, atol=1e-12)
    C = U - U.mean(axis=0)
    ev = np.linalg.eigvalsh(C.T @ C)[::-1]
    np.testing.assert_allclose(share, ev[:2] / ev.sum(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(xy).sum(axis=0), np.abs(C @ np.linalg.svd(C)[2][:2].T).sum(axis=0))
    xy, share = unit_pca(np.array([[1.0, 0], [0, 1]]))  # one direction of variance: the second is ~0
    assert share[0] == pytest.approx(1) and share[1] < 1e-30 and np.abs(xy[:, 1]).max() < 1e-15
    xy, share = unit_pca(np.array([[1.0, 0, 0], [0, 0, 0]]))  # a zero row stays at the origin of the unit rows
    assert xy.shape == (2, 2) and np.isfinite(xy).all()


def _text_boxes(fig, labels):
    """Rendered boxes of the label texts (without their leader lines), from the Agg renderer."""
    from matplotlib.text import Text
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return [Text.get_window_extent(lab, r) for lab in labels]


def _overlaps(boxes):
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def test_plot_labels_do_not_overlap():
    pytest.importorskip("matplotlib")
    from fastembed.cli import plot_words
    rng = np.random.default_rng(3)
    # a crowded map: 36 words in three tight clumps of nearly parallel vectors
    centres = rng.standard_normal((3, 16))
    W = np.repeat(centres, 12, axis=0) + 0.01 * rng.standard_normal((36, 16))
    words = [f"word{i:02d}" for i in range(36)]
    t = fe.EmbeddingTable(W.astype(np.float32), vocab=words)
    fig, labels = plot_words(t, words)
    boxes = _text_boxes(fig, labels)
    assert len(boxes) == 36 and min(b.width for b in boxes) > 20
    assert not _overlaps(boxes)
    frame = fig.axes[0].get_window_extent(fig.canvas.get_renderer())
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    # the check itself sees overlaps: the labels where matplotlib puts them by default overlap
    for lab in labels:
        lab.xyann = (4, 4)
    assert _overlaps(_text_boxes(fig, labels))


def test_plot_axes_show_explained_variance(vectors, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from fastembed import cli
    seen = {}
    real = cli.plot_words

    def spy(table, words, **kw):
        fig, labels = real(table, words, **kw)
        seen["words"], seen["fig"] = list(words), fig
        return fig, labels
    monkeypatch.setattr(cli, "plot_words", spy)
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "cat", "dog", "king", "queen", "-o",
                              tmp_path / "m.png")
    assert code == 0, err
    ax = seen["fig"].axes[0]
    t = fe.load(vectors)
    _, share = cli.unit_pca(t.lookup(t.vocab.encode(["cat", "dog", "king", "queen"])))
    assert ax.get_xlabel() == f"principal component 1 ({100 * share[0]:.1f}% of the variance)"
    assert ax.get_ylabel() == f"principal component 2 ({100 * share[1]:.1f}% of the variance)"
    # --vectors without words: the most frequent words of those vectors (file order for a text file)
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "-o", tmp_path / "top.png")
    assert code == 0 and seen["words"] == t.vocab.keys[:cli.PLOT_TOP_WORDS]
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "--top", "5", "-o", tmp_path / "top.png")
    assert code == 0 and seen["words"] == t.vocab.keys[:5]
    # with counts (a native directory keeps them): by count
    counts = np.arange(len(t))[::-1].copy()
    counts[7] = 10 ** 6
    fe.save(fe.EmbeddingTable(t.weights, vocab=fe.Vocabulary(t.vocab.keys, counts)), tmp_path / "nat", format="native")
    code, out, err = cli_main(capsys, "plot", "--vectors", tmp_path / "nat", "--top", "3", "-o", tmp_path / "c.png")
    assert code == 0 and seen["words"] == [t.vocab.keys[7], t.vocab.keys[0], t.vocab.keys[1]]


def test_plot_unknown_words(vectors, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "cat", "zebra", "dog", "unicorn", "-o",
                              tmp_path / "m.png")
    assert code == 2 and not (tmp_path / "m.png").exists()
    assert err == ("fastembed: error: not in the vocabulary: 'zebra', 'unicorn' (pass --skip-missing to plot the "
                   "others)\n")
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "cat", "zebra", "dog", "unicorn",
                              "--skip-missing", "-o", tmp_path / "m.png")
    assert code == 0 and (tmp_path / "m.png").exists()
    assert err == "fastembed: warning: skipped 2 word(s) not in the vocabulary: 'zebra', 'unicorn'\n"
    code, out, err = cli_main(capsys, "plot", "--vectors", vectors, "cat", "zebra", "--skip-missing", "-o",
                              tmp_path / "m.png")
    assert code == 2 and "plot needs at least two words in the vocabulary, got 1" in err


def test_evaluate_skips_sections_without_questions(vectors, tmp_path, capsys):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman king woman queen\n: unknown\nzz1 zz2 zz3 zz4\nzz5 zz6 zz7 zz8\n"
                 ": pets\ncat kitten dog puppy\n")
    code, out, err = cli_main(capsys, "evaluate", "--vectors", vectors, "--analogies", q)
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.split() == ["unknown", "skipped:", "no", "question", "in", "the", "vocabulary"] for line in lines)
    assert "0 / 0" not in out
    total = next(line for line in lines if line.startswith("Total accuracy"))
    fam = next(line for line in lines if line.startswith("family")).split()
    pets = next(line for line in lines if line.startswith("pets")).split()
    assert total.split()[2:5] == [str(int(fam[1]) + int(pets[1])), "/", "2"]
    assert "skipped (out of vocabulary): 2" in out


@pytest.mark.parametrize("command", [["neighbors", "cat"], ["analogy", "man", "king", "woman"],
                                     ["similarity", "cat", "dog"], ["evaluate", "--pairs", "PAIRS"]])
def test_large_text_files_get_a_hint_to_convert(vectors, tmp_path, capsys, monkeypatch, command):
    from fastembed import cli
    pairs = tmp_path / "p.tsv"
    pairs.write_text("cat\tdog\t9\ncat\tairplane\t1\n")
    command = [str(pairs) if c == "PAIRS" else c for c in command]
    code, out, err = cli_main(capsys, *command, "--vectors", vectors)
    assert code == 0 and err == ""  # small files: no hint
    monkeypatch.setattr(cli, "HINT_TEXT_BYTES", 100)
    code, out, err = cli_main(capsys, *command, "--vectors", vectors)
    assert code == 0
    native = str(vectors)[:-len(".txt")] + ".native"
    assert err.startswith(f"fastembed: hint: {vectors} is a 0 MB word2vec text file, parsed again by every command; "
                          f"convert it once with `fastembed convert {vectors} {native} --to native` and pass "
                          f"--vectors {native} (memory-mapped: it loads in milliseconds)")
    # the suggested command works, and the converted directory gets no hint
    convert = err.split("`")[1].split()
    code, _, err2 = cli_main(capsys, *convert[1:])
    assert code == 0 and err2 == ""
    code, out2, err3 = cli_main(capsys, *command, "--vectors", native)
    assert code == 0 and err3 == "" and out2 == out
    import shutil
    shutil.rmtree(native)


def test_demo_hint_commands_run(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    saved = tmp_path / "demo vectors.txt"  # a space: the printed commands are quoted
    code, out, err = cli_main(capsys, "demo", "--dim", "8", "--no-progress", "--save", saved)
    assert code == 0, err
    assert "saved the " in out and saved.exists()
    commands = [line.strip() for line in out.split("next, on these vectors:")[1].splitlines() if line.strip()]
    assert len(commands) == 2 and all(c.startswith("fastembed ") for c in commands)
    for c in commands:
        import shlex
        code, o, e = cli_main(capsys, *shlex.split(c)[1:])
        assert code == 0, (c, e)
    assert (tmp_path / "map.png").exists()
    # on a vector file, the hint uses that file
    code, out, err = cli_main(capsys, "demo", "--vectors", saved)
    assert code == 0 and f"--vectors '{saved}'" in out and "saved the" not in out


# ------------------------------------------------------------------ rough edges (issue 27)

def _corpus(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in planted_corpus(3000, seed=1)) + "\n")
    return corpus


@pytest.mark.parametrize("args,msg", [
    (["train", "CORPUS", "-o", "OUT", "--format", "nope"], "--format nope: unknown format 'nope'; choose from"),
    (["train", "CORPUS", "-o", "nodir/vec.txt"], "--output nodir/vec.txt: the directory"),
    (["train", "CORPUS", "-o", "OUT", "--save-model", "nodir/model"], "--save-model nodir/model: the directory"),
    (["train", "CORPUS", "-o", "OUT", "--model", "glove", "--tmpdir", "nodir"], "--tmpdir nodir: no such directory"),
])
def test_train_checks_every_option_before_training(tmp_path, capsys, args, msg):
    corpus = _corpus(tmp_path)
    args = [str(corpus) if a == "CORPUS" else str(tmp_path / "vec.txt") if a == "OUT" else a for a in args]
    t0 = time.perf_counter()
    code, out, err = cli_main(capsys, *args, "--epochs", "50")  # 50 epochs would take many seconds
    assert code == 2 and msg in err and err.startswith("fastembed: error: ")
    assert "epoch" not in err and time.perf_counter() - t0 < 2
    assert not (tmp_path / "vec.txt").exists()


def test_train_format_follows_the_io_registry(tmp_path, capsys, monkeypatch):
    """The check asks the registry: a format that becomes writable is accepted with no CLI change."""
    from fastembed.io import _registry
    f = _registry.REGISTRY["fasttext-bin"]
    if f.write is None:
        written = []
        monkeypatch.setitem(_registry.REGISTRY, "fasttext-bin",
                            _registry.Format(f.name, f.detect, f.read, lambda t, p, o: written.append(p)))
        monkeypatch.setattr(_registry, "SAVE_FORMATS", _registry.SAVE_FORMATS + ("fasttext-bin",))
        import fastembed.io._api as api
        monkeypatch.setattr(api, "SAVE_FORMATS", _registry.SAVE_FORMATS)
    corpus = _corpus(tmp_path)
    code, out, err = cli_main(capsys, "train", corpus, "-o", tmp_path / "m.bin", "--format", "fasttext-bin",
                              "--dim", "4", "--epochs", "1", "--min-count", "1", "--no-progress")
    assert code == 0, err
    assert "(fasttext-bin)" in out


@pytest.mark.parametrize("model", ["fasttext", "fasttext-cbow"])
def test_train_fasttext_writes_the_whole_model(tmp_path, capsys, model):
    corpus = _corpus(tmp_path)
    out_bin = tmp_path / "m.bin"
    code, out, err = cli_main(capsys, "train", corpus, "-o", out_bin, "--format", "fasttext-bin", "--model", model,
                              "--dim", "8", "--epochs", "1", "--min-count", "1", "--bucket", "1000", "--minn", "2",
                              "--maxn", "4", "--workers", "1", "--no-progress")
    assert code == 0, err
    assert "1000 n-gram buckets" in out and "(fasttext-bin)" in out
    v = fe.load_fasttext(out_bin)
    assert (v.bucket, v.minn, v.maxn, v.args.model) == (1000, 2, 4, 2 if model == "fasttext" else 1)
    assert v.get_vector("unseenword").any()  # n-grams: vectors for unseen words
    code, out, err = cli_main(capsys, "train", corpus, "-o", tmp_path / "m.vec", "--model", model, "--dim", "8",
                              "--epochs", "1", "--min-count", "1", "--bucket", "1000", "--no-progress")
    assert code == 0, err
    assert fe.load(tmp_path / "m.vec").shape == v.table.shape


def test_epoch_lines_go_through_the_progress_bar(tmp_path, monkeypatch, capsys):
    """Per-epoch lines are written with tqdm.write, which clears and redraws the bars, never with a
    bare print under a live bar."""
    from fastembed import cli
    lines = []
    monkeypatch.setattr(cli.tqdm, "write", staticmethod(lambda s, file=None, **kw: lines.append((s, file))))
    corpus = _corpus(tmp_path)
    code, out, err = cli_main(capsys, "train", corpus, "-o", tmp_path / "v.txt", "--dim", "4", "--epochs", "2",
                              "--min-count", "1", "--no-progress")
    assert code == 0, err
    assert [s.split(":")[0] for s, _ in lines] == ["epoch 1", "epoch 2"]
    assert all(f is sys.stderr for _, f in lines) and "epoch" not in err


@pytest.mark.parametrize("args,msg", [
    (["neighbors", "cat", "--vectors", "VEC", "-k", "-3"], "argument -k: must be a positive integer, got -3"),
    (["neighbors", "cat", "--vectors", "VEC", "-k", "0"], "argument -k: must be a positive integer, got 0"),
    (["neighbors", "cat", "--vectors", "VEC", "-k", "two"], "argument -k: expected a positive integer, got 'two'"),
    (["neighbors", "cat", "--vectors", "VEC", "--restrict", "0"], "argument --restrict: must be a positive integer"),
    (["analogy", "man", "king", "woman", "--vectors", "VEC", "-k", "-1"], "argument -k: must be a positive"),
    (["evaluate", "--vectors", "VEC", "--pairs", "p.tsv", "--restrict", "-5"], "argument --restrict: must be a"),
    (["plot", "--vectors", "VEC", "--top", "0", "-o", "m.png"], "argument --top: must be a positive integer"),
])
def test_counts_are_checked_while_parsing(vectors, tmp_path, args, msg):
    args = [str(vectors) if a == "VEC" else a for a in args]
    code, out, err = run(*args, cwd=tmp_path)
    assert code == 2 and msg in err and out == ""


def test_neighbors_prints_nothing_before_an_error(vectors, tmp_path):
    # the second sentence has no known word: nothing of the first is printed
    code, out, err = run("neighbors", "--vectors", vectors, "--sentence", "cat dog", "--sentence", "zzz qqq",
                         "cat", cwd=tmp_path)
    assert code == 2 and out == "" and "none of the words of 'zzz qqq' is in the vocabulary" in err


@pytest.mark.parametrize("args,msg", [
    (["evaluate", "--vectors", "VEC", "--analogies", "missing.txt"], "no such file or directory: missing.txt"),
    (["sentences", "--vectors", "VEC", "-i", "missing.txt"], "no such file or directory: missing.txt"),
    (["sentences", "--vectors", "VEC", "-i", "S", "-o", "nodir/x.npy"], "--output nodir/x.npy: the directory"),
    (["convert", "VEC", "nodir/out"], "OUT nodir/out: the directory"),
    (["plot", "--vectors", "VEC", "cat", "dog", "-o", "nodir/m.png"], "--output nodir/m.png: the directory"),
    (["demo", "--save", "nodir/v.txt"], "--save nodir/v.txt: the directory"),
    (["demo", "--vectors", "missing.txt"], "no such file or directory: missing.txt"),
])
def test_files_are_checked_before_work(vectors, tmp_path, args, msg):
    (tmp_path / "s.txt").write_text("cat dog\n")
    args = [str(vectors) if a == "VEC" else str(tmp_path / "s.txt") if a == "S" else a for a in args]
    code, out, err = run(*args, cwd=tmp_path)
    assert code == 2 and msg in err and err.startswith("fastembed: error: ")
    assert "loading" not in out and "one-hot" not in out


def test_every_suggestion_is_a_real_flag(vectors, tmp_path):
    """The library's suggestions (duplicates=, unicode_errors=, tensor=, format=) are printed as
    this CLI's flags, and following the suggestion works."""
    dup = tmp_path / "dup.txt"
    dup.write_text("3 2\ncat 1 2\ndog 3 4\ncat 5 6\n")
    code, _, err = run("info", dup, cwd=tmp_path)
    assert code == 2 and "pass --duplicates first to keep the first vector" in err and "duplicates='first'" not in err
    code, out, err = run("info", dup, "--duplicates", "first", cwd=tmp_path)
    assert code == 0 and "shape:   2 x 2" in out, err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"1 2\nca\xfft 1 2\n")
    code, _, err = run("info", bad, cwd=tmp_path)
    assert code == 2 and "pass --unicode-errors replace" in err
    assert run("info", bad, "--unicode-errors", "replace", cwd=tmp_path)[0] == 0
    st = pytest.importorskip("safetensors.numpy")
    sp = tmp_path / "two.safetensors"
    st.save_file({"a": np.ones((3, 2), np.float32), "b": np.zeros((4, 2), np.float32)}, str(sp))
    code, _, err = run("convert", sp, tmp_path / "o.txt", "--to", "word2vec", cwd=tmp_path)
    assert code == 2 and "pass --tensor NAME to choose one of the 2-D tensors ['a', 'b']" in err
    code, _, err = run("info", sp, "--tensor", "b", cwd=tmp_path)
    assert code == 0, err
    glove_hdr = tmp_path / "hdr.txt"
    glove_hdr.write_text("2 2\ncat 1 2\ndog 3 4\n")
    code, _, err = run("convert", glove_hdr, tmp_path / "o.txt", "--from", "glove", cwd=tmp_path)
    assert code == 2 and "use --from word2vec" in err and "format=" not in err
    t = fe.EmbeddingTable(np.ones((1, 0), np.float32), vocab=["a"])  # D = 0: GloVe cannot hold it
    fe.save(t, tmp_path / "k.native", format="native")
    code, _, err = run("convert", tmp_path / "k.native", tmp_path / "k.glove", "--to", "glove", cwd=tmp_path)
    assert code == 2 and "use --to word2vec or --to native" in err, err


def test_cli_spelling_covers_the_library_suggestions():
    """Every 'pass x=' suggestion in the product's messages is spelled as a flag by the CLI, or is
    listed here with why the CLI cannot reach it."""
    import pathlib
    import re
    from fastembed import cli
    unreachable = {
        "vocab=": "the CLI refuses tables without keys before any word question",
        "ignore_missing=True": "the CLI's sentences and neighbors skip unknown words themselves",
        "counts=": "sentences --mode sif checks for counts first",
        "scales=": "the CLI builds tables from files, which carry int8 codes with their scales",
        "index=None": "the CLI never passes an index",
    }
    src = pathlib.Path(cli.__file__).parent
    found = set()
    for p in src.rglob("*.py"):
        if p.name in ("cli.py", "reference.py") or p.parent.name in ("compat", "bench"):
            continue  # (the compat facades speak their original library's arguments, not the CLI's)
        text = re.sub(r"[\"']\s*\n\s*f?[\"']", "", p.read_text())  # join string literals split over lines
        found |= set(re.findall(r"pass ([a-z_]+=(?:'[a-z]+'|True|None)?)", text))
    parser = cli.build_parser()
    for s in sorted(found):
        if s in unreachable:
            continue
        spelled = cli.cli_spelling(f"pass {s}")
        assert spelled != f"pass {s}", f"the CLI has no flag for the suggestion 'pass {s}'"
        flag = spelled.split()[1]
        assert flag in parser._subparsers._group_actions[0].choices["info"].format_help(), flag
    assert {"duplicates='first'", "unicode_errors='replace'", "tensor="} <= found


def test_spacy_directories_are_read_by_the_cli(tmp_path):
    spacy_vectors = pytest.importorskip("spacy.vectors", reason="spaCy is not installed")
    from spacy.strings import StringStore
    keys = ["cat", "dog", "king"]
    W = np.eye(3, dtype=np.float32)
    spacy_vectors.Vectors(strings=StringStore(keys), data=W, keys=keys).to_disk(tmp_path / "sp")
    code, out, err = run("info", tmp_path / "sp", cwd=tmp_path)
    assert code == 0 and "format:  spacy" in out, err
    code, out, err = run("convert", tmp_path / "sp", tmp_path / "sp.txt", "--to", "word2vec", cwd=tmp_path)
    assert code == 0 and fe.load(tmp_path / "sp.txt").vocab.keys == keys
