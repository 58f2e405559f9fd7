"""LLM calls through the response cache, with what they cost counted.

Every stage that asks the LLM (annotation, scratch's sentence writing, the judge, `syncse
filter`) goes through one `CachedCaller`, so a question asked before is never paid for twice
and every summary counts calls, cache hits and tokens the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

from syncse.synthesis.backends import Backend, ChatRequest, Completion
from syncse.synthesis.store import ResponseCache


@dataclass
class Usage:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backend_errors: int = 0
    #: Every answer by kind and outcome ("positive:ok", "negative:copies_input", ...): the
    #: figures that compare LLMs (parse failures, copies) before any filter.
    answers: Counter = field(default_factory=Counter)

    @property
    def unparseable_answers(self) -> int:
        return sum(
            v
            for k, v in self.answers.items()
            if k.endswith((":unparseable", ":refusal", ":empty_answer"))
        )

    def cost(self, price: tuple[float, float] | None) -> float | None:
        if price is None:
            return None
        return (self.prompt_tokens * price[0] + self.completion_tokens * price[1]) / 1e6


class CachedCaller:
    """LLM calls through the response cache, with usage counted: a request asked before (same
    messages, sampling and seed, same model) is answered from the cache for free."""

    def __init__(self, backend: Backend, cache: ResponseCache) -> None:
        self.backend, self.cache = backend, cache
        self.usage = Usage()

    async def ask(self, request: ChatRequest) -> tuple[Completion, str]:
        key = request.cache_key(self.backend.cache_id)
        hit = await asyncio.to_thread(self.cache.get, key)
        if hit is not None:
            self.usage.cache_hits += 1
            return _from_cache(request, hit), key
        completion = await self.backend.complete(request)
        self.usage.calls += 1
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        if not completion.text.strip():
            # A glitching server's empty answer is not the model's answer for good: the next
            # run asks again.
            return completion, key
        await asyncio.to_thread(
            self.cache.put,
            key,
            _cached_text(request, completion),
            completion.prompt_tokens,
            completion.completion_tokens,
        )
        return completion, key


def _cached_text(request: ChatRequest, completion: Completion) -> str:
    """What the cache stores as the answer: the text, or for a scored request (the NLI judge)
    the text and its first-token log-probabilities as one JSON object, so a cached verdict is
    the same verdict."""
    if not request.top_logprobs:
        return completion.text
    return json.dumps({"text": completion.text, "top_logprobs": completion.top_logprobs})


def _from_cache(request: ChatRequest, hit: tuple[str, int, int]) -> Completion:
    text, prompt_tokens, completion_tokens = hit
    if not request.top_logprobs:
        return Completion(text, prompt_tokens, completion_tokens, cached=True)
    stored = json.loads(text)
    return Completion(
        stored["text"],
        prompt_tokens,
        completion_tokens,
        cached=True,
        top_logprobs=stored["top_logprobs"],
    )
