from typing import Optional

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I64 = npt.NDArray[np.int64]

MODES: dict

def bag(table: np.ndarray, ids: np.ndarray, bounds: Optional[_I64], T: int, psw: Optional[_F32], padding: int,
        mode: int, out: _F32, argmax: Optional[_I64], n_threads: int, kind: int = ...,
        scales: Optional[_F32] = ...) -> int: ...
def backward_rows(order: _I64, starts: _I64, bounds: Optional[_I64], B: int, T: int, grad: _F32,
                  psw: Optional[_F32], rows: _F32, n_threads: int) -> None: ...
def backward_max(slot: _I64, grad: _F32, rows: _F32, n_threads: int) -> None: ...

__test__: dict
