"""Human-labelled reference triplets from SICK train, the comparison arm for synthetic data.

For every sentence A that SICK pairs with both an ENTAILMENT and a CONTRADICTION partner, one
triplet (A, entailed, contradicting) — the same shape SimCSE builds from NLI data. Only the
train split is used, so the SICK-R test evaluation stays clean.
"""

from __future__ import annotations

from pathlib import Path

from syncse.data.files import write_text_atomic
from syncse.data.jsonl import jsonl_text
from syncse.data.triplets import WRITTEN
from syncse.errors import DataError


def sick_triplets(senteval_dir: Path) -> list[dict[str, str]]:
    path = Path(senteval_dir) / "SICK" / "SICK_train.txt"
    if not path.exists():
        raise DataError(path, "missing; expected SentEval's SICK folder")
    partners: dict[str, dict[str, list[str]]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        parts = line.strip().split("\t")
        if len(parts) < 5:
            raise DataError(path, "expected 5 tab-separated columns", number)
        a, b, label = parts[1], parts[2], parts[4]
        for x, y in ((a, b), (b, a)):  # NLI labels here are symmetric for E/C in practice
            partners.setdefault(x, {}).setdefault(label, []).append(y)
    rows = []
    for sentence, by_label in partners.items():
        ent, con = by_label.get("ENTAILMENT"), by_label.get("CONTRADICTION")
        if ent and con:
            rows.append(dict(zip(WRITTEN.values(), (sentence, ent[0], con[0]), strict=True)))
    return rows


def write_jsonl(rows: list[dict[str, str]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, jsonl_text(rows))
    return path
