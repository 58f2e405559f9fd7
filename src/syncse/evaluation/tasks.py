"""The task registry: a task is data + a metric, registered by name (as in MTEB).

Every task answers `evaluate(encoder) -> dict` of named metrics, like a sentence-transformers
evaluator, and names its `main_metric` so summaries and comparisons know what to average.
The categories (each a table and an average) and the tasks' short names are spelled here
only: the results tables, `syncse compare` and the run report all iterate this registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from syncse.errors import DataError, SyncseError

if TYPE_CHECKING:
    from syncse.evaluation.encoding import CachedEncoder

#: The categories, in table order: name -> the title of its table (and its metric).
STS, TRANSFER, RERANK, MTEB_RERANK = "sts", "transfer", "rerank", "mteb-rerank"
CATEGORIES: dict[str, str] = {
    STS: "STS (Spearman x100)",
    TRANSFER: "Transfer (accuracy %)",
    RERANK: "Reranking (MAP x100)",
    MTEB_RERANK: "MTEB reranking (MAP x100)",
}


class Task(ABC):
    name: ClassVar[str]
    category: ClassVar[str]  # a key of CATEGORIES
    main_metric: ClassVar[str]
    #: The name in table heads (STS-B for STSBenchmark); None: `name`.
    short_name: ClassVar[str | None] = None

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
                    f"missing file for task {self.name}; {{}} (or SYNCSE_DATA_DIR) must "
                    "point at a SentEval data/downstream folder (STS/, SICK/, MR/, ...)",
                    None,
                    "data_dir",
                )


TASKS: dict[str, type[Task]] = {}
GROUPS: dict[str, list[str]] = {}
#: The names tables print for tasks whose registered names are long (each task's
#: `short_name`, filled in as tasks register); `--tasks` takes either.
SHORT_NAMES: dict[str, str] = {}


def register_task(cls: type[Task]) -> type[Task]:
    if cls.category not in CATEGORIES:
        raise ValueError(f"task {cls.name}: category {cls.category!r} not in {list(CATEGORIES)}")
    TASKS[cls.name] = cls
    GROUPS.setdefault(cls.category, []).append(cls.name)
    if cls.short_name:
        SHORT_NAMES[cls.name] = cls.short_name
    return cls


def display_name(task: str) -> str:
    """A task's name in tables: its `short_name` when registered with one."""
    return SHORT_NAMES.get(task, task)


def tasks_in(category: str, results: dict[str, dict[str, Any]]) -> list[str]:
    """The tasks of `results` (name -> metrics with `category`) in `category`, in order."""
    return [name for name, found in results.items() if found["category"] == category]


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
