"""Every subcommand in a subprocess, as a user runs it: exit codes and key output lines."""
import os
import subprocess
import sys

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


def test_demo():
    code, out, err = run("demo", "--dim", "12", "--no-progress")
    assert code == 0, err
    for line in ["one-hot vectors", "cosine(cat, dog) = cosine(cat, airplane) = 0", "nearest neighbours",
                 "king - man + woman", "queen ranks #1", "'dog bites man' vs 'man bites dog'",
                 "how EMBED_DIM changes the picture"]:
        assert line in out, line


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
    assert "numpy/fused" in out and "(64, 512)" in out


@pytest.mark.parametrize("args,msg", [
    (["neighbors", "unicornword", "--vectors", "VEC"], "not in the vocabulary: 'unicornword'"),
    (["similarity", "cat", "zzz", "--vectors", "VEC"], "not in the vocabulary: 'zzz'"),
    (["neighbors", "cat", "--vectors", "missing.txt"], "no such file or directory: missing.txt"),
    (["info", "missing.bin"], "no such file or directory"),
    (["train", "missing.txt", "-o", "x.bin"], "no such corpus file"),
    (["neighbors", "cat", "--vectors", "BAD"], "bad.txt, line 3: expected a key and 3 values, got 3 tokens"),
    (["evaluate", "--vectors", "VEC"], "give --analogies FILE and/or --pairs FILE"),
    (["bench", "nosuchsection"], "unknown benchmark section"),
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
