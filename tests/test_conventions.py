"""Conventions (issue 27): every public class has a repr that says what it holds, and diagnostics
go through the quiet-by-default ``fastembed`` logger, never print()."""
import ast
import importlib
import inspect
import logging
import pathlib

import numpy as np
import pytest

import fastembed as fe
from fastembed import corpus, search
from fastembed.io._source import Source

PKG = pathlib.Path(fe.__file__).parent
# modules whose job is printing to a terminal: the CLI, show_config, and the benchmark tables (the
# fastembed.bench package)
PRINTING = {"cli.py", "_config.py"}


def _modules():
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        if name.endswith("_fuzz") or name == "fastembed.__main__":
            continue
        if name in ("fastembed.torch", "fastembed.spacy") and importlib.util.find_spec(name.split(".")[1]) is None:
            continue
        yield name


def test_every_public_class_has_a_repr():
    missing = []
    for name in _modules():
        mod = importlib.import_module(name)
        for cname, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ != name or cname.startswith("_") or issubclass(cls, BaseException):
                continue
            if getattr(cls, "_is_protocol", False):  # typing Protocols are never instantiated
                continue
            if cls.__repr__ is object.__repr__:
                missing.append(f"{name}.{cname}")
    assert not missing, f"public classes with the default <object at 0x...> repr: {missing}"


def test_reprs_say_what_they_hold(tmp_path):
    w = fe.Word2Vec(dim=8, window=3)
    assert repr(w) == ("Word2Vec(skip-gram, dim=8, window=3, negative=5, min_count=5, sample=0.001, epochs=5, "
                       f"alpha=0.025, workers={w.workers}, seed=1, untrained)")
    w.min_count, w.epochs, w.progress = 1, 1, False
    w.train(corpus.planted_corpus(200, seed=0))
    assert repr(w).endswith(f"vocab={len(w.table)}, epochs_trained=1)")
    g = fe.GloVe(dim=4, vectors="word")
    assert repr(g).startswith("GloVe(dim=4, window=10, min_count=5, epochs=25, learning_rate=0.05, bias_learning_rate=0.05, x_max=100, "
                              "alpha=0.75, symmetric=True, vectors='word'") and repr(g).endswith("untrained)")
    assert repr(corpus.Sentences([["a", "b"], ["c"]])) == "Sentences(<list of 2 sentences>)"
    p = tmp_path / "c.txt"
    p.write_text("a b\n")
    assert repr(corpus.Sentences(p)) == f"Sentences({str(p)!r}, encoding='utf-8')"
    with Source(p) as src:
        assert repr(src) == f"Source({str(p)!r}, file, offset=0)"
    q = np.ones((3, 4), np.float32)
    assert repr(search.LinearScorer(q, cosine=False)) == "LinearScorer(n_queries=3, dim=4, metric=dot)"
    assert repr(search.LinearScorer(q)) == "LinearScorer(n_queries=3, dim=4, metric=cosine)"
    from fastembed import accessors, table
    assert repr(table.EmbeddingTable.__dict__["words"]) == "Accessor(Words)"
    assert repr(search.Candidates(10)) == "Candidates(row_hi=10, mask=None, exclude=None)"
    c = search.Candidates(10, np.array([1, 0, 1], np.uint8), np.array([0, 2]), np.array([1, 2]))
    assert repr(c) == "Candidates(row_hi=10, mask=2 of 3 rows, exclude=2 ids for 1 queries)"
    assert repr(search.CosMulScorer(np.ones((6, 2), np.float32), 2, 1, 1e-3)) == \
        "CosMulScorer(n_queries=2, positive=2, negative=1, eps=0.001)"
    from fastembed._validate import Restrict
    from fastembed.io._keys import KeyCollector
    from fastembed.io._rows import RowSink
    assert repr(Restrict(5, None)) == "Restrict(row_hi=5, mask=None)"
    assert repr(KeyCollector("f.txt", "error", "utf-8", "strict")) == \
        "KeyCollector('f.txt', keys=0, seen=0, duplicates='error', encoding='utf-8')"
    assert repr(RowSink(4, 10)) == "RowSink(D=4, rows=0, blocks=1, fixed, limit=None)"
    assert repr(search.SharedWordScorer(np.ones((5, 2), np.float32), np.zeros(3), None, None, None)) == \
        "SharedWordScorer(n_queries=3, words=5, dim=2)"


def test_no_print_in_library_code():
    bad = []
    for p in PKG.rglob("*.py"):
        if p.name in PRINTING or p.parent.name == "bench" or p.name == "_fuzz.py":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                bad.append(f"{p.relative_to(PKG)}:{node.lineno}")
    assert not bad, f"print() in library code (use the fastembed logger): {bad}"


def test_logging_is_quiet_by_default(tmp_path, capfd):
    handlers = logging.getLogger("fastembed").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    t = fe.EmbeddingTable(np.eye(3, dtype=np.float32), vocab=["a", "b", "c"])
    fe.save(t, tmp_path / "v.txt")
    fe.load(tmp_path / "v.txt")
    fe.train_word2vec(corpus.planted_corpus(100, seed=0), dim=4, min_count=1, epochs=1, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_diagnostics_reach_the_fastembed_logger(tmp_path, caplog):
    t = fe.EmbeddingTable(np.eye(3, dtype=np.float32), vocab=["a", "b", "c"])
    with caplog.at_level(logging.INFO, logger="fastembed"):
        fe.save(t, tmp_path / "v.txt")
        fe.load(tmp_path / "v.txt")
        fe.train_word2vec(corpus.planted_corpus(100, seed=0), dim=4, min_count=1, epochs=2, progress=False)
        fe.train_glove(corpus.planted_corpus(100, seed=0), dim=4, min_count=1, epochs=1, progress=False)
    msgs = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(n == "fastembed.io._api" and m.startswith("saved 3 x 3 to ") and "(word2vec)" in m for n, m in msgs)
    assert any(n == "fastembed.io._api" and "(word2vec): 3 x 3 float32 in" in m for n, m in msgs)
    assert [m.split(":")[0] for n, m in msgs if n == "fastembed.training"] == ["word2vec epoch 1", "word2vec epoch 2"]
    assert any(n == "fastembed.glove" and m.startswith("GloVe epoch 1: loss") for n, m in msgs)


def test_torch_modules_log_table_rebuilds(caplog):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from fastembed import torch as fet
    m = fet.Embedding(5, 2)
    with caplog.at_level(logging.DEBUG, logger="fastembed.torch"):
        m(torch.tensor([1]))
        m.weight = torch.nn.Parameter(torch.zeros(5, 2))
        m(torch.tensor([1]))
    msgs = [r.getMessage() for r in caplog.records if r.name == "fastembed.torch"]
    assert len(msgs) == 2 and "rebuilt" not in msgs[0] and msgs[1].endswith("rebuilt: the parameter or its storage changed")
