"""Encode each distinct sentence once per evaluation run.

STS years repeat sentences across pairs and tasks share sentences (STS-B and SICK draw on
the same sources); reranking candidate lists repeat captions across queries. Caching by
text makes the whole suite cost one pass over its distinct sentences.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from syncse.progress import progress_enabled


class CachedEncoder:
    """Wrap a SentenceTransformer so each distinct text is encoded at most once.

    Embeddings are returned L2-normalised (float32), so a dot product is a cosine.
    """

    #: Encodings at least this long show a progress bar (the transfer sets, reranking): a
    #: task that runs for minutes must not look hung.
    PROGRESS_FROM = 2000

    def __init__(self, model: Any, batch_size: int = 128, show_progress: bool = False) -> None:
        self.model = model
        self.batch_size = batch_size
        self.show_progress = show_progress
        self._cache: dict[str, np.ndarray] = {}
        self.encode_seconds = 0.0
        self.sentences_encoded = 0

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            start = time.perf_counter()
            vectors = self.model.encode(
                missing,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=progress_enabled()
                and (self.show_progress or len(missing) >= self.PROGRESS_FROM),
            ).astype(np.float32, copy=False)
            self.encode_seconds += time.perf_counter() - start
            self.sentences_encoded += len(missing)
            self._cache.update(zip(missing, vectors, strict=True))
        if not sentences:
            dim = self.model.get_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self._cache[s] for s in sentences])
