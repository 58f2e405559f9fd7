"""Training: supervised/unsupervised SimCSE on sentence-transformers' trainer."""

from syncse.data.triplets import TripletData, load_triplets
from syncse.training.config import TrainingConfig
from syncse.training.trainer import train

__all__ = ["TrainingConfig", "TripletData", "load_triplets", "train"]
