"""Saves that never lose data: everything is written under a temporary name next to the target and
renamed into place only once complete.

* A file: ``os.replace(tmp, path)`` (atomic on POSIX and Windows). Readers that have the old file
  open, and memory maps of it, keep the old inode: nothing they see changes.
* A directory (the native format): the new directory is built as a fresh sibling and swapped in
  (Linux ``renameat2(RENAME_EXCHANGE)``: one atomic step; elsewhere two renames, with the old
  directory renamed back if the second fails). The old directory is then deleted on a background
  thread (:func:`wait_for_cleanup` waits for it); on POSIX its mapped files stay valid until
  unmapped. A save therefore never mixes old and new files, and
  saving a memory-mapped table onto its own directory works.
* On any failure (an exception, Ctrl-C, a full disk) the temporary file or directory is removed
  and the old one is untouched. A process killed outright (SIGKILL, power loss) can leave a hidden
  ``.<name>.<random>.tmp`` next to the target, never a damaged target.

Data is not fsync'ed (as ``np.save``, gensim and most writers): atomicity is against process
failure; after a power loss a just-renamed file can be empty on some file systems.
"""
from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import stat
import sys
import threading
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional

from fastembed._threads import worker_pool

__all__ = ["atomic_file", "atomic_dir", "temp_name", "wait_for_cleanup"]


def temp_name(path: str, kind: str = "tmp") -> str:
    """A fresh hidden name in the same directory as ``path`` (same file system: rename works)."""
    d, base = os.path.split(path)
    return os.path.join(d, f".{base}.{secrets.token_hex(4)}.{kind}")


def _target(path) -> str:
    # Write next to what a symbolic link points to, so the link keeps working.
    return os.path.realpath(os.fspath(path))


@contextmanager
def atomic_file(path) -> Iterator:
    """Yield a binary file object writing a temporary file next to ``path``; on a clean exit rename
    it onto ``path``; on any exception remove it and re-raise.

    The new file keeps the old file's permission bits (else ``0o666 & ~umask``, as ``open``).
    """
    p = _target(path)
    if os.path.isdir(p):
        raise IsADirectoryError(errno.EISDIR, "is a directory (a file was to be written)", p)
    tmp = temp_name(p)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(p).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextmanager
def atomic_dir(path, replaceable: Optional[Callable[[str], None]] = None) -> Iterator[str]:
    """Yield the path of a fresh empty directory next to ``path``; on a clean exit swap it into
    place of ``path`` (created if missing); on any exception remove it and re-raise.

    ``replaceable(path)`` is called first when ``path`` exists and must raise if that directory is
    not one the caller may replace (e.g. a user's directory holding other files).
    """
    p = _target(path)
    if os.path.lexists(p):
        if not os.path.isdir(p):
            raise FileExistsError(errno.EEXIST, "exists and is not a directory", p)
        if replaceable is not None:
            replaceable(p)
    tmp = temp_name(p, "tmpdir")
    os.mkdir(tmp)
    try:
        yield tmp
        _swap_into_place(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_into_place(new: str, p: str) -> None:
    if not os.path.lexists(p):
        os.rename(new, p)
        return
    if _exchange(new, p):
        _remove_later(new)  # `new` now holds the old directory
        return
    old = temp_name(p, "old")
    os.rename(p, old)
    try:
        os.rename(new, p)
    except BaseException:
        os.rename(old, p)
        raise
    _remove_later(old)


_cleanups: List[Future] = []
_cleanups_lock = threading.Lock()


def _remove_later(path: str) -> None:
    """Delete a replaced directory on the shared worker pool: freeing a large file's blocks costs
    about as much as writing it to the page cache (35 ms for 200 MB here), and the save is complete
    without it. The pool's threads are joined at interpreter exit, so the deletion finishes."""
    f = worker_pool().submit(shutil.rmtree, path, ignore_errors=True)
    with _cleanups_lock:
        _cleanups[:] = [c for c in _cleanups if not c.done()]
        _cleanups.append(f)


def wait_for_cleanup() -> None:
    """Wait until the directories replaced by earlier saves are deleted."""
    with _cleanups_lock:
        pending = list(_cleanups)
    wait(pending)


_renameat2 = None


def _exchange(a: str, b: str) -> bool:
    """Atomically exchange two paths (Linux >= 3.15); False where unsupported."""
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        try:
            f = ctypes.CDLL(None, use_errno=True).renameat2
        except (OSError, AttributeError):
            _renameat2 = False
            return False
        f.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        f.restype = ctypes.c_int
        _renameat2 = f
    if _renameat2 is False:
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    if _renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    e = ctypes.get_errno()
    if e in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # this kernel or file system cannot exchange: fall back to two renames
    raise OSError(e, os.strerror(e), b)
