"""Evaluation: STS, SentEval transfer and reranking tasks behind one registry."""

from syncse.evaluation.runner import EvaluationConfig, evaluate_model, write_results
from syncse.evaluation.tasks import GROUPS, TASKS, Task, register_task

__all__ = [
    "EvaluationConfig",
    "GROUPS",
    "TASKS",
    "Task",
    "evaluate_model",
    "register_task",
    "write_results",
]
