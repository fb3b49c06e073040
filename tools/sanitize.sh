#!/usr/bin/env bash
# Build fastembed with AddressSanitizer + UndefinedBehaviorSanitizer and Cython's own checks
# (bounds, wraparound, initialisation) in a scratch virtual environment, then run the whole test
# suite under it. Any sanitizer report fails the run.
#
#   tools/sanitize.sh                 # scratch dir in /tmp, removed afterwards
#   SANITIZE_DIR=/tmp/fe-san tools/sanitize.sh -k topk     # keep the scratch dir; extra pytest args
#   SANITIZE_CYTHON_CHECKS=0 tools/sanitize.sh             # -O1 with sanitizers only (faster)
#
# Settings and why:
#   LD_PRELOAD=libasan.so      the Python interpreter is not built with ASan; its runtime must be the
#              libstdc++.so    first library loaded (the extensions link it, the interpreter does not);
#                              libstdc++ so ASan can intercept C++ exceptions of other extensions
#   ASAN_OPTIONS detect_leaks=0          CPython keeps its interned objects and arenas at exit: leak
#                                        reports there are the interpreter's, not ours
#                allocator_may_return_null=1  tests that ask for impossible sizes expect MemoryError,
#                                        not an ASan abort
#   UBSAN_OPTIONS halt_on_error=1        the first undefined behaviour stops the run (a failure)
#   pytest -W error::...Unraisable       an exception inside a noexcept Cython function (e.g. a bounds
#                                        check) is printed and swallowed by Cython: make it a failure
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CC="${CC:-gcc}"
LIBASAN="$("$CC" -print-file-name=libasan.so)"
if [ ! -e "$LIBASAN" ]; then
    echo "sanitize.sh: $CC has no libasan.so (install your compiler's ASan runtime, e.g. libasan8)" >&2
    exit 2
fi
KEEP=1
if [ -z "${SANITIZE_DIR:-}" ]; then
    SANITIZE_DIR="$(mktemp -d /tmp/fastembed-sanitize.XXXXXX)"
    KEEP=0
fi
mkdir -p "$SANITIZE_DIR"
start=$(date +%s)

# a copy of the tracked sources: the in-place build must not replace the checkout's own extensions
rm -rf "$SANITIZE_DIR/src"
mkdir -p "$SANITIZE_DIR/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$SANITIZE_DIR/src/")

if [ ! -x "$SANITIZE_DIR/venv/bin/python" ]; then
    python3 -m venv "$SANITIZE_DIR/venv"
fi
. "$SANITIZE_DIR/venv/bin/activate"
pip install -q "cython>=3.1" "setuptools>=77" wheel numpy
cd "$SANITIZE_DIR/src"
export FASTEMBED_SANITIZE=address,undefined
if [ "${SANITIZE_CYTHON_CHECKS:-1}" != "0" ]; then
    export FASTEMBED_DEBUG=1
fi
pip install -q --no-build-isolation -e ".[test]"
built=$(date +%s)

# libstdc++ too: C++ extensions in the test dependencies (matplotlib) throw exceptions, and ASan's
# __cxa_throw interceptor needs libstdc++ loaded when ASan starts
LIBSTDCXX="$("$CC" -print-file-name=libstdc++.so)"
export LD_PRELOAD="$LIBASAN${LIBSTDCXX:+ $LIBSTDCXX}"
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
set +e
python -m pytest -q -p no:cacheprovider -W error::pytest.PytestUnraisableExceptionWarning "$@"
status=$?
set -e
end=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((end - built)) s, exit status $status"
if [ "$KEEP" = 0 ]; then
    rm -rf "$SANITIZE_DIR"
fi
exit $status
