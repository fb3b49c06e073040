"""Standard intrinsic evaluations of word vectors, with gensim's semantics so numbers compare.

* :func:`evaluate_analogies` — the analogy file format of word2vec's ``questions-words.txt``
  (``: section`` lines, then ``a b c expected``), answered in one batched pass.
* :func:`evaluate_word_pairs` — ``word1 <delimiter> word2 <delimiter> score`` files (WordSim-353,
  SimLex-999 pairs, ...), Pearson and Spearman correlation with the vectors' cosines.
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import List

import numpy as np

from fastembed import words
from fastembed._files import open_binary

__all__ = ["evaluate_analogies", "evaluate_word_pairs", "AnalogyResult", "PairsResult", "spearman", "pearson"]


@dataclass
class AnalogyResult:
    """accuracy = correct / answered over all sections; ``skipped`` questions had a word outside the
    first ``restrict_vocab`` keys (gensim skips them too). ``sections`` ends with "Total accuracy"."""
    accuracy: float
    correct: int
    answered: int
    skipped: int
    sections: List[dict] = field(default_factory=list)


@dataclass
class PairsResult:
    """Pearson r and Spearman rho between gold scores and cosines; oov_ratio in percent (as gensim)."""
    pearson: float
    spearman: float
    oov_ratio: float
    pairs: int


def _upper_all(keys: List[str]) -> List[str]:
    """Every key upper-cased, in one C-level pass over a joined string (10x faster than a
    Python loop of ``str.upper`` over 300000 keys); per key where a key holds a newline."""
    if not keys:
        return []
    joined = "\n".join(keys).upper().split("\n")
    return joined if len(joined) == len(keys) else [k.upper() for k in keys]


def _ok_vocab(table, restrict_vocab, case_insensitive):
    """key (upper-cased if case-insensitive) -> the id of its most frequent form (the first in a
    frequency-sorted vocabulary) within the first restrict_vocab rows; and, case-insensitively
    when several keys share an upper-cased form, those forms' ids (to exclude them all)."""
    keys = words.require_vocab(table).keys[: int(restrict_vocab)]
    if not case_insensitive:
        return dict(zip(keys, range(len(keys)))), None
    uppers = _upper_all(keys)
    ok = dict(zip(reversed(uppers), range(len(uppers) - 1, -1, -1)))  # the first form wins
    if len(ok) == len(uppers):
        return ok, None
    forms: dict = {}
    for i, u in enumerate(uppers):
        forms.setdefault(u, []).append(i)
    return ok, {u: f for u, f in forms.items() if len(f) > 1}


def _exclusions(a, b, c, questions, forms):
    """Each question's ids to exclude: its a, b, c as a (Q, 3) array (one vectorised sort in the
    engine), or, where some word has several case forms, every form of its three words."""
    if not forms or not any(w in forms for q in questions for w in q[1:4]):
        return np.stack([a, b, c], axis=1)
    return [forms.get(q[1], [i]) + forms.get(q[2], [j]) + forms.get(q[3], [k])
            for q, i, j, k in zip(questions, a.tolist(), b.tolist(), c.tolist())]


def _decoded(path, f):
    """(line number, str) of a binary file's lines decoded as UTF-8; a line that is not UTF-8 is
    a ValueError naming the file, the line and the byte (not a bare UnicodeDecodeError)."""
    for lineno, raw in enumerate(f, 1):
        try:
            yield lineno, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}, line {lineno}: not UTF-8 text (byte {raw[exc.start:exc.start + 1]!r} at "
                             f"column {exc.start + 1}); save the file as UTF-8") from exc


def evaluate_analogies(table, path, restrict_vocab: int = 300000, case_insensitive: bool = True,
                       method: str = "add", n_threads=None) -> AnalogyResult:
    """Analogy accuracy as gensim's ``KeyedVectors.evaluate_word_analogies``.

    Each ``a b c expected`` asks a : b :: c : ? over the first ``restrict_vocab`` rows; the answer is
    the best row other than a, b, c (and, case-insensitively, any key that upper-cases like them).
    Questions with a word outside those rows are skipped and counted. All questions are answered in
    one batched pass (``method``: "add" = 3CosAdd, "mul" = 3CosMul).

    Raises ValueError naming the file and line for a question line without 4 words or a question
    before any ``: section`` line.
    """
    ok, forms = _ok_vocab(table, restrict_vocab, case_insensitive)
    sections, questions = [], []  # questions: (section index, a, b, c, expected key)
    skipped = 0
    with open_binary(path) as f:
        for lineno, line in _decoded(path, f):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                sections.append({"section": line.lstrip(":").strip(), "correct": 0, "incorrect": 0})
                continue
            if not sections:
                raise ValueError(f"{path}, line {lineno}: question before any ': section' header")
            ws = line.split()
            if len(ws) != 4:
                raise ValueError(f"{path}, line {lineno}: expected 4 words 'a b c expected', got "
                                 f"{len(ws)}: {line[:80]!r}")
            if case_insensitive:
                ws = [w.upper() for w in ws]
            if not all(w in ok for w in ws):
                skipped += 1
                continue
            questions.append((len(sections) - 1, *ws))
    keys = words.require_vocab(table).keys
    if questions:
        a, b, c, want = (np.array([ok[q[j]] for q in questions], np.int64) for j in (1, 2, 3, 4))
        _, ids = words.analogy_ids(table, a, b, c, topn=1, method=method,
                                   restrict_vocab=min(int(restrict_vocab), len(table)),
                                   exclude=_exclusions(a, b, c, questions, forms), n_threads=n_threads)
        got = ids[:, 0]
        if case_insensitive:  # right if the answer is any form of the expected word
            hit = [g >= 0 and keys[g].upper() == q[4] for g, q in zip(got.tolist(), questions)]
        else:
            hit = (got == want).tolist()
        for q, h in zip(questions, hit):
            sections[q[0]]["correct" if h else "incorrect"] += 1
    correct = sum(s["correct"] for s in sections)
    answered = correct + sum(s["incorrect"] for s in sections)
    for s in sections:
        n = s["correct"] + s["incorrect"]
        s["accuracy"] = s["correct"] / n if n else 0.0
    total = {"section": "Total accuracy", "correct": correct, "incorrect": answered - correct,
             "accuracy": correct / answered if answered else 0.0}
    return AnalogyResult(accuracy=total["accuracy"], correct=correct, answered=answered,
                         skipped=skipped, sections=sections + [total])


def _rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy.stats.rankdata 'average')."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(x.size, np.float64)
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], x.size]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def pearson(x, y) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.size < 2:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x, y) -> float:
    """Spearman's rho: Pearson correlation of average-tie ranks."""
    return pearson(_rankdata(x), _rankdata(y))


def evaluate_word_pairs(table, path, delimiter: str = "\t", restrict_vocab: int = 300000,
                        case_insensitive: bool = True, dummy4unknown: bool = False,
                        skip_invalid: bool = False) -> PairsResult:
    """Correlation of cosines with human scores, as gensim's ``evaluate_word_pairs``.

    Lines starting with ``#`` are comments. A pair with a word outside the first
    ``restrict_vocab`` keys counts as OOV (scored 0 if ``dummy4unknown``, else left out).

    Raises ValueError naming file and line for a line that is not ``w1<delimiter>w2<delimiter>score``
    (gensim skips those silently; pass ``skip_invalid=True`` for that, e.g. a header row).
    """
    ok, _ = _ok_vocab(table, restrict_vocab, case_insensitive)
    gold, model = [], []
    oov = 0
    with open_binary(path) as f:
        for lineno, line in _decoded(path, f):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\r\n").split(delimiter)
            try:
                if len(parts) != 3:
                    raise ValueError(f"expected 3 fields separated by {delimiter!r}, got {len(parts)}")
                a, b, sim = parts[0].strip(), parts[1].strip(), float(parts[2])
                if not math.isfinite(sim):
                    raise ValueError(f"the gold score {parts[2].strip()!r} is not a finite number")
            except ValueError as exc:
                if skip_invalid:
                    continue
                raise ValueError(f"{path}, line {lineno}: {exc}: {line.rstrip()[:80]!r}") from None
            if case_insensitive:
                a, b = a.upper(), b.upper()
            if a not in ok or b not in ok:
                oov += 1
                if dummy4unknown:
                    gold.append(sim)
                    model.append(0.0)
                continue
            gold.append(sim)
            model.append(words.similarity(table, ok[a], ok[b]))
    # gensim 4.4: OOV pairs / all valid pairs (with dummy4unknown the OOV pairs are already in gold)
    n = len(gold) if dummy4unknown else len(gold) + oov
    return PairsResult(pearson=pearson(gold, model), spearman=spearman(gold, model),
                       oov_ratio=100.0 * oov / n if n else 0.0, pairs=len(gold))
