"""fastembed.positions: sinusoidal tables (both layouts) against the float64 reference, learned and
sinusoidal position sources, and their error messages."""
import numpy as np
import pytest

from fastembed import reference as ref
from fastembed.positions import LearnedPositions, SinusoidalPositions, sinusoidal_table


@pytest.mark.parametrize("layout", ["interleaved", "concat"])
@pytest.mark.parametrize("dim", [1, 2, 3, 8, 767])
def test_sinusoidal_exact_against_float64_reference(layout, dim):
    got = sinusoidal_table(64, dim, layout=layout)
    np.testing.assert_array_equal(got, ref.sinusoidal_table(64, dim, layout=layout))
    assert got.dtype == np.float32 and not got.flags.writeable


def test_sinusoidal_layouts_known_values():
    inter = sinusoidal_table(4, 4)
    # position 1: sin(1), cos(1), sin(1/100), cos(1/100)
    np.testing.assert_allclose(inter[1], [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)], rtol=1e-6)
    np.testing.assert_array_equal(inter[0], [0, 1, 0, 1])
    cat = sinusoidal_table(4, 4, layout="concat")
    # fairseq: half=2, freqs 1 and 1/10000
    np.testing.assert_allclose(cat[1], [np.sin(1), np.sin(1e-4), np.cos(1), np.cos(1e-4)], rtol=1e-6)
    odd = sinusoidal_table(3, 5, layout="concat")
    assert not odd[:, 4].any()  # padded column


def test_position_sources():
    s = SinusoidalPositions(16, max_len=32, layout="concat")
    assert s.weights is s.weights  # computed once, cached
    assert s.weights.shape == (32, 16) and len(s) == 32 and "concat" in repr(s)
    lp = LearnedPositions.random(10, 4, seed=1)
    assert lp.weights.shape == (10, 4) and lp.weights.dtype == np.float32
    with pytest.raises(ValueError, match="layout must be one of"):
        SinusoidalPositions(4, layout="rotary")


def test_position_error_messages(tmp_path):
    from fastembed.positions import LearnedPositions, sinusoidal_table
    from fastembed import io as fio
    with pytest.raises(ValueError, match="max_len and dim must be non-negative"):
        sinusoidal_table(-1, 4)
    with pytest.raises(ValueError, match="base must be positive"):
        sinusoidal_table(4, 4, base=0)
    with pytest.raises(TypeError, match="position weights must be a floating-point array"):
        LearnedPositions(np.zeros((3, 2), int))
    from safetensors.numpy import save_file
    p = tmp_path / "m.safetensors"
    save_file({"b": np.zeros(3, np.float32)}, str(p))
    with pytest.raises(ValueError, match=r"tensor 'b' has shape \(3,\); expected \(P, D\)"):
        fio.load_positions(p, "b")
