"""Semantic textual similarity tasks in the SentEval "all" setting used by SimCSE and SynCSE.

Fidelity to SentEval matters because published figures are compared against ours:
- STS12-16: each subset's `STS.input` lines are split on tabs, pairs whose gold line is empty
  are skipped, and Spearman is computed once over all subsets of a year pooled ("all").
- STS-B and SICK-R: cosine similarity on the test split (no regressor is trained).
- Sentences are whitespace-tokenised and re-joined, as SentEval's `s.split()` + SimCSE's
  `' '.join(s)` batcher do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.stats import pearsonr, spearmanr

from syncse.data.senteval import (
    STSB_COLUMNS,
    PairSet,
    load_sts_subset,
    load_tsv_pairs,
    stsb_path,
)
from syncse.evaluation.encoding import CachedEncoder
from syncse.evaluation.tasks import STS, Task, register_task


def cosine_scores(encoder: CachedEncoder, pairs: PairSet) -> np.ndarray:
    a = encoder.encode(pairs.left)
    b = encoder.encode(pairs.right)
    return np.sum(a * b, axis=1)  # embeddings are unit length


def correlations(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    return {
        "spearman": float(spearmanr(predicted, gold)[0] * 100),
        "pearson": float(pearsonr(predicted, gold)[0] * 100),
        "n_pairs": len(gold),
    }


class STSYearTask(Task):
    """One SemEval STS year: per-subset figures plus Spearman over all subsets pooled."""

    category = STS
    main_metric = "spearman"
    folder: ClassVar[str]
    subsets: ClassVar[list[str]]

    def _dir(self) -> Path:
        return self.data_dir / "STS" / self.folder

    def required_files(self) -> list[Path]:
        files = []
        for subset in self.subsets:
            files += [self._dir() / f"STS.input.{subset}.txt", self._dir() / f"STS.gs.{subset}.txt"]
        return files

    def pair_sets(self) -> dict[str, PairSet]:
        """Every subset's pairs, before any `limit` (benchmarks time the whole suite)."""
        return {subset: load_sts_subset(self._dir(), subset) for subset in self.subsets}

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        all_pred, all_gold, per_subset = [], [], {}
        for subset, pairs in self.pair_sets().items():
            pairs = pairs.subsample(self.limit)
            predicted = cosine_scores(encoder, pairs)
            per_subset[subset] = correlations(predicted, pairs.gold)
            all_pred.append(predicted)
            all_gold.append(pairs.gold)
        result = correlations(np.concatenate(all_pred), np.concatenate(all_gold))
        result["subsets"] = per_subset
        return result


@register_task
class STS12(STSYearTask):
    name = "STS12"
    folder = "STS12-en-test"
    subsets = ["MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"]


@register_task
class STS13(STSYearTask):
    name = "STS13"
    folder = "STS13-en-test"
    subsets = ["FNWN", "headlines", "OnWN"]  # SMT is withheld (licence), as in SentEval


@register_task
class STS14(STSYearTask):
    name = "STS14"
    folder = "STS14-en-test"
    subsets = ["deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"]


@register_task
class STS15(STSYearTask):
    name = "STS15"
    folder = "STS15-en-test"
    subsets = ["answers-forums", "answers-students", "belief", "headlines", "images"]


@register_task
class STS16(STSYearTask):
    name = "STS16"
    folder = "STS16-en-test"
    subsets = ["answer-answer", "headlines", "plagiarism", "postediting", "question-question"]


@register_task
class STSBenchmark(Task):
    """STS-B test split, SentEval's tokenised copy (score in column 5, sentences in 6 and 7)."""

    name = "STSBenchmark"
    short_name = "STS-B"
    category = STS
    main_metric = "spearman"
    split = "test"

    def _path(self) -> Path:
        return stsb_path(self.data_dir, self.split)

    def required_files(self) -> list[Path]:
        return [self._path()]

    def load(self) -> PairSet:
        return load_tsv_pairs(self._path(), cols=STSB_COLUMNS, skip_header=False)

    def pair_sets(self) -> dict[str, PairSet]:
        return {self.split: self.load()}

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        pairs = self.load().subsample(self.limit)
        return correlations(cosine_scores(encoder, pairs), pairs.gold)


@register_task
class SICKRelatedness(Task):
    """SICK-R test split (relatedness score, cosine similarity, no regressor)."""

    name = "SICKRelatedness"
    short_name = "SICK-R"
    category = STS
    main_metric = "spearman"

    def _path(self) -> Path:
        return self.data_dir / "SICK" / "SICK_test_annotated.txt"

    def required_files(self) -> list[Path]:
        return [self._path()]

    def pair_sets(self) -> dict[str, PairSet]:
        return {"test": load_tsv_pairs(self._path(), cols=(3, 1, 2), skip_header=True)}

    def evaluate(self, encoder: CachedEncoder) -> dict[str, Any]:
        pairs = self.pair_sets()["test"].subsample(self.limit)
        return correlations(cosine_scores(encoder, pairs), pairs.gold)
