"""spaCy interop (issue 27): from_spacy / to_spacy and spaCy's vectors directory as a fastembed.io
format, equal to spaCy's own lookups; no model download (tables are built here)."""
import json
import os
import warnings

import numpy as np
import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed")
from spacy.strings import StringStore  # noqa: E402
from spacy.vectors import Vectors  # noqa: E402
from spacy.vocab import Vocab  # noqa: E402

import fastembed as fe  # noqa: E402
from fastembed import EmbeddingTable, spacy as fes  # noqa: E402
from fastembed.io import FileFormatError, detect_format  # noqa: E402

# "number", "mark" and "det" are spaCy symbols (keys are symbol ids, not hashes); "Cat" shares a row
WORDS = ["cat", "dog", "number", "mark", "det", "naïve", "日本", "a b", "x" * 40]


def _vectors(rng, words=WORDS, D=7, aliases=True, unset=True):
    """A Vocab's Vectors: a row per word, "Cat" sharing "cat"'s row, and an unset last row."""
    vocab = Vocab()
    n = len(words) + (1 if unset else 0)
    vocab.vectors = Vectors(strings=vocab.strings, shape=(n, D))
    for i, w in enumerate(words):
        vocab.set_vector(w, rng.standard_normal(D).astype(np.float32))
    if aliases:
        vocab.vectors.add("Cat", row=vocab.vectors.key2row[vocab.strings["cat"]])
        vocab.strings.add("Cat")
    return vocab


def _assert_equals_spacy(table, vectors, words):
    for w in words:
        np.testing.assert_array_equal(table[w], vectors[w] if isinstance(vectors, Vectors) else vectors[w])


def test_from_spacy_vocab_vectors_and_nlp(rng):
    vocab = _vectors(rng)
    v = vocab.vectors
    for obj in (vocab, v):
        t = fes.from_spacy(obj)
        assert len(t) == len(WORDS) + 1 and t.dim == 7  # "Cat" gets its own copy of the row
        _assert_equals_spacy(t, v, WORDS + ["Cat"])
        assert set(t.vocab.keys[:2]) == {"cat", "Cat"}  # rows in spaCy's order, sharers together
    assert vocab.strings["number"] < 1000 and vocab.strings["number"] in v.key2row  # a symbol id, named
    nlp = spacy.blank("en")
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=np.array(v.data), keys=[])
    for w in WORDS:
        nlp.vocab.set_vector(w, v[w])
    t = fes.from_spacy(nlp)
    _assert_equals_spacy(t, nlp.vocab.vectors, WORDS)
    assert t["cat"].tolist() == nlp("cat")[0].vector.tolist()


def test_from_spacy_shares_or_copies(rng):
    data = rng.standard_normal((4, 3)).astype(np.float32)
    store = StringStore(["a", "b", "c", "d"])
    v = Vectors(strings=store, data=data, keys=["a", "b", "c", "d"])
    shared = fes.from_spacy(v, copy=False)
    assert np.shares_memory(shared.weights, v.data) and shared.vocab.keys == ["a", "b", "c", "d"]
    assert not np.shares_memory(fes.from_spacy(v).weights, v.data)


def test_keys_without_strings(rng):
    """A Vectors built with keys= hashes them without storing the strings: spaCy cannot name
    them either, so they are left out with a warning, unless strings= names them."""
    data = rng.standard_normal((3, 2)).astype(np.float32)
    v = Vectors(data=data, keys=["p", "q", "r"])
    with pytest.warns(UserWarning, match="3 keys have no string .*spaCy cannot name them either"):
        t = fes.from_spacy(v)
    assert len(t) == 0
    t = fes.from_spacy(v, strings=["q", "p", "r", "unused"])
    assert t.vocab.keys == ["p", "q", "r"]
    _assert_equals_spacy(t, v, ["p", "q", "r"])


def test_to_spacy_round_trip(rng):
    W = rng.standard_normal((len(WORDS), 5)).astype(np.float32)
    t = EmbeddingTable(W, vocab=WORDS)
    v = fes.to_spacy(t)
    assert isinstance(v, Vectors) and v.shape == (len(WORDS), 5)
    _assert_equals_spacy(t, v, WORDS)
    back = fes.from_spacy(v)
    assert back.vocab.keys == WORDS
    np.testing.assert_array_equal(back.weights, W)
    nlp = spacy.blank("en")
    nlp.vocab.vectors = fes.to_spacy(t, strings=nlp.vocab.strings)
    assert nlp("dog")[0].vector.tolist() == W[1].tolist()
    half = EmbeddingTable(W, vocab=WORDS, dtype="bfloat16")
    np.testing.assert_array_equal(fes.to_spacy(half).data, half[:])
    with pytest.raises(ValueError, match="the table has no vocabulary: spaCy vectors are looked up by key"):
        fes.to_spacy(EmbeddingTable(W))


def test_from_spacy_errors(rng):
    with pytest.raises(TypeError, match="expected a spaCy Language, Vocab or Vectors, got list"):
        fes.from_spacy([1, 2])
    floret = Vectors(mode="floret", data=np.zeros((10, 2), np.float32), hash_count=1, minn=1, maxn=2)
    with pytest.raises(ValueError, match="'floret' mode are built from hashed character n-grams"):
        fes.from_spacy(floret)


# ------------------------------------------------------------------ the directory format

@pytest.mark.parametrize("mmap", [False, True])
def test_load_a_spacy_vectors_directory(tmp_path, rng, mmap):
    vocab = _vectors(rng)
    v = vocab.vectors
    v.to_disk(tmp_path / "vec")
    assert detect_format(tmp_path / "vec") == "spacy"
    t = fe.load(tmp_path / "vec", mmap=mmap)
    _assert_equals_spacy(t, v, WORDS + ["Cat"])
    assert len(t) == len(WORDS) + 1  # the unset row is left out; "Cat" repeats "cat"'s row
    # spaCy's own reader agrees
    v2 = Vectors(strings=StringStore()).from_disk(tmp_path / "vec")
    _assert_equals_spacy(t, v2, WORDS + ["Cat"])
    assert len(fe.load(tmp_path / "vec", limit=3)) == 3


def test_one_key_a_row_is_mapped_not_copied(tmp_path, rng):
    data = rng.standard_normal((5, 4)).astype(np.float32)
    keys = ["e", "d", "c", "b", "a"]
    Vectors(strings=StringStore(keys), data=data, keys=keys).to_disk(tmp_path / "v")
    t = fe.load(tmp_path / "v", mmap=True)
    assert t.memory_usage()["table_memmap"]
    assert t.vocab.keys == keys and not t.writeable
    np.testing.assert_array_equal(t.weights, data)


def test_load_a_pipeline_directory(tmp_path, rng):
    nlp = spacy.blank("en")
    for w in WORDS:
        nlp.vocab.set_vector(w, rng.standard_normal(6).astype(np.float32))
    nlp.to_disk(tmp_path / "pipe")
    assert detect_format(tmp_path / "pipe") == "spacy"
    t = fe.load(tmp_path / "pipe")
    nlp2 = spacy.load(tmp_path / "pipe")
    _assert_equals_spacy(t, nlp2.vocab.vectors, WORDS)


def test_legacy_keys_file(tmp_path, rng):
    """spaCy v2 directories list the key of each row in a 'keys' .npy instead of key2row."""
    data = rng.standard_normal((3, 2)).astype(np.float32)
    words = ["u", "number", "w"]
    store = StringStore(words)
    d = tmp_path / "v2"
    d.mkdir()
    np.save(d / "vectors", data)
    os.rename(d / "vectors.npy", d / "vectors")
    np.save(d / "keys", np.array([store[w] for w in words], np.uint64))
    os.rename(d / "keys.npy", d / "keys")
    store.to_disk(d / "strings.json")
    t = fe.load(d)
    assert t.vocab.keys == words
    np.testing.assert_array_equal(t.weights, data)
    spacy_v = Vectors(strings=StringStore()).from_disk(d)
    _assert_equals_spacy(t, spacy_v, words)


def test_save_spacy_round_trips(tmp_path, rng):
    W = rng.standard_normal((len(WORDS), 3)).astype(np.float32)
    t = EmbeddingTable(W, vocab=WORDS)
    assert "spacy" in fe.io.SAVE_FORMATS and "spacy" in fe.io.FORMATS
    fe.save(t, tmp_path / "out", format="spacy")
    assert sorted(os.listdir(tmp_path / "out")) == ["key2row", "strings.json", "vectors", "vectors.cfg"]
    v = Vectors(strings=StringStore()).from_disk(tmp_path / "out")
    _assert_equals_spacy(t, v, WORDS)
    back = fe.load(tmp_path / "out")
    assert back.vocab.keys == WORDS
    np.testing.assert_array_equal(back.weights, W)
    fe.save(t, tmp_path / "out", format="spacy")  # replaces its own directory
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="refusing to replace a directory holding files that are not part "
                                              "of a spaCy vectors directory \\('notes.txt'\\)"):
        fe.save(t, tmp_path / "mine", format="spacy")


def test_bad_directories(tmp_path, rng):
    data = rng.standard_normal((3, 2)).astype(np.float32)
    v = Vectors(strings=StringStore(["a", "b", "c"]), data=data, keys=["a", "b", "c"])
    d = tmp_path / "v"
    v.to_disk(d)
    (d / "vectors.cfg").write_text(json.dumps({"mode": "floret"}))
    with pytest.raises(FileFormatError, match=r"vectors.cfg: mode 'floret': only spaCy's default mode"):
        fe.load(d)
    (d / "vectors.cfg").write_text("{oops")
    with pytest.raises(FileFormatError, match=r"vectors.cfg: is not valid JSON"):
        fe.load(d)
    (d / "vectors.cfg").write_text(json.dumps({"mode": "default"}))
    import srsly
    srsly.write_msgpack(d / "key2row", {StringStore(["a"])["a"]: 7})
    with pytest.raises(FileFormatError, match=r"key2row: key \d+ maps to row 7, outside the 3 rows of the vectors"):
        fe.load(d)
    (d / "key2row").write_bytes(b"\xc1garbage")
    with pytest.raises(FileFormatError, match=r"key2row: is not a msgpack map of keys to rows"):
        fe.load(d)
    srsly.write_msgpack(d / "key2row", [1, 2])
    with pytest.raises(FileFormatError, match=r"key2row: expected a msgpack map, got list"):
        fe.load(d)
    srsly.write_msgpack(d / "key2row", {"a": 0})
    with pytest.raises(FileFormatError, match=r"key2row: expected integer keys \(string hashes\), got 'a'"):
        fe.load(d)
    (d / "vectors").write_bytes(b"not npy")
    with pytest.raises(FileFormatError, match=r"vectors: is not a .npy matrix"):
        fe.load(d)
    np.save(d / "v1", np.zeros(3, np.float32))
    os.replace(d / "v1.npy", d / "vectors")
    with pytest.raises(FileFormatError, match=r"vectors: expected a 2-D float matrix, got shape \(3,\)"):
        fe.load(d)
    with pytest.raises(FileFormatError, match=r"is a directory; of the formats only \('spacy', 'native'\) are"):
        fe.load(d, format="word2vec")


def test_unnamed_keys_in_a_directory_warn(tmp_path, rng):
    data = rng.standard_normal((2, 2)).astype(np.float32)
    Vectors(data=data, keys=["p", "q"]).to_disk(tmp_path / "v")  # strings not stored
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = fe.load(tmp_path / "v")
    assert len(t) == 0 and "2 keys have no string" in str(w[0].message)
