"""JSON-lines, the format of every syncse data file: one reader and one line writer, with
errors that name file and line (every reader and writer in the package goes through here)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from syncse.errors import DataError

#: The longest sentence any reader accepts: a longer "line" is a wrong file or a missing
#: newline convention, and must be an error rather than a silently truncated example.
MAX_LINE_CHARS = 10_000


def iter_jsonl(
    path: Path, lines: Iterable[str], corrupt_hint: str = ""
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a broken line is a DataError
    (`corrupt_hint` is added to its message, e.g. what the user can do about it)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"invalid JSON ({exc.msg}){corrupt_hint}", number) from exc
        if not isinstance(row, dict):
            raise DataError(path, "expected a JSON object per line", number)
        yield number, row


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every object of a JSON-lines file, in order; [] when the file does not exist."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [row for _, row in iter_jsonl(path, handle)]


def count_jsonl(path: Path) -> int:
    """How many rows (non-blank lines) a JSON-lines file holds, without parsing them: a
    count is what sizes and cards need, and parsing a large set only to count it is waste.

    Args:
        path: the file; a missing file holds 0 rows.

    Example:
        >>> count_jsonl(Path("triplets.jsonl"))  # doctest: +SKIP
        2000
    """
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def json_line(row: dict[str, Any]) -> str:
    """One row as one line, newline included: written with a single write() so a crash tears
    at most this line. UTF-8 kept as is (sentences stay readable in the file)."""
    return json.dumps(row, ensure_ascii=False) + "\n"


def jsonl_text(rows: Iterable[dict[str, Any]]) -> str:
    """A whole file's text, for the atomic writers in `syncse.data.files`."""
    return "".join(json_line(r) for r in rows)
