"""The leases behind the cap on a key's open event streams, on a real Redis: counted across API processes, renewed
while a stream lives, released once however often asked, and expired when the process holding them died."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
import redis.asyncio

from api.errors import RateLimited, Unavailable
from api.settings import APISettings
from api.streams import StreamLimits
from tests.service.conftest import PREFIX, REDIS_URL
from workers.connection import async_redis
from workers.keys import Keys

pytestmark = [pytest.mark.security, pytest.mark.timeout(30)]


class Processes:
    """API processes' stream limits, sharing the one Redis; their clients are closed on leaving."""

    def __init__(self) -> None:
        self.clients: list[redis.asyncio.Redis] = []

    def limits(self, **overrides: Any) -> StreamLimits:
        settings = APISettings(**{"key_prefix": PREFIX, "redis_url": REDIS_URL, **overrides})
        client = async_redis(settings)
        self.clients.append(client)
        return StreamLimits(client, settings)

    async def __aenter__(self) -> Processes:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.aclose()


def _leases(client: redis.Redis, owner: str) -> int:
    return int(client.zcard(Keys(PREFIX).owner_streams(owner)))


def test_the_cap_holds_across_processes_and_a_release_counts_once(redis_db: redis.Redis) -> None:
    async def scenario() -> None:
        async with Processes() as api:
            one, two = api.limits(max_streams_per_key=2), api.limits(max_streams_per_key=2)
            first, second = await one.admit("alice"), await two.admit("alice")
            with pytest.raises(RateLimited, match=r"most event streams open \(2\)") as refused:
                await one.admit("alice")
            assert refused.value.retry_after is not None and refused.value.retry_after >= 1
            await (await one.admit("bob")).release()  # another key has slots of its own
            await first.release()
            await first.release()  # twice is harmless: it frees one slot, not two
            assert _leases(redis_db, "alice") == 1 and one.open == 0 and two.open == 1
            third = await one.admit("alice")
            with pytest.raises(RateLimited):
                await two.admit("alice")
            for lease in (second, third):
                await lease.release()
            assert _leases(redis_db, "alice") == 0 and one.open == two.open == 0

    asyncio.run(scenario())


def test_a_lease_left_by_a_dead_process_expires(redis_db: redis.Redis) -> None:
    async def scenario() -> None:
        async with Processes() as api:
            dead = api.limits(max_streams_per_key=1, sse_ping_interval=0.2, stream_lease_seconds=1.0)
            await dead.admit("carol")  # never released nor renewed: its process died
            with pytest.raises(RateLimited):
                await api.limits(max_streams_per_key=1).admit("carol")
            await asyncio.sleep(1.3)
            lease = await api.limits(max_streams_per_key=1).admit("carol")
            await lease.release()
            assert _leases(redis_db, "carol") == 0

    asyncio.run(scenario())


def test_a_lease_is_renewed_while_its_stream_lives(redis_db: redis.Redis) -> None:
    async def scenario() -> None:
        async with Processes() as api:
            limits = api.limits(max_streams_per_key=1, sse_ping_interval=0.2, stream_lease_seconds=1.0)
            lease = await limits.admit("dave")
            for _ in range(6):  # 1.8 s, longer than the lease: renewed as a stream renews it, at every turn of its loop
                await asyncio.sleep(0.3)
                assert await lease.renew()
            with pytest.raises(RateLimited):
                await limits.admit("dave")
            await lease.release()
            await (await limits.admit("dave")).release()

    asyncio.run(scenario())


def test_a_lease_that_lapsed_is_not_renewed(redis_db: redis.Redis) -> None:
    async def scenario() -> None:
        async with Processes() as api:
            limits = api.limits(max_streams_per_key=1, sse_ping_interval=0.2, stream_lease_seconds=1.0)
            stalled = await limits.admit("erin")
            await asyncio.sleep(1.3)  # a stream stuck longer than its lease (a client that stopped reading)
            taken = await api.limits(max_streams_per_key=1).admit("erin")  # its slot went to another stream
            assert not await stalled.renew()  # so the stalled stream ends, rather than be one over the cap
            for lease in (stalled, taken):
                await lease.release()
            assert _leases(redis_db, "erin") == 0

    asyncio.run(scenario())


def test_one_process_serves_at_most_max_streams(redis_db: redis.Redis) -> None:
    async def scenario() -> None:
        async with Processes() as api:
            limits = api.limits(max_streams=2, max_streams_per_key=8)
            first, second = await limits.admit("frank"), await limits.admit("grace")
            with pytest.raises(Unavailable, match="this API process"):
                await limits.admit("heidi")
            assert _leases(redis_db, "heidi") == 0  # refused before it took a slot of its key
            await first.release()
            await (await limits.admit("heidi")).release()
            await second.release()

    asyncio.run(scenario())
