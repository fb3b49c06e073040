"""The native WordPiece normalizer and pre-tokenizer against Hugging Face tokenizers on every code
point, under every BertNormalizer setting, and on the differences between Python's unicodedata and
tokenizers' own Unicode tables that tools/gen_unicode_tables.py found."""
import json
import os
import re
import subprocess
import sys

import pytest

tokenizers = pytest.importorskip("tokenizers", reason="the reference for the native tokenizer is HF tokenizers")

from fastembed.text import Tokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "csrc", "fe_unicode_tables.h")
SURROGATES = range(0xD800, 0xE000)


def _config(clean=True, chinese=True, strip=None, lower=True, vocab=None):
    vocab = vocab or {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "a": 4, "b": 5, "##b": 6}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": {"type": "BertNormalizer", "clean_text": clean, "handle_chinese_chars": chinese,
                       "strip_accents": strip, "lowercase": lower},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": None, "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def _hf_words(hf, text):
    n = hf.normalizer.normalize_str(text)
    return [w for w, _ in hf.pre_tokenizer.pre_tokenize_str(n)]


SETTINGS = [dict(), dict(lower=False), dict(strip=True, lower=False), dict(strip=False),
            dict(clean=False, chinese=False), dict(clean=False, strip=True)]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "bert")
def test_every_code_point(setting):
    """All 1,112,064 code points (no surrogates), 48 to a text between letters, so the words
    around each one show what the normalizer and the pre-tokenizer made of it."""
    cfg = _config(**setting)
    tok = Tokenizer(cfg)
    assert tok.backend == "native"
    hf = tokenizers.Tokenizer.from_str(json.dumps(cfg))
    cps = [c for c in range(0x110000) if c not in SURROGATES]
    bad = []
    for i in range(0, len(cps), 48):
        text = "".join("x" + chr(c) for c in cps[i:i + 48]) + "x"
        mine, ref = tok._wp.pretokenize(text), _hf_words(hf, text)
        if mine != ref:
            bad.append((hex(cps[i]), mine[:8], ref[:8]))
            if len(bad) > 5:
                break
    assert not bad


DIFF_RE = re.compile(r"^ \*   (.+): (\d+) code points$", re.M)


def test_header_records_the_differences():
    """The generator took tokenizers' answers where unicodedata's differ, and says how many."""
    text = open(HEADER, encoding="utf-8").read()
    found = dict((k, int(v)) for k, v in DIFF_RE.findall(text))
    assert found and all(v > 0 for v in found.values())
    assert "nonspacing mark" in found and "lowercase" in found


def _header_tokenizers_version():
    m = re.search(r"Hugging Face tokenizers (\S+) where", open(HEADER, encoding="utf-8").read())
    return m.group(1) if m else None


@pytest.mark.skipif(_header_tokenizers_version() != getattr(tokenizers, "__version__", None),
                    reason="the committed tables were generated against another tokenizers version")
@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, "tools", "gen_unicode_tables.py")),
                    reason="tools/ is not in this source tree")
def test_tables_are_fresh():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_unicode_tables.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# Characters where unicodedata (Python's Unicode version) and tokenizers disagree, one per kind the
# generator found: tokenizers is followed, and the test says so.
@pytest.mark.parametrize("text, why", [
    ("x\u0898y", "U+0898 is a nonspacing mark since Unicode 14, unknown to tokenizers' category table: kept"),
    ("x\u1c89y", "U+1C89 has a lowercase in tokenizers' newer table (Unicode 16), none in unicodedata 14"),
    ("x\U00011938y", "U+11938 has a canonical decomposition since Unicode 13 that tokenizers does not apply"),
    ("a\u0600b", "U+0600 is a format character (removed by clean_text)"),
    ("x\u0f39\u0f7ay", "reordering among non-starters: only the classes tokenizers knows"),
    ("Σ ΑΣ İ ǅ ß ﬁ", "full lowercase mappings, no final-sigma context (char by char, as Rust's to_lowercase)"),
    ("한국어 가각", "Hangul syllables decompose to conjoining jamo under strip_accents"),
    ("\u3000\u00a0\u2028\u0085\x0b\x1c", "whitespace vs control: U+0085 and VT are control (removed)"),
])
def test_unicode_differences(text, why):
    for setting in SETTINGS:
        cfg = _config(**setting)
        hf = tokenizers.Tokenizer.from_str(json.dumps(cfg))
        assert Tokenizer(cfg)._wp.pretokenize(text) == _hf_words(hf, text), (why, setting)
