import os

import numpy as np
import pytest

import fastembed
from fastembed._kernels import _config


def test_openmp_compiled_in():
    if os.environ.get("FASTEMBED_ALLOW_NO_OPENMP"):
        pytest.skip("FASTEMBED_ALLOW_NO_OPENMP is set")
    assert _config.openmp_enabled(), "kernels were built without OpenMP"


def test_show_config_reports_build(capsys):
    info = fastembed.show_config()
    printed = capsys.readouterr().out
    assert info["fastembed"] == fastembed.__version__
    assert info["openmp"] == _config.openmp_enabled()
    assert info["max_threads"] >= 1
    flags = info["compile_flags"]
    assert "-O3" in flags or "-O0" in flags or ("-O1" in flags and "-fsanitize=" in flags)  # release, debug, sanitizers
    assert "-ffp-contract=off" in info["compile_flags"]
    assert "-march=native" not in info["compile_flags"] or os.environ.get("FASTEMBED_MARCH_NATIVE")
    assert "openmp" in printed and "simd" in printed


def test_resolve_threads():
    from fastembed import resolve_threads
    from fastembed._threads import cpu_count
    assert resolve_threads(3) == 3
    assert resolve_threads(-1) == cpu_count()
    assert resolve_threads(-10 ** 6) == 1
    assert resolve_threads(None) == max(1, _config.omp_max_threads())
    with pytest.raises(ValueError, match="n_threads=0"):
        resolve_threads(0)
    with pytest.raises(TypeError, match="n_threads must be an int"):
        resolve_threads(1.5)
    with pytest.raises(TypeError, match="n_threads must be an int"):
        resolve_threads(True)


def test_kernels_do_not_fall_back_to_reference():
    # The compiled module is what the table calls: its type is a builtin function, not Python.
    from fastembed._kernels import _gather
    assert type(_gather.gather).__name__ in ("cython_function_or_method", "builtin_function_or_method")
    assert not _gather.__file__.endswith(".py")


def test_stubs_match_compiled_modules(tmp_path):
    # the .pyi files shipped for the compiled kernels describe what the modules really export
    import subprocess
    import sys
    mods = ["fastembed._kernels." + m for m in ("_argcheck", "_config", "_gather", "_topk", "_parse", "_train", "_pool",
                                                "_fasttext", "_simd", "_index", "_wordpiece")]
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", *mods], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
