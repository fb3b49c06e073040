"""The plain-C harness of csrc/ (tests/csrc/test_kernels.c): every SIMD level this CPU supports
against scalar references written from the definitions, compiled and run without Python; then the
same harness cross-compiled for aarch64 and run under qemu (the neon level), whose outputs must
hash to the same bits as the native run."""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
HARNESS = os.path.join(ROOT, "tests", "csrc", "test_kernels.c")
FLAGS = ["-O2", "-std=c11", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-function", "-I" + CSRC]
CROSS_HINT = ("install them with: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user "
              "(Debian/Ubuntu)")

pytestmark = pytest.mark.skipif(not os.path.isfile(HARNESS), reason="not run from a source checkout")


def _cc():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return cc.split()


# the compiler, the harness and qemu are not the (possibly sanitizer-instrumented) Python process
_ENV = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def _build_and_run(compiler, out, extra=(), runner=()):
    r = subprocess.run(compiler + [HARNESS, "-o", out, *FLAGS, *extra, "-lm"], capture_output=True, text=True,
                       timeout=300, env=_ENV)
    assert r.returncode == 0, f"the harness did not compile:\n{r.stderr}"
    assert "warning" not in r.stderr, r.stderr
    r = subprocess.run([*runner, out], capture_output=True, text=True, timeout=600, env=_ENV)
    assert r.returncode == 0 and "FAIL" not in r.stdout, r.stdout + r.stderr
    return r.stdout


def _checksums(stdout):
    return [line for line in stdout.splitlines() if line.startswith("checksum")]


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    return _build_and_run(_cc(), str(tmp_path_factory.mktemp("csrc") / "test_kernels"))


def test_native_every_supported_level(native):
    from fastembed._kernels import _simd
    for level in _simd.supported_levels():
        assert f"level {level}: " in native and f"level {level}: " + "" in native
        line = next(l for l in native.splitlines() if l.startswith(f"level {level}:"))
        assert line.endswith("checks ok"), line
    assert _checksums(native)


def test_native_under_address_and_undefined_behavior_sanitizers(native, tmp_path):
    # out-of-bounds reads of masked tails or unaligned rows, misaligned scalar loads, integer
    # overflow in index arithmetic: any report fails the run (and the bits must not change)
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
    probe = subprocess.run(_cc() + ["-x", "c", "-", "-o", str(tmp_path / "probe"), *san],
                           input="int main(void) { return 0; }", capture_output=True, text=True, env=_ENV)
    if probe.returncode != 0:
        pytest.skip("the compiler cannot link -fsanitize=address,undefined here")
    out = _build_and_run(_cc(), str(tmp_path / "test_kernels_san"), extra=san)
    assert _checksums(out) == _checksums(native)


@pytest.mark.skipif(sys.platform != "linux", reason="the aarch64 cross check uses Linux's qemu-user")
def test_aarch64_under_qemu_gives_the_same_bits(native, tmp_path):
    cross, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if cross is None or qemu is None:
        pytest.skip("aarch64-linux-gnu-gcc / qemu-aarch64 not found: " + CROSS_HINT)
    out = _build_and_run([cross], str(tmp_path / "test_kernels_aarch64"), extra=["-static"], runner=[qemu])
    assert "level neon: " in out and "level generic: " in out
    assert all(line.endswith("checks ok") for line in out.splitlines() if line.startswith("level "))
    # the generic level's outputs on aarch64 hash to the native ones: the same bits on both
    assert _checksums(out) == _checksums(native)
