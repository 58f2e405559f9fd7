"""LLM backends behind one protocol; `create_backend` picks one from a BackendConfig."""

from syncse.synthesis.backends.base import Backend, BackendError, ChatRequest, Completion
from syncse.synthesis.config import BackendConfig, LlamaCppOptions, OpenAIOptions


def create_backend(config: BackendConfig, seed: int = 42) -> Backend:
    """The backend of `config.kind`, given that kind's own typed options."""
    options = config.options()
    if isinstance(options, OpenAIOptions):
        from syncse.synthesis.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(options)
    if isinstance(options, LlamaCppOptions):
        from syncse.synthesis.backends.llama_cpp_backend import LlamaCppBackend

        return LlamaCppBackend(options, seed=seed)
    from syncse.synthesis.backends.llama_server import LlamaServerBackend

    return LlamaServerBackend(options, seed=seed)


__all__ = [
    "Backend",
    "BackendConfig",
    "BackendError",
    "ChatRequest",
    "Completion",
    "create_backend",
]
