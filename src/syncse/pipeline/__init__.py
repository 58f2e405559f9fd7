"""End to end: one YAML config drives synthesize -> train -> evaluate -> report.

Names are imported on first use (PEP 562), so `syncse report` loads only what it reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncse.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
