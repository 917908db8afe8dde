"""OpenAIChatModel over real HTTP against the scripted server: replies, retries, typed errors, timeouts, limits."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

import pytest

from selfdebug.llm import (
    ChatModel,
    Completion,
    LLMBadResponse,
    LLMConfigError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMSettings,
    LLMTimeout,
    LLMUnavailable,
    Message,
    OpenAIChatModel,
)
from tests.llm.scripted_server import ScriptedOpenAIServer

pytestmark = pytest.mark.timeout(30)

HELLO: list[Message] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


def settings_for(server: ScriptedOpenAIServer, **overrides: Any) -> LLMSettings:
    fast = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 5.0, "max_retries": 2}
    return LLMSettings(base_url=server.base_url, model=server.model, api_key="sk-test", **(fast | overrides))


def complete(settings: LLMSettings, messages: Sequence[Message] = HELLO, **kwargs: Any) -> Completion:
    async def go() -> Completion:
        async with OpenAIChatModel(settings) as model:
            return await model.complete(messages, **kwargs)

    return asyncio.run(go())


def test_a_reply_carries_text_usage_model_and_timing(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.reply("hello there", prompt_tokens=11, completion_tokens=2, finish_reason="length")
    completion = complete(settings_for(scripted_server))
    assert completion.text == "hello there"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 2)
    assert completion.usage.total_tokens == 13
    assert completion.model == scripted_server.model
    assert completion.finish_reason == "length"
    assert completion.latency > 0 and not completion.cached and completion.attempts == 1


def test_the_request_carries_messages_parameters_and_the_key(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.reply("a").reply("b")
    settings = settings_for(scripted_server, temperature=0.3, max_tokens=77)
    complete(settings)
    complete(settings, temperature=0.0, max_tokens=5, stop=["```", "\n\n"])
    first, second = (r.body for r in scripted_server.chat_requests)
    assert first["messages"] == HELLO and first["model"] == scripted_server.model
    assert (first["temperature"], first["max_tokens"]) == (0.3, 77) and "stop" not in first
    assert (second["temperature"], second["max_tokens"], second["stop"]) == (0.0, 5, ["```", "\n\n"])
    assert scripted_server.chat_requests[0].headers["authorization"] == "Bearer sk-test"


def test_server_errors_are_retried_until_a_reply(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(500).fail(503).reply("finally")
    completion = complete(settings_for(scripted_server))
    assert completion.text == "finally" and completion.attempts == 3
    assert len(scripted_server.chat_requests) == 3


def test_persistent_server_errors_give_up_with_a_typed_error(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(500).fail(502).fail(500).reply("too late")
    with pytest.raises(LLMUnavailable) as caught:
        complete(settings_for(scripted_server, max_retries=2))
    assert caught.value.attempts == 3 and len(scripted_server.chat_requests) == 3
    message = str(caught.value)
    assert scripted_server.base_url in message and "3 attempts" in message and "HTTP 500" in message
    assert scripted_server.remaining == 1


def test_backoff_grows_between_attempts(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(500).fail(500).fail(500).reply("ok")
    complete(settings_for(scripted_server, max_retries=3, backoff_base=0.1, backoff_max=10.0))
    times = [r.received_at for r in scripted_server.chat_requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Jitter keeps each wait within [½, 1] of 0.1, 0.2, 0.4 s.
    for gap, nominal in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert nominal / 2 <= gap < nominal + 0.3


def test_rate_limits_honour_retry_after(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(429, retry_after=0.4).reply("ok")
    completion = complete(settings_for(scripted_server))
    first, second = scripted_server.chat_requests
    assert completion.text == "ok" and second.received_at - first.received_at >= 0.4


def test_a_retry_after_beyond_the_limit_gives_up_at_once(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(429, retry_after=3600).reply("never")
    with pytest.raises(LLMRateLimited) as caught:
        complete(settings_for(scripted_server, retry_after_max=30))
    assert caught.value.retry_after == 3600 and caught.value.attempts == 1
    assert len(scripted_server.chat_requests) == 1


def test_persistent_rate_limits_give_up_as_rate_limited(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(429).fail(429).fail(429)
    with pytest.raises(LLMRateLimited) as caught:
        complete(settings_for(scripted_server))
    assert caught.value.attempts == 3 and caught.value.retry_after is None


def test_client_errors_are_not_retried(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.fail(400, message="context length exceeded").reply("unused")
    with pytest.raises(LLMRequestRejected) as caught:
        complete(settings_for(scripted_server))
    assert caught.value.status_code == 400 and caught.value.attempts == 1
    assert "context length exceeded" in str(caught.value)
    assert len(scripted_server.chat_requests) == 1


def test_a_hanging_server_times_out_each_attempt_then_gives_up(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.hang().hang()
    started = time.monotonic()
    with pytest.raises(LLMTimeout) as caught:
        complete(settings_for(scripted_server, timeout=0.3, max_retries=1))
    elapsed = time.monotonic() - started
    assert caught.value.attempts == 2 and len(scripted_server.chat_requests) == 2
    assert 0.6 <= elapsed < 3.0


def test_a_timeout_then_a_reply_succeeds(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.hang().reply("awake")
    assert complete(settings_for(scripted_server, timeout=0.3)).text == "awake"


def test_an_unreachable_endpoint_is_unavailable() -> None:
    with ScriptedOpenAIServer() as server:
        settings = settings_for(server, max_retries=1)
    # The server is stopped: its port now refuses connections.
    with pytest.raises(LLMUnavailable, match="connection failed"):
        complete(settings)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"object": "chat.completion", "choices": []}', "application/json"),
        (b'{"unexpected": true}', "application/json"),
        (b"<html>gateway page</html>", "text/html"),
        (b"{not json", "application/json"),
    ],
)
def test_malformed_answers_are_bad_responses(
    scripted_server: ScriptedOpenAIServer, body: bytes, content_type: str
) -> None:
    scripted_server.raw(body, content_type=content_type)
    with pytest.raises(LLMBadResponse):
        complete(settings_for(scripted_server))
    assert len(scripted_server.chat_requests) == 1


def test_concurrency_is_limited(scripted_server: ScriptedOpenAIServer) -> None:
    for i in range(6):
        scripted_server.reply(f"reply {i}", delay=0.15)

    async def go() -> list[Completion]:
        async with OpenAIChatModel(settings_for(scripted_server, concurrency=2)) as model:
            return await asyncio.gather(*(model.complete(HELLO) for _ in range(6)))

    started = time.monotonic()
    completions = asyncio.run(go())
    assert sorted(c.text for c in completions) == [f"reply {i}" for i in range(6)]
    assert scripted_server.max_in_flight == 2
    assert time.monotonic() - started >= 3 * 0.15


def test_usage_accumulates_on_the_model(scripted_server: ScriptedOpenAIServer) -> None:
    scripted_server.reply("one", prompt_tokens=10, completion_tokens=1).reply(
        "two", prompt_tokens=20, completion_tokens=2
    )

    async def go() -> OpenAIChatModel:
        async with OpenAIChatModel(settings_for(scripted_server)) as model:
            await model.complete(HELLO)
            await model.complete(HELLO)
            return model

    totals = asyncio.run(go()).usage.totals
    assert (totals.calls, totals.prompt_tokens, totals.completion_tokens, totals.total_tokens) == (2, 30, 3, 33)
    assert totals.cached_calls == 0 and totals.latency > 0


def test_the_client_implements_the_protocol(scripted_server: ScriptedOpenAIServer) -> None:
    async def go() -> bool:
        async with OpenAIChatModel(settings_for(scripted_server)) as model:
            return isinstance(model, ChatModel)

    assert asyncio.run(go())


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(LLMConfigError, match="base_url"):
        OpenAIChatModel(LLMSettings(base_url=None, model="m"))
    with pytest.raises(LLMConfigError, match="model"):
        OpenAIChatModel(LLMSettings(base_url="http://127.0.0.1:9/v1", model=None))
