"""End to end: one YAML config drives synthesize -> train -> evaluate -> report."""

from syncse.pipeline.config import RunConfig, load_run_config, run_config_from_dict
from syncse.pipeline.run import run_pipeline

__all__ = ["RunConfig", "load_run_config", "run_config_from_dict", "run_pipeline"]
