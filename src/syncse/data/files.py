"""Small file utilities every stage shares: writes that a crash cannot tear, and a folder lock.

Hand-written on purpose: an atomic write is ten lines of the standard library (a unique
temporary file in the same folder, fsync, `os.replace`), and the `atomicwrites` package that
used to do it is unmaintained. The lock is `filelock`'s, which Hugging Face's libraries already
depend on.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from syncse.errors import SyncseError


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
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
    at once instead of interleaving its writes with ours."""
    from filelock import FileLock, Timeout

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SyncseError(
            f"{target}: another {what} is using it (lock {lock.lock_file}); wait for it to "
            "finish or choose another output"
        ) from None
    try:
        yield
    finally:
        lock.release()
