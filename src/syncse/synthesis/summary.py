"""The synthesis summary: the typed record behind `<triplets>.summary.json`.

`synthesize_partial`/`synthesize_scratch` return it, `syncse synthesize` and `syncse run` print
from it, the report and the experiments read it back with `load`. Its keys are spelled here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncse.data.files import read_json_or_none, write_json_atomic
from syncse.data.records import Record
from syncse.data.triplets import TripletFiles


@dataclass
class RunUsage(Record):
    """What this invocation spent (a resumed run counts only its own calls)."""

    #: Row outcomes of this run (accepted, and each rejection reason).
    counts: dict[str, int] = field(default_factory=dict)
    llm_calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unparseable_answers: int = 0
    #: Parsed answers by "kind:outcome" (e.g. "positive:copies_input").
    answers: dict[str, int] = field(default_factory=dict)
    backend_errors: int = 0
    #: From `BackendConfig.price_per_million`; None when no price was given.
    estimated_cost_usd: float | None = None
    seconds: float = 0.0


@dataclass
class SynthesisSummary(Record):
    """Totals over the whole triplets file (all runs that wrote it) plus `this_run`."""

    output: str
    rejected_file: str
    accepted: int
    #: Rows rejected, by reason, over the whole file (a row accepted later is not counted).
    rejected: dict[str, int]
    this_run: RunUsage
    backend: str
    config_fingerprint: str
    mode: str = "partial"
    #: Partial: the input sentences considered (after `limit`).
    inputs: int | None = None
    #: Scratch: triplets asked for, sentence-writing calls, sentences written (after splitting
    #: written lines into sentences when `split_sentences`), topics used.
    wanted: int | None = None
    generation_calls: int | None = None
    generated_sentences: int | None = None
    split_sentences: bool | None = None
    topics: list[str] | None = None
    domain: str | None = None
    decontamination_sentences: int = 0
    #: Per-check summaries ("judge": position bias and verdicts; "agreement": the encoder).
    checks: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def save(self) -> Path:
        target = TripletFiles(Path(self.output)).summary
        write_json_atomic(target, self.to_json())
        return target

    @classmethod
    def load(cls, triplets: Path) -> SynthesisSummary | None:
        """The summary beside `triplets`, or None when there is none (a file not written by
        `syncse synthesize`)."""
        found = read_json_or_none(TripletFiles(Path(triplets)).summary)
        return cls.from_json(found) if isinstance(found, dict) else None

    @classmethod
    def is_scratch(cls, triplets: Path) -> bool:
        """Whether `syncse synthesize scratch` wrote `triplets`: then its anchors are the
        LLM's own sentences, and a judge must check them too (`syncse stats` and `syncse
        filter` both ask). A file without a summary counts as given anchors."""
        written = cls.load(triplets)
        return written is not None and written.mode == "scratch"


@dataclass
class FilterSummary(Record):
    """What `syncse filter` kept of an existing triplets file (`<kept>.summary.json`)."""

    source: str
    output: str
    rows: int
    kept: int
    rejected: dict[str, int]
    #: Names of the checks run, cheapest first.
    checks: list[str]
    seconds: float
    #: The judge's position-bias figures and spend, when `--judge` was given.
    judge: dict[str, Any] | None = None
    #: The NLI judge's rates over every row it judged (valid, false-negative, ...) and spend.
    nli: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
