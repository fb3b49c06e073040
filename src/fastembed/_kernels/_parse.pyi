from typing import Tuple

import numpy as np
import numpy.typing as npt

LINE_OK: int
LINE_TOO_FEW: int
LINE_BAD_NUMBER: int
LINE_AMBIGUOUS: int
MAX_NUMBER_BYTES: int
FORMAT_MAX: int

def parse_text_lines(buf: bytes | npt.NDArray[np.uint8], final: bool, out: npt.NDArray[np.float32], row0: int,
                     max_rows: int, spans: npt.NDArray[np.int64]) -> Tuple[int, int, int, int, int, int]: ...
def line_shapes(buf: bytes | npt.NDArray[np.uint8], max_lines: int) -> Tuple[npt.NDArray[np.int64],
                                                                          npt.NDArray[np.int64]]: ...
def count_lines(buf: bytes | npt.NDArray[np.uint8]) -> int: ...
def parse_binary_records(buf: bytes | npt.NDArray[np.uint8], out: npt.NDArray[np.float32], row0: int,
                         max_rows: int, spans: npt.NDArray[np.int64], newline_mode: bool,
                         max_key: int) -> Tuple[int, int, int, int]: ...
def parse_floats(token: bytes) -> np.float32: ...
def format_float(x: float) -> bytes: ...
def format_lines(W: npt.NDArray[np.float32], r0: int, r1: int, keys: bytes | npt.NDArray[np.uint8],
                 offsets: npt.NDArray[np.int64], out: npt.NDArray[np.uint8]) -> Tuple[int, int]: ...

__test__: dict
