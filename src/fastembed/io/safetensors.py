"""safetensors checkpoints: an 8-byte little-endian header length, a JSON header
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``, then the
tensors' bytes.

Read without the ``safetensors`` package: the header is validated field by field (every error names
the file and the tensor); F32, F16 and BF16 tensors are memory-mapped read-only and kept in their
dtype (a half table over the file: no conversion, no copy), F64 converted to float32, and any of
them converted block by block when ``load(..., dtype=...)`` asks for another storage dtype. Written
the same way (header, then the matrix, in the table's storage dtype, streamed in blocks to a
temporary file renamed into place); keys go into ``__metadata__["fastembed_keys"]`` as a JSON list.
"""
from __future__ import annotations

import json
import os
import re
from typing import Optional, Tuple

import numpy as np

from fastembed._dtypes import FLOAT32, STORAGE, StorageDType, convert
from fastembed._dtypes import resolve as resolve_dtype
from fastembed._files import open_text
from fastembed.io._atomic import atomic_file
from fastembed.io._errors import FileFormatError
from fastembed.io._keys import keys_for_writing
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._source import Source, progress_bar
from fastembed.positions import LearnedPositions
from fastembed.table import EmbeddingTable

__all__ = ["detect", "read", "write", "load_safetensors", "load_positions"]

HEADER_MAX_BYTES = 100 << 20
# a safetensors header nests 3 deep ({name: {"shape": [...]}}); anything much deeper is hostile,
# and Python's json would recurse into it (RecursionError) -- refused before parsing
JSON_MAX_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
WRITE_BLOCK_BYTES = 1 << 24
DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8"), "BF16": np.dtype("<u2"),
          "I8": np.dtype("i1")}
# a row-scaled storage dtype (int8) keeps its rows' scales in a (V,) F32 tensor named after its own
SCALES_SUFFIX = ".scales"
# the storage dtype each file dtype is kept as (F64: converted to float32)
KEPT = {st.safetensors: st for st in STORAGE.values()}


def detect(src: Source) -> bool:
    if src.is_dir or src.compressed:
        return False
    head = src.head
    if len(head) < 10 or head[8:9] != b"{":
        return False
    n = int.from_bytes(head[:8], "little")
    return src.file_size is None or 8 + n <= src.file_size


def _short(x) -> str:
    """A header value for a message: huge integers (10**400) abbreviated."""
    t = repr(x)
    return t if len(t) <= 80 else t[:60] + f"... ({len(t)} characters)"


class _SignedInteger(ValueError):
    pass


def _unsigned(text: str) -> int:
    # the format's integers are unsigned (u64): "-0" or "-3" is not one (Python's json would read
    # "-0" as 0; the safetensors library refuses it)
    if text.startswith("-"):
        raise _SignedInteger(text)
    return int(text)


def json_depth(text: bytes) -> int:
    """The deepest bracket nesting of JSON ``text`` (brackets inside strings not counted), in C
    speed: strings removed by one regular expression, depth by a cumulative sum."""
    b = np.frombuffer(_JSON_STRING.sub(b'""', text), np.uint8)
    if not b.size:
        return 0
    step = (b == ord("[")).astype(np.int32) + (b == ord("{")) - (b == ord("]")) - (b == ord("}"))
    return int(np.cumsum(step).max(initial=0))


def loads_bounded(path: str, text: bytes, field: str, byte: int = 0):
    """``json.loads`` of a header field, its nesting depth bounded first (FileFormatError naming
    the file and the field instead of a RecursionError)."""
    d = json_depth(text)
    if d > JSON_MAX_DEPTH:
        raise FileFormatError(path, f"{field} nests JSON {d} levels deep (at most {JSON_MAX_DEPTH})", byte=byte)
    return json.loads(text.decode("utf-8"), parse_int=_unsigned)


def read_header(path: str) -> Tuple[dict, int, int]:
    """(header, offset of the data, bytes of data), every entry validated."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise FileFormatError(path, "truncated safetensors header (fewer than 8 bytes)", byte=0)
        n = int.from_bytes(raw, "little")
        if n > HEADER_MAX_BYTES or 8 + n > size:
            raise FileFormatError(path, f"the safetensors header claims {n} bytes but the file has {size}", byte=0)
        head = f.read(n)
    try:
        header = loads_bounded(path, head, "the safetensors header", byte=8)
    except _SignedInteger as exc:
        raise FileFormatError(path, f"invalid safetensors header (the integer {exc} has a sign; shapes and "
                              "offsets are unsigned)", byte=8) from exc
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, f"the safetensors header is not valid UTF-8 ({exc.reason})",
                              byte=8 + exc.start) from exc
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"invalid safetensors header ({exc.msg})", byte=8 + exc.pos) from exc
    if not isinstance(header, dict):
        raise FileFormatError(path, "the safetensors header is not a JSON object", byte=8)
    data_bytes = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise FileFormatError(path, "__metadata__ must map str to str")
            continue
        if not isinstance(info, dict):
            raise FileFormatError(path, f"tensor {name!r}: expected an object, got {info!r}")
        missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
        if missing:
            raise FileFormatError(path, f"tensor {name!r} has no {', '.join(missing)}")
        shape, offs = info["shape"], info["data_offsets"]
        if not isinstance(info["dtype"], str):
            raise FileFormatError(path, f"tensor {name!r}: dtype must be a str, got {info['dtype']!r}")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise FileFormatError(path, f"tensor {name!r}: shape must be a list of non-negative ints, got {shape!r}")
        if (not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int for o in offs)
                or not 0 <= offs[0] <= offs[1] <= data_bytes):
            raise FileFormatError(path, f"tensor {name!r}: data_offsets must be [begin, end] within the "
                                  f"{data_bytes} bytes of data, got {offs!r}")
        # the size in Python ints (exact: no int64 product to wrap around), against the offsets
        item = np.dtype(PLAIN[info["dtype"]]).itemsize if info["dtype"] in PLAIN else (
            2 if info["dtype"] == "BF16" else None)
        count = 1
        for d in shape:
            count *= d
        if item is not None and count * item != offs[1] - offs[0]:
            raise FileFormatError(path, f"tensor {name!r}: shape {_short(shape)} of {info['dtype']} needs "
                                  f"{_short(count * item)} bytes but data_offsets {_short(offs)} hold "
                                  f"{offs[1] - offs[0]}")
    # the tensors must tile the data exactly (as the format requires): bytes no tensor owns mean a
    # damaged or extended file, overlapping tensors a forged one
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items() if k != "__metadata__")
    end = 0
    for lo, hi, name in spans:
        if lo != end:
            what = "overlaps the previous tensor" if lo < end else f"leaves bytes {end}..{lo} of data unused"
            raise FileFormatError(path, f"tensor {name!r} {what} (data_offsets {[lo, hi]})")
        end = hi
    if end != data_bytes:
        raise FileFormatError(path, f"the tensors end at byte {end} of the data but the file holds {data_bytes} "
                              "bytes of data (extended or damaged)")
    return header, 8 + n, data_bytes


def read_tensor(path: str, name: str, header_info=None) -> np.ndarray:
    """A tensor as float32 (F32 memory-mapped read-only; F16, F64 and BF16 converted; I8 codes
    times their row scales)."""
    header_info = header_info or read_header(path)
    a, st = _read_stored(path, name, header_info)
    if st.scaled:
        return st.to_float32(a, _read_scales(path, name, a.shape[0], header_info))
    return a if st is FLOAT32 else st.to_float32(a)


# element types a model file's plain tensors may hold (read_array): numpy reads them as they are
PLAIN = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
         "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def read_array(path: str, name: str, header_info=None) -> np.ndarray:
    """A tensor as a plain numpy array of its file's element type (F32, F16, F64, integer and BOOL
    tensors as they are, memory-mapped read-only; BF16 as float32), for model files whose tensors
    are not fastembed tables (model2vec's int8 vectors are bare codes, its vocabulary mapping I64)."""
    header, base, _ = header_info or read_header(path)
    if name not in header or name == "__metadata__":
        raise FileFormatError(path, f"no tensor named {name!r}; the file has "
                              f"{sorted(k for k in header if k != '__metadata__')}")
    info = header[name]
    dt, shape, (lo, hi) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
    if dt == "BF16":
        a, st = _read_stored(path, name, header_info)
        return st.to_float32(a)
    if dt not in PLAIN:
        raise FileFormatError(path, f"tensor {name!r} has dtype {dt}; fastembed reads {', '.join(PLAIN)} and BF16")
    np_dt = np.dtype(PLAIN[dt])
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if hi - lo != count * np_dt.itemsize:
        raise FileFormatError(path, f"tensor {name!r} data offsets {lo}..{hi} disagree with its shape "
                              f"{list(shape)} of {dt}")
    if count == 0:
        return np.zeros(shape, np_dt)
    return np.memmap(path, dtype=np_dt, mode="r", offset=base + lo, shape=shape)


def _read_stored(path: str, name: str, header_info=None) -> Tuple[np.ndarray, StorageDType]:
    """A tensor in the storage dtype it is kept as, memory-mapped read-only (F32, F16, BF16 bits),
    or F64 converted to float32; and that storage dtype."""
    header, base, _ = header_info or read_header(path)
    if name not in header or name == "__metadata__":
        names = sorted(k for k in header if k != "__metadata__")
        raise FileFormatError(path, f"no tensor named {name!r}; the file has {names}")
    info = header[name]
    dt, shape, (lo, hi) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
    np_dt = DTYPES.get(dt)
    if np_dt is None:
        raise FileFormatError(path, f"tensor {name!r} has dtype {dt}; expected a float tensor "
                              f"({', '.join(DTYPES)})")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if hi - lo != count * np_dt.itemsize:
        raise FileFormatError(path, f"tensor {name!r} data offsets {lo}..{hi} disagree with its shape "
                              f"{list(shape)} of {dt}")
    st = KEPT.get(dt, FLOAT32)
    if count == 0:
        return np.zeros(shape, st.numpy), st
    a = np.memmap(path, dtype=np_dt, mode="r", offset=base + lo, shape=shape)
    if dt in KEPT:
        return a, st
    return a.astype(np.float32), FLOAT32


def _read_scales(path: str, name: str, rows: int, header_info) -> np.ndarray:
    """The (rows,) float32 scales of the row-scaled tensor ``name`` (its ``name.scales`` tensor)."""
    header = header_info[0]
    sname = name + SCALES_SUFFIX
    if sname not in header:
        raise FileFormatError(path, f"tensor {name!r} holds int8 codes but the file has no {sname!r} tensor of "
                              "row scales (a fastembed int8 table); load the codes with safetensors directly")
    sc, sst = _read_stored(path, sname, header_info)
    if sst is not FLOAT32 or sc.shape != (rows,):
        raise FileFormatError(path, f"tensor {sname!r} must be F32 of shape [{rows}], got "
                              f"{header[sname]['dtype']} {list(sc.shape)}")
    bad = ~(np.isfinite(sc) & (sc >= 0))
    if bad.any():
        raise FileFormatError(path, f"tensor {sname!r}: row {int(np.flatnonzero(bad)[0])}'s scale is negative "
                              "or not finite")
    return sc


def load_safetensors(path, tensor: Optional[str] = None, vocab=None, dtype=None) -> EmbeddingTable:
    """One 2-D tensor of a safetensors checkpoint (e.g. GPT-2's ``wte.weight``) as a table.

    Parameters
    ----------
    path : str or PathLike
    tensor : str, optional
        May be omitted when the file has a single 2-D tensor.
    vocab : path, list of str, or None
        A file with one token a line, a list of keys, or None (keys stored by :func:`save` are used
        if present).
    dtype : None, "float32", "float16", "bfloat16" or "int8"
        The storage dtype; None keeps the tensor's (F64: float32; I8 codes with their ``.scales``
        tensor: int8).

    Returns
    -------
    EmbeddingTable
        (V, D) rows: F32 / F16 / BF16 tensors memory-mapped read-only as float32 / float16 /
        bfloat16 tables (nothing read until used); F64, or a ``dtype`` other than the file's,
        converted in blocks (peak memory: the result plus one block).

    Raises
    ------
    FileFormatError (a ValueError) naming the file for a malformed header or a missing tensor.
    """
    p = os.fspath(path)
    hi = read_header(p)
    header = hi[0]
    if tensor is None:
        two_d = [k for k, v in header.items() if k != "__metadata__" and len(v["shape"]) == 2]
        if len(two_d) != 1:
            raise FileFormatError(p, f"pass tensor= to choose one of the 2-D tensors {sorted(two_d)}")
        tensor = two_d[0]
    W, st = _read_stored(p, tensor, hi)
    want = st if dtype is None else resolve_dtype(dtype)
    if W.ndim != 2:
        raise FileFormatError(p, f"tensor {tensor!r} has shape {W.shape}; expected (V, D)")
    sc = _read_scales(p, tensor, W.shape[0], hi) if st.scaled else None
    keys = None
    if isinstance(vocab, (str, os.PathLike)):
        with open_text(vocab) as f:
            keys = [line.rstrip("\n") for line in f]
        if keys and keys[-1] == "":
            keys.pop()
    elif vocab is not None:
        keys = list(vocab)
    else:
        meta = header.get("__metadata__") or {}
        if "fastembed_keys" in meta:
            try:
                keys = loads_bounded(p, meta["fastembed_keys"].encode("utf-8"), "__metadata__['fastembed_keys']")
            except (json.JSONDecodeError, _SignedInteger) as exc:
                raise FileFormatError(p, f"__metadata__['fastembed_keys'] is not valid JSON ({exc.msg})") from exc
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise FileFormatError(p, "__metadata__['fastembed_keys'] must be a JSON list of str")
            if len(set(keys)) != len(keys):
                raise FileFormatError(p, "__metadata__['fastembed_keys'] holds duplicate keys")
    if keys is not None and len(keys) != W.shape[0]:
        where = "__metadata__['fastembed_keys']" if vocab is None else "the vocabulary given"
        raise FileFormatError(p, f"{where} has {len(keys)} keys but tensor {tensor!r} has {W.shape[0]} rows")
    if want is not st:
        W, sc = convert(W, st, want, scales=sc)
    return EmbeddingTable(W, vocab=keys, dtype=want, scales=sc, copy=False)


def load_positions(path, tensor: str) -> LearnedPositions:
    """A position table from a safetensors checkpoint (e.g. GPT-2's ``wpe.weight``): (P, D) float32."""
    p = os.fspath(path)
    W = read_tensor(p, tensor)
    if W.ndim != 2:
        raise FileFormatError(p, f"tensor {tensor!r} has shape {W.shape}; expected (P, D)")
    return LearnedPositions(np.ascontiguousarray(W))


def read(src: Source, opts: LoadOptions) -> EmbeddingTable:
    return load_safetensors(src.path, tensor=opts.tensor, vocab=opts.vocab, dtype=opts.dtype)


def write(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    st = table.storage  # written as stored: F32, F16, BF16 (bits), or I8 codes plus their F32 scales
    W = np.ascontiguousarray(table.weights, st.numpy.newbyteorder("<"))
    header: dict = {opts.tensor: {"dtype": st.safetensors, "shape": list(W.shape), "data_offsets": [0, W.nbytes]}}
    parts = [memoryview(W).cast("B") if W.size else memoryview(b"")]
    if table.scales is not None:
        S = np.ascontiguousarray(table.scales, "<f4")
        header[opts.tensor + SCALES_SUFFIX] = {"dtype": "F32", "shape": [int(S.shape[0])],
                                               "data_offsets": [W.nbytes, W.nbytes + S.nbytes]}
        parts.append(memoryview(S).cast("B") if S.size else memoryview(b""))
    if table.vocab is not None:
        keys, _, _ = keys_for_writing(table, "any", "safetensors")
        header["__metadata__"] = {"fastembed_keys": json.dumps(keys)}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)  # the data starts 8-byte aligned
    bar = progress_bar(sum(len(d) for d in parts), opts.progress, os.path.basename(path))
    try:
        with atomic_file(path) as f:
            f.write(len(hb).to_bytes(8, "little"))
            f.write(hb)
            for data in parts:
                for lo in range(0, len(data), WRITE_BLOCK_BYTES):
                    f.write(data[lo: lo + WRITE_BLOCK_BYTES])
                    if bar is not None:
                        bar.update(min(WRITE_BLOCK_BYTES, len(data) - lo))
    finally:
        if bar is not None:
            bar.close()
