"""The on-disk response cache: replays without HTTP, keys on every parameter, survives damage, writes atomically."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from selfdebug.llm import Completion, LLMSettings, Message, OpenAIChatModel, ResponseCache
from tests.llm.scripted_server import ScriptedOpenAIServer

pytestmark = pytest.mark.timeout(30)

ASK: list[Message] = [{"role": "user", "content": "Write add(a, b)."}]


def settings_for(server: ScriptedOpenAIServer, cache_dir: Path, **overrides: Any) -> LLMSettings:
    return LLMSettings(
        base_url=server.base_url, model=server.model, cache_dir=cache_dir, backoff_base=0.01, **overrides
    )


def run_calls(settings: LLMSettings, *calls: dict[str, Any]) -> list[Completion]:
    """Make the calls in order on one model object (one 'run')."""

    async def go() -> list[Completion]:
        async with OpenAIChatModel(settings) as model:
            return [await model.complete(ASK, **call) for call in calls]

    return asyncio.run(go())


def test_a_repeated_request_is_answered_from_the_cache(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_server.reply("def add(a, b): return a + b", prompt_tokens=9, completion_tokens=12)
    first, second = run_calls(settings_for(scripted_server, tmp_path), {}, {})
    assert len(scripted_server.chat_requests) == 1
    assert not first.cached and second.cached
    assert second.text == first.text and second.usage == first.usage and second.model == first.model
    assert second.latency < first.latency


def test_a_rerun_replays_without_any_http(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_server.reply("answer")
    settings = settings_for(scripted_server, tmp_path)
    run_calls(settings, {})
    (replayed,) = run_calls(settings, {})
    assert replayed.cached and replayed.text == "answer"
    assert len(scripted_server.requests) == 1


def test_cached_calls_are_counted_in_usage(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_server.reply("x", prompt_tokens=5, completion_tokens=7)

    async def go() -> OpenAIChatModel:
        async with OpenAIChatModel(settings_for(scripted_server, tmp_path)) as model:
            await model.complete(ASK)
            await model.complete(ASK)
            return model

    totals = asyncio.run(go()).usage.totals
    assert (totals.calls, totals.cached_calls, totals.total_tokens) == (2, 1, 24)


@pytest.mark.parametrize(
    "change",
    [{"max_tokens": 99}, {"stop": ["```"]}, {"temperature": 0.5}],
)
def test_different_parameters_miss(
    scripted_server: ScriptedOpenAIServer, tmp_path: Path, change: dict[str, Any]
) -> None:
    scripted_server.reply("first").reply("second")
    first, second = run_calls(settings_for(scripted_server, tmp_path), {}, change)
    assert (first.text, second.text) == ("first", "second") and not second.cached


def test_different_models_and_messages_miss(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    base = {"model": "m", "messages": ASK, "temperature": 0.0, "max_tokens": 10, "stop": None}
    keys = {
        cache.key(**base),
        cache.key(**(base | {"model": "other"})),
        cache.key(**(base | {"messages": [{"role": "user", "content": "Write sub(a, b)."}]})),
        cache.key(**(base | {"messages": [{"role": "system", "content": "Write add(a, b)."}]})),
    }
    assert len(keys) == 4
    assert cache.key(**base) == cache.key(**base)  # at temperature 0 a key is stable


def test_sampling_at_temperature_above_zero_keeps_samples_apart(
    scripted_server: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    scripted_server.reply("sample 1").reply("sample 2")
    settings = settings_for(scripted_server, tmp_path, temperature=0.8)
    live = [c.text for c in run_calls(settings, {}, {})]
    replay = run_calls(settings, {}, {})
    assert live == ["sample 1", "sample 2"]
    assert [c.text for c in replay] == live and all(c.cached for c in replay)
    assert len(scripted_server.chat_requests) == 2


def test_a_damaged_entry_is_a_miss_and_is_rewritten(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_server.reply("original").reply("fresh")
    settings = settings_for(scripted_server, tmp_path)
    run_calls(settings, {})
    (entry,) = tmp_path.glob("*/*.json")
    entry.write_text('{"completion": {"text": ')
    (again,) = run_calls(settings, {})
    assert again.text == "fresh" and not again.cached
    (replayed,) = run_calls(settings, {})
    assert replayed.text == "fresh" and replayed.cached


def test_failures_are_not_cached(scripted_server: ScriptedOpenAIServer, tmp_path: Path) -> None:
    scripted_server.fail(400)
    with pytest.raises(Exception, match="HTTP 400"):
        run_calls(settings_for(scripted_server, tmp_path), {})
    assert not list(tmp_path.rglob("*.json"))


def test_writes_leave_only_whole_entries(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    completion = Completion(text="t" * 10_000, model="m")
    for i in range(20):
        cache.put(f"{i:064x}", completion)
    files = list(tmp_path.rglob("*"))
    assert not [f for f in files if f.name.startswith(".tmp-")]
    assert all(cache.get(f"{i:064x}") == completion for i in range(20))
    assert cache.get("f" * 64) is None


def test_an_unwritable_cache_does_not_lose_the_answer(
    scripted_server: ScriptedOpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache folder should be")
    scripted_server.reply("kept")
    (completion,) = run_calls(settings_for(scripted_server, blocked), {})
    assert completion.text == "kept"
    assert "could not write the response cache" in caplog.text
