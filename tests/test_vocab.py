"""fastembed.vocab.Vocabulary: keys <-> ids, counts, unknown keys, and its error messages."""
import numpy as np
import pytest

from fastembed.vocab import Vocabulary


def test_vocabulary_basics():
    v = Vocabulary(["the", "cat", "sat"], counts=[10, 5, 5])
    assert len(v) == 3 and "cat" in v and "dog" not in v
    assert v["cat"] == 1 and v[2] == "sat" and v.key_to_id("the") == 0 and v.id_to_key(1) == "cat"
    assert v.get("dog") is None and v.get("dog", -1) == -1
    np.testing.assert_array_equal(v.encode(["sat", "the"]), [2, 0])
    assert v.encode("cat") == 1 and v.decode([2, 0]) == ["sat", "the"] and v.decode(1) == "cat"
    assert list(v) == ["the", "cat", "sat"] and v.counts.tolist() == [10, 5, 5]
    with pytest.raises(KeyError, match="key 'dog' is not in the vocabulary"):
        v.encode(["cat", "dog"])
    with pytest.raises(IndexError, match="id 3 is out of range for a vocabulary of 3 keys"):
        v.id_to_key(3)
    u = Vocabulary(["<unk>", "a"], unk="<unk>")
    np.testing.assert_array_equal(u.encode(["a", "zzz"]), [1, 0])
    assert Vocabulary(["x"], unk=0).key_to_id("nope") == 0
    with pytest.raises(ValueError, match="duplicate key 'a' at position 2"):
        Vocabulary(["a", "b", "a"]).key_to_id("a")
    with pytest.raises(ValueError, match=r"counts has shape \(1,\), expected \(2,\)"):
        Vocabulary(["a", "b"], counts=[1])
    with pytest.raises(TypeError, match="keys must be str"):
        Vocabulary([1, 2])
    f = Vocabulary.from_counts({"b": 2, "a": 5, "c": 2, "d": 1}, min_count=2)
    assert f.keys == ["a", "b", "c"] and f.counts.tolist() == [5, 2, 2]
    assert Vocabulary.from_counts({"b": 2, "a": 5}, max_size=1).keys == ["a"]
    assert "Vocabulary(3 keys" in repr(v)


def test_vocabulary_keys_name_the_bad_position():
    with pytest.raises(TypeError, match="keys must be str, got int at position 1"):
        Vocabulary(["a", 1, None])
