"""Evaluation: STS, SentEval transfer and reranking tasks behind one registry.

Names are imported on first use (PEP 562): the registry (`tasks.py`) is light, the tasks
themselves bring numpy, scipy and scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncse.lazy import lazy_exports

if TYPE_CHECKING:
    from syncse.evaluation.runner import EvaluationConfig, evaluate_model, write_results
    from syncse.evaluation.tasks import CATEGORIES, GROUPS, TASKS, Task, register_task

_EXPORTS = {
    "EvaluationConfig": "syncse.evaluation.runner",
    "evaluate_model": "syncse.evaluation.runner",
    "write_results": "syncse.evaluation.runner",
    # The registry is filled as the task modules import: through the runner, which imports
    # them all.
    "CATEGORIES": "syncse.evaluation.runner",
    "GROUPS": "syncse.evaluation.runner",
    "TASKS": "syncse.evaluation.runner",
    "Task": "syncse.evaluation.tasks",
    "register_task": "syncse.evaluation.tasks",
}
__all__ = [
    "CATEGORIES",
    "EvaluationConfig",
    "GROUPS",
    "TASKS",
    "Task",
    "evaluate_model",
    "register_task",
    "write_results",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
