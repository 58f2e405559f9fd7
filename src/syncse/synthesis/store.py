"""Durable output: an append-only JSONL store that survives crashes, and a response cache.

Rows go to `<out>` (accepted) or `<out>.rejected.jsonl` (with a reason). Both are flushed and
fsynced every few rows; a crash can at worst leave a torn last line, which the next run cuts
off (the row is then redone, for free, from the response cache). An input is done when its
key is in either file, except rejections marked retryable (backend errors), which a resumed
run tries again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from syncse.data.files import read_json_or_none, write_json_atomic, write_text_atomic
from syncse.data.jsonl import iter_jsonl, json_line, jsonl_text, read_jsonl
from syncse.data.text import match_key
from syncse.data.triplets import TripletFiles
from syncse.errors import SyncseError

#: What to do when an output file was written with other settings or inputs.
IF_CHANGED = ("error", "restart", "append")


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
    hint = "; this file was not written by syncse or was edited; move it away to start over"
    lines = data[:good_end].decode("utf-8").splitlines()
    return [row for _, row in iter_jsonl(path, lines, corrupt_hint=hint)]


def partial_inputs(sentences: list[str]) -> str:
    """What a partial run's manifest records of its inputs: "partial:" and a digest of the
    sentences (their match keys, in order). Whether a file's rows belong to the inputs is
    judged by the rows' keys (`check_manifest`), not by this digest: more sentences than
    before (a top-up) are another digest and the same dataset."""
    text = "\n".join(match_key(s) for s in sentences)
    return f"{_PARTIAL}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


#: A partial run's inputs in the manifest: "partial:DIGEST", or "partial" alone in files
#: written before the digest was recorded (which resume as before).
_PARTIAL = "partial"


def _is_partial(inputs: Any) -> bool:
    return isinstance(inputs, str) and inputs.split(":", 1)[0] == _PARTIAL


def check_manifest(
    out: Path,
    identity: dict[str, str],
    if_changed: str,
    input_keys: set[str] | None = None,
) -> str | None:
    """Make sure `out` holds rows of one configuration and one input only.

    `<out>.manifest.json` records what wrote the file: the config fingerprint and a digest of
    the inputs (scratch: what the sentences are written from; partial: `partial_inputs`). A
    partial run compares the file's row keys with the keys of its inputs (`input_keys`)
    instead of the digests: rows for sentences that are not in this input mean an edited
    input file. Either would mix two datasets in one file (every anchor twice, or a scratch
    run that stops at once because old rows already reach `n`), so the run is refused
    (`error`), starts a fresh file (`restart`), or, when the user asks, adds to it (`append`;
    the manifest then marks the file as mixed). Files from before manifests are judged by the
    `config` field of their rows. More inputs than before (a larger `limit`,
    sentences added) are not a change: the file is topped up.

    Returns a note for the user when the file was restarted or appended to, else None.
    """
    out = Path(out)
    files = TripletFiles(out)
    path, rejected = files.manifest, files.rejected
    manifest: dict = {"parts": []}
    if out.exists() or rejected.exists():
        found = read_json_or_none(path)
        manifest = found if isinstance(found, dict) and found.get("parts") else manifest
        if not manifest["parts"]:  # written before manifests: the rows' own fingerprints
            configs = {str(row.get("config")) for row in _repair_and_read(out)}
            manifest["parts"] = [{"config": c, "inputs": "unknown"} for c in sorted(configs)]
    parts: list[dict[str, str]] = manifest["parts"]
    same_config = [p for p in parts if p.get("config") == identity["config"]]
    partial = input_keys is not None

    def same_inputs(part: dict[str, str]) -> bool:
        found = part.get("inputs")
        return found in (identity["inputs"], "unknown") or (partial and _is_partial(found))

    problem = None
    if parts and not same_config:
        problem = "settings (LLM, sampling, pools, seed or filters)"
    elif not any(same_inputs(p) for p in same_config):
        problem = "inputs" if parts else None
    elif input_keys is not None and not manifest.get("mixed"):
        written = {row["key"] for f in (out, rejected) for row in _repair_and_read(f)}
        stale = len(written - input_keys)
        if stale:
            problem = f"inputs ({stale} of its rows are for sentences not in this input)"
    if problem is None:
        if identity not in parts:
            if partial and not manifest.get("mixed"):
                # Every row is for a sentence of these inputs (checked above): the digest of
                # the inputs read now replaces that of the earlier, shorter ones.
                parts = [p for p in parts if p not in same_config or not _is_partial(p["inputs"])]
            write_json_atomic(path, {**manifest, "parts": [*parts, identity]})
        return None
    if if_changed == "error":
        raise SyncseError(
            f"{out}: written by a run with other {problem}; set {{}} to start a fresh "
            "file (cached answers stay free), {} to add these rows to it, or choose "
            "another {}",
            "if_changed='restart'",
            "if_changed='append'",
            "out",
        )
    if if_changed == "restart":
        for stale_file in [out, *files.side_files()]:
            stale_file.unlink(missing_ok=True)
        write_json_atomic(path, {"parts": [identity]})
        return f"{out}: written with other {problem}; started a fresh file"
    write_json_atomic(path, {"parts": [*parts, identity], "mixed": True})
    return f"{out}: written with other {problem}; appending to it, as asked"


class ResultStore:
    def __init__(self, out: Path, flush_every: int = 16) -> None:
        self.out = Path(out)
        self.rejected_path = TripletFiles(self.out).rejected
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
        self._rejected_reasons = {(r["key"], r.get("reason")) for r in rejected}
        self._accepted = self.out.open("a", encoding="utf-8")
        self._rejected = self.rejected_path.open("a", encoding="utf-8")
        self._pending = 0
        self.flush_every = flush_every

    def screen(self, banned: set[str]) -> Counter[str]:
        """Move stored rows that hold a `banned` sentence (an evaluation or excluded one) to the
        rejected file, with the reason; return how many, by reason.

        A row written by a run without decontamination (no data folder then) is screened by
        the first run that has it: the file never claims a decontamination its rows did not
        get. The rejections are fsynced before the file is rewritten without the rows
        (atomically), so a crash in between leaves a row in both, which the next run moves
        again without a second rejection line."""
        moved: Counter[str] = Counter()
        if not banned:
            return moved
        kept = []
        for row in self.accepted_rows:
            reason = contamination(row, banned)
            if reason is None:
                kept.append(row)
                continue
            moved[reason] += 1
            if (row["key"], reason) not in self._rejected_reasons:
                detail = "stored by a run without this decontamination; screened later"
                info = {k: v for k, v in row.items() if k != "key"} | {"detail": detail}
                self.reject(row["key"], reason, **info)
        if not moved:
            return moved
        self.flush()
        self._accepted.close()
        write_text_atomic(self.out, jsonl_text(kept))
        self._accepted = self.out.open("a", encoding="utf-8")
        self.accepted_rows = kept
        return moved

    def add(self, row: dict[str, Any]) -> None:
        self._write(self._accepted, row)

    def reject(self, key: str, reason: str, retryable: bool = False, **info: Any) -> None:
        self._write(self._rejected, {"key": key, "reason": reason, "retryable": retryable} | info)

    def _write(self, handle, row: dict[str, Any]) -> None:
        # One write() of the whole line: a crash tears at most this line.
        handle.write(json_line(row))
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


def contamination(row: dict[str, Any], banned: set[str]) -> str | None:
    """Why a stored row may not stay in the data, or None: its anchor (`contaminated_input`)
    or a written sentence (`contaminated_output`) is a `banned` sentence (match keys), as the
    input selection and the row filter decide for new rows."""

    def banned_text(column: str) -> bool:
        text = row.get(column)
        return isinstance(text, str) and match_key(text) in banned

    if banned_text("sent0"):
        return "contaminated_input"
    if banned_text("sent1") or banned_text("hard_neg"):
        return "contaminated_output"
    return None


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

    def dump(self, path: Path) -> int:
        """Write every answer to `path` as JSON lines (key, text, token counts), oldest
        first, and return how many. The SQLite file is binary and rewritten in place, so it
        cannot travel in git with a dataset; this text can, and `load` on another machine
        makes a resume there free of the calls already paid for."""
        with self._lock:
            rows = self.db.execute(
                "SELECT key, text, prompt_tokens, completion_tokens FROM responses ORDER BY rowid"
            ).fetchall()
        fields = ("key", "text", "prompt_tokens", "completion_tokens")
        write_text_atomic(path, jsonl_text(dict(zip(fields, row, strict=True)) for row in rows))
        return len(rows)

    def load(self, path: Path) -> int:
        """Add the answers of a `dump` file (answers already here are kept); returns how many
        were new."""
        with self._lock:
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?)",
                (
                    (r["key"], r["text"], r["prompt_tokens"], r["completion_tokens"])
                    for r in read_jsonl(path)
                ),
            )
            self.db.commit()
            return self.db.total_changes - before

    def close(self) -> None:
        # Under the lock: after Ctrl-C a cancelled call's `get`/`put` may still be running in
        # its worker thread, and sqlite3 must not close the connection in the middle of it.
        with self._lock:
            self.db.close()
