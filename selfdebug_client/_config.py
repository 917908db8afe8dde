"""Where the client connects and how patiently: every timeout and limit a named default, each overridable by an
argument; the address and key also from the environment (``SELFDEBUG_URL``, ``SELFDEBUG_API_KEY``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_RECONNECTS",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "ENV_API_KEY",
    "ENV_URL",
    "WAIT_CHUNK",
    "ClientSettings",
]

ENV_URL = "SELFDEBUG_URL"
ENV_API_KEY = "SELFDEBUG_API_KEY"
DEFAULT_URL = "http://127.0.0.1:8000"  # what `selfdebug serve` listens on by default
DEFAULT_TIMEOUT = 30.0  # seconds to send a request and read its answer
DEFAULT_CONNECT_TIMEOUT = 10.0
# An idle event stream carries a keep-alive every SELFDEBUG_SSE_PING_INTERVAL (15 s): four missed in a row means
# the connection is dead though no error said so, and the stream is resumed on a new one.
DEFAULT_STREAM_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 3  # times a 429 or 503 (or a connection that could not be made) is tried again
DEFAULT_MAX_RETRY_WAIT = 60.0  # longest Retry-After waited for; a longer one is raised at once
DEFAULT_RECONNECTS = 5  # times in a row an event stream may break before StreamError
WAIT_CHUNK = 30.0  # seconds one ?wait= request holds; a longer wait is several (the service caps ?wait= anyway)


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = DEFAULT_URL
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    stream_timeout: float = DEFAULT_STREAM_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    reconnects: int = DEFAULT_RECONNECTS

    @classmethod
    def resolve(cls, base_url: str | None = None, api_key: str | None = None, *, timeout: float | None = None,
                connect_timeout: float | None = None, stream_timeout: float | None = None,
                max_retries: int | None = None, max_retry_wait: float | None = None,
                reconnects: int | None = None) -> ClientSettings:
        """Arguments first, then the environment, then the defaults."""
        url = base_url or os.environ.get(ENV_URL) or DEFAULT_URL
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the service's URL must start with http:// or https://, not {url!r}")
        values: dict[str, float | None] = {
            "timeout": timeout, "connect_timeout": connect_timeout, "stream_timeout": stream_timeout,
            "max_retries": max_retries, "max_retry_wait": max_retry_wait, "reconnects": reconnects}
        for name, value in values.items():
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        defaults = cls()
        return cls(base_url=url.rstrip("/"), api_key=api_key or os.environ.get(ENV_API_KEY) or None,
                   timeout=_or(timeout, defaults.timeout),
                   connect_timeout=_or(connect_timeout, defaults.connect_timeout),
                   stream_timeout=_or(stream_timeout, defaults.stream_timeout),
                   max_retries=max_retries if max_retries is not None else defaults.max_retries,
                   max_retry_wait=_or(max_retry_wait, defaults.max_retry_wait),
                   reconnects=reconnects if reconnects is not None else defaults.reconnects)

    def request_timeout(self, extra: float = 0.0) -> httpx.Timeout:
        """An ordinary request's timeout; ``extra`` seconds more to read its answer (a ?wait= request)."""
        return httpx.Timeout(self.timeout, connect=self.connect_timeout, read=self.timeout + extra)

    def stream_timeouts(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=self.connect_timeout, read=self.stream_timeout)


def _or(value: float | None, default: float) -> float:
    return float(value) if value is not None else default
