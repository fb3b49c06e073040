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


# ------------------------------------------------------------------ release builds (issue 27)

def _elf_sections(path):
    """Section names of an ELF64 little-endian file (None for anything else)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab_off = header(shstrndx)[4]
    names = []
    for i in range(shnum):
        name_off = header(i)[0]
        end = data.index(b"\0", strtab_off + name_off)
        names.append(data[strtab_off + name_off:end].decode())
    return names


def _kernels():
    kdir = os.path.join(os.path.dirname(fastembed.__file__), "_kernels")
    return sorted(os.path.join(kdir, f) for f in os.listdir(kdir) if f.endswith((".so", ".pyd")))


def test_release_builds_carry_no_debug_information():
    """setup.py compiles release builds with -g0 and links them with --strip-debug: the DWARF was
    ~1.4 MB of each ~1.6 MB .so (the wheel went from 6.1 MB to 1.5 MB)."""
    flags = _config.build_flags()
    if "-g0" not in flags.split():
        pytest.skip(f"built without -g0 (FASTEMBED_DEBUG, FASTEMBED_DEBUG_INFO or sanitizers): {flags}")
    checked = 0
    for so in _kernels():
        names = _elf_sections(so)
        if names is None:
            continue
        assert ".text" in names
        assert not [n for n in names if n.startswith(".debug_")], f"{os.path.basename(so)} has debug sections"
        checked += 1
    if not checked:
        pytest.skip("the kernels are not ELF files on this platform")


def test_kernels_need_glibc_2_17_at_most():
    """manylinux2014 is glibc 2.17: our kernels must not reference newer symbol versions (the
    platform tag then depends only on the libgomp the wheel vendors; see tools/build_wheel.sh)."""
    import re
    import shutil
    import subprocess
    objdump = shutil.which("objdump")
    if objdump is None or not _kernels() or _elf_sections(_kernels()[0]) is None:
        pytest.skip("needs objdump and ELF kernels")
    newest = {}
    for so in _kernels():
        out = subprocess.run([objdump, "-T", so], capture_output=True, text=True, check=True).stdout
        for sym_ver, name in re.findall(r"\(GLIBC_(\d+\.\d+(?:\.\d+)?)\)\s+(\S+)", out):
            v = tuple(int(x) for x in sym_ver.split("."))
            if v > (2, 17):
                newest[f"{os.path.basename(so)}: {name}"] = sym_ver
    assert not newest, f"symbols newer than glibc 2.17: {newest}"
