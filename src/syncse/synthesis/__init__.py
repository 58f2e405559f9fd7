"""Synthesis: LLM-written (sentence, positive, hard negative) triplets, partial and scratch.

The entry points are imported on first use (PEP 562), so `syncse stats`, `syncse report` and
the typed configs work without the `synthesis` extra (openai, llama-cpp-python, datasketch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in ("synthesize_partial", "synthesize_scratch"):
        from syncse.synthesis import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'syncse.synthesis' has no attribute {name!r}")
