"""A small base for the typed records each stage writes as JSON (synthesis and training
summaries): one `to_json`/`from_json` pair per record, and dict-style reads so that scripts
written against the JSON files (`summary["accepted"]`) work on the objects too."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Self


class Record:
    """Mixin for dataclasses: nested records are converted both ways by their annotations."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Known keys only: a file written by a newer syncse (more keys) still loads."""
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value, kind = data[f.name], hints[f.name]
            if isinstance(kind, type) and issubclass(kind, Record) and isinstance(value, dict):
                value = kind.from_json(value)
            values[f.name] = value
        return cls(**values)

    def __getitem__(self, key: str) -> Any:
        if key not in {f.name for f in dataclasses.fields(self)}:  # type: ignore[arg-type]
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None)
        return default if value is None else value
