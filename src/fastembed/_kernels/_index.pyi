from typing import Optional

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I64 = npt.NDArray[np.int64]
_I8 = npt.NDArray[np.int8]
_I32 = npt.NDArray[np.int32]

def kernel_name() -> str: ...
def quantize(table: _F32, codes: _I8, rowsum: _I32, scale: _F32, st: npt.NDArray[np.float64],
             n_threads: int) -> None: ...
def coefficients(scale: _F32, st: npt.NDArray[np.float64], gamma: float, coef_cos: _F32, coef_dot: _F32,
                 n_threads: int) -> None: ...
def search(table: _F32, inv: Optional[_F32], codes: _I8, rowsum: _I32, coef: _F32, queries: _F32, qp4: _I32, qpabs4: _I32, qpu4: _I32, qpar: _F32, row_hi: int,
           mask: Optional[npt.NDArray[np.uint8]], excl_ptr: Optional[_I64], excl: Optional[_I64],
           scores: _F32, ids: _I64, rescored: _I64, thresholds: _F32, n_threads: int, kind: int = ...) -> None: ...
def hx_build(table: _F32, h: npt.NDArray[np.uint16], shift: _I32, st: npt.NDArray[np.float64], bf: bool,
             n_threads: int) -> None: ...
def hx_coefficients(shift: _I32, st: npt.NDArray[np.float64], inv: _F32, gamma: float, coef_cos: _F32,
                    coef_dot: _F32, n_threads: int) -> None: ...

__test__: dict
