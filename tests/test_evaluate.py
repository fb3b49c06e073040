"""fastembed.evaluate: analogy question files (questions-words.txt) and word-pair similarity files
(WordSim353, SimLex), their statistics, and their error messages."""
import numpy as np
import pytest

from fastembed.evaluate import evaluate_analogies, evaluate_word_pairs, spearman, _rankdata
from _planted_words import planted_table


@pytest.fixture(scope="module")
def planted():
    return planted_table()


def test_evaluate_analogies(planted, tmp_path):
    p = tmp_path / "questions.txt"
    p.write_text(": family\nman king woman queen\nboy prince girl princess\nMAN KING WOMAN QUEEN\n"
                 "man king woman unicorn\n: animals\ncat kitten dog puppy\ncat kitten dog car\n", encoding="utf-8")
    r = evaluate_analogies(planted, p)
    assert (r.correct, r.answered, r.skipped) == (4, 5, 1)
    assert r.accuracy == pytest.approx(0.8)
    assert [s["section"] for s in r.sections] == ["family", "animals", "Total accuracy"]
    assert r.sections[0]["correct"] == 3 and r.sections[1]["incorrect"] == 1
    # 3CosMul answers boy : prince :: girl : queen on this planted set (as the reference does)
    assert planted.words.evaluate_analogies(p, method="mul").correct == 3
    r2 = evaluate_analogies(planted, p, case_insensitive=False)
    assert r2.skipped == 2  # upper-case line has no exact keys
    r3 = evaluate_analogies(planted, p, restrict_vocab=8)
    assert (r3.skipped, r3.correct) == (3, 3)  # unicorn + both animal questions; family all right
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\nman king woman\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 2: expected 4 words"):
        evaluate_analogies(planted, bad)
    bad.write_text("man king woman queen\n")
    with pytest.raises(ValueError, match=r"line 1: question before any ': section' header"):
        evaluate_analogies(planted, bad)


def test_evaluate_word_pairs(planted, tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("# comment\ncat\tdog\t9.0\ncat\tkitten\t8.0\ncat\tcar\t1.0\nking\tqueen\t7\nking\tunicorn\t5\n")
    r = evaluate_word_pairs(planted, p)
    assert r.pairs == 4 and r.oov_ratio == pytest.approx(20.0)
    t = planted
    model = [t.words.similarity(x, y) for x, y in [("cat", "dog"), ("cat", "kitten"), ("cat", "car"), ("king", "queen")]]
    gold = [9, 8, 1, 7]
    assert r.pearson == pytest.approx(np.corrcoef(gold, model)[0, 1])
    assert r.spearman == pytest.approx(spearman(gold, model))
    r2 = planted.words.evaluate_word_pairs(p, dummy4unknown=True)
    assert r2.pairs == 5
    assert r2.oov_ratio == pytest.approx(20.0)  # gensim 4.4: 1 OOV pair of 5, whether scored 0 or left out
    bad = tmp_path / "bad.tsv"
    bad.write_text("word1\tword2\tscore\ncat\tdog\t9\n")
    with pytest.raises(ValueError, match=r"bad.tsv, line 1: could not convert"):
        evaluate_word_pairs(planted, bad)
    assert evaluate_word_pairs(planted, bad, skip_invalid=True).pairs == 1
    bad.write_text("cat dog 9\n")
    with pytest.raises(ValueError, match=r"line 1: expected 3 fields"):
        evaluate_word_pairs(planted, bad)


def test_rank_statistics():
    np.testing.assert_array_equal(_rankdata([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # known value with ties (scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505138)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(0.9486832980505138)


def test_word_pairs_refuse_non_finite_gold_scores(planted, tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("cat\tdog\t3.0\ncat\tcar\tnan\n")
    with pytest.raises(ValueError, match=r"pairs.tsv, line 2: the gold score 'nan' is not a finite number"):
        evaluate_word_pairs(planted, p)
