"""User-facing errors.

A `SyncseError` is a mistake the user can fix (a missing file, a bad column, an unknown
alias). The CLI prints its message as one line and exits non-zero, with no traceback, so
every message must say *which* file/line and *what to do*. Programming errors stay ordinary
exceptions and keep their tracebacks.

What to do is often a setting to change. The library names it as the Python API spells it
(`resume=True`, a config field): pass it as a `setting` and write `{}` where it goes in the
message. Each front end can then spell it its own way: the CLI as its flag (`--resume`, see
`SyncseError.spelled`), so no library message tells a notebook user to pass a flag.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _as_code(setting: str) -> str:
    return f"`{setting}`"


class SyncseError(Exception):
    """An error caused by user input; shown as one line, exit code 2.

    Args:
        message: what is wrong and what to do; with `settings`, a template whose `{}` are
            replaced by the settings, in order (plain text, not `str.format`: a path with
            braces in the message needs no escaping).
        settings: config fields as Python spells them, e.g. "resume=True",
            "if_changed='restart'", "data_dir".

    Example:
        >>> error = SyncseError("{}: folder not empty; set {}", "out", "resume=True")
        >>> str(error)
        '`out`: folder not empty; set `resume=True`'
        >>> error.spelled(lambda s: "--" + s.split("=")[0])
        '--out: folder not empty; set --resume'
    """

    exit_code = 2

    def __init__(self, message: str = "", *settings: str) -> None:
        self.template = message
        self.settings = settings
        super().__init__(self.spelled(_as_code))

    def spelled(self, spell: Callable[[str], str]) -> str:
        """The message with each setting written by `spell` (e.g. as a command-line flag)."""
        parts = self.template.split("{}")
        if not self.settings or len(parts) != len(self.settings) + 1:
            return self.template
        spelled = [parts[0]]
        for setting, part in zip(self.settings, parts[1:], strict=True):
            spelled += [spell(setting), part]
        return "".join(spelled)


class DataError(SyncseError):
    """Bad or missing input data, located by file (and line where known)."""

    def __init__(
        self, path: str | Path, problem: str, line: int | None = None, *settings: str
    ) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}", *settings)
        self.path = Path(path)
        self.line = line
        self.problem = problem
