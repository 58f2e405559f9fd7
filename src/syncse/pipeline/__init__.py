"""End to end: one YAML config drives synthesize -> train -> evaluate -> report.

Names are imported on first use (PEP 562), so `syncse report` loads only what it reads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncse.pipeline.config import RunConfig, load_run_config, run_config_from_dict
    from syncse.pipeline.run import run_pipeline

_EXPORTS = {
    "RunConfig": "syncse.pipeline.config",
    "load_run_config": "syncse.pipeline.config",
    "run_config_from_dict": "syncse.pipeline.config",
    "run_pipeline": "syncse.pipeline.run",
}
__all__ = [
    "RunConfig",
    "load_run_config",
    "run_config_from_dict",
    "run_pipeline",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'syncse.pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
