from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

EXP_TABLE_SIZE: int
MAX_EXP: int
MAX_NEGATIVE: int

def alias_table(weights: npt.NDArray[np.float64]) -> Tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32]]: ...

def segment_sum(grad: npt.NDArray[np.float32], order: npt.NDArray[np.int64], starts: npt.NDArray[np.int64],
                scale: Optional[npt.NDArray[np.float32]], out: npt.NDArray[np.float32], n_threads: int) -> None: ...
def sparse_update(table: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], rows: npt.NDArray[np.float32],
                  lr: float, steps: Optional[npt.NDArray[np.float32]], n_threads: int) -> None: ...
def w2v_batch(syn0: npt.NDArray[np.float32], syn1neg: npt.NDArray[np.float32], words: npt.NDArray[np.int32],
              starts: npt.NDArray[np.int64], keep: Optional[npt.NDArray[np.uint32]],
              alias_prob: npt.NDArray[np.uint32], alias: npt.NDArray[np.int32],
              window: int, negative: int, alpha0: float, alpha1: float, seed: int,
              exp_table: npt.NDArray[np.float32], logsig_table: npt.NDArray[np.float32], compute_loss: bool,
              n_threads: int, sg: bool = ..., cbow_mean: bool = ...,
              shrink_windows: bool = ...) -> Tuple[int, float]: ...
def ft_batch(syn0: npt.NDArray[np.float32], syn1neg: npt.NDArray[np.float32], sub_starts: npt.NDArray[np.int64],
             sub_rows: npt.NDArray[np.int64], words: npt.NDArray[np.int32], starts: npt.NDArray[np.int64],
             keep: Optional[npt.NDArray[np.uint32]], alias_prob: npt.NDArray[np.uint32],
             alias: npt.NDArray[np.int32], window: int, negative: int, alpha0: float, alpha1: float, seed: int,
             exp_table: npt.NDArray[np.float32], logsig_table: npt.NDArray[np.float32], compute_loss: bool,
             n_threads: int, sg: bool = ..., per_pair: bool = ...,
             shrink_windows: bool = ...) -> Tuple[int, float]: ...

__test__: dict
