"""`fastembed encode` and `fastembed search` on a small static model written here, their option
checks (all before any work) and the int8 index kept on disk beside the corpus."""
import io
import json
import os
import re

import numpy as np
import pytest

pytest.importorskip("tokenizers", reason="the model's tokenizer.json needs tokenizers to write")
safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="the model file is safetensors")

import _text_data as td  # noqa: E402
from fastembed import index as fe_index  # noqa: E402
from fastembed.cli import main  # noqa: E402
from fastembed.text import StaticModel  # noqa: E402
from fastembed.text.sentences import SentenceIndex, cache_dir, read_lines  # noqa: E402

WORDS = ["[PAD]", "[UNK]", "the", "a", "fire", "fires", "firefighters", "police", "government", "minister",
         "people", "sydney", "new", "south", "wales", "rain", "bank", "interest", "rates", "cut", "market",
         "##s", "##ing", "##ed", ",", ".", "of", "in", "to", "and", "said", "was", "on", "for", "bush"]


def write_static_model(path, dim=12, seed=0, normalize=True):
    path.mkdir(parents=True, exist_ok=True)
    cfg = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for i, c in enumerate(WORDS[:2])],
           "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                          "strip_accents": None, "lowercase": True},
           "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                     "max_input_chars_per_word": 100, "vocab": {w: i for i, w in enumerate(WORDS)}}}
    (path / "tokenizer.json").write_text(json.dumps(cfg))
    (path / "config.json").write_text(json.dumps({"model_type": "model2vec", "normalize": normalize}))
    emb = np.random.default_rng(seed).standard_normal((len(WORDS), dim)).astype(np.float32)
    safetensors_numpy.save_file({"embeddings": emb}, str(path / "model.safetensors"))
    return path


@pytest.fixture
def model(tmp_path):
    return write_static_model(tmp_path / "model")


@pytest.fixture
def corpus(tmp_path):
    lines = list(td.corpus("news"))[:200] or ["the fire in sydney", "interest rates cut", "the bank"] * 20
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p, lines


def test_encode_file_and_stdin(model, corpus, tmp_path, monkeypatch, capsys):
    path, lines = corpus
    out = tmp_path / "v.npy"
    assert main(["encode", str(model), str(path), "-o", str(out)]) == 0
    want = StaticModel.from_pretrained(model).encode(lines)
    np.testing.assert_array_equal(np.load(out), want)
    assert f"{len(lines)} sentences" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("\n".join(lines[:5]).encode())))
    assert main(["encode", str(model), "-", "-o", str(out), "--batch-size", "2", "--threads", "1"]) == 0
    np.testing.assert_array_equal(np.load(out), want[:5])


def test_search_matches_a_full_scan_and_keeps_its_index(model, corpus, capsys):
    path, lines = corpus
    assert main(["search", str(model), "--corpus", str(path), "bush fires in new south wales", "-k", "4"]) == 0
    captured = capsys.readouterr()
    assert "encoding" in captured.err
    got = [line.split("\t") for line in captured.out.strip().split("\n")]
    m = StaticModel.from_pretrained(model)
    v = m.encode(lines)
    q = m.encode(["bush fires in new south wales"])[0]
    cos = (v @ q) / np.maximum(np.linalg.norm(v, axis=1) * np.linalg.norm(q), 1e-30)
    assert [int(g[1]) - 1 for g in got] == list(np.argsort(-cos, kind="stable")[:4])
    assert [g[2] for g in got] == [lines[int(g[1]) - 1] for g in got]
    d = cache_dir(str(path))
    assert sorted(os.listdir(d)) == ["index.npz", "meta.json", "vectors.npy"]
    stamp = os.stat(os.path.join(d, "vectors.npy")).st_mtime_ns
    assert main(["search", str(model), "--corpus", str(path), "interest rates", "the police"]) == 0
    captured = capsys.readouterr()
    assert "encoding" not in captured.err  # read back, not encoded again
    assert captured.out.count("# ") == 2
    assert os.stat(os.path.join(d, "vectors.npy")).st_mtime_ns == stamp
    path.write_text("\n".join(lines[:50]) + "\n", encoding="utf-8")  # the corpus changed: rebuilt
    assert main(["search", str(model), "--corpus", str(path), "interest rates"]) == 0
    assert "encoding 50 lines" in capsys.readouterr().err


def test_index_on_disk_answers_as_the_scan(model, corpus, tmp_path):
    path, lines = corpus
    m = StaticModel.from_pretrained(model)
    idx = SentenceIndex.open(m, str(path))
    again = SentenceIndex.open(m, str(path))
    assert isinstance(again.index, fe_index.Int8Index)
    q = ["the government said", "rain in sydney", "firefighters"]
    assert idx.search(q, 7) == again.search(q, 7)
    scores, ids = again.table.topk(m.encode(q), 7, strategy="scan", index=None)
    assert [[h[0] for h in r] for r in again.search(q, 7)] == ids.tolist()
    assert [[h[1] for h in r] for r in again.search(q, 7)] == scores.tolist()
    with pytest.raises(ValueError, match="has no token in the model's vocabulary"):
        again.search(["zzzz qqqq"], 3)


def test_index_save_load_errors(tmp_path):
    rng = np.random.default_rng(0)
    idx = fe_index.build(rng.standard_normal((50, 8)).astype(np.float32), "int8")
    fe_index.save(idx, tmp_path / "i.npz")
    back = fe_index.load(tmp_path / "i.npz")
    np.testing.assert_array_equal(back.codes, idx.codes)
    np.savez(tmp_path / "bad.npz", format=np.int64(1), shape=np.array([50, 8]), buf=np.zeros(3, np.int8),
             rowsum=np.zeros(64, np.int32), scales=np.zeros(50, np.float32), coef_cosine=np.zeros(192, np.float32),
             coef_dot=np.zeros(192, np.float32), max_norm=np.float64(1))
    with pytest.raises(ValueError, match=r"bad.npz: buf has int8 shape \(3,\), expected int8 \(512,\) for a \(50, 8\) "
                                         r"table \(damaged file\)"):
        fe_index.load(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz is not a saved fastembed index"):
        fe_index.load(tmp_path / "junk.npz")
    with pytest.raises(TypeError, match="only an Int8Index can be saved"):
        fe_index.save(fe_index.build(rng.standard_normal((5, 4)).astype(np.float32), "float16"), tmp_path / "h.npz")


def test_read_lines(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("\ufeffone\r\ntwo\n\nthree".encode())
    assert read_lines(str(p)) == ["one", "two", "", "three"]
    p.write_bytes(b"good line\nsecond \xc3\xa9\nthird \xe9t\xe9\n")
    with pytest.raises(ValueError, match=r"t.txt, line 3: not UTF-8 \(byte 0xe9 at byte 7 of the line"):
        read_lines(str(p))


@pytest.mark.parametrize("argv, message", [
    (["encode", "{nomodel}", "{corpus}", "-o", "{out}"], "no such model directory"),
    (["encode", "{corpus}", "{corpus}", "-o", "{out}"], "is a file; MODEL is a model2vec or sentence-transformers"),
    (["encode", "{notmodel}", "{corpus}", "-o", "{out}"], r"is not a static model directory: expected model2vec: "
                                                          r"config.json, .*; found notes.txt"),
    (["encode", "{model}", "{nofile}", "-o", "{out}"], "no such input file"),
    (["encode", "{model}", "{tmp}", "-o", "{out}"], "is a directory, expected a text file"),
    (["encode", "{model}", "{corpus}", "-o", "{tmp}/v.txt"], "-o/--output must name a .npy file"),
    (["encode", "{model}", "{corpus}", "-o", "{tmp}/nodir/v.npy"], "the output's directory does not exist"),
    (["encode", "{model}", "{corpus}", "-o", "{out}", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["encode", "{model}", "{corpus}", "-o", "{out}", "--max-length", "-3"], "--max-length must be at least 1"),
    (["encode", "{model}", "{corpus}", "-o", "{out}", "--threads", "0"], "--threads 0 is not a thread count"),
    (["encode", "{model}", "{latin1}", "-o", "{out}"], r"latin1.txt, line 2: not UTF-8 \(byte 0xe9"),
    (["search", "{model}", "--corpus", "{corpus}"], "give at least one query"),
    (["search", "{model}", "--corpus", "{corpus}", "  "], "a query is empty"),
    (["search", "{model}", "--corpus", "-", "x"], "--corpus must be a file"),
    (["search", "{model}", "--corpus", "{nofile}", "x"], "no such corpus"),
    (["search", "{model}", "--corpus", "{corpus}", "x", "-k", "0"], "-k must be at least 1, got 0"),
    (["search", "{model}", "--corpus", "{latin1}", "x"], r"latin1.txt, line 2: not UTF-8"),
])
def test_errors(model, corpus, tmp_path, capsys, argv, message):
    (tmp_path / "notmodel").mkdir()
    (tmp_path / "notmodel" / "notes.txt").write_text("x")
    (tmp_path / "latin1.txt").write_bytes("fine\ncaf\xe9 au lait\n".encode("latin-1"))
    fill = {"nomodel": tmp_path / "none", "corpus": corpus[0], "out": tmp_path / "v.npy", "notmodel": tmp_path / "notmodel",
            "model": model, "nofile": tmp_path / "missing.txt", "tmp": tmp_path, "latin1": tmp_path / "latin1.txt"}
    assert main([a.format(**fill) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastembed: error: ")
    assert re.search(message, err), err
    assert not (tmp_path / "v.npy").exists()


def test_unknown_option(model, corpus):
    with pytest.raises(SystemExit):
        main(["search", str(model), "--corpus", str(corpus[0]), "x", "--bogus"])
