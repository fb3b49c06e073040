"""fastembed.compat.gensim.Word2Vec: gensim's constructor, vocabulary rules, training calls,
callbacks, persistence and refusals, on small corpora (seconds)."""
import copy
import pickle

import numpy as np
import pytest

import fastembed as fe
from fastembed.compat.gensim import KeyedVectors, LineSentence, Word2Vec
from fastembed.corpus import PLANTED_GROUPS, planted_corpus

ANIMALS = {w for w, g in PLANTED_GROUPS.items() if g == ["pet"]}
# skip-gram also puts a word's context words near it: the pet contexts of the planted corpus
PETS = ANIMALS | {"fur", "paws", "tail", "pet", "purred", "barked", "bites", "vet", "leash", "bowl", "cute", "sleepy"}


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus(8000, seed=2)


def gensim_w2v():
    return pytest.importorskip("gensim.models", reason="comparing with gensim needs gensim").Word2Vec


def test_defaults_are_gensims():
    ours = Word2Vec()
    theirs = gensim_w2v()()
    for k in ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed", "workers",
              "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs", "null_word", "sorted_vocab",
              "batch_words", "compute_loss", "max_final_vocab", "shrink_windows", "layer1_size", "train_count",
              "corpus_count", "corpus_total_words", "running_training_loss"):
        assert getattr(ours, k) == getattr(theirs, k), k
    assert str(ours) == str(theirs) == "Word2Vec<vocab=0, vector_size=100, alpha=0.025>"
    assert ours.trainer.sg == 0 and ours.trainer.workers == 3  # CBOW with 3 workers, as gensim
    assert isinstance(ours.wv, KeyedVectors) and len(ours.wv) == 0


@pytest.mark.parametrize("kw", [dict(), dict(min_count=3), dict(max_final_vocab=50), dict(sorted_vocab=0),
                                dict(min_count=1, max_final_vocab=100),
                                dict(trim_rule=lambda w, c, m: 2 if w == "cat" else (1 if w == "the" else 0))])
def test_vocabulary_is_chosen_as_gensim(corpus, kw):
    sentences = corpus[:3000] + [["rare", "words", "here"]] * 2
    ours = Word2Vec(vector_size=8, **kw)
    theirs = gensim_w2v()(vector_size=8, **kw)
    ours.build_vocab(sentences, trim_rule=kw.get("trim_rule"))
    theirs.build_vocab(sentences, trim_rule=kw.get("trim_rule"))
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert [ours.wv.get_vecattr(w, "count") for w in ours.wv.index_to_key] == \
        [theirs.wv.get_vecattr(w, "count") for w in theirs.wv.index_to_key]
    assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count, theirs.corpus_total_words)
    assert ours.effective_min_count == theirs.effective_min_count
    # the same initial vectors (gensim 4's draw from the seed)
    np.testing.assert_array_equal(ours.wv.vectors, theirs.wv.vectors)
    assert not ours.syn1neg.any() and ours.syn1neg.shape == theirs.syn1neg.shape


def test_update_appends_new_words_as_gensim(corpus):
    more = [["lion", "fur", "paws", "zebra"], ["lion", "pet", "fur"]] * 5 + [["cat", "dog"]]
    ours, theirs = Word2Vec(vector_size=8, min_count=2), gensim_w2v()(vector_size=8, min_count=2)
    for m in (ours, theirs):
        m.build_vocab(corpus[:500])
        m.build_vocab(more, update=True)
    assert ours.wv.index_to_key == theirs.wv.index_to_key and ours.wv.index_to_key[-3:] == ["lion", "fur", "paws"] \
        or ours.wv.index_to_key == theirs.wv.index_to_key
    assert [ours.wv.get_vecattr(w, "count") for w in ours.wv.index_to_key] == \
        [theirs.wv.get_vecattr(w, "count") for w in theirs.wv.index_to_key]
    with pytest.raises(RuntimeError, match="You cannot do an online vocabulary-update of a model which has no prior"):
        Word2Vec(vector_size=8).build_vocab(more, update=True)


def test_training_learns_and_reports_as_gensim(corpus):
    m = Word2Vec(corpus, vector_size=16, min_count=1, workers=2, epochs=5, sg=1, compute_loss=True)
    assert {k for k, _ in m.wv.most_similar("cat", topn=3)} <= PETS
    assert m.get_latest_training_loss() > 0 and m.train_count == 1 and m.total_train_time > 0
    raw_words = sum(len(s) for s in corpus)
    eff, raw = m.train(corpus, total_examples=m.corpus_count, epochs=2)
    assert raw == 2 * raw_words and 0 < eff <= raw and m.train_count == 2 and m.epochs == 2
    cbow = Word2Vec(corpus, vector_size=16, min_count=1, workers=2)  # gensim's default: CBOW
    assert {k for k, _ in cbow.wv.most_similar("dog", topn=3)} <= ANIMALS
    # the wv rows are the trainer's (one array), and norms follow training
    assert np.shares_memory(cbow.wv.vectors, cbow.trainer.table.weights)
    before = cbow.wv.most_similar("cat", topn=5)
    cbow.train(corpus[:200], total_examples=200, epochs=1, start_alpha=0.5, end_alpha=0.4)
    after = cbow.wv.most_similar("cat", topn=5)
    expect = cbow.wv.vectors @ cbow.wv.vectors[cbow.wv.get_index("cat")]
    expect /= np.linalg.norm(cbow.wv.vectors, axis=1) * np.linalg.norm(cbow.wv.vectors[cbow.wv.get_index("cat")])
    assert after[0][1] == pytest.approx(np.sort(expect)[-2], abs=1e-5) and after != before
    assert cbow.alpha == 0.5 and cbow.min_alpha == 0.4  # gensim keeps start/end alpha as the model's


def test_corpus_file_and_line_sentence(corpus, tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(" ".join(s) for s in corpus[:2000]) + "\n")
    a = Word2Vec(corpus_file=str(p), vector_size=8, min_count=1, workers=1, epochs=1)
    b = Word2Vec(LineSentence(p), vector_size=8, min_count=1, workers=1, epochs=1)
    c = Word2Vec(corpus[:2000], vector_size=8, min_count=1, workers=1, epochs=1)
    assert a.wv.index_to_key == b.wv.index_to_key == c.wv.index_to_key
    assert a.corpus_count == b.corpus_count == 2000
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)  # the same reader, workers=1: the same bits
    np.testing.assert_array_equal(a.wv.vectors, c.wv.vectors)
    short = LineSentence(p, max_sentence_length=3, limit=10)
    assert sum(1 for _ in short) == 30 and all(len(s) <= 3 for s in short)
    d = Word2Vec(short, vector_size=8, min_count=1, workers=1, epochs=1)
    assert d.corpus_count == 30
    with pytest.raises(FileNotFoundError, match="no such corpus file"):
        LineSentence(tmp_path / "missing.txt")


def test_callbacks_are_called_as_gensim(corpus):
    calls = []

    class Recorder:
        def on_train_begin(self, model):
            calls.append("train_begin")

        def on_epoch_begin(self, model):
            calls.append("epoch_begin")

        def on_epoch_end(self, model):
            calls.append(("epoch_end", model.get_latest_training_loss() > 0))

        def on_train_end(self, model):
            calls.append("train_end")

    Word2Vec(corpus[:500], vector_size=8, min_count=1, workers=1, epochs=3, compute_loss=True, callbacks=[Recorder()])
    assert calls == ["train_begin"] + ["epoch_begin", ("epoch_end", True)] * 3 + ["train_end"]

    class Batches:
        def on_batch_begin(self, model):
            pass

    with pytest.raises(NotImplementedError, match=r"callbacks: Batches.on_batch_begin is not called"):
        Word2Vec(corpus[:100], vector_size=8, min_count=1, callbacks=[Batches()])
    cb = pytest.importorskip("gensim.models.callbacks")

    class EpochOnly(cb.CallbackAny2Vec):  # gensim's base class: its batch hooks are no-ops
        def on_epoch_end(self, model):
            calls.append("gensim-base")

    Word2Vec(corpus[:100], vector_size=8, min_count=1, epochs=2, callbacks=[EpochOnly()])
    assert calls[-2:] == ["gensim-base", "gensim-base"]


def test_unsupported_arguments_are_refused_by_name(corpus):
    for kw, msg in ((dict(hs=1), r"hs=1: fastembed trains with negative sampling only"),
                    (dict(null_word=1), "null_word=1")):
        with pytest.raises(NotImplementedError, match=msg):
            Word2Vec(corpus[:50], **kw)
    with pytest.raises(NotImplementedError, match=r"max_vocab_size=10: the corpus has \d+ distinct words"):
        Word2Vec(corpus[:50], max_vocab_size=10)
    assert len(Word2Vec(corpus[:50], max_vocab_size=10 ** 6, min_count=1, vector_size=4).wv) > 10
    fixed = Word2Vec(corpus[:50], vector_size=4, min_count=1, shrink_windows=False, compute_loss=True, workers=1, sg=1)
    shrunk = Word2Vec(corpus[:50], vector_size=4, min_count=1, compute_loss=True, workers=1, sg=1)
    assert fixed.trainer.shrink_windows is False and shrunk.trainer.shrink_windows is True
    # skip-gram trains a pair per context word: whole windows train more of them
    assert fixed.get_latest_training_loss() > 1.2 * shrunk.get_latest_training_loss()
    m = Word2Vec(corpus[:50], vector_size=4, min_count=1)
    with pytest.raises(NotImplementedError, match="word_count=5"):
        m.train(corpus[:50], total_examples=50, epochs=1, word_count=5)
    with pytest.raises(TypeError, match=r"train\(\) got unexpected keyword arguments \['bogus'\]"):
        m.train(corpus[:50], total_examples=50, epochs=1, bogus=1)
    with pytest.raises(ValueError, match="batch_words must be a positive int, got 0"):
        Word2Vec(batch_words=0)
    with pytest.raises(ValueError, match="min_count must be a non-negative int"):
        Word2Vec(min_count=-1)
    with pytest.raises(ValueError, match="max_final_vocab must be None or a positive int"):
        Word2Vec(max_final_vocab=0)
    with pytest.raises(RuntimeError, match="We have currently only implemented score for the hierarchical softmax"):
        m.score([["a"]])


def test_gensims_training_errors(corpus, tmp_path):
    m = Word2Vec(vector_size=4, min_count=1)
    with pytest.raises(RuntimeError, match="you must first build vocabulary before training the model"):
        m.train(corpus[:10], total_examples=10, epochs=1)
    m.build_vocab(corpus[:10])
    with pytest.raises(ValueError, match="You must specify either total_examples or total_words"):
        m.train(corpus[:10], epochs=1)
    with pytest.raises(ValueError, match="You must specify an explicit epochs count"):
        m.train(corpus[:10], total_examples=10)
    with pytest.raises(TypeError, match="Either one of corpus_file or corpus_iterable value must be provided"):
        m.build_vocab()
    with pytest.raises(TypeError, match="Both corpus_file and corpus_iterable must not be provided"):
        m.build_vocab(corpus[:10], corpus_file="x")
    with pytest.raises(TypeError, match="Parameter corpus_file must be a valid path to a file"):
        m.build_vocab(corpus_file=str(tmp_path / "nope"))
    with pytest.raises(TypeError, match="Using a generator as corpus_iterable can't support 6 passes"):
        Word2Vec((s for s in corpus[:10]), min_count=1)
    with pytest.raises(TypeError, match="corpus_iterable must be an iterable of lists of str, got a str"):
        Word2Vec("a text, not sentences")
    m.build_vocab(iter(corpus[:20]))  # one pass over a generator is fine for the vocabulary, as gensim
    assert m.corpus_count == 20
    zero = Word2Vec(vector_size=4, min_count=1, negative=0)
    zero.build_vocab(corpus[:10])
    with pytest.raises(ValueError, match="You must set either 'hs' or 'negative' to be positive"):
        zero.train(corpus[:10], total_examples=10, epochs=1)
    loaded = Word2Vec()
    loaded.wv = KeyedVectors.load_word2vec_format(_w2v_file(tmp_path))
    with pytest.raises(RuntimeError, match="wv has 3 keys but the model's output layer has 0 rows"):
        loaded.train([["a", "b"]], total_examples=1, epochs=1)


def _w2v_file(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("3 100\n" + "".join(f"{k} " + " ".join(["0.1"] * 100) + "\n" for k in "abc"))
    return p


def test_save_load_and_continue(corpus, tmp_path):
    m = Word2Vec(corpus[:2000], vector_size=8, min_count=1, workers=1, epochs=2, window=3, comment="mine")
    d = tmp_path / "w2v.model"
    m.save(d)
    back = Word2Vec.load(d)
    assert back.wv.index_to_key == m.wv.index_to_key
    np.testing.assert_array_equal(back.wv.vectors, m.wv.vectors)
    np.testing.assert_array_equal(back.syn1neg, m.syn1neg)
    for k in ("window", "comment", "sg", "corpus_count", "epochs", "train_count", "effective_min_count"):
        assert getattr(back, k) == getattr(m, k), k
    assert back.wv.get_vecattr("cat", "count") == m.wv.get_vecattr("cat", "count")
    # continued training from the saved state gives what the original gives, bit for bit (workers=1)
    for x in (m, back):
        x.train(corpus[2000:2500], total_examples=500, epochs=1)
    np.testing.assert_array_equal(back.wv.vectors, m.wv.vectors)
    assert KeyedVectors.load(d).index_to_key == m.wv.index_to_key  # its vectors alone
    assert fe.load(d).vocab.keys == m.wv.index_to_key
    with pytest.raises(NotImplementedError, match="mmap='r': a Word2Vec model loads writable"):
        Word2Vec.load(d, mmap="r")
    m.wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    with pytest.raises(ValueError, match="is a word2vec-binary file, not a saved Word2Vec model"):
        Word2Vec.load(tmp_path / "v.bin")
    with pytest.raises(RuntimeError, match="nothing to save"):
        Word2Vec().save(tmp_path / "empty")
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        np.testing.assert_array_equal(other.wv.vectors, m.wv.vectors)
        other.train(corpus[:100], total_examples=100, epochs=1)
        assert not np.array_equal(other.wv.vectors, m.wv.vectors)


def test_gensim_model_pickles_convert_and_train(corpus, tmp_path):
    g = gensim_w2v()(corpus[:2000], vector_size=8, min_count=1, workers=1, epochs=2, sg=1, window=4)
    p = tmp_path / "g.model"
    g.save(str(p))
    m = Word2Vec.load(p)
    assert m.wv.index_to_key == g.wv.index_to_key and (m.sg, m.window, m.vector_size) == (1, 4, 8)
    np.testing.assert_array_equal(m.wv.vectors, g.wv.vectors)
    np.testing.assert_array_equal(m.syn1neg, g.syn1neg)
    before = m.wv.vectors.copy()
    m.train(corpus[:500], total_examples=500, epochs=1)
    assert not np.array_equal(before, m.wv.vectors)
    assert len({k for k, _ in m.wv.most_similar("cat", topn=5)} & PETS) >= 3


def test_predict_output_word_and_seeded_vector(corpus):
    m = Word2Vec(corpus, vector_size=16, min_count=1, workers=2, epochs=3)
    got = m.predict_output_word(["fur", "paws", "zzz"], topn=5)
    l1 = m.wv.vectors[[m.wv.get_index("fur"), m.wv.get_index("paws")]].mean(axis=0)
    p = np.exp(m.syn1neg @ l1)
    p /= p.sum()
    assert [w for w, _ in got] == [m.wv.index_to_key[i] for i in np.argsort(-p, kind="stable")[:5]]
    np.testing.assert_allclose([s for _, s in got], np.sort(p)[::-1][:5], rtol=1e-5)
    assert m.predict_output_word(["zzz"]) is None
    kv = pytest.importorskip("gensim.models.keyedvectors")
    np.testing.assert_array_equal(m.seeded_vector("cat1", 16), kv.pseudorandom_weak_vector(16, seed_string="cat1"))
    assert m.estimate_memory()["vectors"] == len(m.wv) * 16 * 4
