"""Users' type checkers see precise types (issue 17): a user-style script passes ``mypy --strict``
and common mistakes are flagged."""
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mypy", reason="mypy is not installed")

GOOD = '''
import numpy as np
import numpy.typing as npt
import fastembed as fe
from fastembed.evaluate import AnalogyResult

t = fe.EmbeddingTable.random(100, 8)
v: npt.NDArray[np.float32] = t.lookup(np.array([1, 2]))
scores, ids = t.topk(v[0], 3, metric="dot", strategy="scan")
s2: npt.NDArray[np.float32] = scores
i2: npt.NDArray[np.int64] = ids
u, rows = t.backward([1, 2], np.zeros((2, 8), np.float32))
u2: npt.NDArray[np.int64] = u
w = fe.EmbeddingTable.random(10, 4, vocab=[f"k{i}" for i in range(10)])
pairs: list[tuple[str, float]] = w.words.most_similar("k1", topn=3)
all_scores: npt.NDArray[np.float32] = w.words.most_similar("k1", None, None)
ans: list[tuple[str, float]] = w.words.analogy("k1", "k2", "k3")
many: list[list[tuple[str, float]]] = w.words.analogy(["k1"], ["k2"], ["k3"])
voc: fe.Vocabulary | None = w.vocab
opt = fe.optim.Adagrad(t, lr=0.1)
opt.step(u, rows)
def evaluate(path: str) -> AnalogyResult:
    return w.words.evaluate_analogies(path)
'''

BAD = '''
import numpy as np
import fastembed as fe

t = fe.EmbeddingTable.random(100, 8)
t.lookup([1], out="nope")
t.topk(np.ones(8), 3, metric="l2")
x: str = t.lookup([1])
'''


def _mypy(tmp_path, code):
    p = tmp_path / "user.py"
    p.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(p)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_user_script_passes_mypy_strict(tmp_path):
    r = _mypy(tmp_path, GOOD)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mistakes_are_flagged(tmp_path):
    r = _mypy(tmp_path, BAD)
    out = r.stdout
    assert r.returncode == 1
    assert 'user.py:6: error: No overload variant of "lookup"' in out and '"str"' in out  # out="nope"
    assert 'user.py:7: error' in out and '"metric"' in out    # metric="l2"
    assert 'user.py:8: error' in out                          # an array is not a str
