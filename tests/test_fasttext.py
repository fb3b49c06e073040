"""fastText .bin models: the hash, the n-grams, the mean vectors (against fastembed.reference), the
reader on crafted, hostile and truncated files, and gensim's shipped models against gensim's
``load_facebook_vectors`` and fastText's own ``.vec`` output.

Tolerances: the word and unknown-word vectors are compared with gensim *bit for bit*
(``assert_array_equal``): both add the rows in the same order in float32 (the word row, then the
n-gram rows in fastText's n-gram order) and divide once by the row count, so the same IEEE
operations give the same bits. fastText's ``.vec`` files print 5 significant digits, so there the
bound is half a unit in the 5th significant digit of each printed value.
"""
import bz2
import gzip
import math
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed as fe
import fastembed.io as fio
from fastembed import reference as ref
from fastembed._kernels import _fasttext
from fastembed.io import FastTextVectors, FileFormatError, load_fasttext
from fastembed.io.fasttext import MAGIC, MAX_WORD_BYTES

# ------------------------------------------------------------------------------------------ helpers


def ft_bytes(*, version=12, dim=3, bucket=7, minn=2, maxn=3, model=2, loss=2, words=(b"cat", b"dog", b"</s>"),
             counts=None, labels=(), W=None, pruned=-1, pairs=b"", quant=0, qout=0, out_rows=None, extra=b"",
             seed=0, types=None):
    """A fastText .bin file as fastText writes it (version None: the pre-2017 layout), and its input
    matrix."""
    b = b""
    if version is not None:
        b += struct.pack("<2i", MAGIC, version)
    b += struct.pack("<12id", dim, 5, 5, 1, 5, 1, loss, model, bucket, minn, maxn, 100, 1e-4)
    nw, nl = len(words), len(labels)
    b += struct.pack("<3iq", nw + nl, nw, nl, 1000)
    if version is not None:
        b += struct.pack("<q", pruned)
    counts = list(counts) if counts is not None else [100 - i for i in range(nw + nl)]
    types = types if types is not None else [0] * nw + [1] * nl
    for w, c, t in zip(list(words) + list(labels), counts, types):
        b += w + b"\0" + struct.pack("<qb", c, t)
    b += pairs
    if version is not None:
        b += bytes([quant])
    if W is None:
        W = np.random.default_rng(seed).standard_normal((nw + bucket, dim)).astype(np.float32)
    b += struct.pack("<2q", *W.shape) + W.astype("<f4").tobytes()
    if version is not None:
        b += bytes([qout])
    O = np.zeros((out_rows if out_rows is not None else (nl or nw), dim), "<f4")
    b += struct.pack("<2q", *O.shape) + O.tobytes()
    return b + extra, W


def write(tmp_path, data, name="m.bin"):
    p = tmp_path / name
    if name.endswith(".gz"):
        data = gzip.compress(data)
    elif name.endswith(".bz2"):
        data = bz2.compress(data)
    p.write_bytes(data)
    return p


def expected_vectors(W, words, nwords, minn, maxn, skip_eos):
    """fastText's word vectors of the crafted model, from the reference."""
    return ref.fasttext_vectors(W[:nwords], None, W[nwords:], words, minn, maxn, skip_eos)


def blob_of(words):
    enc = [w if isinstance(w, bytes) else w.encode() for w in words]
    offsets = np.zeros(len(enc) + 1, np.int64)
    np.cumsum([len(e) for e in enc], out=offsets[1:])
    return np.frombuffer(b"".join(enc), np.uint8), offsets


WORDS = [b"cat", b"where", "caf\u00e9".encode(), "\u65e5\u672c\u8a9e".encode(), b"", b"a", b"</s>",
         b"\x80\xbf\xc3", "n\u00e1dra\u017e\u00ed".encode("cp852"), b"x" * 40, b"<>", b"\xff\xfe"]


# ------------------------------------------------------------------------------------------ hash and n-grams

def test_hash_signed_char_quirk():
    assert ref.fasttext_hash(b"") == 2166136261
    # a byte >= 0x80 is xor-ed sign-extended (fastText reads it as int8_t)
    assert ref.fasttext_hash(b"\xe9") == ((2166136261 ^ 0xFFFFFFE9) * 16777619) % 2 ** 32
    assert ref.fasttext_hash(b"\xe9") != ((2166136261 ^ 0xE9) * 16777619) % 2 ** 32
    for w in WORDS:
        assert _fasttext.hash_bytes(np.frombuffer(w, np.uint8)) == ref.fasttext_hash(w)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_hypothesis_hash(data):
    assert _fasttext.hash_bytes(np.frombuffer(data, np.uint8)) == ref.fasttext_hash(data)


def test_ngrams_of_a_word():
    # the example of Bojanowski et al. (2017): "where", n = 3
    assert ref.fasttext_ngrams(b"where", 3, 3) == [b"<wh", b"whe", b"her", b"ere", b"re>"]
    # characters are UTF-8 sequences; the 1-grams "<" and ">" are left out
    assert ref.fasttext_ngrams("\u00e9t".encode(), 1, 2) == [b"<\xc3\xa9", b"\xc3\xa9", b"\xc3\xa9t", b"t",
                                                             b"t>"]
    assert ref.fasttext_ngrams(b"ab", 5, 3) == []
    assert ref.fasttext_ngram_ids(b"</s>", 1, 3, 10) == []
    assert len(ref.fasttext_ngram_ids(b"</s>", 1, 3, 10, skip_eos=False)) > 0


@pytest.mark.parametrize("minn,maxn", [(3, 6), (1, 1), (0, 3), (2, 4), (5, 3), (0, 0), (1, 100)])
@pytest.mark.parametrize("bucket", [1, 7, 2_000_000, 2 ** 31 - 1])
def test_ngram_ids_match_reference(minn, maxn, bucket):
    blob, offsets = blob_of(WORDS)
    for skip_eos in (True, False):
        ids, bounds = _fasttext.ngram_ids(blob, offsets, minn, maxn, bucket, skip_eos)
        assert bounds[0] == 0 and bounds[-1] == len(ids)
        for i, w in enumerate(WORDS):
            assert ids[bounds[i]:bounds[i + 1]].tolist() == ref.fasttext_ngram_ids(w, minn, maxn, bucket, skip_eos)


def test_ngram_ids_edge_cases():
    ids, bounds = _fasttext.ngram_ids(np.zeros(0, np.uint8), np.zeros(1, np.int64), 1, 3, 10, True)
    assert ids.shape == (0,) and bounds.tolist() == [0]
    blob, offsets = blob_of([b"abc"])
    ids, bounds = _fasttext.ngram_ids(blob, offsets, 1, 3, 0, True)  # bucket 0: no n-grams
    assert ids.shape == (0,) and bounds.tolist() == [0, 0]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=12), max_size=6), st.integers(0, 4), st.integers(0, 6), st.integers(1, 50))
def test_hypothesis_ngram_ids(words, minn, maxn, bucket):
    blob, offsets = blob_of(words)
    ids, bounds = _fasttext.ngram_ids(blob, offsets, minn, maxn, bucket, True)
    for i, w in enumerate(words):
        assert ids[bounds[i]:bounds[i + 1]].tolist() == ref.fasttext_ngram_ids(w, minn, maxn, bucket)


# ------------------------------------------------------------------------------------------ mean vectors

@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("D", [1, 5, 33])
def test_mean_vectors_match_reference_bit_for_bit(rng, n_threads, D, simd_level):
    words = WORDS * 3
    bucket = 11
    Wv = rng.standard_normal((len(words) + 2, D)).astype(np.float32)
    G = rng.standard_normal((bucket, D)).astype(np.float32)
    blob, offsets = blob_of(words)
    rows = rng.integers(-1, len(Wv), len(words)).astype(np.int64)
    for words_m, r in ((Wv, None), (Wv, rows), (None, None)):
        for skip_eos in (True, False):
            out = np.full((len(words), D), np.nan, np.float32)
            _fasttext.mean_vectors(words_m, r, G, blob, offsets, 2, 4, skip_eos, out, n_threads)
            want = ref.fasttext_vectors(words_m, r, G, words, 2, 4, skip_eos)
            np.testing.assert_array_equal(out, want)


def test_mean_vectors_edge_cases(tmp_path, rng):
    from conftest import make_memmap
    G = rng.standard_normal((5, 4)).astype(np.float32)
    Wv = rng.standard_normal((2, 4)).astype(np.float32)
    blob, offsets = blob_of([b"ab", b""])
    # read-only and memory-mapped inputs are read, never written
    Gm, Wm = make_memmap(tmp_path, G, "g.f32"), make_memmap(tmp_path, Wv, "w.f32")
    out = np.empty((2, 4), np.float32)
    _fasttext.mean_vectors(Wm, None, Gm, blob, offsets, 1, 3, True, out, 2)
    np.testing.assert_array_equal(out, ref.fasttext_vectors(Wv, None, G, [b"ab", b""], 1, 3))
    # no word row and no n-gram: zeros (fastText returns the origin)
    _fasttext.mean_vectors(None, None, G, blob, offsets, 5, 6, True, out, 1)
    assert not out.any()
    # no n-gram rows at all (bucket 0): the word rows themselves
    _fasttext.mean_vectors(Wv, None, np.zeros((0, 4), np.float32), blob, offsets, 1, 3, True, out, 1)
    np.testing.assert_array_equal(out, Wv)
    # no words
    _fasttext.mean_vectors(Wv, None, G, np.zeros(0, np.uint8), np.zeros(1, np.int64), 1, 3, True,
                           np.empty((0, 4), np.float32), 1)


# ------------------------------------------------------------------------------------------ crafted models

@pytest.mark.parametrize("version", [12, 11, None])
@pytest.mark.parametrize("name", ["m.bin", "m.bin.gz", "m.bin.bz2"])
def test_crafted_model(tmp_path, version, name):
    words = [b"cat", b"dog", b"</s>", "caf\u00e9".encode()]
    data, W = ft_bytes(version=version, words=words, counts=[9, 7, 5, 2])
    p = write(tmp_path, data, name)
    assert fio.detect_format(p) == "fasttext-bin"
    skip_eos = version == 12  # "</s>" has no n-grams in version 12 files, its n-grams before
    want = expected_vectors(W, words, len(words), 2, 3, skip_eos)
    t = fe.load(p)
    assert t.vocab.keys == ["cat", "dog", "</s>", "caf\u00e9"]
    assert t.vocab.counts.tolist() == [9, 7, 5, 2]
    np.testing.assert_array_equal(t.weights, want)
    m = load_fasttext(p)
    np.testing.assert_array_equal(m.table.weights, want)
    np.testing.assert_array_equal(m.ngrams, W[len(words):])
    assert (m.minn, m.maxn, m.bucket, m.args.version, m.args.nwords) == (2, 3, 7, version, 4)
    r = ref.load_fasttext_bin(p)
    assert r["words"] == t.vocab.keys and r["version"] == version
    np.testing.assert_array_equal(r["input"], W)
    if version != 12:
        assert not np.array_equal(want[2], W[2])  # "</s>" averaged with its n-grams
    else:
        np.testing.assert_array_equal(want[2], W[2])


def test_unknown_words_and_the_model_api(tmp_path):
    words = [b"cat", b"dog", b"cats", b"</s>"]
    data, W = ft_bytes(words=words, bucket=13, minn=1, maxn=4)
    m = load_fasttext(write(tmp_path, data))
    assert len(m) == 4 and m.dim == 3 and m.subwords
    assert "FastTextVectors(4 words x 3, 13 n-gram buckets, n-grams of 1..4 characters)" == repr(m)
    G = W[4:]
    queries = ["catz", "d", "", "</s>", "cat", "\u00e9t\u00e9"]
    got = m.vectors(queries)
    for q, v in zip(queries, got):
        if q in m.table:
            np.testing.assert_array_equal(v, m.table[q])
        else:
            np.testing.assert_array_equal(v, ref.fasttext_vectors(None, None, G, [q.encode()], 1, 4)[0])
        np.testing.assert_array_equal(m.get_vector(q), v)
        np.testing.assert_array_equal(m[q], v)
    assert not m.get_vector("</s>").any() or "</s>" in m.table  # version 12: no n-grams for "</s>"
    assert m.vectors([]).shape == (0, 3)
    n = m.get_vector("catz", norm=True)
    assert abs(np.linalg.norm(n) - 1) < 1e-6
    assert m.ngram_ids("catz").tolist() == ref.fasttext_ngram_ids(b"catz", 1, 4, 13)
    assert "anything" in m and "cat" in m and 3 not in m
    # searches: an unknown word queries with its n-gram vector, a known one with its row
    v = m.get_vector("catz")
    mine, direct = m.most_similar("catz", topn=3), m.table.words.most_similar(v, topn=3)
    assert [k for k, _ in mine] == [k for k, _ in direct]  # scores: the query is unit-normalised first
    np.testing.assert_allclose([s for _, s in mine], [s for _, s in direct], rtol=1e-6)
    assert m.most_similar("cat", topn=2) == m.table.words.most_similar("cat", topn=2)
    assert [k for k, _ in m.most_similar(positive=["cat", "catz"], topn=2)] == \
        [k for k, _ in m.table.words.most_similar(positive=["cat", m.get_vector("catz", norm=True)], topn=2)]
    assert m.most_similar("catz", topn=0) == []
    assert math.isclose(m.similarity("catz", "cat"),
                        float(v @ m.table["cat"] / np.linalg.norm(v) / np.linalg.norm(m.table["cat"])), rel_tol=1e-6)
    with pytest.raises(TypeError, match="words must be a list of str"):
        m.vectors("cat")
    with pytest.raises(TypeError, match="word must be a str, got int"):
        m.get_vector(3)
    for n_threads in (1, 2, 3):
        np.testing.assert_array_equal(m.vectors(queries * 50, n_threads=n_threads), np.tile(got, (50, 1)))


def test_model_without_subwords(tmp_path):
    # a supervised model: labels in the dictionary (no rows), bucket 0, no character n-grams
    data, W = ft_bytes(words=[b"good", b"bad"], labels=[b"__label__pos", b"__label__neg"], bucket=0, minn=0,
                       maxn=0, model=3, loss=3)
    p = write(tmp_path, data)
    t = fe.load(p)
    assert t.vocab.keys == ["good", "bad"] and t.vocab.counts.tolist() == [100, 99]
    np.testing.assert_array_equal(t.weights, W)
    m = load_fasttext(p)
    assert not m.subwords and "good" in m and "unknown" not in m and m.bucket == 0
    with pytest.raises(KeyError, match=r"not in the vocabulary \(and the model has no subword n-grams\): 'nope'"):
        m.get_vector("nope")
    # version 11 supervised models use no character n-grams, whatever the header says (fastText's rule)
    data, W = ft_bytes(version=11, words=[b"good", b"bad"], labels=[b"__label__x"], bucket=4, minn=2, maxn=3,
                       model=3)
    m = load_fasttext(write(tmp_path, data, "v11.bin"))
    assert m.maxn == 0 and not m.subwords
    np.testing.assert_array_equal(m.table.weights, W[:2])
    # 0 buckets: no n-grams whatever minn and maxn say (gensim writes such files for bucket=0 models)
    data, W = ft_bytes(words=[b"ab", b"cd"], bucket=0, minn=3, maxn=6)
    m = load_fasttext(write(tmp_path, data, "b0.bin"))
    assert not m.subwords and m.args.maxn == 6
    np.testing.assert_array_equal(m.table.weights, W)


def test_limit_duplicates_and_encodings(tmp_path):
    words = [b"a1", b"b2", b"a1", b"c3"]
    data, W = ft_bytes(words=words)
    p = write(tmp_path, data)
    at = data.index(b"a1\0", data.index(b"b2\0"))  # the byte where the third entry starts
    with pytest.raises(FileFormatError, match=rf"m.bin, byte {at}: duplicate key 'a1' \(first seen as vector 1\)"):
        fe.load(p)
    t = fe.load(p, duplicates="first")
    assert t.vocab.keys == ["a1", "b2", "c3"] and t.vocab.counts.tolist() == [100, 99, 97]
    np.testing.assert_array_equal(t.weights, expected_vectors(W, words, 4, 2, 3, True)[[0, 1, 3]])
    t2 = fe.load(p, limit=2)
    assert t2.vocab.keys == ["a1", "b2"]
    np.testing.assert_array_equal(t2.weights, t.weights[:2])
    m = load_fasttext(p, limit=1)
    assert len(m) == 1 and m.bucket == 7
    np.testing.assert_array_equal(m.get_vector("zz"), ref.fasttext_vectors(None, None, W[4:], [b"zz"], 2, 3)[0])
    assert len(fe.load(p, limit=0)) == 0
    # cp852 bytes: decoded with the encoding given, unknown words hashed in it as well
    words = ["n\u00e1dra\u017e\u00ed".encode("cp852"), b"x"]
    data, W = ft_bytes(words=words)
    p = write(tmp_path, data, "cp.bin")
    with pytest.raises(FileFormatError, match=rf"cp.bin, byte {data.index(words[0])}: key is not valid utf-8"):
        fe.load(p)
    m = load_fasttext(p, encoding="cp852")
    assert m.table.vocab.keys == ["n\u00e1dra\u017e\u00ed", "x"]
    np.testing.assert_array_equal(m.table.weights, expected_vectors(W, words, 2, 2, 3, True))
    q = "\u017eab\u00ed"
    np.testing.assert_array_equal(m.get_vector(q), ref.fasttext_vectors(None, None, W[2:], [q.encode("cp852")],
                                                                         2, 3)[0])
    with pytest.raises(ValueError, match=r"word '\u65e5' cannot be encoded in cp852 \(the model's encoding\)"):
        m.get_vector("\u65e5")


def test_load_and_save_entry_points(tmp_path):
    data, _ = ft_bytes()
    p = write(tmp_path, data)
    assert "fasttext-bin" in fio.FORMATS and "fasttext-bin" in fio.SAVE_FORMATS
    np.testing.assert_array_equal(fe.load(p, format="fasttext-bin").weights, fe.load(p).weights)
    fe.save(fe.load(p), tmp_path / "o.bin", format="fasttext-bin")  # the full vectors, without n-grams
    np.testing.assert_array_equal(fe.load(tmp_path / "o.bin").weights, fe.load(p).weights)
    w2v = tmp_path / "v.txt"
    w2v.write_text("1 2\ncat 1 2\n")
    with pytest.raises(FileFormatError, match=r"v.txt, byte 0: not a fastText .bin model: expected the magic number "
                                              r"793712314 \(bytes ba 16 4f 2f\) or a pre-2017 fastText header"):
        fe.load(w2v, format="fasttext-bin")
    with pytest.raises(FileFormatError, match=r"not a fastText .bin model"):
        load_fasttext(w2v)
    with pytest.raises(FileFormatError, match=r"is a directory, not a fastText .bin model"):
        load_fasttext(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_fasttext(tmp_path / "nope.bin")
    assert fio.detect_format(w2v) == "word2vec"


def test_fasttext_vectors_constructor_checks():
    t = fe.EmbeddingTable(np.ones((2, 3), np.float32), vocab=["a", "b"])
    m = FastTextVectors(t, np.zeros((4, 3), np.float32), minn=1, maxn=2)
    assert m.subwords and m.args is None
    with pytest.raises(ValueError, match="ngrams has 2 columns; the table has dim 3"):
        FastTextVectors(t, np.zeros((4, 2), np.float32), minn=1, maxn=2)
    with pytest.raises(ValueError, match="minn must be at least 0, got -1"):
        FastTextVectors(t, np.zeros((4, 3), np.float32), minn=-1, maxn=2)
    with pytest.raises(TypeError, match="this table has no vocabulary"):
        FastTextVectors(fe.EmbeddingTable(np.ones((2, 3), np.float32)), np.zeros((4, 3), np.float32), minn=1, maxn=2)
    with pytest.raises(TypeError, match="table must be an EmbeddingTable, got list"):
        FastTextVectors([], np.zeros((4, 3), np.float32), minn=1, maxn=2)


# ------------------------------------------------------------------------------------------ hostile files

def _hostile_cases():
    """(name, bytes, message regex) for malformed headers and sections."""
    good, W = ft_bytes()
    head = struct.pack("<2i", MAGIC, 12)

    def args(dim=3, bucket=7, minn=2, maxn=3):
        return struct.pack("<12id", dim, 5, 5, 1, 5, 1, 2, 2, bucket, minn, maxn, 100, 1e-4)

    dict_at = 8 + 56
    cases = [
        ("version", struct.pack("<2i", MAGIC, 13) + good[8:], r"byte 4: fastText file format version 13: this "
                                                              r"reader knows versions 11 and 12"),
        ("dim0", head + args(dim=0) + good[dict_at:], r"byte 8: the header's dimension 0 is not in \[1, 16777216\]"),
        ("dimhuge", head + args(dim=2 ** 31 - 1) + good[dict_at:], r"the header's dimension 2147483647 is not in"),
        ("bucketneg", head + args(bucket=-5) + good[dict_at:], r"byte 40: the header's bucket count -5 is negative"),
        ("maxnneg", head + args(maxn=-1) + good[dict_at:], r"the header's n-gram lengths minn=2, maxn=-1 must not "
                                                           r"be negative"),
        ("dictsizes", head + args() + struct.pack("<3iq", 5, 3, 0, 10) + good[dict_at + 20:],
         r"byte 64: expected a dictionary header with entries = words \+ labels, all non-negative; got 5 entries, "
         r"3 words, 0 labels"),
        ("dicthuge", head + args() + struct.pack("<3iqq", 2 ** 31 - 1, 2 ** 31 - 1, 0, 10, -1) + good[dict_at + 28:],
         r"the dictionary header says 2147483647 entries \(at least 11 bytes each\) but only \d+ bytes follow "
         r"\(truncated, or not a fastText model\)"),
        ("type", ft_bytes(types=[0, 1, 0])[0], r"dictionary entry 2 \('dog'\) has type 1; expected 0 \(a word\): the "
                                               r"dictionary holds 3 words, then the labels"),
        ("labeltype", ft_bytes(labels=[b"__label__a"], types=[0, 0, 0, 0])[0],
         r"dictionary entry 4 \('__label__a'\) has type 0; expected 1 \(a label\)"),
        ("empty", ft_bytes(words=[b"a", b"", b"c"])[0], r"dictionary entry 2 is an empty word"),
        ("negcount", ft_bytes(counts=[5, -2, 1])[0], r"dictionary entry 2 \('dog'\) has a negative count -2"),
        ("longword", ft_bytes(words=[b"a", b"x" * (MAX_WORD_BYTES + 1), b"c"])[0],
         r"dictionary entry 2: no NUL ends the word within 65536 bytes \(not a fastText dictionary\)"),
        ("quantised", ft_bytes(quant=1)[0], r"this is a quantised fastText model \(.ftz, made by `fasttext "
                                            r"quantize`\): fastembed reads only full .bin models"),
        ("quantflag", ft_bytes(quant=7)[0], r"expected the quantisation flag 0 or 1, got 7"),
        ("pruned", ft_bytes(pruned=1, pairs=struct.pack("<2i", 3, 0))[0],
         r"the dictionary has a pruned n-gram index but the matrix is not quantised"),
        ("prunedhuge", ft_bytes(pruned=2 ** 60)[0], r"the pruned n-gram index has 1152921504606846976 pairs"),
        ("shape", ft_bytes(W=np.zeros((9, 3), np.float32))[0], r"the input matrix is 9 x 3; expected 10 x 3 "
                                                               r"\(3 words \+ 7 buckets, dim 3\)"),
        ("qout", ft_bytes(qout=2)[0], r"expected the output quantisation flag 0 or 1, got 2"),
        ("outshape", good[:-4 * 9 - 16] + struct.pack("<2q", 3, 4) + good[-4 * 9:],
         r"the output matrix is 3 x 4; expected rows x 3"),
        ("trailing", good + b"\0", r"1 bytes of unexpected data after the output matrix"),
        ("empty_file", b"", r"the file is empty"),
    ]
    # a matrix header promising far more rows than the file holds: refused before any allocation
    big = bytearray(good)
    mat_at = good.index(struct.pack("<2q", 10, 3))
    dict_hdr = struct.pack("<3iq", 3, 3, 0, 1000)
    big[mat_at:mat_at + 16] = struct.pack("<2q", 3 + 2 ** 31 - 1, 3)
    big[8 + 32: 8 + 36] = struct.pack("<i", 2 ** 31 - 1)  # bucket
    assert dict_hdr in good
    cases.append(("matrixhuge", bytes(big), r"the input matrix of 2147483650 x 3 float32 and the output matrix header "
                                            r"need 25769803817 bytes but only \d+ follow \(truncated\)"))
    return cases


@pytest.mark.parametrize("name,data,msg", _hostile_cases(), ids=[c[0] for c in _hostile_cases()])
def test_hostile_files_raise_file_format_error(tmp_path, name, data, msg):
    p = write(tmp_path, data, name + ".bin")
    where = ", " if msg.startswith("byte") else r"(, byte \d+)?: "
    with pytest.raises(FileFormatError, match=rf"{name}.bin{where}{msg}"):
        fe.load(p, format="fasttext-bin")


@pytest.mark.parametrize("name", ["dicthuge", "matrixhuge", "longword", "shape", "trailing", "pruned"])
def test_hostile_files_compressed(tmp_path, name):
    # compressed streams have no size to check against: the reader fails on the data itself, reading
    # at most one bounded block beyond what the stream holds
    case = next(c for c in _hostile_cases() if c[0] == name)
    p = write(tmp_path, case[1], name + ".bin.gz")
    with pytest.raises(FileFormatError, match=rf"{name}.bin.gz, byte \d+: "):
        fe.load(p)


@pytest.mark.parametrize("version", [12, None])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_every_truncation_is_a_file_format_error(tmp_path, version, suffix):
    data, _ = ft_bytes(version=version, words=[b"ab", b"cde"], bucket=3, dim=2)
    for n in range(len(data)):
        p = write(tmp_path, data[:n], f"t{n}.bin{suffix}")
        with pytest.raises(FileFormatError, match=rf"t{n}.bin{suffix}(, byte \d+)?: "):
            fe.load(p, format="fasttext-bin")


def test_mutations_agree_with_the_reference_reader(tmp_path, rng):
    # random byte flips: fastembed either loads what the plain reference reader reads, or raises
    # FileFormatError where it refuses too
    data, _ = ft_bytes(words=[b"ab", b"cde", b"f"], bucket=4, dim=2)
    accepted = refused = 0
    for case in range(300):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        p = write(tmp_path, bytes(b), f"f{case}.bin")
        try:
            want = ref.load_fasttext_bin(p)
        except (ValueError, UnicodeDecodeError, struct.error):
            want = None
        try:
            got = load_fasttext(p)
        except FileFormatError:
            assert want is None, f"case {case}: the reference reads it, fastembed refuses it"
            refused += 1
            continue
        assert want is not None, f"case {case}: fastembed reads a file the reference refuses"
        a = want["args"]
        assert got.table.vocab.keys == want["words"]
        nw = len(want["words"])
        vec = ref.fasttext_vectors(want["input"][:nw], None, want["input"][nw:], [w.encode() for w in want["words"]],
                                   a["minn"], a["maxn"], want["version"] == 12)
        if got.subwords:
            np.testing.assert_array_equal(got.table.weights, vec)
        accepted += 1
    assert accepted > 20 and refused > 20


def test_detection(tmp_path):
    data, _ = ft_bytes(version=None)
    assert fio.detect_format(write(tmp_path, data, "old.bin")) == "fasttext-bin"
    # the old layout is recognised by a plausible header only: a changed loss code is not one
    bad = bytearray(data)
    bad[24:28] = struct.pack("<i", 9)
    assert fio.detect_format(write(tmp_path, bytes(bad), "odd.bin")) != "fasttext-bin"
    for text in (b"3 2\na 1 2\n", b"a 1 2\nb 3 4\n"):
        p = tmp_path / "t.txt"
        p.write_bytes(text)
        assert fio.detect_format(p) != "fasttext-bin"


# ------------------------------------------------------------------------------------------ gensim's shipped models

@pytest.fixture(scope="module")
def gensim_data():
    pytest.importorskip("gensim", reason="gensim ships the fastText test models and the reference loader")
    from gensim.test.utils import datapath
    return datapath


@pytest.mark.parametrize("name", ["lee_fasttext.bin", "lee_fasttext_new.bin", "non_ascii_fasttext.bin"])
def test_equals_gensim_load_facebook_vectors(gensim_data, name):
    from gensim.models.fasttext import load_facebook_vectors
    path = gensim_data(name)
    kv = load_facebook_vectors(path)
    m = load_fasttext(path)
    t = fe.load(path)
    np.testing.assert_array_equal(t.weights, m.table.weights)
    keys = m.table.vocab.keys
    assert sorted(keys) == sorted(kv.index_to_key)
    rows = [kv.key_to_index[k] for k in keys]
    # bit for bit: the same float32 additions in the same order, one division (see the module docstring)
    np.testing.assert_array_equal(m.table.weights, kv.vectors[rows])
    np.testing.assert_array_equal(m.table.vocab.counts, [kv.get_vecattr(k, "count") for k in keys])
    np.testing.assert_array_equal(m.ngrams, kv.vectors_ngrams)
    assert (m.minn, m.maxn, m.bucket) == (kv.min_n, kv.max_n, kv.bucket)
    unknown = ["landlord", "x", "", "k\u00e4sebrot", "\u65e5\u672c\u8a9e", "zzzzzzzzzzzzzzzzzz", "the!", "12345"]
    got = m.vectors(unknown)
    for w, v in zip(unknown, got):
        assert w not in kv.key_to_index
        np.testing.assert_array_equal(v, kv[w])
        assert (w in m) == (w in kv)
    for w in ("landlord", "president", "the"):
        assert_same_neighbours(m.most_similar(w, topn=5), kv.most_similar(w, topn=5), m.dim)


def test_cp852_model_hashes_its_own_bytes(gensim_data):
    # fastText hashed the cp852 bytes it was trained on; gensim re-encodes every word as UTF-8
    # before hashing, so the two agree on ASCII words only. fastembed follows fastText.
    from gensim.models.fasttext import load_facebook_vectors
    path = gensim_data("cp852_fasttext.bin")
    kv = load_facebook_vectors(path, encoding="cp852")
    m = load_fasttext(path, encoding="cp852")
    raw = ref.load_fasttext_bin(path, encoding="cp852")
    W, nw = raw["input"], len(raw["words"])
    assert m.table.vocab.keys == raw["words"]
    want = ref.fasttext_vectors(W[:nw], None, W[nw:], [w.encode("cp852") for w in raw["words"]], 2, 4, False)
    np.testing.assert_array_equal(m.table.weights, want)
    ascii_words = [k for k in m.table.vocab.keys if k.isascii()]
    other = [k for k in m.table.vocab.keys if not k.isascii()]
    assert len(ascii_words) > 50 and len(other) > 20
    np.testing.assert_array_equal(m.table.weights[m.table.vocab.encode(ascii_words)],
                                  kv.vectors[[kv.key_to_index[k] for k in ascii_words]])
    assert not np.array_equal(m.table.weights[m.table.vocab.encode(other)], kv.vectors[[kv.key_to_index[k] for k in other]])


def cosine_tol(D):
    """Rounding bound of a float32 cosine of unit vectors of dimension D, computed by two
    implementations (each within about D units of 2**-24 of the exact value)."""
    return 2 * (D + 2) * 2.0 ** -24


def assert_same_neighbours(mine, theirs, D):
    """The same (key, cosine) answers up to float32 rounding: common keys have cosines within
    cosine_tol; keys in one list only, and keys in another order, are ties within it."""
    tol = cosine_tol(D)
    a, b = dict(mine), dict(theirs)
    assert len(mine) == len(theirs)
    for k in set(a) & set(b):
        assert abs(a[k] - b[k]) <= tol, (k, a[k], b[k])
    last = min(mine[-1][1], theirs[-1][1])
    for k in set(a) ^ set(b):
        assert abs(a.get(k, b.get(k)) - last) <= tol, (k, mine, theirs)
    for (k1, s1), (k2, s2) in zip(mine, theirs):
        assert k1 == k2 or abs(s1 - s2) <= tol, (mine, theirs)


def test_same_neighbours_helper():
    assert_same_neighbours([("a", 0.9), ("b", 0.8)], [("a", 0.9), ("b", 0.8)], 10)
    assert_same_neighbours([("a", 0.9), ("b", 0.9 - 1e-7)], [("b", 0.9), ("a", 0.9)], 10)
    with pytest.raises(AssertionError):
        assert_same_neighbours([("a", 0.9), ("b", 0.8)], [("b", 0.9), ("a", 0.8)], 10)
    with pytest.raises(AssertionError):
        assert_same_neighbours([("a", 0.9), ("b", 0.8)], [("a", 0.9), ("c", 0.7)], 10)


def _within_printed_digits(got, printed, digits=5):
    """|got - printed| <= half a unit in the last of ``digits`` significant digits, plus 4 float32
    units of the value: fastText multiplies the sum by (float)(1.0 / count) where fastembed and
    gensim divide by count (two roundings against one), which can move a value across a printing
    boundary."""
    mag = np.maximum(np.maximum(np.abs(printed), np.abs(got)), 1e-30)
    scale = 10.0 ** (np.floor(np.log10(mag)) - (digits - 1))
    return np.abs(got - printed) <= 0.5 * scale + mag * 2.0 ** -21


@pytest.mark.parametrize("name", ["lee_fasttext", "pang_lee_polarity_fasttext"])
def test_equals_fasttexts_own_vec_output(gensim_data, name):
    # the .vec files fastText wrote beside these models: its getWordVector for every word, printed
    # with 5 significant digits ("</s>" included: the pre-2017 lee model gave it n-grams; the
    # supervised pang_lee model has labels, which have no vectors, and no n-grams)
    t = fe.load(gensim_data(name + ".bin"), encoding="latin-1")
    vec = fe.load(gensim_data(name + ".vec"), encoding="latin-1")
    assert t.vocab.keys == vec.vocab.keys
    ok = _within_printed_digits(t.weights.astype(np.float64), vec.weights.astype(np.float64))
    assert ok.all(), np.argwhere(~ok)[:5]


def test_printed_digits_tolerance_helper():
    assert _within_printed_digits(np.array([0.123454]), np.array([0.12345])).all()
    assert not _within_printed_digits(np.array([0.123457]), np.array([0.12345])).any()
    assert _within_printed_digits(np.array([-65992.4]), np.array([-65992.0])).all()
    assert not _within_printed_digits(np.array([-65992.7]), np.array([-65992.0])).any()
    assert _within_printed_digits(np.array([-0.010000354]), np.array([-0.01])).all()
    assert not _within_printed_digits(np.array([-0.0100006]), np.array([-0.01])).any()


def test_reads_the_bin_files_gensim_writes(tmp_path):
    # gensim writes .bin files too (save_facebook_model): what it writes, fastembed reads as gensim does
    pytest.importorskip("gensim", reason="needs gensim to write a model")
    from gensim.models.fasttext import FastText, load_facebook_vectors, save_facebook_model
    sents = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ate", "the", "bone"]] * 20
    model = FastText(sents, vector_size=8, min_count=1, epochs=2, bucket=50, min_n=2, max_n=4, workers=1, seed=1)
    p = str(tmp_path / "g.bin")
    save_facebook_model(model, p)
    kv = load_facebook_vectors(p)
    m = load_fasttext(p)
    np.testing.assert_array_equal(m.table.weights, kv.vectors[[kv.key_to_index[k] for k in m.table.vocab.keys]])
    np.testing.assert_array_equal(m.vectors(["cats", "dogs"]), np.stack([kv["cats"], kv["dogs"]]))
    assert os.path.getsize(p) > 0
