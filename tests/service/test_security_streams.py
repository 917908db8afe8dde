"""A hundred event streams from one key must not take the API from anyone else: beyond
``max_streams_per_key`` a key's streams get 429, the streams that are open wait on Redis through a pool of their
own, and another key's ordinary calls keep answering at once; closed streams (however abruptly) free their slots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import redis

from tests.service.conftest import KEYS, api_settings, queue
from tests.service.harness import ApiServer
from tests.service.scripted import problem

pytestmark = [pytest.mark.security, pytest.mark.timeout(180)]

STREAMS = 100
CAP = 8
QUICK = 3.0  # seconds an ordinary call may take while the streams are open (it takes milliseconds)


@pytest.fixture
def idle_api(service_env: dict[str, str], redis_db: redis.Redis) -> Iterator[ApiServer]:
    """The API, its jobs sent to a queue nobody reads: they stay queued, so streams following them stay open.
    Redis calls give up after 5 s (not 30), so that a starved call fails the test quickly."""
    with ApiServer(api_settings(queue=queue("streams-idle"), max_streams_per_key=CAP, redis_retry_seconds=5)) as api:
        yield api


@pytest.fixture
def roomy_api(service_env: dict[str, str], redis_db: redis.Redis) -> Iterator[ApiServer]:
    """The same with no cap per key to speak of: only the process's own bound on streams."""
    settings = api_settings(queue=queue("streams-idle"), max_streams_per_key=10 * STREAMS, max_streams=STREAMS,
                            redis_retry_seconds=5)
    with ApiServer(settings) as api:
        yield api


def _auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


async def _open(client: httpx.AsyncClient, stack: AsyncExitStack, job_id: str) -> httpx.Response:
    """Open one stream; an admitted one is kept open (on ``stack``) once its first line arrived."""
    response = await stack.enter_async_context(client.stream("GET", f"/v1/jobs/{job_id}/events"))
    if response.status_code != 200:
        await response.aread()
        return response
    lines = response.aiter_lines()
    # Kept: a line iterator that is dropped closes its response when collected, which would close the stream.
    stack.push_async_callback(lines.aclose)
    first = await anext(lines)
    assert first.startswith("retry:"), first
    return response


async def _submit(client: httpx.AsyncClient, task_id: str) -> httpx.Response:
    return await client.post("/v1/jobs", json={"problem": problem(task_id), "options": {"strategy": "none"}})


async def _ordinary_calls(client: httpx.AsyncClient, rounds: int) -> list[tuple[str, int, float]]:
    """Bob's everyday calls, timed: submit a job, read it, and the readiness probe."""
    timings = []
    for _ in range(rounds):
        started = time.monotonic()
        reply = await _submit(client, "bob/add")
        timings.append(("submit", reply.status_code, time.monotonic() - started))
        job_id = reply.json().get("id", "0" * 32)
        for what, path in (("get", f"/v1/jobs/{job_id}"), ("readyz", "/readyz")):
            started = time.monotonic()
            reply = await client.get(path)
            timings.append((what, reply.status_code, time.monotonic() - started))
        await asyncio.sleep(0.2)
    return timings


async def _scenario(url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=STREAMS + 20, max_keepalive_connections=0)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=url, headers=_auth("alice"), limits=limits, timeout=timeout) as alice, \
            httpx.AsyncClient(base_url=url, headers=_auth("bob"), timeout=timeout) as bob:
        reply = await _submit(alice, "alice/add")
        assert reply.status_code == 202, reply.text
        job_id = reply.json()["id"]
        outcome: dict[str, Any] = {}
        async with AsyncExitStack() as streams:
            opened = await asyncio.gather(*(_open(alice, streams, job_id) for _ in range(STREAMS)))
            outcome["statuses"] = sorted(response.status_code for response in opened)
            outcome["refused"] = next((response for response in opened if response.status_code != 200), None)
            # With alice's streams open: bob's calls, and a stream of bob's (another key's cap is his own).
            outcome["bob"] = await _ordinary_calls(bob, rounds=3)
            async with AsyncExitStack() as his:
                reply = await _submit(bob, "bob/streamed")
                outcome["bob_stream"] = (await _open(bob, his, reply.json().get("id", "0" * 32))).status_code
            outcome["alice_more"] = (await _open(alice, streams, job_id)).status_code
        # Every stream closed (the client just hangs up): the slots are free again, all of them.
        deadline = time.monotonic() + 10
        while True:
            async with AsyncExitStack() as again:
                statuses = sorted([(await _open(alice, again, job_id)).status_code for _ in range(CAP + 1)])
            if statuses == [200] * CAP + [429] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        outcome["after"] = statuses
    return outcome


def test_a_hundred_streams_from_one_key_leave_the_api_to_everyone_else(idle_api: ApiServer) -> None:
    outcome = asyncio.run(_scenario(idle_api.url))
    # Bob's calls answered at once, all the while.
    slow = [(what, status, round(took, 2)) for what, status, took in outcome["bob"]
            if not (200 <= status < 300) or took > QUICK]
    assert not slow, outcome["bob"]
    assert outcome["bob_stream"] == 200
    # Alice got her cap of streams; the rest were refused with the one error shape and a Retry-After.
    assert outcome["statuses"] == [200] * CAP + [429] * (STREAMS - CAP)
    refused = outcome["refused"]
    assert refused.json()["code"] == "rate_limited" and "event streams" in refused.json()["detail"], refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert outcome["alice_more"] == 429
    # Closed, her streams gave their slots back: all of them, and no more.
    assert outcome["after"] == [200] * CAP + [429]


async def _roomy_scenario(url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=STREAMS + 20, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=_auth("alice"), limits=limits, timeout=30.0) as alice, \
            httpx.AsyncClient(base_url=url, headers=_auth("bob"), timeout=30.0) as bob, AsyncExitStack() as streams:
        job_id = (await _submit(alice, "alice/add")).json()["id"]
        opened = await asyncio.gather(*(_open(alice, streams, job_id) for _ in range(STREAMS)))
        his = (await _submit(bob, "bob/streamed")).json().get("id", "0" * 32)
        one_more = await _open(bob, streams, his)
        return {"statuses": sorted(response.status_code for response in opened), "bob": await _ordinary_calls(bob, 3),
                "one_more": (one_more.status_code, one_more.json() if one_more.status_code != 200 else None)}


def test_streams_never_take_the_connections_ordinary_requests_need(roomy_api: ApiServer) -> None:
    """Whatever the caps, the streams wait through a pool of their own: with as many open as the process serves,
    every other call still gets a connection at once, and one more stream is refused (503), not starved."""
    outcome = asyncio.run(_roomy_scenario(roomy_api.url))
    assert outcome["statuses"] == [200] * STREAMS
    slow = [(what, status, round(took, 2)) for what, status, took in outcome["bob"]
            if not (200 <= status < 300) or took > QUICK]
    assert not slow, outcome["bob"]
    status, body = outcome["one_more"]
    assert status == 503 and body["code"] == "unavailable" and "this API process" in body["detail"], body
