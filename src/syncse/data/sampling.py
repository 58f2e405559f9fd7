"""The one meaning of `limit` when a task or a benchmark takes part of a data set."""

from __future__ import annotations

import numpy as np


def subsample_indices(n: int, limit: int | None, salt: int = 0) -> np.ndarray:
    """The one meaning of `limit` for every task: at most `limit` of a split's n examples, a
    fixed random subset kept in file order (the same subset on every run and machine, and
    spread over the whole file rather than its first lines, which are often sorted by source
    or label). `salt` separates splits of one task. A quick check, never a published figure."""
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(salt).choice(n, size=limit, replace=False))
