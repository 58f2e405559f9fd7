"""Export a syncse JSONL to SimCSE's CSV (sent0, sent1, hard_neg), for its training script."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from syncse.files import write_text_atomic


def export_csv(jsonl: Path, out: Path | None = None) -> Path:
    out = out or jsonl.with_suffix(".csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sent0", "sent1", "hard_neg"])
    with jsonl.open(encoding="utf-8") as src:
        for line in src:
            if line.strip():
                row = json.loads(line)
                writer.writerow([row["sent0"], row["sent1"], row["hard_neg"]])
    write_text_atomic(out, buffer.getvalue())
    return out
