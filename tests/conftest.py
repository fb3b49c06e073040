import os

import numpy as np
import pytest

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
