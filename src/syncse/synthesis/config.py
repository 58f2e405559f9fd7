"""Typed configuration for synthesis: the backend, the sampling, the filters."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

#: The backends `create_backend` knows: a hosted or self-run OpenAI-compatible server, a GGUF
#: model in-process (llama-cpp-python), or a GGUF model behind a llama-server syncse runs.
BACKEND_KINDS = ("openai", "llama-cpp", "llama-server")


@dataclass(frozen=True)
class OpenAIOptions:
    """An OpenAI-compatible HTTP server: OpenAI's API, vLLM, llama.cpp's server, Ollama."""

    model: str
    #: None: OpenAI's own API.
    base_url: str | None = None
    api_key_env: str | None = None
    #: Concurrent HTTP requests.
    concurrency: int = 8
    timeout: float = 60.0
    max_retries: int = 6


@dataclass(frozen=True)
class LlamaCppOptions:
    """A GGUF model in this process (llama-cpp-python)."""

    model: str = "smollm2-135m"
    #: Model contexts decoding at once, sharing the CPU threads.
    concurrency: int = 1
    n_ctx: int = 2048
    #: CPU threads in all; None = every core.
    n_threads: int | None = None
    #: Own GGUF files only (presets know theirs): False = a base model, few-shot completion.
    chat_template: bool = True


@dataclass(frozen=True)
class LlamaServerOptions:
    """A GGUF model behind a llama-server that syncse starts and stops."""

    model: str = "smollm2-135m"
    #: The server's slots (`--parallel`), whose tokens it decodes in one batch.
    slots: int = 2
    #: Context per slot.
    n_ctx: int = 2048
    n_threads: int | None = None
    #: False (a base model) is refused: the server speaks chat only.
    chat_template: bool = True
    timeout: float = 60.0
    max_retries: int = 6


BackendOptions = OpenAIOptions | LlamaCppOptions | LlamaServerOptions

#: Which `BackendConfig` settings each kind reads (`concurrency` is llama-server's `slots`).
_OWN_SETTINGS = {
    "openai": {"model", "base_url", "api_key_env", "concurrency", "timeout", "max_retries"},
    "llama-cpp": {"model", "concurrency", "n_ctx", "n_threads", "chat_template"},
    "llama-server": {
        "model",
        "concurrency",
        "n_ctx",
        "n_threads",
        "chat_template",
        "timeout",
        "max_retries",
    },
}


@dataclass
class BackendConfig:
    """Which LLM writes the data, as a user writes it: flat keys (`backend:` in a run config,
    `--backend`/`--model`/... on the command line), of which each kind reads its own
    (`options()` returns that kind's typed options; a setting of another kind is an error)."""

    kind: Literal["openai", "llama-cpp", "llama-server"] = "llama-cpp"
    #: llama-cpp, llama-server: preset or .gguf path (default smollm2-135m); openai: the
    #: served model (default gpt-4o-mini on OpenAI's API; required with `base_url`).
    model: str | None = None
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama)
    #: The *name* of the variable holding the key (the key never leaves the environment).
    #: Unset: OPENAI_API_KEY for OpenAI's own endpoint, no key for any other `base_url`.
    api_key_env: str | None = None
    #: Requests in flight: openai, concurrent HTTP requests (default 8); llama-cpp, model
    #: contexts decoding at once and sharing the CPU threads (default 1); llama-server, the
    #: server's slots, whose tokens it decodes in one batch (default 2).
    concurrency: int | None = None
    timeout: float = 60.0
    max_retries: int = 6
    n_ctx: int = 2048
    n_threads: int | None = None  # llama-cpp: CPU threads in all (default: every core)
    chat_template: bool = True  # llama-cpp, own GGUF: False = base model, few-shot completion
    #: USD per million tokens (input, output), for the cost estimate; None = unpriced.
    price_per_million: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.model is None and self.kind in ("llama-cpp", "llama-server"):
            self.model = "smollm2-135m"
        elif self.model is None and self.base_url is None:
            self.model = "gpt-4o-mini"  # OpenAI's API; another server's model must be named
        if self.kind not in BACKEND_KINDS:
            raise ValueError(f"kind {self.kind}: use {', '.join(BACKEND_KINDS)}")
        if self.concurrency is None:
            self.concurrency = {"openai": 8, "llama-server": 2}.get(self.kind, 1)
        own = _OWN_SETTINGS.get(self.kind, set()) | {"kind", "price_per_million"}
        defaults = BackendConfig.__dataclass_fields__
        for name, spec in defaults.items():
            if name not in own and getattr(self, name) != spec.default:
                users = [k for k, names in _OWN_SETTINGS.items() if name in names]
                raise ValueError(
                    f"{name}: a setting of the {' and '.join(users)} backend"
                    f"{'s' if len(users) > 1 else ''}; kind {self.kind} does not use it"
                )

    def options(self) -> BackendOptions:
        """The typed options of this config's kind."""
        assert self.model is not None and self.concurrency is not None  # set by __post_init__
        if self.kind == "openai":
            return OpenAIOptions(
                self.model,
                self.base_url,
                self.api_key_env,
                self.concurrency,
                self.timeout,
                self.max_retries,
            )
        if self.kind == "llama-cpp":
            return LlamaCppOptions(
                self.model, self.concurrency, self.n_ctx, self.n_threads, self.chat_template
            )
        return LlamaServerOptions(
            self.model,
            self.concurrency,
            self.n_ctx,
            self.n_threads,
            self.chat_template,
            self.timeout,
            self.max_retries,
        )


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
    """Which rows are kept: text filters, decontamination and the opt-in row checks.

    Example:
        >>> from syncse import FilterConfig
        >>> FilterConfig(nli_judge="qwen2.5-coder-1.5b").checks_id()
        'nli:qwen2.5-coder-1.5b'
    """

    min_words: int = 3
    #: Positives and negatives longer than this are dropped.
    max_words: int = 48
    near_duplicate_threshold: float = 0.9  # Jaccard on word shingles (MinHash estimate)
    decontaminate: bool = True
    exclude_files: list[Path] = field(default_factory=list)
    #: Scratch: the longest generated sentence annotated, in words (the paper drops sentences
    #: over 32 words). Partial inputs are the user's own and are kept at any length.
    max_anchor_words: int = 32
    #: The LLM judges each finished row (one call): kept only if the positive is entailed and
    #: the negative contradicts. Off by default: the local models measured here answer by the
    #: position of the sentences, not their meaning (docs/experiments.md).
    judge: bool = False
    #: The NLI judge (`nli.py`) labels each finished row's positive and negative against its
    #: anchor, one at a time, from label log-probabilities: kept only if the anchor entails
    #: the positive and contradicts the negative. "writer": the LLM that writes the rows; a
    #: local preset or .gguf path: that model, in this process (llama-cpp); None: off.
    nli_judge: str | None = None
    #: With the NLI judge on: how many times the side it rejects (a positive not entailed, a
    #: negative that does not contradict) is written again, with another sampled template
    #: and exemplars, and judged again, before the row is rejected. 0: reject at once.
    nli_rewrites: int = 0
    #: An encoder (alias, folder or hub id) whose agreement a row needs: the positive closer to
    #: the anchor than the negative, and not a near copy of it. Opt-in, since a human-trained
    #: encoder then shapes the data; reports say so.
    agreement_encoder: str | None = None
    agreement_max_positive_similarity: float = 0.98

    def __post_init__(self) -> None:
        if self.nli_rewrites < 0:
            raise ValueError(f"nli_rewrites {self.nli_rewrites}: must be 0 or more")
        if self.nli_rewrites and not self.nli_judge:
            raise ValueError("nli_rewrites: rewrites are asked for by the NLI judge; set nli_judge")

    def checks_id(self) -> str | None:
        """What the row checks are, for the file's manifest (None: no checks). Checks change
        which rows a file holds, not what the writer is asked, so they are not part of the
        fingerprint (which would change every prompt's seed and lose the response cache)."""
        parts = []
        if self.agreement_encoder:
            parts.append(
                f"agreement:{self.agreement_encoder}:{self.agreement_max_positive_similarity}"
            )
        if self.judge:
            parts.append("judge")
        if self.nli_judge:
            parts.append(f"nli:{self.nli_judge}")
            if self.nli_rewrites:
                parts.append(f"rewrites:{self.nli_rewrites}")
        return "+".join(parts) or None


@dataclass
class SynthesisConfig:
    """Where `synthesize_partial` / `synthesize_scratch` write, and with which LLM and settings.

    Fields are documented where they are declared; nested ones are `BackendConfig` (which
    LLM), `SamplingConfig` (decoding) and `FilterConfig` (filters and row checks).

    Example:
        >>> from syncse import BackendConfig, SynthesisConfig
        >>> config = SynthesisConfig(
        ...     out="data.jsonl", backend=BackendConfig(model="qwen2.5-coder-0.5b"), seed=7
        ... )
    """

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
    #: Consecutive inputs that share one sampled template and exemplar set per kind, asked
    #: one after another so the runtime reuses the cached prompt prefix (1 = the paper's
    #: sampling afresh for every call). Part of the fingerprint: it changes the prompts.
    #: 32: 2.5x (SmolLM2) and 3.2x (Qwen2.5-0.5B) the rows/min of 1 on 2 cores, with quality
    #: figures within noise (bench/bench_block_size.py, docs/benchmarks.md).
    block_size: int = 32

    def __post_init__(self) -> None:
        if self.block_size < 1:
            raise ValueError(f"block_size {self.block_size}: must be at least 1")

    #: An existing output written with other settings or inputs: refuse ("error"), start a
    #: fresh file ("restart"), or add to it ("append"). Never mixed silently.
    if_changed: Literal["error", "restart", "append"] = "error"

    def fingerprint(self, pools_digest: str) -> str:
        """Hash of everything that changes what the LLM is asked: a resumed run with the same
        fingerprint skips finished inputs; a changed one starts new keys."""
        b = self.backend
        material: dict[str, Any] = {
            # The third item is the `json_mode` flag requests once had, always False and
            # never read (now gone from `ChatRequest`): kept so that fingerprints, and with
            # them every stored row's key, stay what they were.
            "backend": [b.kind, b.model, False, b.chat_template],
            "sampling": asdict(self.sampling),
            "seed": self.seed,
            "max_attempts": self.max_attempts,
            "pools": pools_digest,
            "filters": [self.filters.min_words, self.filters.max_words],
        }
        if self.block_size != 1:  # left out at 1, so fingerprints from before blocks hold
            material["block_size"] = self.block_size
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]
