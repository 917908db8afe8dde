"""``Client`` and ``AsyncClient``: one connection pool to one service, with ``jobs``, ``batches``,
``execute`` and the health checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from selfdebug_client._batches import AsyncBatches, Batches
from selfdebug_client._config import ClientSettings
from selfdebug_client._jobs import AsyncJobs, Jobs
from selfdebug_client._payloads import execution_body
from selfdebug_client._transport import AsyncTransport, SyncTransport
from selfdebug_client.errors import APIError
from selfdebug_client.models import ExecutionResult, Readiness, StdioCase

__all__ = ["AsyncClient", "Client"]

StdioCases = Sequence[StdioCase | Mapping[str, Any]]


class Client:
    """A client of one selfdebug service.

    ``base_url`` and ``api_key`` default to ``SELFDEBUG_URL`` and ``SELFDEBUG_API_KEY`` (then
    ``http://127.0.0.1:8000``, no key). ``timeout``: seconds to send a request and read its answer;
    ``stream_timeout``: seconds an event stream may stay silent before it is resumed on a new connection;
    ``max_retries``: times a 429 or 503 is tried again, after the ``Retry-After`` the service asks for (at most
    ``max_retry_wait`` seconds: a longer one is raised at once); ``reconnects``: times in a row an event stream
    may break. ``transport``: httpx's, for tests. Use it in a ``with`` block, or ``close()`` it.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, timeout: float | None = None,
                 connect_timeout: float | None = None, stream_timeout: float | None = None,
                 max_retries: int | None = None, max_retry_wait: float | None = None,
                 reconnects: int | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = ClientSettings.resolve(
            base_url, api_key, timeout=timeout, connect_timeout=connect_timeout, stream_timeout=stream_timeout,
            max_retries=max_retries, max_retry_wait=max_retry_wait, reconnects=reconnects)
        self._transport = SyncTransport(self.settings, transport)
        self.jobs = Jobs(self._transport)
        self.batches = Batches(self._transport)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def execute(self, code: str, *, tests: Sequence[str] | None = None, check: str | None = None,
                entry_point: str | None = None, stdio: StdioCases | None = None,
                timeout: float | None = None) -> ExecutionResult:
        """Run ``code`` in the service's sandbox now against exactly one of: ``tests`` (asserts), ``check`` (a
        ``check(candidate)`` function, with ``entry_point``), or ``stdio`` cases; ``timeout`` per test."""
        body = execution_body(code, tests=tests, check=check, entry_point=entry_point, stdio=stdio, timeout=timeout)
        return ExecutionResult.model_validate(self._transport.request("POST", "/v1/executions", json=body).json())

    def healthy(self) -> bool:
        """The API process answers (``/healthz``)."""
        return self._transport.request("GET", "/healthz").status_code == 200

    def readiness(self) -> Readiness:
        """What ``/readyz`` says of Redis, Docker, the sandbox image, the model endpoint and the workers."""
        try:
            response = self._transport.request("GET", "/readyz", retry=False)
        except APIError as error:
            if error.status != 503 or error.body is None:
                raise
            return Readiness.model_validate(error.body)
        return Readiness.model_validate(response.json())

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncClient:
    """``Client``'s twin for asyncio: the same arguments, every method a coroutine (``events``, ``list`` and
    ``results`` async iterators). Use it in an ``async with`` block, or ``await aclose()``."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, timeout: float | None = None,
                 connect_timeout: float | None = None, stream_timeout: float | None = None,
                 max_retries: int | None = None, max_retry_wait: float | None = None,
                 reconnects: int | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = ClientSettings.resolve(
            base_url, api_key, timeout=timeout, connect_timeout=connect_timeout, stream_timeout=stream_timeout,
            max_retries=max_retries, max_retry_wait=max_retry_wait, reconnects=reconnects)
        self._transport = AsyncTransport(self.settings, transport)
        self.jobs = AsyncJobs(self._transport)
        self.batches = AsyncBatches(self._transport)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    async def execute(self, code: str, *, tests: Sequence[str] | None = None, check: str | None = None,
                      entry_point: str | None = None, stdio: StdioCases | None = None,
                      timeout: float | None = None) -> ExecutionResult:
        body = execution_body(code, tests=tests, check=check, entry_point=entry_point, stdio=stdio, timeout=timeout)
        response = await self._transport.request("POST", "/v1/executions", json=body)
        return ExecutionResult.model_validate(response.json())

    async def healthy(self) -> bool:
        return (await self._transport.request("GET", "/healthz")).status_code == 200

    async def readiness(self) -> Readiness:
        try:
            response = await self._transport.request("GET", "/readyz", retry=False)
        except APIError as error:
            if error.status != 503 or error.body is None:
                raise
            return Readiness.model_validate(error.body)
        return Readiness.model_validate(response.json())

    async def aclose(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
