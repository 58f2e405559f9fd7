"""syncse: train sentence-embedding models on contrastive triplets written by an LLM (SynCSE)."""

__version__ = "0.1.0"
