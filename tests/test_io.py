import gzip
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fastembed as fe
from fastembed import EmbeddingTable, io as fio
from fastembed._kernels import _parse

KEYS = ["the", "cat", "кот", "猫", "naïve", "a-b"]


@pytest.fixture
def table():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((len(KEYS), 5), dtype=np.float32)
    W[0, 0] = np.float32(1e-30)
    W[1, 1] = np.float32(3.4e38)
    W[2, 2] = np.float32(-0.0)
    W[3, 3] = np.float32(0.1)
    return EmbeddingTable(W, vocab=KEYS)


@pytest.mark.parametrize("fmt,ext", [("word2vec", ""), ("word2vec", ".gz"), ("word2vec", ".bz2"),
                                     ("glove", ""), ("glove", ".gz"), ("word2vec-binary", ""),
                                     ("word2vec-binary", ".bz2"), ("native", ""), ("safetensors", ".safetensors")])
def test_round_trip_bit_identical(table, tmp_path, fmt, ext):
    p = tmp_path / f"vectors{ext}"
    fe.save(table, p, format=fmt)
    assert fio.detect_format(p) == fmt
    t = fe.load(p)
    assert t.vocab.keys == KEYS
    np.testing.assert_array_equal(t.weights.view(np.uint32), table.weights.view(np.uint32))
    t5 = fe.load(p, limit=3) if fmt not in ("native", "safetensors") else None
    if t5 is not None:
        assert t5.vocab.keys == KEYS[:3] and np.array_equal(t5.weights, table.weights[:3])


def test_native_mmap_is_zero_copy_read_only(table, tmp_path):
    fe.save(table, tmp_path / "nat", format="native")
    t = fe.load(tmp_path / "nat", mmap=True)
    assert not t.writeable and "memmap" in repr(t) or isinstance(t._w, np.memmap)
    np.testing.assert_array_equal(t.weights, table.weights)
    assert t.words.most_similar("cat", topn=1)[0][0] in KEYS


def test_text_variants(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"new york 1 2 3\r\n\r\n  cat  4 5 6   \r\ndog\t7\t8\t9\n\n")
    t = fe.load(p)
    assert t.vocab.keys == ["new york", "cat", "dog"]
    np.testing.assert_array_equal(t.weights, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    p2 = tmp_path / "w.txt"
    p2.write_bytes(b"2 3\r\n1990 0.5 1e-3 -2\r\nx 1 2 3\r\n")  # numeric key
    t = fe.load(p2)
    assert t.vocab.keys == ["1990", "x"] and t.weights[0, 1] == np.float32(1e-3)
    # without its final newline the last line may have been cut mid-number ("3" of "3.25"): refused
    p2.write_bytes(b"2 3\r\n1990 0.5 1e-3 -2\r\nx 1 2 3")
    with pytest.raises(ValueError, match=r"w.txt, line 3: the file ends without a newline"):
        fe.load(p2)


def test_duplicates(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("a 1 2\nb 3 4\na 5 6\n")
    with pytest.raises(ValueError, match=r"d.txt, line 3: duplicate key 'a' \(first seen as vector 1\)"):
        fe.load(p)
    t = fe.load(p, duplicates="first")
    assert t.vocab.keys == ["a", "b"] and t.weights.tolist() == [[1, 2], [3, 4]]
    b = tmp_path / "d.bin"
    b.write_bytes(b"3 2\n" + b"".join(k + b" " + np.array(v, "<f4").tobytes() + b"\n"
                                       for k, v in [(b"a", [1, 2]), (b"b", [3, 4]), (b"a", [5, 6])]))
    with pytest.raises(ValueError, match=r"d.bin, byte \d+: duplicate key 'a'"):
        fe.load(b)
    assert fe.load(b, duplicates="first").vocab.keys == ["a", "b"]


@pytest.mark.parametrize("content,fmt,msg", [
    (b"2 3\na 1 2 3\nb 1 2\n", "auto", r"line 3: expected a key and 3 values, got 3 tokens"),
    (b"2 3\na 1 2 3\nb 1 x 3\n", "auto", r"line 3: expected a number, got b'x'"),
    (b"3 3\na 1 2 3\nb 1 2 3\n", "auto", r"the header says 3 vectors but the file has 2"),
    (b"1 3\na 1 2 3\nb 1 2 3\n", "auto", r"line 3: the header says 1 vectors but the file has more"),
    (b"a 1 2 3\nb 1 2 nan3\n", "auto", r"line 2: expected a number, got b'nan3'"),
    (b"a 1 2 3\nb\n", "auto", r"line 2: expected a key and 3 values, got 1 token\b"),
    (b"a 1 2 3\n", "word2vec", r"line 1: expected a word2vec header"),
    (b"2 3\na 1 2 3\n", "glove", r"looks like a word2vec header"),
    (b"hello world\n", "auto", r"line 1: expected a key followed by numbers"),
    (b"", "auto", r"the file is empty"),
    (b"a\xff 1 2\n", "auto", r"line 1: key is not valid utf-8"),
])
def test_bad_text_files(tmp_path, content, fmt, msg):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=msg):
        fe.load(p, format=fmt)


def test_unicode_errors_replace(tmp_path):
    p = tmp_path / "u.txt"
    p.write_bytes(b"a\xff 1 2\n")
    assert fe.load(p, unicode_errors="replace").vocab.keys == ["a\ufffd"]


def test_bad_binary_files(tmp_path):
    p = tmp_path / "t.bin"
    good = b"2 3\n" + b"a " + np.ones(3, "<f4").tobytes() + b"\nb " + np.ones(3, "<f4").tobytes()
    p.write_bytes(good[:-5])
    with pytest.raises(ValueError, match=r"t.bin, byte \d+: truncated: the header says 2 vectors of 3 float32 "
                                         r"but the file ends after 1"):
        fe.load(p, format="word2vec-binary")
    p.write_bytes(b"junk\n" + good)
    with pytest.raises(ValueError, match=r"byte 0: expected a word2vec header"):
        fe.load(p, format="word2vec-binary")


def test_native_and_safetensors_errors(table, tmp_path):
    d = tmp_path / "nat"
    fe.save(table, d, format="native")
    (d / "keys.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match=r"keys.txt: 2 keys for 6 vectors"):
        fe.load(d)
    (d / "meta.json").write_text("{bad")
    with pytest.raises(ValueError, match=r"meta.json, line 1: invalid JSON"):
        fe.load(d)
    with pytest.raises(ValueError, match="not a fastembed native directory"):
        fe.load(tmp_path, format="native")
    with pytest.raises(FileNotFoundError, match="no such file"):
        fe.load(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        fe.load(tmp_path / "x", format="csv")
    with pytest.raises(ValueError, match=r"dtype=float64: tables are stored as one of \['bfloat16', 'float16', 'float32', 'int8'\]"):
        fe.load(tmp_path / "x", dtype=np.float64)
    with pytest.raises(ValueError, match=r"key 'a b' at row 0 cannot be written in format 'word2vec'"):
        fe.save(EmbeddingTable.zeros(1, 2, vocab=["a b"]), tmp_path / "x.txt")
    with pytest.raises(TypeError, match="save takes an EmbeddingTable"):
        fe.save(np.zeros((2, 2)), tmp_path / "x.txt")


def test_safetensors_checkpoint(tmp_path):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    wte = rng.standard_normal((10, 4), dtype=np.float32)
    wpe = rng.standard_normal((8, 4), dtype=np.float32)
    bias = np.zeros(4, np.float32)
    p = tmp_path / "model.safetensors"
    save_file({"wte.weight": wte, "wpe.weight": wpe, "ln.bias": bias,
               "half": wte.astype(np.float16)}, str(p))
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"tok{i}\n" for i in range(10)))
    t = fe.load(p, tensor="wte.weight", vocab=vocab)
    np.testing.assert_array_equal(t.weights, wte)
    assert t.vocab.keys[3] == "tok3" and not t.writeable  # memory-mapped read-only
    pos = fio.load_positions(p, "wpe.weight")
    np.testing.assert_array_equal(t.embed([[1, 2]], pos)[0], wte[[1, 2]] + wpe[:2])
    np.testing.assert_array_equal(fe.load(p, tensor="half").weights, wte.astype(np.float16).astype(np.float32))
    with pytest.raises(ValueError, match=r"pass tensor= to choose one of the 2-D tensors"):
        fe.load(p)
    with pytest.raises(ValueError, match=r"no tensor named 'nope'"):
        fe.load(p, tensor="nope")
    with pytest.raises(ValueError, match=r"has shape \(4,\); expected \(V, D\)"):
        fe.load(p, tensor="ln.bias")
    with pytest.raises(ValueError, match="the vocabulary given has 3 keys but tensor 'wte.weight' has 10 rows"):
        fe.load(p, tensor="wte.weight", vocab=["a", "b", "c"])


def test_safetensors_bf16(tmp_path):
    import json
    vals = np.array([[1.0, -2.5], [0.15625, 3.0]], np.float32)
    bf = (vals.view(np.uint32) >> 16).astype("<u2")
    header = json.dumps({"emb": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    p = tmp_path / "bf16.safetensors"
    p.write_bytes(len(header).to_bytes(8, "little") + header + bf.tobytes())
    t = fe.load(p)  # kept as bfloat16 (its bits, memory-mapped); the values are exact
    assert t.storage.name == "bfloat16"
    np.testing.assert_array_equal(t[:], vals)
    np.testing.assert_array_equal(fe.load(p, dtype="float32").weights, vals)


def test_progress_bar_option(table, tmp_path, capsys):
    p = tmp_path / "v.txt"
    fe.save(table, p)
    fe.load(p, progress=True)
    assert "v.txt" in capsys.readouterr().err
    fe.load(p, progress=False)
    assert capsys.readouterr().err == ""


keys_st = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
                           min_size=1, max_size=6), min_size=1, max_size=12, unique=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=keys_st, D=st.integers(1, 6), seed=st.integers(0, 2 ** 16),
       fmt=st.sampled_from(["word2vec", "glove", "word2vec-binary", "native"]))
def test_hypothesis_round_trip(tmp_path, keys, D, seed, fmt):
    keys = [k for k in keys if k.strip() == k and not any(c.isspace() for c in k)] or ["x"]
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2 ** 32, (len(keys), D), dtype=np.uint64).astype(np.uint32)
    W = bits.view(np.float32).copy()
    W[~np.isfinite(W)] = 1.5
    t = EmbeddingTable(W, vocab=keys)
    p = tmp_path / f"rt_{fmt}_{seed}"
    fe.save(t, p, format=fmt)
    u = fe.load(p, format=fmt)
    assert u.vocab.keys == keys
    np.testing.assert_array_equal(u.weights.view(np.uint32), W.view(np.uint32))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(["word2vec", "glove", "word2vec-binary"]))
def test_fuzzed_files_never_crash(tmp_path, data, fmt):
    rng = np.random.default_rng(1)
    t = EmbeddingTable(rng.standard_normal((4, 3), dtype=np.float32), vocab=["a", "bb", "кот", "d"])
    p = tmp_path / f"fz_{fmt}"
    fe.save(t, p, format=fmt)
    raw = bytearray(p.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if op == "flip":
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "delete":
            del raw[i]
        elif op == "insert":
            raw.insert(i, data.draw(st.sampled_from([0, 10, 13, 32, 45, 46, 48, 101, 255])))
        else:
            del raw[i:]
        if not raw:
            raw = bytearray(b"x")
    p.write_bytes(bytes(raw))
    try:
        u = fe.load(p)
    except (ValueError, FileNotFoundError):
        return  # a clear error is the right outcome
    assert u.weights.dtype == np.float32 and len(u.vocab) == len(u)
    assert u.weights.shape[0] <= 5


def test_number_parser_edge_cases():
    for s in ["0", "-0", "1e-45", "3.4028235e38", "1e39", "-1e-50", "nan", "-inf", ".5", "5.", "+3",
              "0.1", "123456789", "16777217", "1.00000006"]:
        got = _parse.parse_floats(s.encode())
        with np.errstate(over="ignore"):
            want = np.float32(s)
        assert got.tobytes() == want.tobytes() or (np.isnan(got) and np.isnan(want)), s
    for s in ["", "1.2.3", "abc", "1e", "--1", "1,5", "0x", "1e5e5"]:
        with pytest.raises(ValueError):
            _parse.parse_floats(s.encode())


def test_text_writer_shortest_round_trip():
    rng = np.random.default_rng(2)
    W = (rng.standard_normal((200, 50)) * 10.0 ** rng.integers(-30, 30, (200, 50))).astype(np.float32)
    W[0, :4] = [np.inf, -np.inf, -0.0, 0.1]
    keys = b"".join(b"k%d\n" % i for i in range(200))
    offsets = np.r_[0, np.flatnonzero(np.frombuffer(keys, np.uint8) == 10) + 1].astype(np.int64)
    out = np.empty(len(keys) + 200 * (16 * 50 + 2), np.uint8)
    n, bad = _parse.format_lines(W, 0, 200, np.frombuffer(keys, np.uint8), offsets, out)
    assert bad == -1
    lines = out[:n].tobytes().split(b"\n")[:-1]
    back = np.array([np.array(line.split()[1:], np.float32) for line in lines])
    np.testing.assert_array_equal(back.view(np.uint32), W.view(np.uint32))
    assert lines[0].split(b" ", 5)[:5] == [b"k0", b"inf", b"-inf", b"-0", b"0.1"]


def test_parallel_chunk_parsing_large_file(tmp_path, monkeypatch):
    # several MB, parsed in parts on two threads: blank lines, limit, errors deep in the file
    from fastembed.io import text as fio_text
    monkeypatch.setattr(fio_text, "CHUNK", 1 << 20)
    rng = np.random.default_rng(9)
    V, D = 30000, 20
    W = np.round(rng.standard_normal((V, D)), 4).astype(np.float32)
    keys = [f"k{i}" for i in range(V)]
    p = tmp_path / "big.txt"
    fe.save(EmbeddingTable(W, vocab=keys), p, format="glove")
    lines = p.read_bytes().split(b"\n")
    for j in (100, 7000, 15001, 22222):
        lines.insert(j, b"")
    p.write_bytes(b"\n".join(lines))
    assert p.stat().st_size > 2 * fio_text.CHUNK
    t = fe.load(p)
    assert t.vocab.keys == keys
    np.testing.assert_array_equal(t.weights, W)
    t = fe.load(p, limit=20001)
    assert t.vocab.keys == keys[:20001] and np.array_equal(t.weights, W[:20001])
    bad = list(lines)
    bad[25000] = b"oops 1 2"
    p.write_bytes(b"\n".join(bad))
    with pytest.raises(ValueError, match=r"big.txt, line 25001: expected a key and 20 values, got 3 tokens"):
        fe.load(p)
    bad[25000] = lines[10]  # a duplicate of k9 (line 11 holds k9: one blank line before it? no: at 100)
    p.write_bytes(b"\n".join(bad))
    with pytest.raises(ValueError, match=r"big.txt, line 25001: duplicate key 'k10'"):
        fe.load(p)


@pytest.mark.parametrize("name", ["g.txt", "g.txt.gz", "w.txt.gz"])
def test_text_load_opens_and_decompresses_once(tmp_path, monkeypatch, name):
    # GloVe used to open the file four times and decompress .gz twice
    from fastembed.io import _source
    from fastembed.io import text as fio_text
    rng = np.random.default_rng(4)
    t = EmbeddingTable(rng.standard_normal((3000, 5), dtype=np.float32), vocab=[f"k{i}" for i in range(3000)])
    p = tmp_path / name
    fe.save(t, p, format="glove" if name.startswith("g") else "word2vec")
    opened, decompressed, counted = [], [], []
    real_open_binary, real_count = _source.open_binary, fio_text._count_lines

    def counting_open(path):
        f = real_open_binary(path)
        opened.append(path)
        real_read = f.read
        f.read = lambda n=-1: decompressed.append(len(b := real_read(n))) or b
        return f

    monkeypatch.setattr(_source, "open_binary", counting_open)
    monkeypatch.setattr(fio_text, "_count_lines", lambda path: counted.append(path) or real_count(path))
    u = fe.load(p)
    np.testing.assert_array_equal(u.weights, t.weights)
    assert len(opened) == 1
    with gzip.open(p) if name.endswith(".gz") else open(p, "rb") as f:
        assert sum(decompressed) == len(f.read())  # every byte decompressed (read) once
    # a plain GloVe file gets one cheap newline count (exact allocation); compressed input and
    # word2vec files (the header gives the count) get none
    assert len(counted) == (1 if name == "g.txt" else 0)


def test_blank_lines_in_a_parallel_part_do_not_drop_rows(tmp_path, monkeypatch):
    # found by the fuzzer: the first part's blank lines used up the row estimate of the second
    # part, which was skipped and reported as a partial line
    from fastembed.io import text as fio_text
    monkeypatch.setattr(fio_text, "GRAIN_PARSE_BYTES", 1)
    p = tmp_path / "b.txt"
    p.write_bytes(b"7 1\r\nq 1e-3\r\n1990\t+3\r\n\n\r\n\xd0\xba\xd0\xbe\xd1\x82 -0\r\n\nna\xc3\x82 -0\r\n\n"
                  b"na\xc3\xafve 5.\r\na\tnan\r\nx-y 0.000001\r\n")
    for nt in (1, 2, 3):
        t = fe.load(p, n_threads=nt)
        assert t.vocab.keys == ["q", "1990", "кот", "naÂ", "naïve", "a", "x-y"]
        assert t.weights[:, 0].tolist()[:2] == [np.float32(1e-3), 3.0]
