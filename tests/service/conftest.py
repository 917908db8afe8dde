"""The service under test: real Redis (a dedicated DB, cleaned per test), a real Celery worker in a subprocess
with the real sandbox, the API under uvicorn, and the instant scripted model over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from api import APISettings
from tests.llm.scripted_server import ScriptedOpenAIServer
from tests.service.harness import ApiServer, WorkerProcess, clean_redis
from tests.service.scripted import scripted_model_server

REDIS_URL = os.environ.get("SELFDEBUG_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
# Keys and queues of this test session only: a developer's run and CI's can share one Redis database.
RUN = str(os.getpid())
PREFIX = f"sdt{RUN}"
QUEUE = f"selfdebug-test-{RUN}"
KEYS = {"alice": "alice-token-0001", "bob": "bob-token-00002"}

# Fast clocks, so lost workers and lost messages are found in seconds; a patient but bounded LLM client.
SERVICE_ENV = {
    "SELFDEBUG_REDIS_URL": REDIS_URL,
    "SELFDEBUG_KEY_PREFIX": PREFIX,
    "SELFDEBUG_QUEUE": QUEUE,
    "SELFDEBUG_HEARTBEAT_INTERVAL": "0.3",
    "SELFDEBUG_STALE_AFTER": "3",
    "SELFDEBUG_SWEEP_INTERVAL": "1",
    "SELFDEBUG_REQUEUE_AFTER": "5",
    "SELFDEBUG_JOB_TIME_LIMIT": "60",
    "SELFDEBUG_MAX_JOB_TIME_LIMIT": "120",
    "SELFDEBUG_REDIS_RETRY_SECONDS": "30",
    "SELFDEBUG_LLM_TIMEOUT": "2",
    "SELFDEBUG_LLM_MAX_RETRIES": "1",
    "SELFDEBUG_LLM_BACKOFF_BASE": "0.05",
    "SELFDEBUG_LLM_BACKOFF_MAX": "0.2",
    "SANDBOX_POOL_SIZE": "2",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything here but the pure unit tests runs containers through a worker.
    for item in items:
        if "service" in getattr(item, "fixturenames", ()) or "worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


# Package scope, not session: the API thread and the worker must be gone before the rest of the suite runs (a
# live thread drawing from `random` makes Hypothesis report the later property tests as flaky).
@pytest.fixture(scope="package")
def llm() -> Iterator[ScriptedOpenAIServer]:
    with scripted_model_server() as server:
        yield server


@pytest.fixture(scope="package")
def service_env(llm: ScriptedOpenAIServer) -> Iterator[dict[str, str]]:
    """The environment of every service process; also set in this process (the in-thread API reads it)."""
    env = {**SERVICE_ENV, "SELFDEBUG_LLM_BASE_URL": llm.base_url, "SELFDEBUG_LLM_MODEL": llm.model}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def queue(name: str) -> str:
    """A queue name of this session's own."""
    return f"{name}-{RUN}"


def api_settings(**overrides: Any) -> APISettings:
    values: dict[str, Any] = {"api_keys": KEYS, "rate_limit": 100_000, "max_active_jobs": 500, "max_wait": 60.0,
                              "executions_pool_size": 1, "max_active_batches": 10}
    values.update(overrides)
    return APISettings(**values)


@pytest.fixture(scope="package")
def worker(service_env: dict[str, str]) -> Iterator[WorkerProcess]:
    clean_redis(REDIS_URL, RUN)
    with WorkerProcess(service_env, concurrency=4, name="session-worker") as process:
        process.ready()
        yield process
        print(process.log_tail(80))


@pytest.fixture(scope="package")
def api(service_env: dict[str, str]) -> Iterator[ApiServer]:
    with ApiServer(api_settings()) as server:
        yield server


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """The tests' Redis database, this session's keys and queues cleaned before each test."""
    clean_redis(REDIS_URL, RUN)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def service(worker: WorkerProcess, api: ApiServer, redis_db: redis.Redis, llm: ScriptedOpenAIServer
            ) -> Iterator[ApiServer]:
    """A clean service: Redis cleaned, the worker up, the scripted model back to its default answers."""
    llm._script.clear()
    yield api
    llm._script.clear()


@pytest.fixture
def alice(service: ApiServer) -> Iterator[httpx.Client]:
    with service.client(KEYS["alice"]) as client:
        yield client


@pytest.fixture
def bob(service: ApiServer) -> Iterator[httpx.Client]:
    with service.client(KEYS["bob"]) as client:
        yield client
