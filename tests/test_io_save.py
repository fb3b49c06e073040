"""Saves: the shortest round-trip spelling, parallel formatting, locale independence, atomic
replacement (failures injected mid-way, read-only directories, a full file system, SIGKILL),
memory maps of the old file, and Ctrl-C on long loads and saves."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastembed as fe
from fastembed import EmbeddingTable, Vocabulary
from fastembed._kernels import _parse
from fastembed.io import native as fio_native
from fastembed.io import wait_for_cleanup
from fastembed.io import text as fio_text
from _children import finish, sigint_default

FORMATS = ["word2vec", "glove", "word2vec-binary", "native", "safetensors"]


def _table(V=50, D=6, seed=0):
    rng = np.random.default_rng(seed)
    return EmbeddingTable(rng.standard_normal((V, D), dtype=np.float32),
                          vocab=Vocabulary([f"k{i}" for i in range(V)], np.arange(V, 0, -1)))


def _listing(d):
    return sorted(os.listdir(d))


def _snapshot(p):
    if os.path.isdir(p):
        return {f: open(os.path.join(p, f), "rb").read() for f in sorted(os.listdir(p))}
    return open(p, "rb").read()


# ------------------------------------------------------------------------------------------ spelling

def _digits(s: str) -> str:
    m = s.lstrip("-").partition("e")[0]
    ip, _, fp = m.partition(".")
    return (ip + fp).lstrip("0").rstrip("0")


@pytest.mark.parametrize("seed", [0, 1])
def test_format_float_is_shortest_and_nearest(seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32)
    xs = bits.view(np.float32)
    xs = np.concatenate([xs[np.isfinite(xs)], np.arange(1, 2000, dtype=np.float32) * np.float32(0.125),
                         np.float32([1e-45, 3.4028235e38, 1.1754944e-38, 0.1, 16777216, 1e10, 1e-5, 123456789])])
    for x in xs:
        s = _parse.format_float(x)
        assert _parse.parse_floats(s).view(np.uint32) == x.view(np.uint32), (x, s)
        if x != 0:
            # the same digits as numpy's Dragon4 shortest repr (ties to even included)
            assert _digits(s.decode()) == _digits(np.format_float_scientific(x, unique=True)), (x, s)
    assert [_parse.format_float(np.float32(v)) for v in (0.5, -0.0, 100, 1000, 1e-4, 0.001, 3.4028235e38)] == \
        [b"0.5", b"-0", b"100", b"1e3", b"1e-4", b"1e-3", b"3.4028235e38"]


@pytest.mark.parametrize("fmt", ["word2vec", "glove"])
def test_text_save_same_bytes_for_any_thread_count(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(fio_text, "FORMAT_CHUNK_BYTES", 1 << 12)
    monkeypatch.setattr(fio_text, "GRAIN_FORMAT_VALUES", 1)
    t = _table(V=700, D=9)
    outs = []
    for nt in (1, 2, 3):
        p = tmp_path / f"v{nt}.txt"
        fe.save(t, p, format=fmt, n_threads=nt)
        outs.append(p.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    u = fe.load(tmp_path / "v1.txt")
    np.testing.assert_array_equal(u.weights.view(np.uint32), t.weights.view(np.uint32))


def test_save_progress_bar(tmp_path, capsys):
    t = _table()
    for fmt in FORMATS:
        fe.save(t, tmp_path / f"p_{fmt}", format=fmt, progress=True)
        assert f"p_{fmt}" in capsys.readouterr().err, fmt
        fe.save(t, tmp_path / f"q_{fmt}", format=fmt, progress=False)
        assert capsys.readouterr().err == ""


def test_safetensors_we_write_is_read_by_the_safetensors_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    t = _table()
    fe.save(t, tmp_path / "m.safetensors", format="safetensors", tensor="emb")
    np.testing.assert_array_equal(st.load_file(str(tmp_path / "m.safetensors"))["emb"], t.weights)


# ------------------------------------------------------------------------------------------ locale

def _german_locale_env(tmp_path):
    env = dict(os.environ, LC_ALL="de_DE.UTF-8", PYTHONPATH=os.pathsep.join(sys.path))
    probe = "import locale; locale.setlocale(locale.LC_ALL, ''); assert locale.localeconv()['decimal_point'] == ','"
    if subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode == 0:
        return env
    localedef = shutil.which("localedef")
    if localedef is None:
        pytest.skip("no de_DE.UTF-8 locale and no localedef to build one")
    locdir = tmp_path / "locales"
    locdir.mkdir()
    r = subprocess.run([localedef, "-i", "de_DE", "-f", "UTF-8", str(locdir / "de_DE.UTF-8")], capture_output=True)
    env["LOCPATH"] = str(locdir)
    if subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True).returncode != 0:
        pytest.skip(f"could not build the de_DE.UTF-8 locale: {r.stderr.decode()[:200]}")
    return env


def test_text_files_do_not_depend_on_the_locale(tmp_path):
    env = _german_locale_env(tmp_path)
    code = textwrap.dedent("""
        import locale, sys
        import numpy as np
        locale.setlocale(locale.LC_ALL, "")
        assert locale.localeconv()["decimal_point"] == ","
        import fastembed as fe
        from fastembed._kernels import _parse
        W = np.array([[0.5, -1.25e-7, 3.4028235e38], [1e-45, 0.1, 123456.79]], np.float32)
        fe.save(fe.EmbeddingTable(W, vocab=["a", "b"]), sys.argv[1])
        t = fe.load(sys.argv[1])
        assert np.array_equal(t.weights.view(np.uint32), W.view(np.uint32))
        # the parser's slow path (long mantissas, large exponents) too
        assert _parse.parse_floats(b"0.1000000000000000000000001") == np.float32(0.1)
        assert _parse.parse_floats(b"1.5e-40") == np.float32(1.5e-40)
        print("ok")
    """)
    p = tmp_path / "de.txt"
    r = subprocess.run([sys.executable, "-c", code, str(p)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert p.read_bytes() == b"2 3\na 0.5 -1.25e-7 3.4028235e38\nb 1e-45 0.1 123456.79\n"
    np.testing.assert_array_equal(fe.load(p).weights[0], np.float32([0.5, -1.25e-7, 3.4028235e38]))


# ------------------------------------------------------------------------------------------ atomic saves

class _FailingBar:
    """A progress bar that raises on its second update: a failure in the middle of a save."""

    def __init__(self, *a, **k):
        self.n = 0

    def update(self, n):
        self.n += 1
        if self.n == 2:
            raise RuntimeError("injected failure")

    def close(self):
        pass


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failure_midway_leaves_the_old_file_whole(tmp_path, monkeypatch, fmt):
    old = _table(V=40, seed=1)
    p = tmp_path / f"v_{fmt}"
    fe.save(old, p, format=fmt)
    before = _snapshot(p)
    module = {"word2vec": fio_text, "glove": fio_text, "word2vec-binary": fe.io.binary, "native": fio_native,
              "safetensors": fe.io.safetensors}[fmt]
    monkeypatch.setattr(module, "progress_bar", lambda *a, **k: _FailingBar())
    monkeypatch.setattr(fio_text, "FORMAT_CHUNK_BYTES", 1 << 10)
    monkeypatch.setattr(fe.io.binary, "WRITE_ROWS", 8)
    monkeypatch.setattr(fio_native, "IO_BLOCK_BYTES", 1 << 10)
    monkeypatch.setattr(fe.io.safetensors, "WRITE_BLOCK_BYTES", 1 << 10)
    with pytest.raises(RuntimeError, match="injected failure"):
        fe.save(_table(V=400, seed=2), p, format=fmt)
    wait_for_cleanup()
    assert _snapshot(p) == before
    assert _listing(tmp_path) == [p.name]  # no temporary file or directory left behind
    np.testing.assert_array_equal(fe.load(p).weights, old.weights)


def test_a_kernel_failure_midway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    p = tmp_path / "v.txt"
    fe.save(_table(), p)
    before = p.read_bytes()
    calls = []
    real = _parse.format_lines

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("injected")
        return real(*args)

    monkeypatch.setattr(_parse, "format_lines", failing)
    monkeypatch.setattr(fio_text, "FORMAT_CHUNK_BYTES", 1 << 10)
    with pytest.raises(MemoryError, match="injected"):
        fe.save(_table(V=500), p, n_threads=1)
    assert p.read_bytes() == before and _listing(tmp_path) == ["v.txt"]


@pytest.mark.parametrize("fmt", ["word2vec", "native"])
def test_read_only_directory(tmp_path, fmt, monkeypatch):
    d = tmp_path / "ro"
    d.mkdir()
    p = d / "v"
    fe.save(_table(), p, format=fmt)
    before = _snapshot(p)
    # the file system refuses to create the temporary file (as a read-only directory does)
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path, *a, **k):
        if os.fspath(path).startswith(os.fspath(d)):
            raise PermissionError(13, "Permission denied", path)
        return (real_open if a else real_mkdir)(path, *a, **k)

    monkeypatch.setattr(os, "open", lambda path, flags, *a, **k: refuse(path, flags, *a, **k))
    monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: refuse(path) if os.fspath(path).startswith(
        os.fspath(d)) else real_mkdir(path, *a, **k))
    with pytest.raises(PermissionError):
        fe.save(_table(seed=3), p, format=fmt)
    monkeypatch.undo()
    assert _snapshot(p) == before and _listing(d) == ["v"]
    if os.geteuid() == 0:
        return  # root ignores directory permissions: the real chmod case needs another user
    os.chmod(d, 0o555)
    try:
        with pytest.raises(PermissionError):
            fe.save(_table(seed=3), p, format=fmt)
    finally:
        os.chmod(d, 0o755)
    assert _snapshot(p) == before and _listing(d) == ["v"]


@pytest.mark.parametrize("fmt", ["word2vec", "native", "safetensors"])
def test_full_file_system(tmp_path, fmt):
    # RLIMIT_FSIZE makes writes past 64 KB fail with EFBIG, as a full disk fails them with ENOSPC
    p = tmp_path / "v"
    fe.save(_table(V=20), p, format=fmt)
    before = _snapshot(p)
    code = textwrap.dedent("""
        import resource, signal, sys
        import numpy as np
        import fastembed as fe
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
        t = fe.EmbeddingTable(np.ones((20000, 8), np.float32), vocab=[f"w{i}" for i in range(20000)])
        try:
            fe.save(t, sys.argv[1], format=sys.argv[2])
        except OSError as exc:
            print("OSError", exc.errno)
    """)
    r = subprocess.run([sys.executable, "-c", code, str(p), fmt], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("OSError 27"), r.stdout + r.stderr  # EFBIG
    assert _snapshot(p) == before and _listing(tmp_path) == ["v"]


def test_sigkill_midway_never_damages_the_target(tmp_path):
    p = tmp_path / "v.txt"
    fe.save(_table(), p)
    before = p.read_bytes()
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import fastembed as fe
        t = fe.EmbeddingTable(np.random.default_rng(0).standard_normal((200000, 50), dtype=np.float32))
        print("go", flush=True)
        fe.save(t, sys.argv[1], n_threads=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "go"
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    assert p.read_bytes() == before  # a hidden .v.txt.*.tmp may remain; the target is whole
    assert all(f == "v.txt" or (f.startswith(".v.txt.") and f.endswith(".tmp")) for f in os.listdir(tmp_path))


def test_native_save_onto_its_own_memory_map(tmp_path):
    d = tmp_path / "nat"
    t0 = _table(V=3000, D=32)
    fe.save(t0, d, format="native")
    t = fe.load(d, mmap=True)
    assert isinstance(t._w, np.memmap)
    fe.save(t, d, format="native")  # reads the old map while writing the new directory
    np.testing.assert_array_equal(t.weights, t0.weights)  # the old map is still valid (no SIGBUS)
    u = fe.load(d)
    np.testing.assert_array_equal(u.weights, t0.weights)
    assert u.vocab.keys == t0.vocab.keys and u.vocab.counts.tolist() == t0.vocab.counts.tolist()
    fe.save(_table(V=10, D=4), d, format="native")  # a different table over a mapped one
    np.testing.assert_array_equal(t.weights, t0.weights)
    wait_for_cleanup()  # the replaced directories are deleted on a background thread
    assert fe.load(d).weights.shape == (10, 4) and _listing(tmp_path) == ["nat"]


def test_text_save_over_a_file_being_read(tmp_path):
    p = tmp_path / "v.txt"
    fe.save(_table(seed=1), p)
    with open(p, "rb") as reader:
        head = reader.read(10)
        fe.save(_table(seed=2), p)
        rest = reader.read()
    # the reader saw the old file from start to end, the path now holds the new one
    q = tmp_path / "old.txt"
    fe.save(_table(seed=1), q)
    assert head + rest == q.read_bytes()
    np.testing.assert_array_equal(fe.load(p).weights, _table(seed=2).weights)


def test_native_save_refuses_to_replace_other_directories(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"mine: refusing to replace a directory holding files that are not "
                                              r"part of a fastembed native table \('notes.txt'\)"):
        fe.save(_table(), d, format="native")
    assert _listing(d) == ["notes.txt"] and _listing(tmp_path) == ["mine"]
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(FileExistsError, match=r"exists and is not a directory"):
        fe.save(_table(), f, format="native")
    with pytest.raises(IsADirectoryError):
        fe.save(_table(), d, format="word2vec")
    with pytest.raises(ValueError, match=r"unknown format 'csv'; choose from \("):
        fe.save(_table(), tmp_path / "x", format="csv")


def test_save_keeps_permissions_and_follows_symlinks(tmp_path):
    p = tmp_path / "v.txt"
    fe.save(_table(), p)
    os.chmod(p, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(p)
    fe.save(_table(seed=5), link)
    assert link.is_symlink() and (os.stat(p).st_mode & 0o777) == 0o640
    np.testing.assert_array_equal(fe.load(p).weights, _table(seed=5).weights)


# ------------------------------------------------------------------------------------------ Ctrl-C

def _interrupt(code, args, ready_after=0.4):
    """Run ``code``, send SIGINT ``ready_after`` s after it prints "go", return (seconds from the
    signal to the exit, stderr)."""
    proc = subprocess.Popen(preexec_fn=sigint_default, args=[sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "go"
    time.sleep(ready_after)
    assert proc.poll() is None, "finished before the signal: make the work larger"
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = finish(proc, 60)
    return time.perf_counter() - t0, err


@pytest.mark.parametrize("fmt", ["word2vec", "native"])
def test_ctrl_c_stops_a_save_and_leaves_no_partial_file(tmp_path, fmt):
    p = tmp_path / "v"
    fe.save(_table(), p, format=fmt)
    before = _snapshot(p)
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import fastembed as fe
        from fastembed.io import native
        native.IO_BLOCK_BYTES = 1 << 20
        rows = 150000 if sys.argv[2] != "native" else 400000
        W = np.random.default_rng(0).standard_normal((rows, 300), dtype=np.float32)
        t = fe.EmbeddingTable(W)
        print("go", flush=True)
        for _ in range(100):
            fe.save(t, sys.argv[1], format=sys.argv[2], n_threads=1)
    """)
    secs, err = _interrupt(code, [p, fmt], ready_after=0.5)
    assert "KeyboardInterrupt" in err
    assert secs < 1.5, f"took {secs:.2f} s to stop"
    snap = _snapshot(p)
    assert snap == before or fe.load(p).weights.shape == (150000 if fmt != "native" else 400000, 300)
    assert _listing(tmp_path) == ["v"]


def test_ctrl_c_stops_a_load(tmp_path):
    p = tmp_path / "big.txt"
    line = b" 0.123456 -1.5 2.25 1e-3 0.5 0.25 -0.75 3.5 4.5 5.5" * 20 + b"\n"
    with open(p, "wb") as f:
        f.write(b"600000 200\n")
        for start in range(0, 600000, 50000):
            f.write(b"".join(b"w%d" % i + line for i in range(start, start + 50000)))
    code = textwrap.dedent("""
        import sys
        import fastembed as fe
        print("go", flush=True)
        for _ in range(100):
            fe.load(sys.argv[1], n_threads=1)
    """)
    secs, err = _interrupt(code, [p], ready_after=0.6)
    assert "KeyboardInterrupt" in err
    assert secs < 1.5, f"took {secs:.2f} s to stop"
