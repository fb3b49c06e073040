"""gensim's own KeyedVectors tests, run against ``fastembed.compat.gensim``.

The test file ships in the gensim wheel (``gensim/test/test_keyedvectors.py``, data in
``gensim/test/test_data``). It is copied at collection time with exactly these edits, each checked
to apply (a gensim release that changes the file fails here loudly rather than testing gensim):

1. its import of ``KeyedVectors`` comes from ``fastembed.compat.gensim`` (``REAL`` and
   ``pseudorandom_weak_vector``, module helpers, still come from gensim);
2. its one call of gensim's private ``_load_word2vec_format(cls=KeyedVectors, ...)`` becomes the
   public ``KeyedVectors.load_word2vec_format(...)`` (same arguments, ``cls`` dropped);
3. its qualified references ``gensim.models.KeyedVectors`` / ``gensim.models.keyedvectors.KeyedVectors``
   (three ``load_word2vec_format`` calls and the gensim 3.2 pickle test's ``load``) use the imported
   class too, so that every test exercises fastembed rather than gensim.

gensim itself passes all 33; so must the facade (the 3.2 pickle through gensim, which is installed
whenever this file runs).
"""
import importlib.util
import os
import re
import sys

import pytest

gensim = pytest.importorskip("gensim", reason="gensim's own tests ship with gensim")

IMPORT = "from gensim.models.keyedvectors import KeyedVectors, REAL, pseudorandom_weak_vector\n"
PRIVATE_CALL = re.compile(r"gensim\.models\.keyedvectors\._load_word2vec_format\(\s*cls=gensim\.models\.KeyedVectors,\s*")
QUALIFIED = re.compile(r"gensim\.models\.(?:keyedvectors\.)?KeyedVectors\.")


def transformed_source(text: str) -> str:
    """gensim's test file with the edits of the module docstring; ValueError if one does not apply."""
    if text.count(IMPORT) != 1:
        raise ValueError("gensim's test file no longer imports KeyedVectors as expected")
    text = text.replace(IMPORT, "from fastembed.compat.gensim import KeyedVectors\n"
                                "from gensim.models.keyedvectors import REAL, pseudorandom_weak_vector\n")
    text, n = PRIVATE_CALL.subn("KeyedVectors.load_word2vec_format(\n                ", text)
    if n != 1:
        raise ValueError(f"expected one call of the private _load_word2vec_format, found {n}")
    text, n = QUALIFIED.subn("KeyedVectors.", text)
    if n != 4:
        raise ValueError(f"expected 4 qualified references to gensim's KeyedVectors, found {n}")
    if "gensim.models.KeyedVectors" in text or "keyedvectors.KeyedVectors" in text:
        raise ValueError("a reference to gensim's KeyedVectors is left")
    return text


def _load_transformed(tmp_dir: str):
    src = os.path.join(os.path.dirname(gensim.__file__), "test", "test_keyedvectors.py")
    with open(src, encoding="utf-8") as f:
        text = transformed_source(f.read())
    path = os.path.join(tmp_dir, "gensim_test_keyedvectors_on_fastembed.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location("gensim_test_keyedvectors_on_fastembed", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _tmp_dir() -> str:
    import tempfile
    d = tempfile.mkdtemp(prefix="fastembed-gensim-tests-")
    return d


_mod = _load_transformed(_tmp_dir())
assert _mod.KeyedVectors.__module__ == "fastembed.compat.gensim"

# the transformed file's test classes, collected here
TestKeyedVectors = _mod.TestKeyedVectors
Gensim320Test = _mod.Gensim320Test
LoadWord2VecFormatTest = _mod.LoadWord2VecFormatTest


def test_the_transformation_is_exactly_the_documented_edits():
    src = os.path.join(os.path.dirname(gensim.__file__), "test", "test_keyedvectors.py")
    with open(src, encoding="utf-8") as f:
        original = f.read()
    new = transformed_source(original)
    removed = [line for line in original.splitlines() if line not in new.splitlines()]
    assert len(removed) == 7 and all("KeyedVectors" in line or "_load_word2vec_format" in line for line in removed)
    with pytest.raises(ValueError, match="no longer imports KeyedVectors"):
        transformed_source(original.replace(IMPORT, ""))
    with pytest.raises(ValueError, match="expected one call of the private _load_word2vec_format, found 0"):
        transformed_source(original.replace("_load_word2vec_format(", "_other("))
