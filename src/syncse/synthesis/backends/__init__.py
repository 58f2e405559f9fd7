"""LLM backends behind one protocol; `create_backend` picks one from a BackendConfig."""

from syncse.synthesis.backends.base import Backend, BackendError, ChatRequest, Completion
from syncse.synthesis.config import BackendConfig


def create_backend(config: BackendConfig, seed: int = 42) -> Backend:
    if config.kind == "openai":
        from syncse.synthesis.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.kind == "llama-cpp":
        from syncse.synthesis.backends.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(config, seed=seed)
    from syncse.errors import SyncseError

    raise SyncseError(f"unknown backend '{config.kind}'; use openai or llama-cpp")


__all__ = [
    "Backend",
    "BackendConfig",
    "BackendError",
    "ChatRequest",
    "Completion",
    "create_backend",
]
