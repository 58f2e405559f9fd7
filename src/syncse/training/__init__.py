"""Training: supervised/unsupervised SimCSE on sentence-transformers' trainer.

Names are imported on first use (PEP 562), so the typed `TrainingConfig` loads without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncse.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
