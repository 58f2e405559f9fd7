"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama) via the official
`openai` client.

Retries are the client's own: exponential backoff with jitter on 408/409/429/5xx, timeouts
and connection errors, honouring Retry-After (capped by the client at 60 s). We only set how
many and the timeout, rather than wrap a second retry loop around it. A status that no retry
can fix (400, 403, 404, 422: an unknown model, a bad parameter) stops the run at the first
call: otherwise every input would be rejected as "retryable" and the run would end with exit
code 0 and no data.

Keys stay home: `OPENAI_API_KEY` goes to OpenAI's own endpoint only. Any other host (a vLLM
box, a third-party provider) gets a key only from a variable the user names with
`--api-key-env`, so pointing `--base-url` at a server never hands it the OpenAI key.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

import openai

from syncse.errors import SyncseError
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import OpenAIOptions

LOCAL_PLACEHOLDER_KEY = "sk-no-key-needed"
OPENAI_KEY_ENV = "OPENAI_API_KEY"
OPENAI_URL = "https://api.openai.com/v1"
#: Statuses a retry cannot fix: the request itself is wrong for this server.
FATAL_STATUSES = (
    openai.BadRequestError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
    openai.UnprocessableEntityError,
)
#: Key-shaped strings a server may echo back (OpenAI-style `sk-...`, bearer tokens).
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}|(?<=Bearer )\S+", re.IGNORECASE)
_CONTEXT_TOO_LONG = re.compile(r"context.{0,20}(length|window|size)|too long", re.IGNORECASE)


def is_openai_endpoint(base_url: str | None) -> bool:
    return base_url is None or urlparse(base_url).hostname == "api.openai.com"


def api_key_for(config: OpenAIOptions) -> str:
    """The key for this endpoint, from the environment only (never from a config file)."""
    if config.api_key_env:
        key = os.environ.get(config.api_key_env)
        if not key:
            raise SyncseError(f"{{}} {config.api_key_env}: that variable is not set", "api_key_env")
        return key
    if is_openai_endpoint(config.base_url):
        key = os.environ.get(OPENAI_KEY_ENV)
        if not key:
            raise SyncseError(
                f"no API key: set {OPENAI_KEY_ENV} for OpenAI, or {{}} for another server",
                "base_url",
            )
        return key
    return LOCAL_PLACEHOLDER_KEY  # local servers accept any key; theirs comes via --api-key-env


class OpenAIBackend:
    def __init__(self, config: OpenAIOptions) -> None:
        if not config.model:
            raise SyncseError(
                "{}: name the model the server serves (e.g. the name given to vLLM's "
                "--served-model-name)",
                "model",
            )
        self._key = api_key_for(config)
        self.config = config
        self.client = openai.AsyncOpenAI(
            api_key=self._key,
            base_url=config.base_url or OPENAI_URL,
            max_retries=config.max_retries,
            timeout=config.timeout,
        )
        self.backend_id = f"openai:{config.model}"
        # Two servers may serve one model name: cached answers are per endpoint.
        self.cache_id = f"{self.backend_id}@{(config.base_url or OPENAI_URL).rstrip('/')}"
        self.concurrency = max(1, config.concurrency or 8)

    def _redact(self, text: str) -> str:
        """Server error text goes to the rejected file and the terminal: never with a key."""
        if self._key and self._key != LOCAL_PLACEHOLDER_KEY:
            text = text.replace(self._key, "***")
        return _KEY_LIKE.sub("***", text)

    def _where(self) -> str:
        return self.config.base_url or "the OpenAI API"

    async def check(self) -> None:
        where = self._where()
        try:
            await self.client.with_options(max_retries=1, timeout=15).models.list()
        except openai.AuthenticationError as exc:
            env = self.config.api_key_env or OPENAI_KEY_ENV
            raise SyncseError(f"{where}: API key rejected (401); check ${env}") from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise SyncseError(
                f"{where}: cannot connect ({type(exc).__name__}); is the server "
                "running and {} right?",
                "base_url",
            ) from exc
        except openai.APIStatusError:
            pass  # some servers do not implement /models; the first completion will tell

    async def complete(self, request: ChatRequest) -> Completion:
        kwargs = {}
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.top_logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = min(request.top_logprobs, 20)  # OpenAI's maximum
        try:
            response = await self.client.chat.completions.create(
                model=self.config.model,
                messages=request.as_messages(),  # type: ignore[arg-type]
                temperature=request.temperature,
                top_p=request.top_p,
                max_tokens=request.max_tokens,
                presence_penalty=request.presence_penalty,
                frequency_penalty=request.frequency_penalty,
                **kwargs,
            )
        except openai.AuthenticationError as exc:
            env = self.config.api_key_env or OPENAI_KEY_ENV
            raise SyncseError(f"{self._where()}: API key rejected (401); check ${env}") from exc
        except FATAL_STATUSES as exc:
            message = self._redact(_one_line(exc))
            if isinstance(exc, openai.BadRequestError) and _CONTEXT_TOO_LONG.search(message):
                # This input is too long for the model: reject it, not the whole run.
                raise BackendError(f"input too long: {message}", retryable=False) from exc
            raise SyncseError(
                f"{self._where()}: {exc.status_code} for model '{self.config.model}', which "
                f"no retry can fix: {message}"
            ) from exc
        except (openai.APIError, ValueError) as exc:
            # ValueError: some malformed bodies fail inside the client's parser.
            raise BackendError(f"{type(exc).__name__}: {self._redact(_one_line(exc))}") from exc
        if not getattr(response, "choices", None):
            raise BackendError("response without choices")
        usage = getattr(response, "usage", None)
        return Completion(
            text=response.choices[0].message.content or "",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            top_logprobs=_first_token_logprobs(response) if request.top_logprobs else None,
        )

    async def aclose(self) -> None:
        await self.client.close()


def _first_token_logprobs(response) -> dict[str, float] | None:
    """The first answer token's alternatives as {token: logprob}; None where the server
    offers no log-probabilities (it ignored the parameter)."""
    logprobs = getattr(response.choices[0], "logprobs", None)
    content = getattr(logprobs, "content", None) if logprobs is not None else None
    if not content:
        return None
    first = content[0]
    found = {alt.token: float(alt.logprob) for alt in (first.top_logprobs or [])}
    found.setdefault(first.token, float(first.logprob))
    return found


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
