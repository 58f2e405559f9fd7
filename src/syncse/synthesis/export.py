"""Export a syncse JSONL to SimCSE's CSV (sent0, sent1, hard_neg), for its training script."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def export_csv(jsonl: Path, out: Path | None = None) -> Path:
    out = out or jsonl.with_suffix(".csv")
    tmp = out.with_name(out.name + ".tmp")
    with jsonl.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["sent0", "sent1", "hard_neg"])
        for line in src:
            if line.strip():
                row = json.loads(line)
                writer.writerow([row["sent0"], row["sent1"], row["hard_neg"]])
    tmp.replace(out)
    return out
