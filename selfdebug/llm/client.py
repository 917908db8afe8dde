"""``OpenAIChatModel``: any OpenAI-compatible endpoint, with a concurrency limit, retries, usage and a cache."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

import openai

from .cache import ResponseCache
from .errors import LLMConfigError
from .models import Completion, Message, Usage
from .retry import BadShapeError, Failure, backoff_delay, classify
from .settings import LLMSettings
from .usage import UsageMeter

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["OpenAIChatModel"]

log = logging.getLogger(__name__)

_NO_KEY = "sk-no-key-needed"  # local servers ignore the key, but the client insists on one


class OpenAIChatModel:
    """A ``ChatModel`` on ``openai.AsyncOpenAI``.

    At most ``settings.concurrency`` requests are in flight at once. Timeouts, connection errors, 429 and 5xx are
    retried up to ``settings.max_retries`` times with exponential backoff and jitter (a Retry-After header wins),
    then raise a typed ``LLMError``. ``usage`` accumulates every call; wrap the model in ``MeteredModel`` to count a
    job's calls apart. With ``settings.cache_dir`` set, answers are stored and replayed (``cached=True``).
    Close it (``async with`` or ``aclose()``) to release its HTTP connections.
    """

    def __init__(
        self,
        settings: LLMSettings,
        *,
        cache: ResponseCache | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if settings.base_url is None:
            raise LLMConfigError("OpenAIChatModel needs a base_url; open_chat_model() serves the embedded model")
        if settings.model is None:
            raise LLMConfigError(f"no model name configured for {settings.base_url} (set SELFDEBUG_LLM_MODEL)")
        self.settings = settings
        self.endpoint = settings.base_url
        self.model = settings.model
        self.usage = UsageMeter()
        self.cache = cache if cache is not None else _cache_for(settings)
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=_api_key(settings),
            timeout=settings.timeout,
            max_retries=0,  # we retry ourselves, with our own policy and errors
        )

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        started = time.monotonic()
        params: dict[str, Any] = {
            "temperature": self.settings.temperature if temperature is None else temperature,
            "max_tokens": self.settings.max_tokens if max_tokens is None else max_tokens,
            "stop": list(stop) if stop else None,
        }
        key = None
        if self.cache is not None:
            key = self.cache.key(model=self.model, messages=messages, **params)
            hit = self.cache.get(key)
            if hit is not None:
                completion = hit.model_copy(update={"cached": True, "latency": time.monotonic() - started})
                self.usage.record(completion)
                return completion
        completion = await self._with_retries(messages, params)
        completion = completion.model_copy(update={"latency": time.monotonic() - started})
        if self.cache is not None and key is not None:
            try:
                self.cache.put(key, completion)
            except OSError as exc:  # a cache that cannot be written must not lose an answer we paid for
                log.warning("could not write the response cache at %s: %s", self.cache.directory, exc)
        self.usage.record(completion)
        return completion

    async def _with_retries(self, messages: Sequence[Message], params: dict[str, Any]) -> Completion:
        attempts = 0
        while True:
            attempts += 1
            try:
                async with self._semaphore:
                    completion = await self._attempt(messages, params)
                return completion.model_copy(update={"attempts": attempts})
            except Exception as exc:
                failure = classify(exc)
                if failure is None:
                    raise
                if not self._should_retry(failure, attempts):
                    raise failure.error(endpoint=self.endpoint, model=self.model, attempts=attempts) from exc
            # The slot is released while we wait, so other requests are not held up by this one's backoff.
            delay = self._delay(failure, attempts - 1)
            log.info(
                "LLM attempt %d to %s failed (%s); retrying in %.2f s", attempts, self.endpoint, failure.reason, delay
            )
            await asyncio.sleep(delay)

    def _should_retry(self, failure: Failure, attempts: int) -> bool:
        if not failure.retryable or attempts > self.settings.max_retries:
            return False
        return failure.retry_after is None or failure.retry_after <= self.settings.retry_after_max

    def _delay(self, failure: Failure, retry: int) -> float:
        if failure.retry_after is not None:
            return failure.retry_after
        return backoff_delay(retry, base=self.settings.backoff_base, cap=self.settings.backoff_max, rng=self._rng)

    async def _attempt(self, messages: Sequence[Message], params: dict[str, Any]) -> Completion:
        payload = cast(
            "list[ChatCompletionMessageParam]", [{"role": m["role"], "content": m["content"]} for m in messages]
        )
        # The client's own timeout bounds each phase of the exchange; this bounds the whole of it.
        async with asyncio.timeout(self.settings.timeout):
            try:
                response = await self._client.chat.completions.create(
                    model=self.model,
                    messages=payload,
                    temperature=params["temperature"],
                    max_tokens=params["max_tokens"],
                    stop=params["stop"] if params["stop"] else openai.omit,
                )
            except json.JSONDecodeError as exc:
                raise BadShapeError(f"the response body is not valid JSON: {exc}") from exc
        return _parse(response, fallback_model=self.model)

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _parse(response: object, *, fallback_model: str) -> Completion:
    """Read text, usage, model and finish reason, refusing anything that is not a chat completion."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise BadShapeError(f"no choices in the response: {str(response)[:200]!r}")
    choice = choices[0]
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None)
    if content is not None and not isinstance(content, str):
        raise BadShapeError(f"the message content is not text: {content!r:.200}")
    usage = getattr(response, "usage", None)
    model = getattr(response, "model", None)
    finish_reason = getattr(choice, "finish_reason", None)
    return Completion(
        text=content or "",
        usage=Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", None) or 0,
            completion_tokens=getattr(usage, "completion_tokens", None) or 0,
        ),
        model=model if isinstance(model, str) and model else fallback_model,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
    )


def _api_key(settings: LLMSettings) -> str:
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    return os.environ.get("OPENAI_API_KEY") or _NO_KEY


def _cache_for(settings: LLMSettings) -> ResponseCache | None:
    return ResponseCache(settings.cache_dir) if settings.cache_dir is not None else None
