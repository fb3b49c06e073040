"""Fuzzing the loaders in the suite (a few thousand cases, a few seconds; bench/fuzz_io.py runs
10**5 and more on demand): no crash, no load the reference readers disagree with."""
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fastembed as fe
from fastembed import EmbeddingTable, reference
from fastembed._kernels import _parse
import fuzz_io_harness as _fuzz

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                          HealthCheck.too_slow])


@pytest.mark.parametrize("chunk", [None, 7, 1 << 21])
def test_mutated_files_never_load_silently_wrong(tmp_path, chunk):
    # chunk=7: files are read 7 bytes at a time; 1 << 21: whole; with a chunk, every chunk is
    # parsed in parallel parts, so chunk and part boundaries fall everywhere in the small seeds
    tally = _fuzz.run_cases(str(tmp_path), seed=20240601, n=2000, chunk=chunk)
    assert tally.counts["crash"] == 0 and tally.counts["silent"] == 0, tally.examples
    assert tally.counts["stricter"] == 0, tally.examples
    assert sum(tally.counts.values()) == 2000
    # the mutations are not all fatal: some produce other valid files, judged by the reference readers
    assert tally.counts["same"] > 100 and tally.counts["error"] > 1000


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("seeds")
    return _fuzz.make_seeds(str(d), np.random.default_rng(11))


@SETTINGS
@given(kind=st.sampled_from(sorted(_fuzz.SEEDS)), data=st.data())
def test_hypothesis_mutations(tmp_path, seeds, kind, data):
    path, table = seeds[kind]
    seed = data.draw(st.integers(0, 2 ** 32 - 1))
    case = str(tmp_path / ("case_" + path.rsplit("_", 1)[-1]))
    _fuzz._write_case(path, case, np.random.default_rng(seed))
    outcome, detail = _fuzz.judge(case, table)
    assert outcome in ("same", "error", "stricter"), detail


keys_any = st.lists(st.text(min_size=0, max_size=6), min_size=0, max_size=8)


@SETTINGS
@given(keys=keys_any, D=st.integers(0, 4), data=st.data(),
       fmt=st.sampled_from(["word2vec", "glove", "word2vec-binary", "native", "safetensors"]))
def test_save_refuses_or_round_trips(tmp_path, keys, D, data, fmt):
    # any keys and any float32 bits: save either refuses with a ValueError naming the problem, or
    # what load reads back is the same keys and the same bits
    V = len(keys)
    bits = np.array(data.draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=V * D, max_size=V * D)), np.uint32)
    if bits.size and data.draw(st.booleans()):
        bits[bits.size // 2] = data.draw(st.sampled_from([0x7FC00000, 0xFFC00000, 0x7F800001, 0x80000000, 1]))
    W = bits.view(np.float32).reshape(V, D)
    try:
        t = EmbeddingTable(W, vocab=keys)
    except (ValueError, TypeError):
        return
    p = tmp_path / f"rt_{fmt}_{uuid.uuid4().hex}"  # hypothesis reuses tmp_path across examples
    try:
        fe.save(t, p, format=fmt)
    except ValueError as exc:
        assert "cannot be written" in str(exc) or "NaN" in str(exc) or "GloVe" in str(exc), exc
        assert not p.exists()
        return
    u = fe.load(p, format=fmt)
    assert (u.vocab.keys if u.vocab is not None else []) == keys
    np.testing.assert_array_equal(u.weights.view(np.uint32), W.view(np.uint32))


number_like = st.text(alphabet="0123456789.eE+-naifINFty ", min_size=1, max_size=30).map(str.encode)


@settings(max_examples=2000, deadline=None)
@given(tok=st.one_of(number_like, st.floats(width=32, allow_nan=False).map(lambda f: repr(f).encode()),
                     st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: str(d).encode())))
def test_number_parser_equals_reference(tok):
    tok = tok.strip() or b"x"
    try:
        got = _parse.parse_floats(tok)
    except ValueError:
        got = None
    want = reference.parse_float32(tok)
    assert (got is None) == (want is None), tok
    if got is not None:
        assert np.float32(got).view(np.uint32) == np.float32(want).view(np.uint32), tok
