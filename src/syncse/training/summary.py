"""What a training run did: the typed record behind `syncse_training.json` in a model folder.

`train()` returns it, the CLI prints from it and the report reads it back with `load`; the file
name and the keys are spelled here only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from syncse.data.files import read_json_or_none, write_json_atomic
from syncse.data.records import Record

TRAINING_SUMMARY_FILE = "syncse_training.json"


@dataclass
class TrainingSummary(Record):
    #: The `TrainingConfig` as JSON (paths as strings).
    config: dict[str, Any]
    #: `TripletData.stats()` plus the file's path and the examples trained on.
    data: dict[str, Any]
    global_step: int
    resumed_from: str | None
    steps_this_run: int
    train_loss: float
    #: STS-B dev Spearman x100 of the saved model; None when no dev set was given. The same
    #: figure as the best step's dev score in `log_history` (a fraction there), since steps
    #: are scored as the model is saved (full length, no MLP head).
    dev_spearman: float | None
    #: The step whose weights were saved: the best on STS-B dev (None without a dev set). Its
    #: checkpoint was removed with the others once the model was saved.
    best_step: int | None
    #: The trainer's log (loss, learning rate, dev scores by step), for the report's plot.
    log_history: list[dict[str, Any]] = field(default_factory=list)
    #: The trained `SentenceTransformer`, in memory, as `train` hands it back; not part of
    #: the JSON record (None when the summary was read back with `load`: load the model with
    #: `SentenceTransformer(folder)`).
    model: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "model"
        }

    def save(self, model_dir: Path) -> Path:
        target = Path(model_dir) / TRAINING_SUMMARY_FILE
        write_json_atomic(target, self.to_json())
        return target

    @classmethod
    def load(cls, model_dir: Path) -> TrainingSummary | None:
        """The record in `model_dir`, or None when the folder holds none (not trained by
        syncse, or training never finished)."""
        found = read_json_or_none(Path(model_dir) / TRAINING_SUMMARY_FILE)
        return cls.from_json(found) if isinstance(found, dict) else None
