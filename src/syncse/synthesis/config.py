"""Typed configuration for synthesis: the backend, the sampling, the filters."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass
class BackendConfig:
    """Which LLM writes the data. `kind` picks the backend; the rest is per kind."""

    kind: Literal["openai", "llama-cpp"] = "llama-cpp"
    model: str = "smollm2-135m"  # llama-cpp: preset or .gguf path; openai: the served model
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama)
    api_key_env: str = "OPENAI_API_KEY"  # the *name* of the variable; the key never leaves env
    concurrency: int = 8
    timeout: float = 60.0
    max_retries: int = 6
    json_mode: bool = False
    n_ctx: int = 2048
    n_threads: int | None = None  # llama-cpp: CPU threads in all (default: every core)
    parallel: int = 1  # llama-cpp: model contexts decoding at once, sharing the threads
    chat_template: bool = True  # llama-cpp, own GGUF: False = base model, few-shot completion
    #: USD per million tokens (input, output), for the cost estimate; None = unpriced.
    price_per_million: tuple[float, float] | None = None


@dataclass
class SamplingConfig:
    """Decoding settings; defaults follow the SynCSE recipe (temperature 1.0, top_p 0.9/0.95)."""

    temperature: float = 1.0
    top_p_positive: float = 0.9
    top_p_negative: float = 0.95
    max_tokens: int = 80
    examples_per_call: int = 5


@dataclass
class FilterConfig:
    min_words: int = 3
    max_words: int = 48
    near_duplicate_threshold: float = 0.9  # Jaccard on word shingles (MinHash estimate)
    decontaminate: bool = True
    exclude_files: list[Path] = field(default_factory=list)


@dataclass
class SynthesisConfig:
    out: Path
    backend: BackendConfig = field(default_factory=BackendConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    pools: Path | None = None  # YAML with templates and exemplars; None = the bundled pools
    seed: int = 42
    max_attempts: int = 3  # per kind of sentence, on unparseable or unusable answers
    data_dir: Path | None = None  # SentEval folder, for decontamination
    limit: int | None = None
    flush_every: int = 16  # rows between fsyncs

    def fingerprint(self, pools_digest: str) -> str:
        """Hash of everything that changes what the LLM is asked: a resumed run with the same
        fingerprint skips finished inputs; a changed one starts new keys."""
        b = self.backend
        material: dict[str, Any] = {
            "backend": [b.kind, b.model, b.json_mode, b.chat_template],
            "sampling": asdict(self.sampling),
            "seed": self.seed,
            "max_attempts": self.max_attempts,
            "pools": pools_digest,
            "filters": [self.filters.min_words, self.filters.max_words],
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]
