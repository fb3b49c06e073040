"""Files that can never load silently wrong: detection by structure, the dimension checked on
every line, truncation, native checksums, hostile headers, every error naming its file, round
trips of our own files, foreign files recognised by their magic bytes."""
import bz2
import gzip
import json
import os
import pickle
import time

import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, Vocabulary, reference
from fastembed import io as fio
from fastembed.io import FileFormatError
from fastembed.io.native import _meta_crc


def _bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


@pytest.fixture
def table():
    rng = np.random.default_rng(3)
    return EmbeddingTable(rng.standard_normal((5, 4), dtype=np.float32),
                          vocab=Vocabulary(["a", "bb", "кот", "d", "e"], [9, 7, 5, 3, 1]))


# ------------------------------------------------------------------------------------------ detection

def test_one_nul_byte_does_not_make_text_binary(tmp_path, table):
    p = tmp_path / "v.txt"
    fe.save(table, p, format="word2vec")
    raw = p.read_bytes()
    header_end = raw.index(b"\n") + 1
    for i in range(header_end, len(raw)):
        if raw[i:i + 1] == b"\n":
            continue
        q = tmp_path / f"nul{i}.txt"
        q.write_bytes(raw[:i] + b"\x00" + raw[i + 1:])
        assert fio.detect_format(q) == "word2vec", i
        try:
            t = fe.load(q)
        except FileFormatError as exc:
            assert exc.line is not None and f"nul{i}.txt, line" in str(exc)
            continue
        # accepted only when the NUL landed in a key: then the file is valid and loads as written
        keys, W = reference.load_text(q)
        assert t.vocab.keys == keys and "\x00" in "".join(keys)
        np.testing.assert_array_equal(_bits(t.weights), _bits(W))


def test_one_byte_does_not_make_binary_text(tmp_path, table):
    p = tmp_path / "v.bin"
    fe.save(table, p, format="word2vec-binary")
    raw = bytearray(p.read_bytes())
    header_end = raw.index(b"\n") + 1
    rng = np.random.default_rng(0)
    for i in range(header_end, len(raw)):
        q = tmp_path / "m.bin"
        mutated = bytearray(raw)
        mutated[i] = int(rng.choice([0x30, 0x20, 0x0A, 0x00, 0x2E]))
        q.write_bytes(bytes(mutated))
        assert fio.detect_format(q) == "word2vec-binary", i


def test_header_like_glove_first_line(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"12 5\ncat 1\ndog 3\n")  # key "12", value 5; D = 1
    assert fio.detect_format(p) == "glove"
    t = fe.load(p)
    assert t.vocab.keys == ["12", "cat", "dog"] and t.weights.ravel().tolist() == [5, 1, 3]
    p.write_bytes(b"3 2\ncat 1 2\ndog 3 4\nemu 5 6\n")
    assert fio.detect_format(p) == "word2vec"
    with pytest.raises(ValueError, match=r"g.txt, line 1: looks like a word2vec header"):
        fe.load(p, format="glove")


# ------------------------------------------------------------------------------------------ dimension

@pytest.mark.parametrize("content,msg", [
    (b"a 0.1 0.2 0.3\nb 1 2\nc 4 5 6\n", r"line 2: expected a key and 3 values, got 3 tokens"),
    (b"a 0.1 0.2 0.3\nb 1 2 3 4\nc 4 5 6\n", r"line 2: expected a key and 3 values, got 5 tokens: a key of "
                                              r"several words must not end in a number"),
    (b"a 0.1 0.2 0.3\nb 1 2 3\nc 4 5 6\nd 7 8\n", r"line 4: expected a key and 3 values, got 3 tokens"),
    # one corrupted number on the first line does not change the dimension of every line
    (b"a 0.1 0x2 0.3\nb 1 2 3\nc 4 5 6\n", r"line 1: expected a number, got b'0x2'"),
    (b"a 0.1 0.2\nb 1 2 3\n", r"cannot infer the dimension: the first lines disagree on the number of "
                              r"values \(line 1 has 2, line 2 has 3\)"),
    (b"route 66 0.1 0.2\ncat 1 2\ndog 3 4\n", r"line 1: expected a key and 2 values, got 4 tokens"),
])
def test_glove_dimension_checked_on_every_line(tmp_path, content, msg):
    p = tmp_path / "g.txt"
    p.write_bytes(content)
    with pytest.raises(FileFormatError, match=r"g.txt" + (", " if "line" in msg[:5] else ": ") + msg):
        fe.load(p)


def test_glove_keys_with_spaces_still_load(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"new york 0.5 1\n. . . 2 3\n1990 4 5\nat name@x.org 6 7\n")
    t = fe.load(p)
    assert t.vocab.keys == ["new york", ". . .", "1990", "at name@x.org"]
    assert t.weights.tolist() == [[0.5, 1], [2, 3], [4, 5], [6, 7]]


@pytest.mark.parametrize("fmt,content,msg", [
    ("glove", b"a 1 2\nb 3 4", r"g.txt, line 2: the file ends without a newline"),
    ("glove", b"a 1 2\nb 3 4.", r"g.txt, line 2: the file ends without a newline"),
    ("word2vec", b"2 2\na 1 2\nb 3 4", r"g.txt, line 3: the file ends without a newline"),
    ("glove", b"a 1 2\nb 3", r"g.txt, line 2: the file ends without a newline"),
])
def test_truncated_last_line_is_an_error(tmp_path, fmt, content, msg):
    p = tmp_path / "g.txt"
    p.write_bytes(content)
    with pytest.raises(FileFormatError, match=msg):
        fe.load(p, format=fmt)
    p.write_bytes(content + b"\n")  # the same with its newline is whole: it loads, or fails on its own
    if not content.endswith((b"3", b".")):
        assert len(fe.load(p, format=fmt)) == 2


def test_single_line_without_newline_loads(tmp_path):
    p = tmp_path / "one.txt"
    p.write_bytes(b"a 1 2")
    assert fe.load(p).weights.tolist() == [[1, 2]]


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary"])
def test_a_file_shorter_than_its_header_says_has_an_eof_cause(tmp_path, table, fmt):
    # the EOFError cause is how callers (gensim's compat layer) tell truncation from other damage
    p = tmp_path / "v.txt"
    fe.save(table, p, format=fmt)
    raw = p.read_bytes()
    p.write_bytes(b"9" + raw[1:])  # the header claims more vectors than follow
    with pytest.raises(FileFormatError, match=r"v.txt(, byte \d+)?: (truncated: )?the header says 9") as ei:
        fe.load(p)
    assert isinstance(ei.value.__cause__, EOFError)
    p.write_bytes(raw.replace(raw.split(b"\n")[0], b"5 7"))  # wrong dim: not truncation
    with pytest.raises(FileFormatError) as ei:
        fe.load(p)
    assert not isinstance(ei.value.__cause__, EOFError)


def test_binary_keys_after_newlines_as_word2vec_c_and_gensim_read_them(tmp_path):
    # word2vec.c's reader (fscanf "%s") and gensim skip newlines before a key; files mixing the
    # packed and newline layouts have them
    v = [np.array(x, "<f4") for x in ([1, 2, 3], [4, 5, 6], [7, 8, 9])]
    p = tmp_path / "mixed.bin"
    p.write_bytes(b"3 3\n" + b"\nabc " + v[0].tobytes() + b"cdefdg " + v[1].tobytes() + b"\n\ndef " + v[2].tobytes())
    t = fe.load(p)
    assert t.vocab.keys == ["abc", "cdefdg", "def"]
    np.testing.assert_array_equal(t.weights, np.stack(v))
    p.write_bytes(b"2 3\n" + b"abc " + v[0].tobytes() + b"\n\n\nx " + v[1].tobytes() + b"\n")  # newline mode
    assert fe.load(p).vocab.keys == ["abc", "x"]
    p.write_bytes(b"2 3\n" + b"abc " + v[0].tobytes() + b"\n\n")
    with pytest.raises(FileFormatError, match="truncated: the header says 2 vectors"):
        fe.load(p)
    p.write_bytes(b"1 3\n" + b"\n a" + v[0].tobytes())
    with pytest.raises(FileFormatError, match=r"mixed.bin, byte 5: a key is empty"):
        fe.load(p, format="word2vec-binary")


def test_truncated_binary_record(tmp_path, table):
    p = tmp_path / "v.bin"
    fe.save(table, p, format="word2vec-binary")
    raw = p.read_bytes()
    p.write_bytes(raw[:-1])  # the last record's newline
    with pytest.raises(FileFormatError, match=r"v.bin, byte \d+: truncated"):
        fe.load(p)
    p.write_bytes(raw[:-3])
    with pytest.raises(FileFormatError, match=r"v.bin, byte \d+: truncated: the header says 5 vectors of 4 "
                                              r"float32 but the file ends after 4"):
        fe.load(p)
    p.write_bytes(raw + b"x")
    with pytest.raises(FileFormatError, match=r"v.bin, byte \d+: the header says 5 vectors but the file has more"):
        fe.load(p)
    rec = len(raw) // 5
    p.write_bytes(raw[:30] + raw[31:] + b"\n")  # a byte moved: the next record is not preceded by a newline
    with pytest.raises(FileFormatError, match=r"v.bin, byte \d+: "):
        fe.load(p)
    assert rec > 0


def test_gensim_packed_binary_records(tmp_path):
    # gensim writes no newline after a record; the first record decides, all must agree
    recs = [(b"a", [1, 2]), (b"b", [3, 4])]
    p = tmp_path / "g.bin"
    p.write_bytes(b"2 2\n" + b"".join(k + b" " + np.array(v, "<f4").tobytes() for k, v in recs))
    t = fe.load(p)
    assert t.vocab.keys == ["a", "b"] and t.weights.tolist() == [[1, 2], [3, 4]]
    p.write_bytes(b"2 2\n" + b"".join(k + b" " + np.array(v, "<f4").tobytes() for k, v in recs) + b"\n")
    with pytest.raises(FileFormatError, match=r"g.bin, byte 24: the header says 2 vectors but the file has more"):
        fe.load(p)


# ------------------------------------------------------------------------------------------ native

def _rewrite_meta(d, **changes):
    m = json.loads((d / "meta.json").read_text())
    m.update(changes)
    m.pop("meta_crc32")
    m["meta_crc32"] = _meta_crc(m)
    (d / "meta.json").write_text(json.dumps(m))


def test_native_checksums_and_sizes(tmp_path, table):
    d = tmp_path / "nat"
    fe.save(table, d, format="native")
    meta = json.loads((d / "meta.json").read_text())
    assert meta["version"] == 2 and meta["rows"] == 5 and meta["dim"] == 4 and meta["dtype"] == "float32"
    assert set(meta["files"]) == {"vectors.npy", "keys.txt", "counts.npy"}
    raw = bytearray((d / "vectors.npy").read_bytes())
    raw[-1] ^= 0x01  # one bit of the last value
    (d / "vectors.npy").write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match=r"nat/vectors.npy: the checksum of bytes 0\.\.80 of its data does "
                                              r"not match meta.json: the file is damaged"):
        fe.load(d)
    with pytest.raises(FileFormatError, match=r"checksum"):
        fe.load(d, mmap=True, verify=True)
    assert fe.load(d, verify=False).weights[4, 3] != table.weights[4, 3]  # verify=False: sizes only
    (d / "vectors.npy").write_bytes(bytes(raw[:-4]))  # sizes are always checked
    with pytest.raises(FileFormatError, match=r"vectors.npy: holds \d+ bytes, meta.json says \d+"):
        fe.load(d, verify=False)


def test_native_keys_cut_by_two_bytes(tmp_path, table):
    d = tmp_path / "nat"
    fe.save(table, d, format="native")
    raw = (d / "keys.txt").read_bytes()
    (d / "keys.txt").write_bytes(raw[:-2])  # "e\n" gone
    with pytest.raises(FileFormatError, match=r"nat/keys.txt: 4 keys for 5 vectors"):
        fe.load(d, verify=False)
    (d / "keys.txt").write_bytes(raw[:-1])
    with pytest.raises(FileFormatError, match=r"keys.txt, byte \d+: ends without a newline after its last key"):
        fe.load(d, verify=False)
    (d / "keys.txt").write_bytes(raw[:-2] + b"\n")  # same length, different last key
    with pytest.raises(FileFormatError, match=r"keys.txt: holds \d+ bytes, meta.json says \d+"):
        fe.load(d, verify=False)
    (d / "keys.txt").write_bytes(raw[:-2] + b"x\n")  # same size, damaged content
    with pytest.raises(FileFormatError, match=r"keys.txt: its checksum does not match meta.json"):
        fe.load(d)


def test_native_meta_is_checked(tmp_path, table):
    d = tmp_path / "nat"
    fe.save(table, d, format="native")
    m = json.loads((d / "meta.json").read_text())
    m["rows"] = 4
    (d / "meta.json").write_text(json.dumps(m))
    with pytest.raises(FileFormatError, match=r"meta.json: its checksum \(meta_crc32\) does not match"):
        fe.load(d)
    for bad, shown in [("x", "'x'"), (1.5, "1.5"), (True, "True"), (5, "5"), (-1, "-1")]:
        _rewrite_meta(d, rows=5, padding_idx=bad)
        with pytest.raises(FileFormatError, match=rf"meta.json: padding_idx must be null or a row id in \[0, 5\), "
                                                  rf"got {shown}"):
            fe.load(d)
    _rewrite_meta(d, padding_idx=2)
    assert fe.load(d).padding_idx == 2
    _rewrite_meta(d, dtype="float8")
    with pytest.raises(FileFormatError, match=r"storage dtype 'float8' is not supported by this version"):
        fe.load(d)
    _rewrite_meta(d, dtype="float16")  # a known dtype that disagrees with vectors.npy
    with pytest.raises(FileFormatError, match=r"vectors.npy: expected a C-order float16 array of shape \(5, 4\), got float32"):
        fe.load(d)
    _rewrite_meta(d, dtype="float32", rows=6)
    with pytest.raises(FileFormatError, match=r"vectors.npy: expected a C-order float32 array of shape \(6, 4\)"):
        fe.load(d)
    (d / "meta.json").write_bytes(b'{"format": "\xff"}')
    with pytest.raises(FileFormatError, match=r"meta.json, byte 12: not valid UTF-8"):
        fe.load(d)
    (d / "meta.json").write_text("[1, 2]")
    with pytest.raises(FileFormatError, match=r"meta.json: expected a JSON object, got list"):
        fe.load(d)


def test_native_save_never_leaves_stale_files(tmp_path, table):
    d = tmp_path / "nat"
    fe.save(table, d, format="native")
    fe.save(EmbeddingTable(np.ones((3, 2), np.float32)), d, format="native")  # no vocabulary, no counts
    assert sorted(os.listdir(d)) == ["meta.json", "vectors.npy"]
    t = fe.load(d)
    assert t.vocab is None and t.weights.shape == (3, 2)
    fe.save(EmbeddingTable(np.ones((3, 2), np.float32), vocab=["x", "y", "z"]), d, format="native")
    (d / "counts.npy").write_bytes((tmp_path / "nat" / "vectors.npy").read_bytes())  # a stray file
    with pytest.raises(FileFormatError, match=r"counts.npy: is not listed in meta.json \(left over from another "
                                              r"save\?\): refusing to attach it"):
        fe.load(d)


def test_native_v1_directories_still_load(tmp_path):
    d = tmp_path / "v1"
    d.mkdir()
    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.save(d / "vectors.npy", W)
    (d / "keys.txt").write_text("a\nb\nc\n")
    np.save(d / "counts.npy", np.array([3, 2, 1]))
    (d / "meta.json").write_text(json.dumps({"format": "fastembed-native", "version": 1, "count": 3, "dim": 2,
                                             "padding_idx": None}))
    t = fe.load(d)
    assert t.vocab.keys == ["a", "b", "c"] and t.vocab.counts.tolist() == [3, 2, 1]
    np.testing.assert_array_equal(t.weights, W)
    np.save(d / "vectors.npy", np.array([None] * 6, dtype=object).reshape(3, 2), allow_pickle=True)
    with pytest.raises(FileFormatError, match=r"vectors.npy: holds Python objects \(loading it would unpickle "
                                              r"them\): refusing"):
        fe.load(d)
    (d / "vectors.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'\n")
    with pytest.raises(FileFormatError, match=r"vectors.npy: not a valid .npy file"):
        fe.load(d)
    np.save(d / "vectors.npy", W)
    (d / "vectors.npy").write_bytes((d / "vectors.npy").read_bytes()[:-3])
    with pytest.raises(FileFormatError, match=r"vectors.npy: holds 21 bytes of data, its header needs 24"):
        fe.load(d)
    np.save(d / "vectors.npy", W)
    (d / "keys.txt").write_bytes(b"a\nb\xff\nc\n")
    with pytest.raises(FileFormatError, match=r"keys.txt, byte 3: not valid UTF-8") as e:
        fe.load(d)
    assert isinstance(e.value.__cause__, UnicodeDecodeError)


# ------------------------------------------------------------------------------------------ hostile

@pytest.mark.parametrize("name,fmt", [("h.txt", "auto"), ("h.bin", "word2vec-binary"), ("h.txt.gz", "auto")])
def test_header_larger_than_the_file(tmp_path, name, fmt):
    p = tmp_path / name
    data = b"100000000000 300\n"
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    t0 = time.perf_counter()
    with pytest.raises(FileFormatError, match=rf"{name}(, byte \d+)?: (truncated: )?the header says 100000000000 "
                                              r"vectors (of 300 float32 )?but the file (has 0|ends after 0)"):
        fe.load(p, format=fmt)
    assert time.perf_counter() - t0 < 2.0  # no attempt to allocate 109 TiB
    data = b"1 10000000000000\nx 1 2\n"  # ("x 1" would make "1 10000000000000" a GloVe row)
    p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(FileFormatError, match=r"the header's dimension 10000000000000 is larger than"):
        fe.load(p, format=fmt)


def test_endless_line_fails_fast(tmp_path):
    if os.path.exists("/dev/zero"):
        t0 = time.perf_counter()
        with pytest.raises(FileFormatError, match=r"/dev/zero, line 1: no newline in the first \d+ bytes: not a "
                                                  r"text embedding file"):
            fe.load("/dev/zero")
        assert time.perf_counter() - t0 < 2.0
    p = tmp_path / "long.txt"
    p.write_bytes(b"2 3\na 1 2 3\n" + b"9" * (fio.text.MAX_LINE_BYTES + 4000))
    with pytest.raises(FileFormatError, match=r"long.txt, line 3: longer than \d+ bytes without a newline"):
        fe.load(p)


def _gz_corrupt(raw):
    b = bytearray(raw)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


@pytest.mark.parametrize("name,make,msg,cause", [
    ("t.txt.gz", lambda r: gzip.compress(r)[: len(gzip.compress(r)) // 2], r"the gzip stream ends early", EOFError),
    ("t.txt.gz", lambda r: _gz_corrupt(gzip.compress(r)), r"the gzip stream is corrupt", Exception),
    ("t.txt.gz", lambda r: r, r"the gzip stream is corrupt \(Not a gzipped file", OSError),
    ("t.txt.bz2", lambda r: bz2.compress(r)[:-10], r"the bz2 stream ends early", EOFError),
    ("t.txt.bz2", lambda r: bz2.compress(r)[:20] + b"xx" + bz2.compress(r)[22:], r"the bz2 stream is corrupt", OSError),
])
def test_compressed_stream_errors_name_the_file(tmp_path, name, make, msg, cause):
    raw = b"".join(b"w%d 0.5 1.5 2.5\n" % i for i in range(3000))
    p = tmp_path / name
    p.write_bytes(make(raw))
    with pytest.raises(FileFormatError, match=rf"{name}, byte \d+: {msg}") as e:
        fe.load(p)
    assert isinstance(e.value.__cause__, cause)


@pytest.mark.parametrize("header,msg", [
    (b'{"w": {"shape": [2, 2], "data_offsets": [0, 16]}}', r"tensor 'w' has no dtype"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]', r"invalid safetensors header"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16, 3]}}', r"data_offsets must be \[begin, end\]"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 999]}}', r"data_offsets must be \[begin, end\] "
                                                                            r"within the 16 bytes"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2.5], "data_offsets": [0, 16]}}', r"shape must be a list of non-negative"),
    (b'{"w": {"dtype": "F32", "shape": [2, -2], "data_offsets": [0, 16]}}', r"invalid safetensors header \(the "
                                                                           r"integer -2 has a sign"),
    (b'{"w": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]}}', r"shape \[3, 2\] of F32 needs 24 bytes but "
     r"data_offsets \[0, 16\] hold 16"),
    (b'{"w": {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 16]}}', r"has dtype I32; expected a float tensor"),
    (b'[1]', r"the safetensors header is not a JSON object"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [-0, 16]}}', r"invalid safetensors header \(the "
                                                                            r"integer -0 has a sign"),
    (b'{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}, "__metadata__": {"fastembed_keys": "[1"}}',
     r"__metadata__\['fastembed_keys'\] is not valid JSON"),
])
def test_safetensors_errors_name_the_file(tmp_path, header, msg):
    p = tmp_path / "m.safetensors"
    p.write_bytes(len(header).to_bytes(8, "little") + header + np.zeros(4, np.float32).tobytes())
    with pytest.raises(FileFormatError, match=r"m.safetensors(, byte \d+)?: (tensor 'w':? )?" + msg):
        fe.load(p, format="safetensors")
    p.write_bytes((10 ** 6).to_bytes(8, "little") + header)
    with pytest.raises(FileFormatError, match=r"m.safetensors, byte 0: the safetensors header claims 1000000 bytes"):
        fe.load(p, format="safetensors")


def test_every_load_error_is_a_file_format_error_with_path(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(b"a 1\nb\xff 2\n")
    with pytest.raises(FileFormatError) as e:
        fe.load(p)
    assert isinstance(e.value, ValueError) and e.value.path == str(p) and e.value.line == 2
    assert isinstance(e.value.__cause__, UnicodeDecodeError)
    assert pickle.loads(pickle.dumps(e.value)).args == e.value.args


@pytest.mark.parametrize("kw,err,msg", [
    ({"limit": 1.7}, TypeError, r"limit must be an int or None, got 1.7"),
    ({"limit": True}, TypeError, r"limit must be an int or None"),
    ({"limit": -1}, ValueError, r"limit must be non-negative, got -1"),
    ({"duplicates": "last"}, ValueError, r"duplicates must be 'error' or 'first'"),
    ({"n_threads": 0}, ValueError, r"n_threads=0"),
    ({"verify": "yes"}, TypeError, r"verify must be True, False or None"),
])
def test_load_arguments_validated(tmp_path, kw, err, msg):
    p = tmp_path / "x.txt"
    p.write_bytes(b"a 1\nb 2\n")
    with pytest.raises(err, match=msg):
        fe.load(p, **kw)


def test_load_honours_n_threads(tmp_path, monkeypatch):
    from fastembed.io import text as fio_text
    monkeypatch.setattr(fio_text, "CHUNK", 1 << 16)
    monkeypatch.setattr(fio_text, "GRAIN_PARSE_BYTES", 1 << 10)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3000, 7), dtype=np.float32)
    p = tmp_path / "v.txt"
    fe.save(EmbeddingTable(W, vocab=[f"k{i}" for i in range(3000)]), p, format="glove")
    for nt in (1, 2, 3):
        t = fe.load(p, n_threads=nt)
        np.testing.assert_array_equal(_bits(t.weights), _bits(W))


# ------------------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("fmt", ["word2vec", "glove", "word2vec-binary", "native", "safetensors"])
def test_nul_in_keys_round_trips(tmp_path, fmt):
    t = EmbeddingTable(np.array([[0.5, 1.0], [2.0, -3.0]], np.float32), vocab=["a\x00b", "\x00"])
    p = tmp_path / f"nul_{fmt}"
    fe.save(t, p, format=fmt)
    assert fio.detect_format(p) == fmt
    u = fe.load(p)
    assert u.vocab.keys == ["a\x00b", "\x00"] and np.array_equal(u.weights, t.weights)


@pytest.mark.parametrize("fmt,keys,msg", [
    ("glove", ["route 66", "cat"], r"key 'route 66' at row 0 cannot be written in format 'glove': it ends in a "
                                   r"number after a space"),
    ("glove", [" cat", "dog"], r"key ' cat' at row 0 cannot be written in format 'glove': it starts or ends with "
                               r"whitespace"),
    ("word2vec", ["a b", "c"], r"key 'a b' at row 0 cannot be written in format 'word2vec': it holds whitespace"),
    ("word2vec-binary", ["a", "b\tc"], r"key 'b\\tc' at row 1 cannot be written in format 'word2vec-binary'"),
    ("word2vec", ["a", ""], r"key '' at row 1 cannot be written in format 'word2vec': it is empty"),
    ("native", ["a", "b\nc"], r"key 'b\\nc' at row 1 cannot be written in format 'native': it holds a newline"),
    ("native", ["a", "a"], r"key 'a' at row 1 cannot be written in format 'native': it repeats the key of row 0"),
    ("glove", ["a", "b", "a"], r"key 'a' at row 2 cannot be written in format 'glove': it repeats the key of row 0"),
    ("safetensors", ["a", "a"], r"it repeats the key of row 0"),
    ("word2vec", ["a", "\ud800"], r"key '\\ud800' at row 1 cannot be written in format 'word2vec': it cannot be "
                                  r"encoded as UTF-8"),
])
def test_save_refuses_what_load_cannot_read_back(tmp_path, fmt, keys, msg):
    t = EmbeddingTable(np.zeros((len(keys), 2), np.float32), vocab=keys)
    p = tmp_path / "out"
    with pytest.raises(ValueError, match=msg):
        fe.save(t, p, format=fmt)
    assert not p.exists() and os.listdir(tmp_path) == []


def test_glove_phrase_keys_and_header_like_first_line_round_trip(tmp_path):
    t = EmbeddingTable(np.array([[0.5, 1], [2, 3], [4, 5]], np.float32), vocab=["new york", "route 66 east", "1990"])
    p = tmp_path / "g.txt"
    fe.save(t, p, format="glove")
    u = fe.load(p)
    assert u.vocab.keys == t.vocab.keys and np.array_equal(u.weights, t.weights)
    t = EmbeddingTable(np.array([[5], [1.5]], np.float32), vocab=["12", "cat"])  # "12 5" would be a header
    fe.save(t, p, format="glove")
    assert p.read_bytes().split(b"\n")[0] == b"12 5.0"
    assert fio.detect_format(p) == "glove"
    u = fe.load(p)
    assert u.vocab.keys == ["12", "cat"] and u.weights.ravel().tolist() == [5, 1.5]


@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0, 0)])
def test_empty_tables(tmp_path, shape):
    t = EmbeddingTable(np.zeros(shape, np.float32), vocab=[f"k{i}" for i in range(shape[0])])
    for fmt in ("word2vec", "word2vec-binary", "native", "safetensors"):
        p = tmp_path / f"e_{fmt}"
        fe.save(t, p, format=fmt)
        u = fe.load(p)
        assert u.weights.shape == shape and u.vocab.keys == t.vocab.keys, fmt
    with pytest.raises(ValueError, match=rf"a GloVe file cannot hold a {shape[0]} x {shape[1]} table: without a "
                                         r"header an empty file or lines of bare keys do not read back"):
        fe.save(t, tmp_path / "g.txt", format="glove")


def test_nan_sign_kept_and_payloads_refused_in_text(tmp_path):
    W = np.array([[np.nan, 1.0], [-np.nan, 2.0]], np.float32)
    W[0, 0] = np.array([0x7FC00000], np.uint32).view(np.float32)[0]
    W[1, 0] = np.array([0xFFC00000], np.uint32).view(np.float32)[0]
    t = EmbeddingTable(W, vocab=["a", "b"])
    for fmt in ("word2vec", "glove", "word2vec-binary", "native"):
        p = tmp_path / f"n_{fmt}"
        fe.save(t, p, format=fmt)
        np.testing.assert_array_equal(_bits(fe.load(p).weights), _bits(W))
    assert (tmp_path / "n_word2vec").read_bytes() == b"2 2\na nan 1\nb -nan 2\n"
    W2 = W.copy()
    W2[1, 1] = np.array([0x7FC00001], np.uint32).view(np.float32)[0]  # a payload text cannot spell
    t2 = EmbeddingTable(W2, vocab=["a", "b"])
    for fmt in ("word2vec", "glove"):
        with pytest.raises(ValueError, match=r"row 1 column 1 holds a NaN with payload bits 0x7fc00001; text can "
                                             r"only spell the canonical quiet NaNs"):
            fe.save(t2, tmp_path / f"p_{fmt}", format=fmt)
        assert not (tmp_path / f"p_{fmt}").exists()
    for fmt in ("word2vec-binary", "native", "safetensors"):  # binary formats keep every bit
        fe.save(t2, tmp_path / f"p_{fmt}", format=fmt)
        np.testing.assert_array_equal(_bits(fe.load(tmp_path / f"p_{fmt}").weights), _bits(W2))


# ------------------------------------------------------------------------------------------ foreign

def test_foreign_files_are_recognised(tmp_path):
    cases = []
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    cases.append(("a.npy", "npy", r"this is a NumPy .npy array, not an embedding file with keys: load it with "
                                  r"numpy.load\(path\)"))
    np.savez(tmp_path / "a.npz", x=np.zeros(2))
    cases.append(("a.npz", "npz", r"this is a zip archive \(a NumPy .npz file\?\)"))
    (tmp_path / "a.pkl").write_bytes(pickle.dumps({"x": 1}, protocol=4))
    cases.append(("a.pkl", "pickle", r"this is a Python pickle: fastembed never unpickles files"))
    # a fastText header (now read by fastembed.io.fasttext): recognised, and its zero dimension named
    (tmp_path / "m.bin").write_bytes((793712314).to_bytes(4, "little") + (12).to_bytes(4, "little") + b"\0" * 64)
    assert fio.detect_format(tmp_path / "m.bin") == "fasttext-bin"
    with pytest.raises(FileFormatError, match=r"m.bin, byte 8: the header's dimension 0 is not in"):
        fe.load(tmp_path / "m.bin")
    (tmp_path / "v.txt").write_bytes(gzip.compress(b"a 1 2\n"))
    cases.append(("v.txt", "gzip", r"this file is gzip-compressed but its name does not end in .gz"))
    (tmp_path / "v2.txt").write_bytes(bz2.compress(b"a 1 2\n"))
    cases.append(("v2.txt", "bz2", r"this file is bz2-compressed but its name does not end in .bz2"))
    (tmp_path / "x.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    cases.append(("x.h5", "hdf5", r"this is an HDF5 file"))
    (tmp_path / "a.npy.gz").write_bytes(gzip.compress((tmp_path / "a.npy").read_bytes()))
    cases.append(("a.npy.gz", "npy", r"this is a NumPy .npy array"))
    for name, kind, msg in cases:
        assert fio.detect_format(tmp_path / name) == kind, name
        with pytest.raises(FileFormatError, match=rf"{name}: {msg}"):
            fe.load(tmp_path / name)


def test_gensim_files_are_recognised(tmp_path):
    gensim = pytest.importorskip("gensim")
    from gensim.models import KeyedVectors, Word2Vec
    kv = KeyedVectors(3)
    kv.add_vectors(["a", "b"], np.ones((2, 3), np.float32))
    kv.save(str(tmp_path / "v.kv"))
    assert fio.detect_format(tmp_path / "v.kv") == "pickle"
    with pytest.raises(FileFormatError, match=r"v.kv: this is a gensim KeyedVectors pickle \(a .kv / .model file\): "
                                              r"fastembed never unpickles files; load it with gensim "
                                              r"\(KeyedVectors.load\(path\)\) and pass it to "
                                              r"fastembed.interop.from_gensim"):
        fe.load(tmp_path / "v.kv")
    m = Word2Vec([["a", "b", "c"]] * 5, vector_size=4, min_count=1, epochs=1, workers=1)
    m.save(str(tmp_path / "w.model"))
    with pytest.raises(FileFormatError, match=r"w.model: this is a gensim Word2Vec model pickle"):
        fe.load(tmp_path / "w.model")
    assert gensim is not None
