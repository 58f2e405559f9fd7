"""SentEval's STS files as scored sentence pairs: STS12-16 (`STS.input`/`STS.gs`), STS-B and
SICK (tab-separated). Evaluation scores models on them; training selects checkpoints on the STS-B
dev split, so the readers live on the ground floor rather than in either stage.

Sentences are whitespace-tokenised and re-joined, as SentEval's `s.split()` + SimCSE's
`' '.join(s)` batcher do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from syncse.data.sampling import subsample_indices
from syncse.data.text import collapse_whitespace
from syncse.errors import DataError

#: STS-B in SentEval's tokenised copy: score in column 5, sentences in 6 and 7.
STSB_COLUMNS = (4, 5, 6)


@dataclass
class PairSet:
    """Sentence pairs with gold similarity scores."""

    left: list[str]
    right: list[str]
    gold: np.ndarray

    def subsample(self, limit: int | None, salt: int = 0) -> PairSet:
        """At most `limit` pairs (`subsample_indices`: a quick check, not a published figure)."""
        return self.select(subsample_indices(len(self.gold), limit, salt))

    def select(self, indices: np.ndarray) -> PairSet:
        """The pairs at `indices`, in that order."""
        return PairSet(
            [self.left[i] for i in indices], [self.right[i] for i in indices], self.gold[indices]
        )


def _read_lines(path: Path) -> list[str]:
    try:
        # splitlines() rather than line iteration: SentEval uses it, and it decides which
        # pairs exist in files containing unusual line separators.
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def load_sts_subset(directory: Path, subset: str) -> PairSet:
    input_path = directory / f"STS.input.{subset}.txt"
    gold_path = directory / f"STS.gs.{subset}.txt"
    inputs = _read_lines(input_path)
    scores = _read_lines(gold_path)
    if len(inputs) != len(scores):
        raise DataError(gold_path, f"{len(scores)} scores for {len(inputs)} pairs in {input_path}")
    left, right, gold = [], [], []
    for number, (line, score) in enumerate(zip(inputs, scores, strict=True), start=1):
        if score.strip() == "":
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise DataError(input_path, "expected two tab-separated sentences", line=number)
        try:
            gold.append(float(score))
        except ValueError as exc:
            raise DataError(gold_path, f"score {score!r} is not a number", line=number) from exc
        left.append(collapse_whitespace(parts[0]))
        right.append(collapse_whitespace(parts[1]))
    return PairSet(left, right, np.asarray(gold, dtype=np.float64))


def load_tsv_pairs(path: Path, cols: tuple[int, int, int], skip_header: bool) -> PairSet:
    """Read (score, sentence A, sentence B) columns of a tab-separated file (STS-B, SICK)."""
    score_col, a_col, b_col = cols
    left, right, gold = [], [], []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    for number, line in enumerate(lines, start=1):
        if (skip_header and number == 1) or not line.strip():
            continue
        parts = line.strip().split("\t")
        if len(parts) <= max(cols):
            raise DataError(
                path, f"expected at least {max(cols) + 1} tab-separated columns", number
            )
        try:
            gold.append(float(parts[score_col]))
        except ValueError as exc:
            raise DataError(path, f"score {parts[score_col]!r} is not a number", number) from exc
        left.append(collapse_whitespace(parts[a_col]))
        right.append(collapse_whitespace(parts[b_col]))
    return PairSet(left, right, np.asarray(gold, dtype=np.float64))


def stsb_path(data_dir: Path, split: str) -> Path:
    return Path(data_dir) / "STS" / "STSBenchmark" / f"sts-{split}.csv"


def load_stsb_dev(data_dir: Path) -> PairSet:
    """STS-B dev pairs, for model selection during training (never the test split)."""
    path = stsb_path(data_dir, "dev")
    if not path.exists():
        raise DataError(
            path,
            "missing STS-B dev split (needed for {}); {} (or SYNCSE_DATA_DIR) must point "
            "at a SentEval data/downstream folder",
            None,
            "eval_steps",
            "data_dir",
        )
    return load_tsv_pairs(path, cols=STSB_COLUMNS, skip_header=False)


#: SICK's NLI splits that may measure an NLI judge. The test split is an evaluation set of
#: the embedding models (SICK-R) and is never used for it.
SICK_NLI_SPLITS = ("trial", "train")


@dataclass
class NLIPairs:
    """Premise/hypothesis pairs with human labels (entailment, neutral, contradiction)."""

    premises: list[str]
    hypotheses: list[str]
    labels: list[str]


def load_sick_nli(data_dir: Path, split: str) -> NLIPairs:
    """SICK's human entailment labels for `split` ("trial" or "train"), A as the premise."""
    if split not in SICK_NLI_SPLITS:
        raise ValueError(f"split {split}: one of {', '.join(SICK_NLI_SPLITS)} (test is kept out)")
    path = Path(data_dir) / "SICK" / f"SICK_{split}.txt"
    if not path.exists():
        raise DataError(path, "missing SICK split; point {} at a SentEval folder", None, "data_dir")
    pairs = NLIPairs([], [], [])
    for number, line in enumerate(_read_lines(path)[1:], start=2):
        parts = line.split("\t")
        if len(parts) < 5 or parts[4].strip().lower() not in (
            "entailment",
            "neutral",
            "contradiction",
        ):
            raise DataError(path, "expected 5 tab-separated columns ending in a label", number)
        pairs.premises.append(collapse_whitespace(parts[1]))
        pairs.hypotheses.append(collapse_whitespace(parts[2]))
        pairs.labels.append(parts[4].strip().lower())
    return pairs
