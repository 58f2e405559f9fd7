"""Read training triplets (JSONL or SimCSE CSV) and validate them line by line.

Bad rows are errors, not silent drops: a triplet file is the product of paid LLM calls, and a
user must learn that row 812 has an empty negative rather than find 3% of the data gone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncse.data.jsonl import MAX_LINE_CHARS, iter_jsonl
from syncse.errors import DataError

#: Accepted column names, SimCSE's first.
ANCHOR = ("sent0", "anchor", "sentence", "text")
POSITIVE = ("sent1", "positive")
NEGATIVE = ("hard_neg", "negative")
csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class TripletFiles:
    """A triplets file and the files syncse writes beside it. The only place their names are
    spelled: synthesis writes them, `syncse stats`, the report and the experiments read them."""

    path: Path

    def _beside(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    @property
    def rejected(self) -> Path:
        """Rows dropped by a filter or check, with the reason (JSONL)."""
        return self._beside(".rejected.jsonl")

    @property
    def summary(self) -> Path:
        """The synthesis summary (`SynthesisSummary`, JSON)."""
        return self._beside(".summary.json")

    @property
    def manifest(self) -> Path:
        """What made the file: inputs, model, prompts; a resume must match it."""
        return self._beside(".manifest.json")

    @property
    def cache(self) -> Path:
        """The LLM response cache (SQLite), keyed by exact request."""
        return self._beside(".cache.sqlite")

    @property
    def csv(self) -> Path:
        """The SimCSE-format CSV export (`syncse synthesize ... --format csv`)."""
        return self.path.with_suffix(".csv")

    def side_files(self) -> list[Path]:
        """Every file a synthesis run writes beside its output, except the response cache,
        whose answers stay valid for any run (its keys are the exact requests)."""
        return [self.rejected, self.summary, self.manifest, self.csv]


@dataclass
class TripletData:
    anchors: list[str]
    positives: list[str]
    negatives: list[str]
    path: Path

    def __len__(self) -> int:
        return len(self.anchors)

    def stats(self) -> dict[str, Any]:
        def words(xs: list[str]) -> float:
            return round(sum(len(x.split()) for x in xs) / max(len(xs), 1), 2)

        return {
            "rows": len(self),
            "distinct_anchors": len(set(self.anchors)),
            "mean_words": {
                "anchor": words(self.anchors),
                "positive": words(self.positives),
                "negative": words(self.negatives),
            },
        }


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row dict) for .jsonl/.json-lines or .csv/.tsv files."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
                if not reader.fieldnames:
                    raise DataError(path, "empty file; expected a header line with column names")
                for row in reader:
                    yield reader.line_num, row
        elif suffix in (".jsonl", ".json", ".ndjson"):
            with path.open(encoding="utf-8") as handle:
                yield from iter_jsonl(path, handle)
        else:
            raise DataError(
                path,
                "unknown file type; use .jsonl or .csv (SimCSE columns sent0, sent1, hard_neg)",
            )
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text (byte {exc.start}); is this a binary file?") from exc


def _pick(columns: set[str], options: tuple[str, ...]) -> str | None:
    return next((c for c in options if c in columns), None)


def iter_triplets(
    path: str | Path, need_pairs: bool = True
) -> Iterator[tuple[dict[str, Any], tuple[str, str, str]]]:
    """Each row of a triplets file (all its fields) with its validated (anchor, positive,
    negative), whitespace stripped: the one reader of triplet files, for training, `syncse
    filter` and `syncse stats` alike. With `need_pairs=False` (unsupervised) only the anchor
    column is needed, and positive and negative are "". A bad row is a DataError naming the
    line; an empty file yields nothing (each caller says what it needed)."""
    path = Path(path)
    if path.is_dir():
        raise DataError(path, "is a folder; pass a triplets file (.jsonl or .csv)")
    if not path.is_file():
        raise DataError(path, "no such triplets file")
    columns: tuple[str | None, str | None, str | None] | None = None
    for number, row in _rows(path):
        if columns is None:
            keys = set(row)
            columns = (_pick(keys, ANCHOR), _pick(keys, POSITIVE), _pick(keys, NEGATIVE))
            wanted = [("anchor", ANCHOR, columns[0])]
            if need_pairs:
                wanted += [("positive", POSITIVE, columns[1]), ("negative", NEGATIVE, columns[2])]
            for role, options, found in wanted:
                if found is None:
                    raise DataError(
                        path,
                        f"no {role} column (one of {', '.join(options)}); "
                        f"columns are {', '.join(sorted(keys))}",
                        number,
                    )
        values = []
        for role, column in zip(("anchor", "positive", "negative"), columns, strict=True):
            if column is None or (role != "anchor" and not need_pairs):
                values.append("")
                continue
            value = row.get(column)
            if not isinstance(value, str) or not value.strip():
                raise DataError(path, f"empty or missing {role} ({column!r})", number)
            if len(value) > MAX_LINE_CHARS:
                raise DataError(
                    path,
                    f"{role} of {len(value)} characters; expected a sentence "
                    f"(at most {MAX_LINE_CHARS})",
                    number,
                )
            values.append(value.strip())
        yield row, (values[0], values[1], values[2])


def load_triplets(path: str | Path, need_pairs: bool = True) -> TripletData:
    """Load triplets; with `need_pairs=False` (unsupervised) only the anchor column is needed."""
    path = Path(path)
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    for _, (anchor, positive, negative) in iter_triplets(path, need_pairs):
        anchors.append(anchor)
        positives.append(positive)
        negatives.append(negative)
    if not anchors:
        raise DataError(path, "no training rows")
    return TripletData(anchors, positives, negatives, path)
