"""Bounds on open event streams, so that following jobs never takes the API from anyone else.

A stream spends its life waiting on Redis (``XREAD BLOCK``, up to a ping interval at a time), holding a connection
while it waits. Two bounds keep that from starving ordinary requests:

* **Per key**, ``max_streams_per_key`` streams at once, counted in Redis so that every API process shares the
  count (an in-process count would allow that many per process, and an API usually runs several). Each open
  stream holds a *lease*: a member of a sorted set per key, scored by when it expires. A stream renews its lease
  as it runs and drops it when it ends, however it ends; a process that dies leaves leases that expire after
  ``stream_lease_seconds`` (by default four ping intervals), so a crash frees its slots without anyone cleaning
  up.
* **Per process**, ``max_streams`` streams at once. Streams wait through a Redis pool of their own of exactly that
  many connections (``Services.stream_redis``), apart from the pool every other request uses: however many
  streams are open, ordinary requests, the sweeper and the readiness probe always find a connection.

Beyond the first bound a stream is refused with 429, beyond the second with 503, both with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
import uuid

import redis.asyncio
from redis.exceptions import RedisError

from api.errors import RateLimited, Unavailable
from api.settings import APISettings
from workers.keys import Keys

__all__ = ["RETRY_AFTER", "StreamLease", "StreamLimits"]

log = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds a refused client is told to wait: streams end when their jobs do, which nobody foresees

# KEYS: the key's leases. ARGV: lease id, seconds a lease lasts, cap. Returns 1 if admitted, 0 at the cap.
# Redis's clock, not the caller's: API processes on several hosts must agree on when a lease has expired.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""

# KEYS: the key's leases. ARGV: lease id, seconds a lease lasts. Returns 1 if renewed, 0 if the lease is gone
# (it expired and another stream was admitted in its place: the stream holding it must end).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires or tonumber(expires) < now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class StreamLimits:
    """Admits event streams in one API process (``admit``); ``client`` is the process's ordinary Redis client."""

    def __init__(self, client: redis.asyncio.Redis, settings: APISettings) -> None:
        self.redis = client
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.open = 0  # streams this process serves now
        self._admit = client.register_script(_ADMIT)
        self.renew_script = client.register_script(_RENEW)

    async def admit(self, owner: str) -> StreamLease:
        """A lease for one more stream of ``owner``. Raises ``Unavailable`` when this process serves its most
        streams, ``RateLimited`` when the key has its most open; the caller must ``release`` the lease."""
        settings = self.settings
        if self.open >= settings.max_streams:
            raise Unavailable(f"this API process serves its most event streams ({settings.max_streams}); "
                              "try again shortly", retry_after=RETRY_AFTER)
        self.open += 1  # taken before the await below, so streams admitted at once cannot overshoot
        lease = StreamLease(self, owner, uuid.uuid4().hex)
        try:
            admitted = await self._admit(keys=[lease.key], args=[lease.id, settings.stream_lease,
                                                                 settings.max_streams_per_key])
        except BaseException:
            self.open -= 1
            raise
        if not admitted:
            self.open -= 1
            raise RateLimited(f"this API key has its most event streams open ({settings.max_streams_per_key}); "
                              "close one, or poll GET /v1/jobs/{id}", retry_after=RETRY_AFTER)
        return lease


class StreamLease:
    """One open stream's slot: ``renew`` it as the stream runs, ``release`` it once when the stream ends."""

    def __init__(self, limits: StreamLimits, owner: str, lease_id: str) -> None:
        self.limits = limits
        self.key = limits.keys.owner_streams(owner)
        self.id = lease_id
        self.released = False
        self._renewed = time.monotonic()

    async def renew(self) -> bool:
        """Keep the slot (Redis is asked only once a third of a lease has passed); False if it lapsed."""
        lease = self.limits.settings.stream_lease
        if self.released:
            return False
        if time.monotonic() - self._renewed < lease / 3:
            return True
        renewed = bool(await self.limits.renew_script(keys=[self.key], args=[self.id, lease]))
        self._renewed = time.monotonic()
        return renewed

    async def release(self) -> None:
        """Free the slot; later calls do nothing. If Redis cannot be told, the lease expires on its own."""
        if self.released:
            return
        self.released = True
        self.limits.open -= 1
        try:
            await self.limits.redis.zrem(self.key, self.id)
        except (RedisError, OSError) as exc:
            log.warning("could not release an event stream's slot (it expires within %ss): %s",
                        math.ceil(self.limits.settings.stream_lease), exc)
