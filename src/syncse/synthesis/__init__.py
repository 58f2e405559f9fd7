"""Synthesis: LLM-written (sentence, positive, hard negative) triplets, partial and scratch."""

from syncse.synthesis.config import BackendConfig, FilterConfig, SamplingConfig, SynthesisConfig
from syncse.synthesis.pipeline import synthesize_partial, synthesize_scratch

__all__ = [
    "BackendConfig",
    "FilterConfig",
    "SamplingConfig",
    "SynthesisConfig",
    "synthesize_partial",
    "synthesize_scratch",
]
