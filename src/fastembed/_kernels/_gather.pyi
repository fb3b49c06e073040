from typing import Optional

import numpy as np
import numpy.typing as npt

def gather(table: np.ndarray, ids: np.ndarray, out: npt.NDArray[np.float32],
           n_threads: int, stream: bool, kind: int = ..., scales: Optional[npt.NDArray[np.float32]] = ...) -> int: ...
def to_float32(src: np.ndarray, kind: int, out: npt.NDArray[np.float32], n_threads: int,
               scales: Optional[npt.NDArray[np.float32]] = ...) -> None: ...
def embed(table: np.ndarray, kind: int, scales: Optional[npt.NDArray[np.float32]], ids: npt.NDArray[np.int64],
          pos: npt.NDArray[np.float32], pos_idx: Optional[npt.NDArray[np.int64]], scale: float,
          types: Optional[npt.NDArray[np.float32]], type_idx: Optional[npt.NDArray[np.int64]],
          out: npt.NDArray[np.float32], n_threads: int, stream: bool = ...,
          pos_offsets: Optional[npt.NDArray[np.int64]] = ..., seq_len: int = ...) -> int: ...
def embed_layernorm(table: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], pos: npt.NDArray[np.float32],
                    pos_idx: Optional[npt.NDArray[np.int64]], scale: float, types: Optional[npt.NDArray[np.float32]],
                    type_idx: Optional[npt.NDArray[np.int64]], gamma: npt.NDArray[np.float32],
                    beta: npt.NDArray[np.float32], eps: float, out: npt.NDArray[np.float32], n_threads: int,
                    stream: bool = ..., pos_offsets: Optional[npt.NDArray[np.int64]] = ..., seq_len: int = ...) -> int: ...

__test__: dict
