"""Synthesis: LLM-written (sentence, positive, hard negative) triplets, partial and scratch.

The entry points are imported on first use (PEP 562), so `syncse stats`, `syncse report` and
the typed configs work without the `synthesis` extra (openai, llama-cpp-python, datasketch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncse.lazy import lazy_exports
from syncse.synthesis.config import BackendConfig, FilterConfig, SamplingConfig, SynthesisConfig

if TYPE_CHECKING:
    from syncse.synthesis.pipeline import synthesize_partial, synthesize_scratch

__all__ = [
    "BackendConfig",
    "FilterConfig",
    "SamplingConfig",
    "SynthesisConfig",
    "synthesize_partial",
    "synthesize_scratch",
]


_EXPORTS = {
    "synthesize_partial": "syncse.synthesis.pipeline",
    "synthesize_scratch": "syncse.synthesis.pipeline",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
