"""Model directories: which files a kind of model needs, safetensors tensors by name, JSON configs.

One wording for a directory that is not a model: the files each supported kind needs, and the
files that are there.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from fastembed.io import safetensors

__all__ = ["missing_model", "read_json", "tensors", "tensor_names"]


def missing_model(path: str, kind: str, expected: Sequence[str]) -> FileNotFoundError:
    """The error for a directory that is not a ``kind`` model: what was expected, what was found."""
    if not os.path.isdir(path):
        return FileNotFoundError(f"{path} is not a directory (a {kind} model is a directory)")
    found = sorted(os.listdir(path))
    return FileNotFoundError(f"{path} is not a {kind} model directory: expected {'; or '.join(expected)}; "
                             f"found {', '.join(found) if found else 'no files'}")


def read_json(path: str) -> dict:
    """A JSON object from a file; ValueError naming the file for anything else."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def tensor_names(path: str) -> List[str]:
    """The tensor names of a safetensors file (its header validated by fastembed's own reader)."""
    header, _, _ = safetensors.read_header(path)
    return [k for k in header if k != "__metadata__"]


def tensors(path: str, names: Sequence[str], optional: Sequence[str] = ()) -> Dict[str, Optional[np.ndarray]]:
    """The named tensors of a safetensors file as numpy arrays (``optional`` ones may be absent:
    None); ValueError naming the file and the tensors it has for a missing one."""
    info = safetensors.read_header(path)
    have = set(info[0]) - {"__metadata__"}
    out: Dict[str, Optional[np.ndarray]] = {}
    for n in names:
        if n not in have:
            raise ValueError(f"{path} has no tensor {n!r} (it has {sorted(have)})")
        out[n] = safetensors.read_array(path, n, info)
    for n in optional:
        out[n] = safetensors.read_array(path, n, info) if n in have else None
    return out
