import os

import numpy as np
import pytest

from fastembed._kernels import _simd

ID_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def make_memmap(tmp_path, arr, name="table.f32"):
    """A read-only np.memmap holding arr (the way a native file is opened)."""
    path = os.path.join(tmp_path, name)
    mm = np.memmap(path, dtype=arr.dtype, mode="w+", shape=arr.shape)
    mm[:] = arr
    mm.flush()
    del mm
    return np.memmap(path, dtype=arr.dtype, mode="r", shape=arr.shape)


# Every SIMD level this CPU can run (csrc/fe_simd.h): kernel-equivalence tests take the `simd_level`
# fixture and run once per level; the rest of the suite runs at the import-time level (the best one,
# or FASTEMBED_SIMD).
SIMD_LEVELS = _simd.supported_levels()
# Tests that compare the levels with each other have nothing to compare on a CPU with one level:
# they say so (a skip with this reason) instead of passing without comparing anything.
ONE_LEVEL = "one SIMD level on this CPU"
needs_two_levels = pytest.mark.skipif(len(SIMD_LEVELS) < 2, reason=ONE_LEVEL)


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request):
    """Run the test at one SIMD level (all kernels of the process), then restore the previous one."""
    previous = _simd.set_level(request.param)
    try:
        yield request.param
    finally:
        _simd.set_level(previous)
