"""The typed record of one model's evaluation: what `evaluate_model` returns and the results
JSON holds (`syncse evaluate --out`, a run folder's `eval/start.json` and `eval/trained.json`).
Its keys are spelled here; readers use `EvaluationResults.load`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncse.data.files import read_json_or_none
from syncse.data.records import Record


@dataclass
class EvaluationResults(Record):
    model: str
    #: The folder or hub id the name resolved to.
    model_path: str
    data_dir: str
    #: Task name -> its metrics, with `category`, `main_metric` and `seconds`.
    tasks: dict[str, dict[str, Any]]
    #: Category ("sts", "transfer", ...) -> {"avg", "tasks", "complete"}.
    summary: dict[str, dict[str, Any]]
    pooling: str | None = None
    layers: int | None = None
    max_seq_length: int | None = None
    #: Examples per split (`subsample_indices`); None = the full tasks.
    limit: int | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    #: Which model of a run this is ("start", "trained"), when a pipeline wrote it.
    label: str | None = None

    def score(self, task: str) -> float | None:
        """The task's main metric, or None when it was not run."""
        entry = self.tasks.get(task)
        return None if entry is None else entry[entry["main_metric"]]

    def average(self, category: str) -> float | None:
        """The category's average over its tasks (e.g. "sts"), or None when none ran."""
        found = self.summary.get(category)
        return None if found is None else found["avg"]

    @classmethod
    def load(cls, path: Path) -> EvaluationResults | None:
        """The results in `path`, or None when there are none (not evaluated yet)."""
        found = read_json_or_none(path)
        return cls.from_json(found) if isinstance(found, dict) and "tasks" in found else None
