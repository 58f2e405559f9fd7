"""The backend protocol: one small async interface, many interchangeable LLMs (as in `llm`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[tuple[str, str], ...]  # (role, content); a tuple so it is hashable
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: int = 80
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    #: > 0: the answer is scored, not read: the completion carries the log-probabilities of
    #: the `top_logprobs` likeliest first tokens of the answer (`Completion.top_logprobs`),
    #: which is how the NLI judge decides a label without parsing free text.
    top_logprobs: int = 0

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def cache_key(self, backend_id: str) -> str:
        """Identical request to the identical model -> identical key (the response cache)."""
        fields = asdict(self)
        if not fields["top_logprobs"]:
            del fields["top_logprobs"]  # added later: keys of earlier requests stay the same
        # A `json_mode` flag that no request ever set was removed; it stays in the key,
        # always False, so that every cached answer keeps its key.
        fields["json_mode"] = False
        payload = json.dumps([backend_id, fields], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    extra: dict = field(default_factory=dict)
    #: First answer token -> log-probability, for the likeliest tokens, when the request asked
    #: for `top_logprobs` and the backend offers them (None: it does not, e.g. a server
    #: without logprobs; the answer's text is then all there is).
    top_logprobs: dict[str, float] | None = None


class BackendError(Exception):
    """A request failed after the backend's own retries. `retryable` (the default): the input
    is tried again on resume; otherwise it is rejected for good (e.g. too long for the model)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Backend(Protocol):
    #: "kind:model", stable across runs; recorded in every row.
    backend_id: str
    #: What identifies the answers in the response cache: the backend id, plus the endpoint
    #: where one model name can be served by different servers.
    cache_id: str
    #: How many requests the pipeline may keep in flight.
    concurrency: int

    async def check(self) -> None:
        """Fail fast with a SyncseError when the backend cannot work (bad URL, bad file)."""

    async def complete(self, request: ChatRequest) -> Completion: ...

    async def aclose(self) -> None: ...
