"""Corpora on disk: Flickr8k captions, and the evaluation sentences no training data may hold.

One place for the selection rule, so the experiment, the synthesis benchmark and the reliability
tests annotate the same kind of sentences: one caption per *train* image (drawn with a fixed
seed), at least three words, none that also appears in an STS/SICK test set, shuffled with the
same seed. The first n of a larger draw equal a smaller draw, so a 1,000-row run extends a
200-row one. Reranking reads the *test* images' captions through the same reader.
"""

from __future__ import annotations

import random
from pathlib import Path

from syncse.data.text import collapse_whitespace, match_key
from syncse.errors import DataError


def read_flickr8k(directory: Path, split: str = "test") -> dict[str, list[str]]:
    """Image id -> its captions (in file order), for the images of one split."""
    images_file = directory / f"Flickr_8k.{split}Images.txt"
    tokens_file = directory / "Flickr8k.token.txt"
    wanted = {line.strip() for line in images_file.read_text().splitlines() if line.strip()}
    captions: dict[str, list[str]] = {}
    for number, line in enumerate(tokens_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, caption = line.partition("\t")
        if not sep:
            raise DataError(tokens_file, "expected '<image>#<n><TAB><caption>'", number)
        image = key.split("#")[0]
        if image in wanted:
            captions.setdefault(image, []).append(collapse_whitespace(caption))
    return {image: captions[image] for image in sorted(captions)}


def evaluation_sentences(senteval_dir: Path) -> set[str]:
    """Match keys of the STS12-16, STS-B and SICK *test* sentences (all pairs, including
    those SentEval skips), so synthetic data never contains what a model is judged on."""
    found: set[str] = set()
    sts = senteval_dir / "STS"
    for path in sorted(sts.glob("STS1*-en-test/STS.input.*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            found.update(match_key(s) for s in line.split("\t")[:2])
    stsb = sts / "STSBenchmark" / "sts-test.csv"
    if stsb.exists():
        for line in stsb.read_text(encoding="utf-8").splitlines():
            found.update(match_key(s) for s in line.split("\t")[5:7])
    sick = senteval_dir / "SICK" / "SICK_test_annotated.txt"
    if sick.exists():
        for line in sick.read_text(encoding="utf-8").splitlines()[1:]:
            found.update(match_key(s) for s in line.split("\t")[1:3])
    found.discard("")
    return found


def flickr8k_captions(senteval_dir: Path, n: int | None = None, seed: int = 42) -> list[str]:
    """Decontaminated train-image captions; `senteval_dir` is the SentEval data folder, with
    `flickr8k/` beside it (the layout of `../shared/data`)."""
    banned = evaluation_sentences(senteval_dir)
    by_image = read_flickr8k(senteval_dir.parent / "flickr8k", "train")
    return [caption for caption, _ in _drawn_captions(by_image, banned, seed)][:n]


def flickr8k_caption_pairs(
    senteval_dir: Path, n: int | None = None, seed: int = 42
) -> list[tuple[str, str]]:
    """Human positives for the captions `flickr8k_captions` draws: each caption paired with
    another caption of the same image (the first of the image's other captions that is
    decontaminated and at least three words long), in the same order; a caption whose image
    has no such second caption is left out.

    Why: SimCSE trained on such caption pairs too, and they are human paraphrases of the very
    sentences SynCSE-partial annotates, so they are the human reference at matched anchors.
    """
    banned = evaluation_sentences(senteval_dir)
    by_image = read_flickr8k(senteval_dir.parent / "flickr8k", "train")
    pairs = []
    for caption, image in _drawn_captions(by_image, banned, seed):
        others = (c for c in by_image[image] if c != caption and _usable(c, banned))
        other = next(others, None)
        if other is not None:
            pairs.append((caption, other))
        if n is not None and len(pairs) == n:
            break
    return pairs


def _usable(caption: str, banned: set[str]) -> bool:
    """The selection rule: not an evaluation sentence, at least three words."""
    return match_key(caption) not in banned and len(caption.split()) >= 3


def _drawn_captions(
    by_image: dict[str, list[str]], banned: set[str], seed: int
) -> list[tuple[str, str]]:
    """(caption, image) for one caption per train image, filtered and shuffled with `seed`."""
    rng = random.Random(seed)
    pool = [(rng.choice(caps), image) for image, caps in sorted(by_image.items())]
    pool = [(c, i) for c, i in pool if _usable(c, banned)]
    rng.shuffle(pool)
    return pool
