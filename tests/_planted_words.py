"""A small table with planted relations (royalty, gender, animals, vehicles, youth) and 40 random
distractor words, shared by the word-question and evaluation tests."""
import numpy as np

from fastembed import EmbeddingTable

# dims: royalty, gender(+male), animal, vehicle, young, then noise
WORDS = {
    "king": [1, 1, 0, 0, 0], "queen": [1, -1, 0, 0, 0], "man": [0, 1, 0, 0, 0], "woman": [0, -1, 0, 0, 0],
    "prince": [1, 1, 0, 0, 1], "princess": [1, -1, 0, 0, 1], "boy": [0, 1, 0, 0, 1], "girl": [0, -1, 0, 0, 1],
    "cat": [0, 0, 1, 0, 0.2], "dog": [0, 0, 1, 0, 0.1], "kitten": [0, 0, 1, 0, 1], "puppy": [0, 0, 1, 0, 0.9],
    "car": [0, 0, 0, 1, 0], "airplane": [0, 0, 0, 1, -0.2], "King": [1, 1, 0, 0, 0.05],
}


def planted_table() -> EmbeddingTable:
    """(55, 16) float32: the 15 planted words (5 meaningful dims x 3 + 11 small-noise dims), then w0..w39."""
    rng = np.random.default_rng(3)
    keys = list(WORDS)
    base = np.array([WORDS[k] for k in keys], np.float32)
    W = np.concatenate([base * 3, rng.normal(0, 0.05, (len(keys), 11)).astype(np.float32)], axis=1)
    extra = rng.normal(0, 1, (40, 16)).astype(np.float32)  # distractor words
    W = np.concatenate([W, extra])
    keys += [f"w{i}" for i in range(40)]
    return EmbeddingTable(W, vocab=keys)
