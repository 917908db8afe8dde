"""ScriptedModel: the fake that unit tests of the engine use in place of a model."""

from __future__ import annotations

import asyncio

import pytest

from selfdebug.llm import (
    ChatModel,
    Completion,
    LLMTimeout,
    Message,
    MeteredModel,
    ScriptedCall,
    ScriptedModel,
    ScriptExhausted,
    Usage,
    UsageMeter,
)

ASK: list[Message] = [{"role": "system", "content": "You code."}, {"role": "user", "content": "Write add(a, b)."}]


def test_replies_come_in_order_and_calls_are_recorded() -> None:
    model = ScriptedModel("first", "second")

    async def go() -> list[str]:
        one = await model.complete(ASK)
        two = await model.complete(ASK[1:], temperature=0.7, max_tokens=50, stop=["```"])
        return [one.text, two.text]

    assert asyncio.run(go()) == ["first", "second"]
    first, second = model.history
    assert first == ScriptedCall(messages=ASK, temperature=None, max_tokens=None, stop=None)
    assert (second.temperature, second.max_tokens, second.stop) == (0.7, 50, ["```"])
    assert second.prompt == "Write add(a, b)."
    assert model.remaining == 0


def test_callables_exceptions_and_completions_are_replies() -> None:
    model = ScriptedModel(model="fake-1").enqueue(
        lambda call: f"echo: {call.prompt}",
        LLMTimeout("timed out", endpoint="fake", model="fake-1", attempts=1),
        Completion(text="whole", model="other", usage=Usage(prompt_tokens=1, completion_tokens=2)),
    )
    echo = asyncio.run(model.complete(ASK))
    assert echo.text == "echo: Write add(a, b)." and echo.model == "fake-1"
    with pytest.raises(LLMTimeout):
        asyncio.run(model.complete(ASK))
    whole = asyncio.run(model.complete(ASK))
    assert whole.model == "other" and whole.usage.total_tokens == 3
    assert len(model.history) == 3


def test_running_out_of_script_is_a_clear_error() -> None:
    model = ScriptedModel("only one")
    asyncio.run(model.complete(ASK))
    with pytest.raises(ScriptExhausted, match=r"no reply left for call 2 .*Write add"):
        asyncio.run(model.complete(ASK))


def test_a_default_answers_once_the_script_is_used_up() -> None:
    model = ScriptedModel("scripted", default="default")
    texts = [asyncio.run(model.complete(ASK)).text for _ in range(3)]
    assert texts == ["scripted", "default", "default"]


def test_usage_is_counted_in_words() -> None:
    model = ScriptedModel("def add(a, b): return a + b")
    completion = asyncio.run(model.complete(ASK))
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (5, 7)
    assert model.usage.totals.total_tokens == 12


def test_the_fake_and_the_meter_implement_the_protocol() -> None:
    assert isinstance(ScriptedModel(), ChatModel)
    assert isinstance(MeteredModel(ScriptedModel()), ChatModel)


def test_each_job_counts_its_own_usage_on_a_shared_model() -> None:
    shared = ScriptedModel(default="a b c")
    job_a, job_b = MeteredModel(shared, UsageMeter()), MeteredModel(shared)

    async def go() -> None:
        await asyncio.gather(job_a.complete(ASK), job_a.complete(ASK), job_b.complete(ASK[1:]))

    asyncio.run(go())
    assert (job_a.meter.totals.calls, job_a.meter.totals.total_tokens) == (2, 16)
    assert (job_b.meter.totals.calls, job_b.meter.totals.total_tokens) == (1, 6)
    assert shared.usage.totals.calls == 3
    assert job_a.meter.reset().calls == 2 and job_a.meter.totals.calls == 0
