"""Read the unlabeled input sentences: text (one per line), CSV/JSONL with a column, a
Hugging Face dataset (in memory, a `save_to_disk` folder, or by name when online), or a list.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from syncse.data.jsonl import MAX_LINE_CHARS, iter_jsonl
from syncse.errors import DataError, SyncseError

csv.field_size_limit(10_000_000)


def as_sentences(source: Any, column: str | None = None) -> list[str]:
    """The sentences of any input `synthesize_partial` takes: a list of strings (as given), a
    file or dataset folder or hub name (`read_sentences`), or a `datasets.Dataset` (its
    `column`, default "text")."""
    if isinstance(source, (str, Path)):
        return read_sentences(source, column)
    if hasattr(source, "column_names"):
        return _dataset_sentences(source, column, "dataset")
    sentences = list(source)
    bad = next((i for i, s in enumerate(sentences) if not isinstance(s, str)), None)
    if bad is not None:
        raise SyncseError(
            f"sentences: item {bad} is {type(sentences[bad]).__name__}, not a string; pass a "
            "list of sentences, a file or a datasets.Dataset (with {})",
            "column",
        )
    if not sentences:
        raise SyncseError("sentences: none given")
    return sentences


def _dataset_sentences(dataset: Any, column: str | None, name: str) -> list[str]:
    if not isinstance(dataset.column_names, list):  # a DatasetDict: its train split
        if "train" not in dataset:
            raise SyncseError(f"{name}: no 'train' split (splits: {', '.join(dataset)})")
        dataset = dataset["train"]
    col = column or "text"
    if col not in dataset.column_names:
        raise SyncseError(
            f"{name}: no column '{col}' (columns: {', '.join(dataset.column_names)}); set {{}}",
            "column",
        )
    return [" ".join(str(s).split()) for s in dataset[col] if str(s).strip()]


def read_sentences(source: str | Path, column: str | None = None) -> list[str]:
    """Sentences from a file (.txt one per line; .csv/.tsv/.jsonl: `column`, default "text"),
    a `save_to_disk` dataset folder, or (online) a hub dataset name."""
    path = Path(source)
    if path.is_dir() and any((path / n).is_file() for n in ("state.json", "dataset_dict.json")):
        from datasets import load_from_disk

        return _dataset_sentences(load_from_disk(str(path)), column, str(path))
    if not path.exists():
        if "/" in str(source) and not str(source).startswith((".", "/")) and not path.suffix:
            return _from_hub(str(source), column)
        raise DataError(path, "no such input file")
    if path.is_dir():
        raise DataError(path, "is a folder; pass a file of sentences")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise DataError(path, "looks binary (NUL bytes); expected UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, f"not UTF-8 (byte {exc.start}); re-encode it as UTF-8", line) from exc
    suffix = path.suffix.lower()
    sentences: list[str] = []
    if suffix in (".jsonl", ".ndjson"):
        col = column or "text"
        for number, row in iter_jsonl(path, text.splitlines()):
            if col not in row:
                raise DataError(path, f"no '{col}' field; set {{}}", number, "column")
            sentences.append(_check(str(row[col]), path, number))
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        col = column or "text"
        if not reader.fieldnames or col not in reader.fieldnames:
            raise DataError(
                path,
                f"no column '{col}' (columns: {', '.join(reader.fieldnames or [])}); set {{}}",
                1,
                "column",
            )
        for row in reader:
            sentences.append(_check(row[col] or "", path, reader.line_num))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            sentences.append(_check(line, path, number))
    sentences = [s for s in sentences if s]
    if not sentences:
        raise DataError(path, "no sentences in file")
    return sentences


def _check(sentence: str, path: Path, number: int) -> str:
    if len(sentence) > MAX_LINE_CHARS:
        raise DataError(
            path,
            f"line of {len(sentence)} characters; expected one sentence a line "
            f"(at most {MAX_LINE_CHARS})",
            number,
        )
    return " ".join(sentence.split())


def _from_hub(name: str, column: str | None) -> list[str]:
    import datasets

    try:
        ds = datasets.load_dataset(name, split="train")
    except Exception as exc:  # hub errors vary; the message is what the user needs
        raise SyncseError(f"{name}: could not load dataset from the hub ({exc})") from exc
    return _dataset_sentences(ds, column, name)
