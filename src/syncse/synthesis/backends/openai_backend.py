"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama) via the official
`openai` client.

Retries are the client's own: exponential backoff with jitter on 408/409/429/5xx, timeouts
and connection errors, honouring Retry-After (capped by the client at 60 s). We only set how
many and the timeout, rather than wrap a second retry loop around it.
"""

from __future__ import annotations

import os

import openai

from syncse.errors import SyncseError
from syncse.synthesis.backends.base import BackendError, ChatRequest, Completion
from syncse.synthesis.config import BackendConfig

LOCAL_PLACEHOLDER_KEY = "sk-no-key-needed"


class OpenAIBackend:
    def __init__(self, config: BackendConfig) -> None:
        key = os.environ.get(config.api_key_env)
        if not key:
            if config.base_url is None:
                raise SyncseError(
                    f"no API key: set the environment variable {config.api_key_env}"
                    " (or pass --base-url for a local server)"
                )
            key = LOCAL_PLACEHOLDER_KEY  # local servers usually accept any key
        self.config = config
        self.client = openai.AsyncOpenAI(
            api_key=key,
            base_url=config.base_url,
            max_retries=config.max_retries,
            timeout=config.timeout,
        )
        self.backend_id = f"openai:{config.model}"
        self.concurrency = max(1, config.concurrency)

    async def check(self) -> None:
        where = self.config.base_url or "the OpenAI API"
        try:
            await self.client.with_options(max_retries=1, timeout=15).models.list()
        except openai.AuthenticationError as exc:
            raise SyncseError(
                f"{where}: API key rejected (401); check ${self.config.api_key_env}"
            ) from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise SyncseError(
                f"{where}: cannot connect ({type(exc).__name__}); is the server "
                "running and --base-url right?"
            ) from exc
        except openai.APIStatusError:
            pass  # some servers do not implement /models; the first completion will tell

    async def complete(self, request: ChatRequest) -> Completion:
        kwargs = {}
        if request.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        if request.seed is not None:
            kwargs["seed"] = request.seed
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
            raise SyncseError(f"API key rejected (401); check ${self.config.api_key_env}") from exc
        except (openai.APIError, ValueError) as exc:
            # ValueError: some malformed bodies fail inside the client's parser.
            raise BackendError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        if not getattr(response, "choices", None):
            raise BackendError("response without choices")
        usage = getattr(response, "usage", None)
        return Completion(
            text=response.choices[0].message.content or "",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )

    async def aclose(self) -> None:
        await self.client.close()
