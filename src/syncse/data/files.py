"""Small file utilities every stage shares: writes that a crash cannot tear, and a folder lock.

Hand-written on purpose: an atomic write is ten lines of the standard library (a unique
temporary file in the same folder, fsync, `os.replace`), and the `atomicwrites` package that
used to do it is unmaintained. The lock is an `flock` on a lock file that is removed on release
(`filelock`, which Hugging Face's libraries already depend on, keeps its lock files, so only
serves where there is no flock).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from syncse.errors import SyncseError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a torn
    one. The temporary name is unique, so two processes never write into the same temp file."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        # A device or a pipe (/dev/stdout): write through it; renaming over it would replace
        # the device node itself.
        with _naming(path), path.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = _temporary_beside(path)
    except OSError as exc:  # a read-only folder: name the file the user asked for
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    try:
        with _naming(path), os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_writable(path: Path) -> None:
    """Fail now, naming `path`, when it cannot be written (a folder nobody may write, a file
    where a folder goes, a folder where the file goes): before the work whose result it holds,
    not after. Creates the missing folders, as the write would; leaves no file behind."""
    path = Path(path)
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder; pass a file name", str(path))
        return  # a device or a pipe (/dev/stdout): written through
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = _temporary_beside(path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    os.close(fd)
    os.unlink(tmp)


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in `path`'s folder, with a unique name, and the permissions
    `open(path, "w")` would give: those of the file it replaces, else what the umask allows
    (not mkstemp's owner-only 0600, which made records unreadable to the group the rest of
    the run folder is shared with)."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)  # the kernel applies the umask
        except FileExistsError:
            continue
        if mode is not None:
            os.chmod(tmp, mode)
        return fd, str(tmp)
    raise FileExistsError(errno.EEXIST, "no unique temporary name", str(path))


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """A failed write (disk full) raises an OSError without a file name; add the target's,
    so the user's one-line error says which file could not be written."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json_or_none(path: Path) -> Any:
    """A JSON file this project wrote, or None when it is missing or unreadable (a file from
    before atomic writes may be torn): callers treat None as "recompute"."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


@contextlib.contextmanager
def exclusive(target: Path, what: str) -> Iterator[None]:
    """Hold `<target>.lock` while working on `target`; a second process gets a one-line error
    at once instead of interleaving its writes with ours. The lock file is removed on release
    (no zero-byte files left beside the outputs)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_file = target.parent / f".{target.name}.lock"
    busy = SyncseError(
        f"{target}: another {what} is using it (lock {lock_file}); wait for it to finish or "
        "choose another output"
    )
    if fcntl is None:  # no flock (Windows): filelock's lock, whose file stays
        from filelock import FileLock, Timeout

        lock = FileLock(str(lock_file))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise busy from None
        try:
            yield
        finally:
            lock.release()
        return
    fd = _flock(lock_file)
    if fd is None:
        raise busy
    try:
        yield
    finally:
        # Unlinked while still held: a process that opened the old file before the unlink
        # sees on locking it that the name now points elsewhere (or nowhere) and starts over.
        with contextlib.suppress(OSError):
            os.unlink(lock_file)
        os.close(fd)


def _flock(lock_file: Path) -> int | None:
    """An open descriptor holding an exclusive flock on `lock_file`, or None when another
    process holds it. Retries when the file was removed (released) between open and lock."""
    assert fcntl is not None
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # locked a file its holder had just removed: lock the new one
