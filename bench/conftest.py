import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: larger sizes")


@pytest.fixture(scope="session")
def gpt2_table():
    rng = np.random.default_rng(0)
    return rng.standard_normal((50257, 768), dtype=np.float32)


@pytest.fixture(scope="session")
def pos_table():
    rng = np.random.default_rng(1)
    return rng.standard_normal((1024, 768), dtype=np.float32)
