"""The task registry: a task is data + a metric, registered by name (as in MTEB).

Every task answers `evaluate(encoder) -> dict` of named metrics, like a sentence-transformers
evaluator, and names its `main_metric` so summaries and comparisons know what to average.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from syncse.errors import DataError, SyncseError
from syncse.evaluation.encoding import CachedEncoder


class Task(ABC):
    name: ClassVar[str]
    category: ClassVar[str]  # "sts" | "transfer" | "rerank"
    main_metric: ClassVar[str]

    def __init__(self, data_dir: Path, limit: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        #: Cap on examples per split (`subsample_indices`), for quick checks; results record
        #: it. None = the full task.
        self.limit = limit

    @abstractmethod
    def required_files(self) -> list[Path]:
        """Files that must exist before encoding starts (checked up front, all tasks at once)."""

    @abstractmethod
    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        """Return named metrics; `self.main_metric` must be among them."""

    def check_files(self) -> None:
        for path in self.required_files():
            if not path.exists():
                raise DataError(
                    path,
                    f"missing file for task {self.name}; --data-dir (or SYNCSE_DATA_DIR) must "
                    "point at a SentEval data/downstream folder (STS/, SICK/, MR/, ...)",
                )


TASKS: dict[str, type[Task]] = {}
GROUPS: dict[str, list[str]] = {}
#: The names tables print for tasks whose registered names are long; `--tasks` takes either.
SHORT_NAMES = {"STSBenchmark": "STS-B", "SICKRelatedness": "SICK-R"}


def register_task(cls: type[Task]) -> type[Task]:
    TASKS[cls.name] = cls
    GROUPS.setdefault(cls.category, []).append(cls.name)
    return cls


def expand_task_names(spec: str | list[str]) -> list[str]:
    """Turn "sts,transfer,STS12,STS-B" into registered task names (case-insensitive; the short
    names tables print are accepted too), groups expanded, order kept."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    lookup = {n.lower(): n for n in TASKS}
    lookup |= {short.lower(): name for name, short in SHORT_NAMES.items() if name in TASKS}
    for raw in (i.strip() for i in items):
        if not raw:
            continue
        if raw.lower() in GROUPS:
            names.extend(GROUPS[raw.lower()])
        elif raw.lower() in lookup:
            names.append(lookup[raw.lower()])
        else:
            known = ", ".join(sorted(GROUPS) + sorted(TASKS) + sorted(SHORT_NAMES.values()))
            raise SyncseError(f"unknown task '{raw}'; known tasks and groups: {known}")
    return list(dict.fromkeys(names))
