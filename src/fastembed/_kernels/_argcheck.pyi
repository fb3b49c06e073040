from typing import Any

import numpy as np

def out_problem(out: Any, base: np.ndarray, shape: tuple) -> int: ...

__test__: dict
