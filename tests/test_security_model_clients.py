"""A worker process opens LLM clients only for allowed model names, and never holds more than its bound of them:
opening one more closes the least recently used client no job is using, and a client a job is using is never
closed under it (a made-up model name per job used to open a client each time, and none was ever closed)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from selfdebug.llm import LLMSettings, OpenAIChatModel
from tests.llm.scripted_server import ScriptedOpenAIServer, Step
from workers.errors import ModelNotAllowed
from workers.llm_clients import ModelClients
from workers.runtime import Runtime
from workers.settings import ServiceSettings

pytestmark = [pytest.mark.security, pytest.mark.timeout(60)]

REDIS_URL = "redis://127.0.0.1:6379/13"
NAMES = [f"model-{i}" for i in range(8)]


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(default=Step(text="```python\nx = 1\n```")) as scripted:
        yield scripted


def _settings(server: ScriptedOpenAIServer) -> LLMSettings:
    return LLMSettings(base_url=server.base_url, model=server.model, timeout=5, max_retries=0)


class _Opened:
    """Every OpenAIChatModel opened, and which of them are closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.models: list[OpenAIChatModel] = []
        self.closed: set[int] = set()
        opened, closed = OpenAIChatModel.__aenter__, OpenAIChatModel.aclose

        async def enter(model: OpenAIChatModel) -> Any:
            self.models.append(model)
            return await opened(model)

        async def close(model: OpenAIChatModel) -> None:
            self.closed.add(id(model))
            await closed(model)

        monkeypatch.setattr(OpenAIChatModel, "__aenter__", enter)
        monkeypatch.setattr(OpenAIChatModel, "aclose", close)

    @property
    def open(self) -> list[str]:
        return [m.model for m in self.models if id(m) not in self.closed]


def test_a_worker_never_holds_more_than_its_bound_of_clients(server: ScriptedOpenAIServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _Opened(monkeypatch)
    settings = ServiceSettings(redis_url=REDIS_URL, allowed_models=NAMES, max_model_clients=3)
    runtime = Runtime(settings, send=lambda job_id: None, llm_settings=_settings(server))
    try:
        async def use(name: str) -> None:
            async with runtime.model(name) as model:
                await model.complete([{"role": "user", "content": "hi"}])

        for name in NAMES * 2:
            runtime.call(use(name))
            assert len(opened.open) <= 3, opened.open
        assert len(opened.models) > len(NAMES) and len(opened.open) == 3  # evicted ones were closed, reopened
        with pytest.raises(ModelNotAllowed):
            runtime.call(use("made-up"))
        assert all(m.model != "made-up" for m in opened.models)
    finally:
        runtime.close()
        runtime.loop.close()  # stopped by close(); its own sockets go with it
    assert opened.open == []


def test_a_client_in_use_is_never_closed_and_a_job_waits_for_a_free_one(server: ScriptedOpenAIServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _Opened(monkeypatch)

    async def scenario() -> None:
        clients = ModelClients(_settings(server), max_open=2)
        async with clients.lease("a") as a, clients.lease("b"):
            waiting = asyncio.create_task(_use(clients, "c"))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # both open clients are in use: "c" waits
            assert id(a) not in opened.closed
        await asyncio.wait_for(waiting, 5)  # "a" went idle and was closed for "c"
        assert sorted(opened.open) == ["b", "c"] and clients.open_count == 2
        await clients.aclose()

    asyncio.run(scenario())
    assert opened.open == []


async def _use(clients: ModelClients, name: str) -> None:
    async with clients.lease(name) as model:
        await model.complete([{"role": "user", "content": "hi"}])
