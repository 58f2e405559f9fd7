"""Training: supervised/unsupervised SimCSE on sentence-transformers' trainer.

Names are imported on first use (PEP 562), so the typed `TrainingConfig` loads without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncse.data.triplets import TripletData, load_triplets
    from syncse.training.config import TrainingConfig
    from syncse.training.trainer import train

_EXPORTS = {
    "TrainingConfig": "syncse.training.config",
    "TripletData": "syncse.data.triplets",
    "load_triplets": "syncse.data.triplets",
    "train": "syncse.training.trainer",
}
__all__ = [
    "TrainingConfig",
    "TripletData",
    "load_triplets",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'syncse.training' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
