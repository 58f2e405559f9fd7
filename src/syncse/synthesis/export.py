"""Export a syncse JSONL to SimCSE's CSV (sent0, sent1, hard_neg), for its training script."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from syncse.data.files import write_text_atomic
from syncse.data.jsonl import read_jsonl
from syncse.data.triplets import ROLES, WRITTEN, TripletFiles


def export_csv(jsonl: Path, out: Path | None = None) -> Path:
    out = out or TripletFiles(jsonl).csv
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [WRITTEN[role] for role in ROLES]
    writer.writerow(columns)
    for row in read_jsonl(jsonl):
        writer.writerow([row[c] for c in columns])
    write_text_atomic(out, buffer.getvalue())
    return out
