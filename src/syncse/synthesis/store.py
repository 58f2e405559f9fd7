"""Durable output: an append-only JSONL store that survives crashes, and a response cache.

Rows go to `<out>` (accepted) or `<out>.rejected.jsonl` (with a reason). Both are flushed and
fsynced every few rows; a crash can at worst leave a torn last line, which the next run cuts
off (the row is then redone, for free, from the response cache). An input is done when its
key is in either file, except rejections marked retryable (backend errors), which a resumed
run tries again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from syncse.errors import DataError


def _repair_and_read(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file written by this module; cut a torn (partial) last line away."""
    if not path.exists():
        return []
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    if good_end < len(data):  # torn tail: the process died mid-write
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
    rows = []
    for number, line in enumerate(data[:good_end].decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DataError(
                path,
                f"corrupt line ({exc.msg}); this file was not written by "
                "syncse or was edited; move it away to start over",
                number,
            ) from exc
    return rows


class ResultStore:
    def __init__(self, out: Path, flush_every: int = 16) -> None:
        self.out = Path(out)
        self.rejected_path = self.out.with_name(self.out.name + ".rejected.jsonl")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        accepted = _repair_and_read(self.out)
        rejected = _repair_and_read(self.rejected_path)
        self.accepted_rows = accepted
        self.done: set[str] = {r["key"] for r in accepted}
        self.retry: set[str] = set()
        for row in rejected:
            if row.get("retryable"):
                self.retry.add(row["key"])
            else:
                self.done.add(row["key"])
        self.retry -= self.done
        self.previous_rejections = [r for r in rejected if not r.get("retryable")]
        self._accepted = self.out.open("a", encoding="utf-8")
        self._rejected = self.rejected_path.open("a", encoding="utf-8")
        self._pending = 0
        self.flush_every = flush_every

    def add(self, row: dict[str, Any]) -> None:
        self._write(self._accepted, row)

    def reject(self, key: str, reason: str, retryable: bool = False, **info: Any) -> None:
        self._write(self._rejected, {"key": key, "reason": reason, "retryable": retryable} | info)

    def _write(self, handle, row: dict[str, Any]) -> None:
        # One write() of the whole line: a crash tears at most this line.
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.done.add(row["key"])
        self._pending += 1
        if self._pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        for handle in (self._accepted, self._rejected):
            handle.flush()
            os.fsync(handle.fileno())
        self._pending = 0

    def close(self) -> None:
        self.flush()
        self._accepted.close()
        self._rejected.close()


class ResponseCache:
    """LLM responses keyed by request hash, in SQLite (stdlib; atomic commits, safe against
    crashes), so an identical re-run — or a resumed one — pays for no call twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Calls come from worker threads (asyncio.to_thread); one lock serialises them.
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
            "text TEXT, prompt_tokens INT, completion_tokens INT)"
        )
        self.db.commit()

    def get(self, key: str) -> tuple[str, int, int] | None:
        with self._lock:
            row = self.db.execute(
                "SELECT text, prompt_tokens, completion_tokens FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def put(self, key: str, text: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self.db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                (key, text, prompt_tokens, completion_tokens),
            )
            self.db.commit()

    def close(self) -> None:
        self.db.close()
