"""Redis clients that ride out a server restart: every call retries on connection errors, with backoff, for
``redis_retry_seconds``. Scripts re-load themselves after a restart (NOSCRIPT) on their own."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from workers.settings import ServiceSettings

__all__ = ["BACKOFF_CAP", "async_redis", "sync_redis"]

BACKOFF_CAP = 1.0  # seconds between attempts at most, so a restarted server is found again within a second
SOCKET_TIMEOUT = 30.0  # longer than any blocking read we issue (XREAD BLOCK waits at most 15 s)
POOL_WAIT = 5.0  # seconds a command waits for a free connection in a bounded pool
_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, ConnectionResetError, OSError)


def _retries(settings: ServiceSettings) -> int:
    return max(1, int(settings.redis_retry_seconds / BACKOFF_CAP) + 5)


def async_redis(settings: ServiceSettings, *, max_connections: int | None = None,
                pool_wait: float = POOL_WAIT) -> redis.asyncio.Redis:
    """An asyncio client (text replies) for the event loop it is first used in.

    With ``max_connections``, its pool holds at most that many connections, and a command waits up to
    ``pool_wait`` seconds for a free one (then ``ConnectionError``) rather than failing at once; without, redis-py's
    default pool, which fails at once beyond its 100 connections.
    """
    retry = AsyncRetry(ExponentialBackoff(cap=BACKOFF_CAP, base=0.05), _retries(settings))
    options: dict[str, Any] = {
        "decode_responses": True, "retry": retry, "retry_on_error": list(_ERRORS), "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": 5.0, "health_check_interval": 30,
    }
    if max_connections is None:
        client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(settings.redis_url, **options)
        return client
    pool = redis.asyncio.BlockingConnectionPool.from_url(settings.redis_url, max_connections=max_connections,
                                                         timeout=pool_wait, **options)
    return redis.asyncio.Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool


def sync_redis(settings: ServiceSettings) -> redis.Redis:
    """A blocking client, for code outside an event loop (the CLI, tests)."""
    retry = Retry(ExponentialBackoff(cap=BACKOFF_CAP, base=0.05), _retries(settings))
    client: redis.Redis = redis.Redis.from_url(
        settings.redis_url, decode_responses=True, retry=retry, retry_on_error=list(_ERRORS),
        socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=5.0,
    )
    return client
