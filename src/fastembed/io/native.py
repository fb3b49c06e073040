"""The native format: a directory a table can be memory-mapped from.

::

    vectors.npy   the (V, D) matrix, C order, in its storage dtype
    scales.npy    (V,) float32 row scales (a row-scaled storage dtype: int8)
    keys.txt      one UTF-8 key a line, each ended by b"\\n" (when the table has a vocabulary)
    counts.npy    (V,) int64 (when the vocabulary has counts)
    meta.json     {"format": "fastembed-native", "version": 2, "rows": V, "dim": D,
                   "dtype": "float32", "padding_idx": null | int,
                   "checksum_block_bytes": B,
                   "files": {"vectors.npy": {"bytes": N, "crc32": [per B-byte block of data]}, ...},
                   "meta_crc32": crc32 of this JSON without the field (sorted keys, compact)}

Loading always checks what is cheap: meta.json's fields and its own checksum, each file's size
against meta.json and against its .npy header, the keys' count, newline ending and UTF-8. With
``verify=True`` (the default for directories up to ``VERIFY_MAX_BYTES`` = 256 MB; ``verify=None``
decides by size, ``False`` never) the CRC-32 of every block is compared too, on the shared worker
pool (zlib's crc32 releases the GIL; ~7 GB/s per core here). Files meta.json does not list are an
error (a stale keys.txt can never be attached to other vectors). Directories written by version 1
(no checksums) still load, with the size and count checks.

The storage dtype is the table's (:mod:`fastembed._dtypes`, the package's one registry): its name
goes into meta.json and its numpy dtype (little-endian) is that of vectors.npy, and a row-scaled
dtype's scales go into scales.npy, so a storage dtype added there (float16; bfloat16 as its uint16
bits; int8 codes) is saved and loaded with no change here; a directory whose dtype this version
does not know is refused by name.

Saving writes a fresh sibling directory and swaps it into place (:mod:`fastembed.io._atomic`), so a
failed save leaves the old directory whole and saving a memory-mapped table onto its own path works.
"""
from __future__ import annotations

import io as _stdio
import json
import os
import warnings
import zlib
from typing import Dict, List, Optional, Tuple

import numpy as np

from fastembed._dtypes import STORAGE, StorageDType
from fastembed._threads import GRAIN_CRC_BYTES, check_cancel, run_parallel, team_size
from fastembed.io._atomic import atomic_dir
from fastembed.io._errors import FileFormatError
from fastembed.io._keys import keys_for_writing
from fastembed.io._options import LoadOptions, SaveOptions
from fastembed.io._source import Source, progress_bar
from fastembed.table import EmbeddingTable
from fastembed.vocab import Vocabulary

__all__ = ["detect", "read", "write", "NATIVE_FORMAT", "VERSION", "VERIFY_MAX_BYTES", "CHECK_BLOCK_BYTES"]

NATIVE_FORMAT = "fastembed-native"
VERSION = 2
READABLE_VERSIONS = (1, 2)
FILES = ("meta.json", "vectors.npy", "scales.npy", "keys.txt", "counts.npy")
CHECK_BLOCK_BYTES = 1 << 24   # one CRC per 16 MB: blocks are verified in parallel
VERIFY_MAX_BYTES = 1 << 28    # verify=None verifies directories up to 256 MB
META_MAX_BYTES = 1 << 24
IO_BLOCK_BYTES = 1 << 24      # reads and writes per step (interruptible between steps)


def _file_dtype(storage: StorageDType) -> np.dtype:
    """The dtype of vectors.npy for a storage dtype: its numpy dtype, little-endian."""
    return storage.numpy.newbyteorder("<")


def detect(src: Source) -> bool:
    return src.is_dir


# ------------------------------------------------------------------------------------------ checksums

def _blocks(n: int, block: int) -> List[Tuple[int, int]]:
    return [(lo, min(lo + block, n)) for lo in range(0, n, block)]


def _crcs(data: memoryview, block: int, n_threads) -> List[int]:
    """CRC-32 of each ``block``-byte block of ``data``, computed on the shared pool."""
    spans = _blocks(len(data), block)
    out = [0] * len(spans)
    nt = team_size(len(data), GRAIN_CRC_BYTES, n_threads, items=max(1, len(spans)))

    def work(w, cancel):
        for i in range(w, len(spans), nt):
            check_cancel(cancel)
            lo, hi = spans[i]
            out[i] = zlib.crc32(data[lo:hi])

    if spans:
        run_parallel(work, nt)
    return out


def _meta_crc(meta: dict) -> int:
    body = {k: v for k, v in meta.items() if k != "meta_crc32"}
    return zlib.crc32(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8"))


# ------------------------------------------------------------------------------------------ read

def _int_field(meta: dict, name: str, path: str, *, minimum: int = 0) -> int:
    v = meta.get(name)
    if type(v) is not int or v < minimum:
        raise FileFormatError(path, f"{name} must be an integer >= {minimum}, got {v!r}")
    return v


def _file_info(meta: dict, name: str, path: str) -> Optional[dict]:
    files = meta.get("files")
    info = files.get(name)
    if info is None:
        return None
    ok = (isinstance(info, dict) and type(info.get("bytes")) is int and info["bytes"] >= 0
          and isinstance(info.get("crc32"), list) and all(type(c) is int for c in info["crc32"]))
    if not ok:
        raise FileFormatError(path, f"files[{name!r}] must be {{'bytes': int, 'crc32': [int, ...]}}, got {info!r}")
    return info


def _read_meta(d: str) -> dict:
    mp = os.path.join(d, "meta.json")
    if not os.path.isfile(mp):
        raise FileFormatError(d, "not a fastembed native directory (no meta.json)")
    with open(mp, "rb") as f:
        raw = f.read(META_MAX_BYTES + 1)
    if len(raw) > META_MAX_BYTES:
        raise FileFormatError(mp, f"larger than {META_MAX_BYTES} bytes: not a fastembed meta.json")
    try:
        meta = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FileFormatError(mp, f"not valid UTF-8 ({exc.reason})", byte=exc.start) from exc
    except json.JSONDecodeError as exc:
        raise FileFormatError(mp, f"invalid JSON ({exc.msg})", line=exc.lineno) from exc
    if not isinstance(meta, dict):
        raise FileFormatError(mp, f"expected a JSON object, got {type(meta).__name__}")
    if meta.get("format") != NATIVE_FORMAT or meta.get("version") not in READABLE_VERSIONS:
        raise FileFormatError(mp, f"expected format {NATIVE_FORMAT!r} version {VERSION} (or "
                              f"{READABLE_VERSIONS[0]}), got {meta.get('format')!r} version {meta.get('version')!r}")
    if meta["version"] >= 2:
        crc = meta.get("meta_crc32")
        if type(crc) is not int or crc != _meta_crc(meta):
            raise FileFormatError(mp, "its checksum (meta_crc32) does not match its content: the file was "
                                  "modified or damaged")
        if not isinstance(meta.get("files"), dict):
            raise FileFormatError(mp, f"files must be an object, got {meta.get('files')!r}")
        dt = meta.get("dtype")
        if dt not in STORAGE:
            raise FileFormatError(mp, f"storage dtype {dt!r} is not supported by this version of fastembed "
                                  f"(supported: {', '.join(STORAGE)})")
        _int_field(meta, "checksum_block_bytes", mp, minimum=1)
    return meta


def _read_npy(path: str, dtype: np.dtype, shape: Tuple[int, ...], *, mmap: bool,
              info: Optional[dict], block: int, verify: bool, n_threads):
    """The array in ``path``, checked against the expected dtype and shape, the file size, and
    (``verify``) the per-block CRCs in ``info``."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileFormatError(path, "missing (meta.json lists it)") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if info is not None and info["bytes"] != size:
            raise FileFormatError(path, f"holds {size} bytes, meta.json says {info['bytes']} (truncated, "
                                  "extended or replaced)")
        try:
            version = np.lib.format.read_magic(f)
            with warnings.catch_warnings():
                # a damaged header can make numpy warn ("created on Python 2", invalid escapes)
                # before it fails or is refused below: the error is the message, not the warning
                warnings.simplefilter("ignore")
                if version == (1, 0):
                    got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
        except Exception as exc:  # noqa: BLE001 - an untrusted header: any failure is a format error
            raise FileFormatError(path, f"not a valid .npy file ({type(exc).__name__}: {exc})") from exc
        if got_dtype.hasobject:
            raise FileFormatError(path, "holds Python objects (loading it would unpickle them): refusing")
        if got_dtype != dtype or fortran or tuple(got_shape) != tuple(shape):
            raise FileFormatError(path, f"expected a C-order {dtype} array of shape {tuple(shape)}, got "
                                  f"{'Fortran-order ' if fortran else ''}{got_dtype} {tuple(got_shape)}")
        start = f.tell()
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size != start + nbytes:
            raise FileFormatError(path, f"holds {size - start} bytes of data, its header needs {nbytes} "
                                  "(truncated or padded)")
        if mmap and nbytes:
            arr = np.memmap(path, dtype=dtype, mode="r", offset=start, shape=tuple(shape))
        else:
            arr = np.empty(shape, dtype)
            if nbytes:
                mv = memoryview(arr).cast("B")
                for lo, hi in _blocks(nbytes, IO_BLOCK_BYTES):  # interruptible between blocks
                    if f.readinto(mv[lo:hi]) != hi - lo:
                        raise FileFormatError(path, "ends early (truncated while being read)", byte=start + lo)
    if verify and info is not None:
        crcs = info["crc32"]
        data = memoryview(arr.view(np.ndarray)).cast("B") if nbytes else memoryview(b"")
        got = _crcs(data, block, n_threads)
        if got != crcs:
            i = next((i for i, (a, b) in enumerate(zip(got, crcs)) if a != b), min(len(got), len(crcs)))
            raise FileFormatError(path, f"the checksum of bytes {i * block}..{min((i + 1) * block, nbytes)} of "
                                  "its data does not match meta.json: the file is damaged")
    return arr


def _read_keys(path: str, rows: int, info: Optional[dict], block: int, verify: bool) -> List[str]:
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise FileFormatError(path, "missing (meta.json lists it)") from None
    if info is not None and size > info["bytes"]:
        raise FileFormatError(path, f"holds {size} bytes, meta.json says {info['bytes']} (extended or replaced)")
    with open(path, "rb") as f:
        raw = f.read()
    if rows and not raw.endswith(b"\n"):
        raise FileFormatError(path, "ends without a newline after its last key: the file is truncated",
                              byte=len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, f"not valid UTF-8 ({exc.reason})", byte=exc.start) from exc
    keys = text.split("\n")
    keys.pop()  # after the last newline
    if len(keys) != rows:
        raise FileFormatError(path, f"{len(keys)} keys for {rows} vectors")
    if info is not None:
        if size != info["bytes"]:
            raise FileFormatError(path, f"holds {size} bytes, meta.json says {info['bytes']} (truncated or replaced)")
        if verify and _crcs(memoryview(raw), block, 1) != info["crc32"]:
            raise FileFormatError(path, "its checksum does not match meta.json: the file is damaged")
    return keys


def read(src: Source, opts: LoadOptions) -> EmbeddingTable:
    d = src.path
    if not src.is_dir:
        raise FileFormatError(d, "not a fastembed native directory (a native table is a directory)")
    meta = _read_meta(d)
    mp = os.path.join(d, "meta.json")
    v2 = meta["version"] >= 2
    rows = _int_field(meta, "rows" if v2 else "count", mp)
    dim = _int_field(meta, "dim", mp)
    storage = STORAGE[meta["dtype"]] if v2 else STORAGE["float32"]
    block = meta.get("checksum_block_bytes", CHECK_BLOCK_BYTES)
    pad = meta.get("padding_idx")
    if pad is not None and (type(pad) is not int or not 0 <= pad < rows):
        raise FileFormatError(mp, f"padding_idx must be null or a row id in [0, {rows}), got {pad!r}")
    infos = {}
    if v2:
        for name in meta["files"]:
            if name not in FILES[1:]:
                raise FileFormatError(mp, f"lists an unknown file {name!r}")
        infos = {name: _file_info(meta, name, mp) for name in FILES[1:]}
        for name in FILES[1:]:
            if infos[name] is None and os.path.exists(os.path.join(d, name)):
                raise FileFormatError(os.path.join(d, name), "is not listed in meta.json (left over from "
                                      "another save?): refusing to attach it to these vectors")
        if infos["vectors.npy"] is None:
            raise FileFormatError(mp, "does not list vectors.npy")
    total = sum(i["bytes"] for i in infos.values() if i is not None)
    verify = opts.verify if opts.verify is not None else total <= VERIFY_MAX_BYTES
    W = _read_npy(os.path.join(d, "vectors.npy"), _file_dtype(storage), (rows, dim), mmap=opts.mmap,
                  info=infos.get("vectors.npy"), block=block, verify=verify, n_threads=opts.n_threads)
    scales = None
    if storage.scaled:
        if infos.get("scales.npy") is None:
            raise FileFormatError(mp, f"a {storage.name} table without scales.npy (its rows' scales)")
        scales = _read_npy(os.path.join(d, "scales.npy"), np.dtype("<f4"), (rows,), mmap=opts.mmap,
                           info=infos.get("scales.npy"), block=block, verify=verify, n_threads=1)
        bad = ~(np.isfinite(scales) & (scales >= 0))
        if bad.any():
            raise FileFormatError(os.path.join(d, "scales.npy"),
                                  f"row {int(np.flatnonzero(bad)[0])}'s scale is negative or not finite")
    elif infos.get("scales.npy") is not None:
        raise FileFormatError(mp, f"lists scales.npy, but {storage.name} rows have no scales")
    kp, cp = os.path.join(d, "keys.txt"), os.path.join(d, "counts.npy")
    has_keys = infos.get("keys.txt") is not None if v2 else os.path.exists(kp)
    has_counts = infos.get("counts.npy") is not None if v2 else os.path.exists(cp)
    keys = _read_keys(kp, rows, infos.get("keys.txt"), block, verify) if has_keys else None
    counts = None
    if has_counts:
        if keys is None:
            raise FileFormatError(cp, "counts without keys.txt")
        counts = _read_npy(cp, np.dtype("<i8"), (rows,), mmap=False, info=infos.get("counts.npy"),
                           block=block, verify=verify, n_threads=1)
    vocab = Vocabulary(keys, counts) if keys is not None else None
    return EmbeddingTable(W, vocab=vocab, padding_idx=pad, dtype=storage, scales=scales, copy=False)


# ------------------------------------------------------------------------------------------ write

def _replaceable(path: str) -> None:
    extra = sorted(set(os.listdir(path)) - set(FILES))
    if extra:
        raise FileExistsError(f"{path}: refusing to replace a directory holding files that are not part of a "
                              f"fastembed native table ({', '.join(map(repr, extra[:3]))}"
                              f"{', ...' if len(extra) > 3 else ''})")


def _npy_header(a: np.ndarray) -> bytes:
    hdr = _stdio.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, np.lib.format.header_data_from_array_1_0(a))
    return hdr.getvalue()


def _write_small_array(path: str, a: np.ndarray, block: int) -> dict:
    header = _npy_header(a)
    data = memoryview(a).cast("B") if a.size else memoryview(b"")
    with open(path, "wb") as f:
        f.write(header)
        f.write(data)
    return {"bytes": len(header) + len(data), "crc32": _crcs(data, block, 1)}


def write(table: EmbeddingTable, path: str, opts: SaveOptions) -> None:
    """Write the native directory. The matrix is written in 16 MB steps (interruptible) while a
    second worker computes its CRCs and a third prepares and writes the keys and counts."""
    storage = table.storage
    W = np.ascontiguousarray(table.weights, _file_dtype(storage))
    vocab = table.vocab
    bar = progress_bar(W.nbytes, opts.progress, os.path.basename(os.fspath(path)))
    block = CHECK_BLOCK_BYTES
    header = _npy_header(W)
    data = memoryview(W).cast("B") if W.size else memoryview(b"")
    files: Dict[str, dict] = {}
    crcs: List[int] = []
    try:
        with atomic_dir(path, _replaceable) as tmp:
            with open(os.path.join(tmp, "vectors.npy"), "wb") as f:
                def write_vectors(cancel):
                    f.write(header)
                    for lo, hi in _blocks(len(data), IO_BLOCK_BYTES):
                        check_cancel(cancel)
                        f.write(data[lo:hi])
                        if bar is not None:
                            bar.update(hi - lo)

                def crc_vectors(cancel):
                    for lo, hi in _blocks(len(data), block):
                        check_cancel(cancel)
                        crcs.append(zlib.crc32(data[lo:hi]))

                def scales(cancel):
                    files["scales.npy"] = _write_small_array(
                        os.path.join(tmp, "scales.npy"), np.ascontiguousarray(table.scales, "<f4"), block)

                def keys_and_counts(cancel):
                    _, blob, _ = keys_for_writing(table, "lines", "native")
                    check_cancel(cancel)
                    with open(os.path.join(tmp, "keys.txt"), "wb") as kf:
                        kf.write(blob)
                    files["keys.txt"] = {"bytes": len(blob), "crc32": _crcs(memoryview(blob), block, 1)}
                    if vocab.counts is not None:
                        files["counts.npy"] = _write_small_array(
                            os.path.join(tmp, "counts.npy"), np.ascontiguousarray(vocab.counts, "<i8"), block)

                # the write (kernel copies, GIL released) on one worker; the keys (Python, ~25 ms for
                # 170k keys) then the CRCs (zlib, GIL released) on another, or each on its own
                tasks = ([keys_and_counts] if vocab is not None else []) + [crc_vectors] + \
                    ([scales] if table.scales is not None else [])
                nt = team_size(len(data), GRAIN_CRC_BYTES, opts.n_threads, items=1 + len(tasks))
                if nt == 1:
                    plan = [[write_vectors] + tasks]
                elif nt == 2:
                    plan = [[write_vectors], tasks]
                else:
                    plan = [[write_vectors]] + [[task] for task in tasks]

                def work(w, cancel):
                    for task in plan[w]:
                        task(cancel)

                run_parallel(work, len(plan))
            files["vectors.npy"] = {"bytes": len(header) + len(data), "crc32": crcs}
            meta = {"format": NATIVE_FORMAT, "version": VERSION, "rows": int(W.shape[0]), "dim": int(W.shape[1]),
                    "dtype": storage.name, "padding_idx": table.padding_idx, "checksum_block_bytes": block,
                    "files": {k: files[k] for k in FILES[1:] if k in files}}
            meta["meta_crc32"] = _meta_crc(meta)
            with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1)
    finally:
        if bar is not None:
            bar.close()
