from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I64 = npt.NDArray[np.int64]
_U8 = npt.NDArray[np.uint8]

def hash_bytes(s: _U8) -> int: ...
def ngram_ids(blob: _U8, offsets: _I64, minn: int, maxn: int, bucket: int, skip_eos: bool) -> Tuple[_I64, _I64]: ...
def scan_dictionary(buf: _U8, max_entries: int, max_word: int, words: _U8, ends: _I64, counts: _I64,
                    types: npt.NDArray[np.int8]) -> Tuple[int, int, int]: ...
def mean_vectors(words: Optional[_F32], rows: Optional[_I64], ngrams: _F32, blob: _U8, offsets: _I64, minn: int,
                 maxn: int, skip_eos: bool, out: _F32, n_threads: int) -> None: ...

__test__: dict
