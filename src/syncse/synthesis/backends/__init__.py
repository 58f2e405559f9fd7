"""LLM backends behind one protocol; `create_backend` picks one from a BackendConfig."""

from syncse.synthesis.backends.base import Backend, BackendError, ChatRequest, Completion
from syncse.synthesis.config import BACKEND_KINDS, BackendConfig


def create_backend(config: BackendConfig, seed: int = 42) -> Backend:
    if config.kind == "openai":
        from syncse.synthesis.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.kind == "llama-cpp":
        from syncse.synthesis.backends.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(config, seed=seed)
    if config.kind == "llama-server":
        from syncse.synthesis.backends.llama_server import LlamaServerBackend

        return LlamaServerBackend(config, seed=seed)
    from syncse.errors import SyncseError

    raise SyncseError(f"unknown backend '{config.kind}'; use {', '.join(BACKEND_KINDS)}")


__all__ = [
    "Backend",
    "BackendConfig",
    "BackendError",
    "ChatRequest",
    "Completion",
    "create_backend",
]
