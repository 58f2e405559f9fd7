"""Run registered tasks on one model and write the results (JSON + markdown)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from syncse.evaluation import reranking, sts, transfer  # noqa: F401  (registers the tasks)
from syncse.evaluation.encoding import CachedEncoder
from syncse.evaluation.results import EvaluationResults
from syncse.evaluation.tasks import (
    CATEGORIES,
    GROUPS,
    SHORT_NAMES,  # noqa: F401  (re-exported: the runner is where callers look)
    STS,
    TASKS,
    Task,
    display_name,
    expand_task_names,
    tasks_in,
)

logger = logging.getLogger(__name__)


@dataclass
class EvaluationConfig:
    """What to evaluate and on which data; typed so the CLI, the pipeline and tests share it.

    Example:
        >>> from syncse import EvaluationConfig
        >>> config = EvaluationConfig(model="minilm", tasks=["sts", "transfer"])
    """

    #: A folder, a hub id or an alias (`minilm`); with a model passed to `evaluate_model`,
    #: only its label in the results.
    model: str = "minilm"
    #: The SentEval `data/downstream` folder; None: `$SYNCSE_DATA_DIR`.
    data_dir: Path | None = None
    #: Task names or groups (sts, transfer, rerank, mteb-rerank; or STS12, MR, ...).
    tasks: list[str] = field(default_factory=lambda: [STS])
    rerank_files: list[Path] = field(default_factory=list)
    limit: int | None = None
    batch_size: int = 128
    device: str | None = None
    #: How a raw backbone (or `lm:` model) named by `model` becomes an encoder; a trained
    #: folder carries its own. The pipeline copies them from the training section, so the start
    #: model is scored exactly as training starts from it.
    pooling: Literal["mean", "weightedmean", "lasttoken", "cls", "max"] | None = None
    layers: int | None = None


def _versions() -> dict[str, str]:
    import sentence_transformers
    import sklearn
    import torch
    import transformers

    import syncse

    return {
        "syncse": syncse.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "scikit_learn": sklearn.__version__,
        "python": platform.python_version(),
    }


#: The modules whose code decides a score besides the tasks' own (this package): how STS files
#: are read and how a model name becomes an encoder (relative to the `syncse` package).
_SCORING_MODULES = ("data/senteval.py", "data/text.py", "models.py", "backbones.py")


@functools.cache
def scoring_identity() -> str:
    """What a model's scores depend on besides the model, the data and the settings: syncse's
    version, the source of the code that reads, encodes and scores (`syncse.evaluation` and
    `_SCORING_MODULES`) and the libraries' versions. Part of every evaluation key, so scores
    kept from another syncse (the shared start-model scores) are never compared with fresh
    ones."""
    here = Path(__file__).resolve().parent
    package = here.parent
    files = sorted(here.glob("*.py")) + [package / m for m in _SCORING_MODULES]
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    versions = {k: v for k, v in _versions().items() if k != "python"}
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def build_tasks(config: EvaluationConfig) -> list[Task]:
    names = expand_task_names(config.tasks)
    data_dir = Path(config.data_dir) if config.data_dir is not None else None
    if names and data_dir is None:
        from syncse.data.locations import resolve_data_dir

        data_dir = resolve_data_dir(None)
    tasks: list[Task] = [TASKS[n](data_dir, config.limit) for n in names]  # type: ignore[arg-type]
    tasks += [reranking.FileRerankTask(Path(p), config.limit) for p in config.rerank_files]
    for task in tasks:  # fail before any encoding if a file is missing
        task.check_files()
    return tasks


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    summary = {}
    for category in CATEGORIES:
        names = tasks_in(category, results)
        if names:
            values = [results[n][results[n]["main_metric"]] for n in names]
            summary[category] = {
                "avg": sum(values) / len(values),
                "tasks": names,
                "complete": set(GROUPS.get(category, [])) <= set(names),
            }
    return summary


def evaluate_model(config: EvaluationConfig, model: Any = None) -> EvaluationResults:
    """Evaluate an embedding model on STS, transfer and reranking tasks.

    Args:
        config: the model (name, folder or alias), the tasks and the data folder.
        model: an already loaded `SentenceTransformer` to evaluate in place of loading
            `config.model` (e.g. `train(...).model`); `config.model` then only labels it.

    Returns:
        `EvaluationResults`: every task's metrics, `average("sts")` and the other category
        averages, timings and versions (`write_results` saves it as JSON and markdown).

    Example:
        >>> from syncse import EvaluationConfig, evaluate
        >>> results = evaluate(EvaluationConfig(model="minilm", tasks=["sts"]))
        >>> round(results.average("sts"), 2)
        78.87
    """
    from syncse.data.locations import data_dir_from_env
    from syncse.models import load_encoder, resolve_encoder

    tasks = build_tasks(config)
    start = time.perf_counter()
    if model is None:
        from syncse.backbones import BackboneOptions

        options = BackboneOptions(layers=config.layers, pooling=config.pooling)
        model = load_encoder(config.model, device=config.device, options=options)
    encoder = CachedEncoder(model, batch_size=config.batch_size)
    results: dict[str, dict[str, Any]] = {}
    for task in tasks:
        task_start = time.perf_counter()
        metrics = task.evaluate(encoder)
        metrics.update(
            category=task.category,
            main_metric=task.main_metric,
            seconds=round(time.perf_counter() - task_start, 2),
        )
        results[task.name] = metrics
        logger.info(
            "%-24s %s %6.2f (%.1fs)",
            task.name,
            task.main_metric,
            metrics[task.main_metric],
            metrics["seconds"],
        )
    try:
        model_path = resolve_encoder(config.model)
    except Exception:  # an in-memory model need not have a resolvable name
        model_path = config.model
    return EvaluationResults(
        model=config.model,
        model_path=model_path,
        pooling=config.pooling,
        layers=config.layers,
        max_seq_length=getattr(model, "max_seq_length", None),
        data_dir=str(config.data_dir if config.data_dir is not None else data_dir_from_env()),
        limit=config.limit,
        tasks=results,
        summary=summarise(results),
        timings={
            "total_seconds": round(time.perf_counter() - start, 2),
            "encode_seconds": round(encoder.encode_seconds, 2),
            "sentences_encoded": encoder.sentences_encoded,
        },
        versions=_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def write_results(results: EvaluationResults, out: Path) -> Path:
    """Write JSON to `out` and the markdown table beside it (`.md`). Returns the markdown path."""
    from syncse.data.files import write_text_atomic

    # Atomic, with unique temporary names: a crash never leaves a half-written results file,
    # and two processes writing the shared start-model scores never write into one temp file.
    write_text_atomic(out, json.dumps(results.to_json(), indent=2) + "\n")
    md = out.with_suffix(".md")
    write_text_atomic(md, results_markdown(results))
    return md


def results_markdown(results: EvaluationResults) -> str:
    lines = [f"# Evaluation: {results.model}", ""]
    if results.limit:
        lines += [
            f"Subsampled: at most {results.limit} examples per split (quick check, "
            "not comparable with published figures).",
            "",
        ]
    for category, title in CATEGORIES.items():
        names = tasks_in(category, results.tasks)
        if not names:
            continue
        heads = [display_name(n) for n in names]
        values = [f"{results.score(n):.2f}" for n in names]
        if len(names) > 1:
            heads.append("avg")
            values.append(f"{results.average(category):.2f}")
        lines += [
            f"## {title}",
            "",
            "| " + " | ".join(heads) + " |",
            "|" + " --- |" * len(heads),
            "| " + " | ".join(values) + " |",
            "",
        ]
    t = results.timings
    lines.append(
        f"{t['sentences_encoded']} distinct sentences encoded in {t['encode_seconds']}s; "
        f"total {t['total_seconds']}s."
    )
    return "\n".join(lines) + "\n"
