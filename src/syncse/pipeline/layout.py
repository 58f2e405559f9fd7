"""The run folder of `syncse run`: the one place its file names are spelled.

    <out>/config.yaml            the config as given (names env variables, never their values)
    <out>/stages.json            which stage ran with which key (what makes re-runs incremental)
    <out>/data/triplets.jsonl    the synthesized triplets, with `TripletFiles` beside them
    <out>/data/stats.json        their statistics, with the start model's similarities
    <out>/model/                 the trained model (a sentence-transformers folder)
    <out>/eval/start.json        scores of the start model; eval/trained.json of the trained one
    <out>/report.md, plots/      the report

The pipeline, the CLI, the report and the experiments ask this object for paths, so renaming a
file is a one-line change and a reader never guesses where a writer put something.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from syncse.data.triplets import TripletFiles
from syncse.training.summary import TRAINING_SUMMARY_FILE


@dataclass(frozen=True)
class RunLayout:
    root: Path

    @property
    def config_copy(self) -> Path:
        return self.root / "config.yaml"

    @property
    def stages(self) -> Path:
        return self.root / "stages.json"

    @property
    def triplets(self) -> Path:
        return self.root / "data" / "triplets.jsonl"

    @property
    def triplet_files(self) -> TripletFiles:
        return TripletFiles(self.triplets)

    @property
    def stats(self) -> Path:
        return self.root / "data" / "stats.json"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def training_summary(self) -> Path:
        return self.model_dir / TRAINING_SUMMARY_FILE

    @property
    def evaluations(self) -> Path:
        return self.root / "eval"

    def evaluation(self, name: str) -> Path:
        """Scores of the `start` or `trained` model (or an experiment's own label)."""
        return self.evaluations / f"{name}.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    def relative(self, path: Path) -> str:
        """`path` as the report names it: relative to the run folder."""
        return str(path.relative_to(self.root))
