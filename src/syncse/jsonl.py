"""Read JSON-lines input with errors that name file and line (shared by every reader)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from syncse.errors import DataError

#: The longest sentence any reader accepts: a longer "line" is a wrong file or a missing
#: newline convention, and must be an error rather than a silently truncated example.
MAX_LINE_CHARS = 10_000


def iter_jsonl(path: Path, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a broken line is a DataError."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"invalid JSON ({exc.msg})", number) from exc
        if not isinstance(row, dict):
            raise DataError(path, "expected a JSON object per line", number)
        yield number, row
