"""Type aliases of the public API (for annotations; nothing here runs at import beyond typing)."""
from __future__ import annotations

from typing import Any, List, Literal, Optional, Protocol, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__all__ = ["F32Array", "I64Array", "IdsLike", "VectorLike", "Metric", "Strategy", "AnalogyMethod",
           "OutArray", "PoolMode", "TopK", "Pairs", "Threads", "SupportsDLPack", "KeysLike"]

F32Array = npt.NDArray[np.float32]
I64Array = npt.NDArray[np.int64]
Threads = Optional[int]
Metric = Literal["cosine", "dot"]
Strategy = Literal["auto", "scan", "gemm"]
AnalogyMethod = Literal["add", "mul"]
PoolMode = Literal["mean", "sum", "max"]
TopK = Tuple[F32Array, I64Array]
Pairs = List[Tuple[str, float]]


class SupportsDLPack(Protocol):
    """Anything numpy can view through DLPack (a CPU torch tensor)."""
    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __dlpack_device__(self) -> Any: ...


OutArray = Union[F32Array, SupportsDLPack]
KeysLike = Union[str, Sequence[str], Sequence[Sequence[str]]]
IdsLike = Union[npt.ArrayLike, SupportsDLPack, KeysLike]
VectorLike = Union[str, int, npt.ArrayLike]
