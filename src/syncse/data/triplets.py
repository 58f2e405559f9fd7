"""Read training rows, triplets (anchor, positive, hard negative) or pairs (anchor, positive),
and validate them line by line: the one reader of every command (`train`, `run`, `stats`,
`filter`) and of the Python API.

Sources: JSONL or CSV/TSV files, a Hugging Face dataset folder written by `save_to_disk`, or
rows in memory (a `datasets.Dataset`, a list of dicts, a list of (anchor, positive[, negative])
tuples). Columns may use SimCSE's names (sent0, sent1, hard_neg, what syncse writes) or
sentence-transformers' (anchor, positive, negative).

Bad rows are errors, not silent drops: a triplet file is the product of paid LLM calls, and a
user must learn that row 812 has an empty negative rather than find 3% of the data gone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncse.data.jsonl import MAX_LINE_CHARS, iter_jsonl
from syncse.errors import DataError

#: The roles of a training row, in order; a pair has the first two.
ROLES = ("anchor", "positive", "negative")
#: The column names syncse writes for each role (SimCSE's).
WRITTEN = {"anchor": "sent0", "positive": "sent1", "negative": "hard_neg"}
#: The column names read for each role: SimCSE's first, then sentence-transformers'.
ACCEPTED = {
    "anchor": ("sent0", "anchor", "sentence", "text"),
    "positive": ("sent1", "positive"),
    "negative": ("hard_neg", "negative"),
}
ANCHOR, POSITIVE, NEGATIVE = (ACCEPTED[role] for role in ROLES)
#: How the accepted names read in messages.
COLUMNS_HINT = "columns sent0, sent1[, hard_neg] or anchor, positive[, negative]"
#: File types read; a folder is a `save_to_disk` dataset.
SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv")
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
    """Training rows, column by column, as `load_triplets` returns them.

    `negatives` is None for pairs (anchor, positive): training then uses in-batch negatives
    only. `positives` holds empty strings when only anchors were asked for (unsupervised
    SimCSE)."""

    anchors: list[str]
    positives: list[str]
    negatives: list[str] | None
    #: The file or folder read; None for rows given in memory.
    path: Path | None = None
    #: Each row as read, every field kept (`syncse filter` writes them back).
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def has_negatives(self) -> bool:
        return self.negatives is not None

    @property
    def source(self) -> str:
        """Where the rows came from, for messages and model cards."""
        return str(self.path) if self.path is not None else "rows in memory"

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles these rows have: ("anchor", "positive"[, "negative"])."""
        return ROLES if self.has_negatives else ROLES[:2]

    def head(self, n: int) -> TripletData:
        """The first `n` rows."""
        return TripletData(
            self.anchors[:n],
            self.positives[:n],
            None if self.negatives is None else self.negatives[:n],
            self.path,
            self.records[:n],
        )

    def columns(self) -> dict[str, list[str]]:
        """Column by column under sentence-transformers' names (anchor, positive[, negative]),
        e.g. for `datasets.Dataset.from_dict`."""
        found = {"anchor": self.anchors, "positive": self.positives}
        if self.negatives is not None:
            found["negative"] = self.negatives
        return found

    def stats(self) -> dict[str, Any]:
        def words(xs: list[str]) -> float:
            return round(sum(len(x.split()) for x in xs) / max(len(xs), 1), 2)

        return {
            "rows": len(self),
            "distinct_anchors": len(set(self.anchors)),
            "mean_words": {role: words(v) for role, v in self.columns().items()},
        }


def _file_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
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
        elif suffix in SUFFIXES:
            with path.open(encoding="utf-8") as handle:
                yield from iter_jsonl(path, handle)
        else:
            raise DataError(
                path,
                f"unknown file type; use .jsonl or .csv ({COLUMNS_HINT}) or a dataset folder "
                "saved with save_to_disk",
            )
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text (byte {exc.start}); is this a binary file?") from exc


def is_dataset_folder(path: Path) -> bool:
    """A folder written by `datasets.Dataset.save_to_disk` (or a `DatasetDict`'s)."""
    return any((path / name).is_file() for name in ("state.json", "dataset_dict.json"))


def _one_split(dataset: Any, where: str) -> Any:
    """A `DatasetDict`'s "train" split, or its only one."""
    if not hasattr(dataset, "column_names") or isinstance(dataset.column_names, list):
        return dataset
    splits = list(dataset.keys())
    if "train" in splits:
        return dataset["train"]
    if len(splits) == 1:
        return dataset[splits[0]]
    raise DataError(where, f"a dataset with splits {', '.join(splits)}; no 'train' split to read")


def _dataset_rows(dataset: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, row in enumerate(dataset, start=1):
        yield number, dict(row)


def _memory_rows(rows: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows given in memory: dicts, or (anchor, positive[, negative]) tuples (a bare string
    is an anchor alone)."""
    for number, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            yield number, row
        elif isinstance(row, str):
            yield number, {WRITTEN["anchor"]: row}
        elif isinstance(row, (tuple, list)) and 1 <= len(row) <= len(ROLES):
            yield number, {WRITTEN[role]: value for role, value in zip(ROLES, row, strict=False)}
        else:
            raise DataError(
                "rows in memory",
                "expected a dict or an (anchor, positive[, negative]) tuple per row, got "
                f"{type(row).__name__}",
                number,
            )


def _rows(source: Any) -> tuple[Path | None, str, Iterator[tuple[int, dict[str, Any]]]]:
    """Where the rows come from (a path or None), its name for messages, and the rows."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            if not is_dataset_folder(path):
                raise DataError(
                    path,
                    "is a folder; pass a triplets file (.jsonl or .csv) or a dataset folder "
                    "saved with save_to_disk",
                )
            from datasets import load_from_disk

            dataset = _one_split(load_from_disk(str(path)), str(path))
            return path, str(path), _dataset_rows(dataset)
        if not path.is_file():
            raise DataError(path, "no such training file")
        return path, str(path), _file_rows(path)
    if hasattr(source, "column_names"):  # a datasets.Dataset or DatasetDict
        return None, "dataset", _dataset_rows(_one_split(source, "dataset"))
    if hasattr(source, "to_dict") and hasattr(source, "columns"):  # a pandas DataFrame
        return None, "data frame", _memory_rows(source.to_dict("records"))
    if isinstance(source, (list, tuple)):
        return None, "rows in memory", _memory_rows(source)
    raise DataError(
        "training data",
        f"cannot read {type(source).__name__}; pass a file, a save_to_disk folder, a "
        "datasets.Dataset or a list of rows",
    )


def _where(source: Any) -> str:
    """The name of a source in messages (as `_rows` gives it)."""
    if isinstance(source, (str, Path)):
        return str(source)
    if hasattr(source, "column_names"):
        return "dataset"
    return "data frame" if hasattr(source, "columns") else "rows in memory"


def _pick(columns: set[str], options: tuple[str, ...]) -> str | None:
    return next((c for c in options if c in columns), None)


def iter_triplets(
    source: str | Path | Any, need_pairs: bool = True, need_negatives: bool = False
) -> Iterator[tuple[dict[str, Any], tuple[str, str, str | None]]]:
    """Each row (all its fields) with its validated (anchor, positive, negative), whitespace
    stripped: the one reader of training rows, for training, `syncse filter` and `syncse stats`
    alike. `negative` is None for pairs (no negative column); with `need_pairs=False`
    (unsupervised) only the anchor column is needed, and positive is "". A bad row is a
    DataError naming the line; no rows yields nothing (each caller says what it needed).

    Args:
        source: as for `load_triplets`.
        need_pairs: False reads only the anchors.
        need_negatives: a negative column is required (checks that compare both sides).
    """
    _, where, rows = _rows(source)
    columns: dict[str, str | None] | None = None
    for number, row in rows:
        if columns is None:
            keys = set(row)
            columns = {role: _pick(keys, ACCEPTED[role]) for role in ROLES}
            wanted = ["anchor"]
            if need_pairs:
                wanted += ["positive", "negative"] if need_negatives else ["positive"]
            for role in wanted:
                if columns[role] is None:
                    raise DataError(
                        where,
                        f"no {role} column (one of {', '.join(ACCEPTED[role])}); "
                        f"columns are {', '.join(sorted(map(str, keys)))}",
                        number,
                    )
            if not need_pairs:
                columns["positive"] = columns["negative"] = None
        values: list[str | None] = []
        for role, column in columns.items():
            if column is None:
                values.append(None if role == "negative" else "")
                continue
            value = row.get(column)
            if not isinstance(value, str) or not value.strip():
                raise DataError(where, f"empty or missing {role} ({column!r})", number)
            if len(value) > MAX_LINE_CHARS:
                raise DataError(
                    where,
                    f"{role} of {len(value)} characters; expected a sentence "
                    f"(at most {MAX_LINE_CHARS})",
                    number,
                )
            values.append(value.strip())
        yield row, (str(values[0]), str(values[1]), values[2])


def load_triplets(
    source: str | Path | Any, need_pairs: bool = True, need_negatives: bool = False
) -> TripletData:
    """Read training rows, triplets or pairs, from a file, a dataset folder or memory.

    Args:
        source: a .jsonl or .csv/.tsv file, a folder written by `Dataset.save_to_disk`, a
            `datasets.Dataset`, a list of dicts or a list of (anchor, positive[, negative])
            tuples. Columns: SimCSE's (sent0, sent1, hard_neg) or sentence-transformers'
            (anchor, positive, negative); a negative column is optional.
        need_pairs: False reads only the anchors (unsupervised SimCSE).
        need_negatives: a negative column is required (checks that compare both sides).

    Returns:
        A `TripletData`; its `negatives` is None for pairs.

    Raises:
        DataError: naming the file and line of the first bad row.

    Example:
        >>> data = load_triplets([("A man plays a guitar.", "A man plays music.")])
        >>> len(data), data.has_negatives
        (1, False)
    """
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    records: list[dict[str, Any]] = []
    has_negatives = True
    for row, (anchor, positive, negative) in iter_triplets(source, need_pairs, need_negatives):
        anchors.append(anchor)
        positives.append(positive)
        has_negatives = has_negatives and negative is not None
        negatives.append(negative or "")
        records.append(row)
    path = Path(source) if isinstance(source, (str, Path)) else None
    if not anchors:
        raise DataError(_where(source), "no training rows")
    return TripletData(anchors, positives, negatives if has_negatives else None, path, records)
