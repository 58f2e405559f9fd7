"""User-facing errors.

A `SyncseError` is a mistake the user can fix (a missing file, a bad column, an unknown
alias). The CLI prints its message as one line and exits non-zero, with no traceback, so
every message must say *which* file/line and *what to do*. Programming errors stay ordinary
exceptions and keep their tracebacks.
"""

from __future__ import annotations

from pathlib import Path


class SyncseError(Exception):
    """An error caused by user input; shown as one line, exit code 2."""

    exit_code = 2


class DataError(SyncseError):
    """Bad or missing input data, located by file (and line where known)."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = Path(path)
        self.line = line
        self.problem = problem
