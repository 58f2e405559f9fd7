"""`syncse run`: synthesize -> train -> evaluate -> report, each stage skipped when its output
is there and up to date, and resumed when it was interrupted.

A stage is *up to date* when `stages.json` in the run folder records it as done with the same
key: a hash of its effective settings (the section with every default filled in) and of its
inputs (the triplets' bytes for training, the trained model's key and the scoring code's
identity for its evaluation). Change a setting and exactly the stages downstream
of it run again; kill the run and the next one picks up where it stopped (synthesis by its own
resumable store, training from its last checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from syncse.data.files import exclusive, read_json_or_none, write_json_atomic, write_text_atomic
from syncse.data.locations import cache_dir
from syncse.data.triplets import TripletFiles
from syncse.errors import DataError, SyncseError
from syncse.pipeline.config import RunConfig

logger = logging.getLogger(__name__)


def _digest(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """A file's bytes, hashed; a folder (a `save_to_disk` dataset) by every file in it."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(f"{file.relative_to(path)}\0".encode())
        with file.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def model_identity(name: str) -> str:
    """What a start model's scores depend on: the folder it resolves to and its files' names,
    sizes and modification times (cheap, unlike hashing the weights, and any re-save changes
    them). A hub id is taken at its name: offline runs cannot see a new revision anyway."""
    from syncse.models import resolve_encoder

    target = resolve_encoder(name)
    folder = Path(target)
    if not folder.is_dir():
        return target
    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    )
    return _digest(name, str(folder.resolve()), files)


def shared_start_scores(key: str) -> Path:
    """Scores of an untrained start model, shared by every run folder on this machine: each
    config that starts from all-MiniLM-L6-v2 would otherwise spend the same ~2 minutes (STS)
    or ~15 minutes (with transfer) scoring it again. `key` holds `scoring_identity()`: another
    syncse (an upgrade, an edited evaluation) scores the start model again."""
    return cache_dir() / "evaluations" / f"start-{key}.json"


class StageLog:
    """`stages.json`: per stage its key, state (started/done), timestamps and seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Unreadable (torn by a crash before writes were atomic): every stage counts as not
        # done, which redoes work but never trusts a broken record.
        stages = read_json_or_none(path) if path.exists() else None
        self.stages: dict[str, dict[str, Any]] = stages if isinstance(stages, dict) else {}

    def done(self, stage: str, key: str) -> bool:
        entry = self.stages.get(stage, {})
        return entry.get("key") == key and entry.get("state") == "done"

    def started_with(self, stage: str, key: str) -> bool:
        return self.stages.get(stage, {}).get("key") == key

    def mark(self, stage: str, key: str, state: str, seconds: float | None = None) -> None:
        self.stages[stage] = {
            "key": key,
            "state": state,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": None if seconds is None else round(seconds, 1),
        }
        write_json_atomic(self.path, self.stages)


def synthesis_key(config: RunConfig, inputs: list[str | None]) -> str:
    """The synthesis stage's key: the effective settings (every default filled in, so a
    changed default is a change, as for the training key) and the digests of its input files.
    Not the section as written: a default that changes under it would go unnoticed."""
    assert config.synthesis is not None and config.source is not None
    return _digest(asdict(config.synthesis), asdict(config.source), str(config.data_dir), inputs)


def synthesize_stage(config: RunConfig, stages: StageLog) -> None:
    from syncse.synthesis import synthesize_partial, synthesize_scratch
    from syncse.synthesis.inputs import read_sentences

    assert config.synthesis is not None and config.source is not None
    source = config.source
    # The input file's bytes are part of the key: an edited sentences file is new work.
    inputs = [
        file_digest(Path(p)) if p is not None and Path(p).is_file() else p
        for p in (source.input, source.genres, source.topics)
    ]
    key = synthesis_key(config, inputs)
    if stages.done("synthesize", key) and config.triplets.exists():
        logger.info("[1/4] synthesize: up to date (%s)", config.triplets)
        return
    logger.info(
        "[1/4] synthesize (%s, %s) -> %s",
        source.mode,
        config.synthesis.backend.model,
        config.triplets,
    )
    stages.mark("synthesize", key, "started")
    start = time.time()
    config.triplets.parent.mkdir(parents=True, exist_ok=True)
    if source.mode == "partial":
        assert source.input is not None
        summary = synthesize_partial(config.synthesis, read_sentences(source.input, source.column))
    else:
        summary = synthesize_scratch(
            config.synthesis,
            source.n,
            source.genres,
            source.topics,
            source.domain,
            source.per_call,
            temperature=source.generation_temperature,
            split_sentences=source.split_sentences,
        )
    if summary.wanted and summary.accepted < summary.wanted:
        logger.info(
            f"      note: {summary.accepted} of the {summary.wanted} triplets wanted "
            "(the LLM wrote or kept fewer sentences); re-run to top up from the cache"
        )
    if summary.accepted < 2:
        raise SyncseError(
            f"{config.triplets}: synthesis produced {summary.accepted} usable rows; "
            f"rejected: {summary.rejected}; see {TripletFiles(config.triplets).summary}"
        )
    stages.mark("synthesize", key, "done", time.time() - start)


def _data_stats(config: RunConfig, data_key: str, start_key: str) -> None:
    """Statistics of the triplets (with the start model's similarities), recomputed only when
    the triplets' bytes or the start model changed: encoding every row again on each re-run
    of an up-to-date pipeline would be wasted work. `start_key` is `model_identity`, so a
    re-saved model of the same name counts as a change, as it does for the start scores."""
    from syncse.backbones import BackboneOptions
    from syncse.models import load_encoder
    from syncse.synthesis.stats import triplet_stats

    training = config.training
    target = config.layout.stats
    source = {"triplets": data_key, "model": start_key}
    if training.layers is not None or training.pooling is not None:
        source |= {"layers": training.layers, "pooling": training.pooling}
    previous = read_json_or_none(target) if target.exists() else None
    if isinstance(previous, dict) and previous.get("source") == source:
        return
    try:
        options = BackboneOptions(layers=training.layers, pooling=training.pooling)
        stats = triplet_stats(config.triplets, load_encoder(config.model, options=options))
    except DataError:  # sentences only (unsupervised baseline): nothing to compare
        return
    stats["source"] = source
    write_json_atomic(target, stats)
    logger.info("      data: %s rows; statistics in %s", stats["rows"], target)


def _train(config: RunConfig, stages: StageLog, data_key: str) -> str:
    from syncse.training import train

    training = config.training
    key = _digest(training.to_json(), data_key)
    model_dir = config.model_dir
    if stages.done("train", key) and config.layout.training_summary.exists():
        logger.info("[2/4] train: up to date (%s)", model_dir)
        return key
    if stages.started_with("train", key) and model_dir.exists():
        training.resume = True  # same data and settings: continue from the last checkpoint
        logger.info("[2/4] train: resuming in %s", model_dir)
    else:
        if model_dir.exists():
            shutil.rmtree(model_dir)  # made from other data or settings: start over
        logger.info("[2/4] train (%s, %s) -> %s", training.objective, training.model, model_dir)
    stages.mark("train", key, "started")
    start = time.time()
    train(training)
    stages.mark("train", key, "done", time.time() - start)
    return key


def _evaluate(config: RunConfig, stages: StageLog, start_key: str, train_key: str) -> None:
    from syncse.evaluation import evaluate_model
    from syncse.evaluation.runner import scoring_identity, write_results

    if config.evaluation is None:
        logger.info("[3/4] evaluate: no `evaluation:` section; skipped")
        return
    if config.data_dir is None or not Path(config.data_dir).is_dir():
        logger.info(
            "[3/4] evaluate: skipped, no evaluation data. Point `data_dir:` in the config or "
            "SYNCSE_DATA_DIR at a SentEval data/downstream folder (STS/, SICK/, ...)."
        )
        return
    section = asdict(config.evaluation) | {"model": None}
    training = config.training
    # The start model is scored as training starts from it (a raw backbone's layers and
    # pooling); the trained folder carries its own.
    start_options = {"layers": training.layers, "pooling": training.pooling}
    for name, model, identity, options in (
        ("start", config.model, start_key, start_options),
        ("trained", str(config.model_dir), train_key, {"layers": None, "pooling": None}),
    ):
        target = config.layout.evaluation(name)
        key = _digest(section, identity, str(config.data_dir), options, scoring_identity())
        stage = f"evaluate:{name}"
        if stages.done(stage, key) and target.exists():
            logger.info("[3/4] evaluate %s model: up to date (%s)", name, target)
            continue
        shared = shared_start_scores(key) if name == "start" else None
        if shared is not None and shared.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shared, target)
            stages.mark(stage, key, "done", 0.0)
            logger.info(
                "[3/4] evaluate start model: same model and settings scored before (%s)", shared
            )
            continue
        tasks = ", ".join(config.evaluation.tasks)
        logger.info("[3/4] evaluate %s model (%s) on %s", name, model, tasks)
        stages.mark(stage, key, "started")
        start = time.time()
        evaluation = replace(
            config.evaluation, model=model, data_dir=Path(config.data_dir), **options
        )
        results = evaluate_model(evaluation)
        results.label = name
        write_results(results, target)
        if shared is not None:
            shared.parent.mkdir(parents=True, exist_ok=True)
            write_results(results, shared)
        stages.mark(stage, key, "done", time.time() - start)


def run_pipeline(config: RunConfig) -> Path:
    """Synthesize -> train -> evaluate -> report, running every stage that is not up to date.

    A stage is skipped when its settings and inputs are those it last finished with, and
    resumed when it was interrupted; progress is logged to the `syncse` loggers. One run per
    output folder at a time: a second one would interleave its writes with the first's.

    Args:
        config: a run configuration, from `load_run_config(path)` (YAML, as `syncse run`) or
            `run_config_from_dict(mapping)`.

    Returns:
        The path of the run folder's `report.md`.

    Example:
        >>> from syncse import load_run_config, run_pipeline
        >>> run_pipeline(load_run_config("examples/quickstart.yaml"))
        PosixPath('outputs/quickstart/report.md')
    """
    config.out.mkdir(parents=True, exist_ok=True)
    with exclusive(config.out, "syncse run"):
        return _run_stages(config)


def _run_stages(config: RunConfig) -> Path:
    from syncse.pipeline.report import write_report

    # The config as given: it names environment variables, never holds their values.
    if config.from_file:
        shutil.copyfile(config.path, config.layout.config_copy)
    else:  # built from a mapping (run_config_from_dict)
        text = yaml.safe_dump(config.raw, sort_keys=False, allow_unicode=True)
        write_text_atomic(config.layout.config_copy, text)
    stages = StageLog(config.layout.stages)
    if config.synthesis is not None:
        synthesize_stage(config, stages)
    elif not config.triplets.exists():
        raise SyncseError(f"{config.triplets}: no such triplets file (`triplets:` in the config)")
    # Each is computed once: hashing the triplets and listing the start model's files is cheap
    # but not free, and three stages depend on them.
    data_key = file_digest(config.triplets)
    start_key = model_identity(config.model)
    _data_stats(config, data_key, start_key)
    train_key = _train(config, stages, data_key)
    _evaluate(config, stages, start_key, train_key)
    report = write_report(config.out)
    logger.info("[4/4] report: %s", report)
    return report
