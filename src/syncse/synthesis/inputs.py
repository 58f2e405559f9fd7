"""Read the unlabeled input sentences: text (one per line), CSV/JSONL with a column, or (online)
a Hugging Face dataset name."""

from __future__ import annotations

import csv
from pathlib import Path

from syncse.data.jsonl import MAX_LINE_CHARS, iter_jsonl
from syncse.errors import DataError, SyncseError

csv.field_size_limit(10_000_000)


def read_sentences(source: str | Path, column: str | None = None) -> list[str]:
    path = Path(source)
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
                raise DataError(path, f"no '{col}' field; pass --column NAME", number)
            sentences.append(_check(str(row[col]), path, number))
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        col = column or "text"
        if not reader.fieldnames or col not in reader.fieldnames:
            raise DataError(
                path,
                f"no column '{col}' (columns: {', '.join(reader.fieldnames or [])})"
                "; pass --column NAME",
                1,
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
    col = column or "text"
    if col not in ds.column_names:
        raise SyncseError(f"{name}: no column '{col}' (columns: {', '.join(ds.column_names)})")
    return [" ".join(str(s).split()) for s in ds[col] if str(s).strip()]
