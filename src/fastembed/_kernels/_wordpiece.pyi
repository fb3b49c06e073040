from typing import List, Tuple

from typing_extensions import disjoint_base

import numpy as np
import numpy.typing as npt

_I64 = npt.NDArray[np.int64]

@disjoint_base
class WordPiece:
    def __new__(cls, blob: bytes, token_offsets: _I64, token_ids: _I64, continuing_prefix: bytes, unk_id: int,
                 max_input_chars_per_word: int, clean_text: bool, handle_chinese_chars: bool, strip_accents: bool,
                 lowercase: bool, added_blob: bytes, added_offsets: _I64, added_ids: _I64, prefix: _I64,
                 suffix: _I64) -> "WordPiece": ...
    @property
    def n_nodes(self) -> int: ...
    def encode(self, texts: list, add_special_tokens: bool, truncate: int, truncate_left: bool, max_chars: int,
               skip_id: int, n_threads: int) -> Tuple[_I64, _I64]: ...
    def pretokenize(self, text: str) -> List[str]: ...

__test__: dict
