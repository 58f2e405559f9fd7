"""Unlabeled corpora for experiments: Flickr8k captions of the *train* images.

One place for the selection rule, so the experiment, the synthesis benchmark and the reliability
tests annotate the same kind of sentences: one caption per train image (drawn with a fixed
seed), at least three words, none that also appears in an STS/SICK test set, shuffled with the
same seed. The first n of a larger draw equal a smaller draw, so a 1,000-row run extends a
200-row one.
"""

from __future__ import annotations

import random
from pathlib import Path

from syncse.evaluation.reranking import read_flickr8k
from syncse.synthesis.filters import evaluation_sentences, normalise


def flickr8k_captions(senteval_dir: Path, n: int | None = None, seed: int = 42) -> list[str]:
    """Decontaminated train-image captions; `senteval_dir` is the SentEval data folder, with
    `flickr8k/` beside it (the layout of `../shared/data`)."""
    banned = evaluation_sentences(senteval_dir)
    by_image = read_flickr8k(senteval_dir.parent / "flickr8k", "train")
    rng = random.Random(seed)
    pool = [rng.choice(caps) for _, caps in sorted(by_image.items())]
    pool = [c for c in pool if normalise(c) not in banned and len(c.split()) >= 3]
    rng.shuffle(pool)
    return pool if n is None else pool[:n]
