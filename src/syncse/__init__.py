"""syncse: train sentence-embedding models on contrastive triplets written by an LLM (SynCSE).

The Python API in one place; `import syncse` stays cheap (no torch, no LLM runtime) because
every name is imported on first use (PEP 562).

Example:
    >>> import syncse
    >>> summary = syncse.synthesize_partial(
    ...     syncse.SynthesisConfig(out="data.jsonl"), ["A man is playing a guitar on stage."]
    ... )
    >>> trained = syncse.train(syncse.TrainingConfig(data="data.jsonl", out="models/mine"))
    >>> results = syncse.evaluate(syncse.EvaluationConfig(model="models/mine"), trained.model)
    >>> results.average("sts")

Entry points: `synthesize_partial`, `synthesize_scratch`, `filter_triplets`, `triplet_stats`,
`train`, `evaluate`, `run_pipeline` (with `load_run_config` / `run_config_from_dict`). Every
synchronous entry point also works inside a running event loop (Jupyter). Output goes to the
`syncse` loggers (`logging.getLogger("syncse")`); progress bars follow `set_progress`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> (module, attribute there).
_EXPORTS: dict[str, tuple[str, str]] = {
    # synthesis
    "synthesize_partial": ("syncse.synthesis.pipeline", "synthesize_partial"),
    "synthesize_scratch": ("syncse.synthesis.pipeline", "synthesize_scratch"),
    "filter_triplets": ("syncse.synthesis.refilter", "filter_triplets"),
    "triplet_stats": ("syncse.synthesis.stats", "triplet_stats"),
    "SynthesisConfig": ("syncse.synthesis.config", "SynthesisConfig"),
    "BackendConfig": ("syncse.synthesis.config", "BackendConfig"),
    "SamplingConfig": ("syncse.synthesis.config", "SamplingConfig"),
    "FilterConfig": ("syncse.synthesis.config", "FilterConfig"),
    "SynthesisSummary": ("syncse.synthesis.summary", "SynthesisSummary"),
    "FilterSummary": ("syncse.synthesis.summary", "FilterSummary"),
    # training
    "train": ("syncse.training.trainer", "train"),
    "TrainingConfig": ("syncse.training.config", "TrainingConfig"),
    "TrainingSummary": ("syncse.training.summary", "TrainingSummary"),
    # evaluation
    "evaluate": ("syncse.evaluation.runner", "evaluate_model"),
    "evaluate_model": ("syncse.evaluation.runner", "evaluate_model"),
    "write_results": ("syncse.evaluation.runner", "write_results"),
    "EvaluationConfig": ("syncse.evaluation.runner", "EvaluationConfig"),
    "EvaluationResults": ("syncse.evaluation.results", "EvaluationResults"),
    # the whole pipeline
    "run_pipeline": ("syncse.pipeline.run", "run_pipeline"),
    "load_run_config": ("syncse.pipeline.config", "load_run_config"),
    "run_config_from_dict": ("syncse.pipeline.config", "run_config_from_dict"),
    "RunConfig": ("syncse.pipeline.config", "RunConfig"),
    # data, models, settings
    "load_triplets": ("syncse.data.triplets", "load_triplets"),
    "TripletData": ("syncse.data.triplets", "TripletData"),
    "load_encoder": ("syncse.models", "load_encoder"),
    "set_progress": ("syncse.progress", "set_progress"),
    "SyncseError": ("syncse.errors", "SyncseError"),
    "DataError": ("syncse.errors", "DataError"),
}

__all__ = [
    "__version__",
    "BackendConfig",
    "DataError",
    "EvaluationConfig",
    "EvaluationResults",
    "FilterConfig",
    "FilterSummary",
    "RunConfig",
    "SamplingConfig",
    "SyncseError",
    "SynthesisConfig",
    "SynthesisSummary",
    "TrainingConfig",
    "TrainingSummary",
    "TripletData",
    "evaluate",
    "evaluate_model",
    "filter_triplets",
    "load_encoder",
    "load_run_config",
    "load_triplets",
    "run_config_from_dict",
    "run_pipeline",
    "set_progress",
    "synthesize_partial",
    "synthesize_scratch",
    "train",
    "triplet_stats",
    "write_results",
]

if TYPE_CHECKING:
    from syncse.data.triplets import TripletData, load_triplets
    from syncse.errors import DataError, SyncseError
    from syncse.evaluation.results import EvaluationResults
    from syncse.evaluation.runner import EvaluationConfig, evaluate_model, write_results
    from syncse.evaluation.runner import evaluate_model as evaluate
    from syncse.models import load_encoder
    from syncse.pipeline.config import RunConfig, load_run_config, run_config_from_dict
    from syncse.pipeline.run import run_pipeline
    from syncse.progress import set_progress
    from syncse.synthesis.config import (
        BackendConfig,
        FilterConfig,
        SamplingConfig,
        SynthesisConfig,
    )
    from syncse.synthesis.pipeline import synthesize_partial, synthesize_scratch
    from syncse.synthesis.refilter import filter_triplets
    from syncse.synthesis.stats import triplet_stats
    from syncse.synthesis.summary import FilterSummary, SynthesisSummary
    from syncse.training.config import TrainingConfig
    from syncse.training.summary import TrainingSummary
    from syncse.training.trainer import train


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'syncse' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
