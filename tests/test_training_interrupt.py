"""Ctrl-C during training (issue 13): the trainers stop within 0.5 s and leave no thread working.

Each case runs in a subprocess on a file corpus; SIGINT is sent while the kernels run. The child
prints the wall-clock time at which KeyboardInterrupt reached it, then exits: a pool thread still
producing batches would hold up the interpreter's exit (it joins the pool), so the exit must follow
within a second.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from _children import finish, sigint_default
from fastembed.corpus import planted_corpus

CHILD = r"""
import sys, time
import fastembed as fe
path, model = sys.argv[1], sys.argv[2]
kw = dict(dim=64, min_count=1, epochs=100000, workers=2, progress=False)
print("ready", flush=True)
try:
    if model == "glove":
        fe.train_glove(path, **kw)
    else:
        fe.train_word2vec(path, sg=int(model == "sg"), **kw)
except KeyboardInterrupt:
    print("interrupted", repr(time.time()), flush=True)
"""


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("sigint") / "corpus.txt"
    p.write_text("\n".join(" ".join(s) for s in planted_corpus(20000, seed=2)) + "\n")
    return p


@pytest.mark.parametrize("model", ["sg", "cbow", "glove"])
def test_ctrl_c_stops_training_fast(corpus_file, model):
    proc = subprocess.Popen(preexec_fn=sigint_default, args=[sys.executable, "-c", CHILD, str(corpus_file), model], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # well into the epochs (and the counting and shuffling, for GloVe)
        assert proc.poll() is None
        sent = time.time()
        os.kill(proc.pid, signal.SIGINT)
        out, err = finish(proc, 10)
        exited = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    line = [x for x in out.splitlines() if x.startswith("interrupted")]
    assert line, (out, err)
    latency = float(line[0].split()[1]) - sent
    assert latency < 0.5, f"Ctrl-C took {latency:.2f} s to stop {model} training"
    assert exited - sent < 1.5, f"the process took {exited - sent:.2f} s to exit after Ctrl-C"
