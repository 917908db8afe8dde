"""One request to the service, with the client's rules around it: the key, timeouts, typed errors, and retrying
what is safe to retry (a 429 or 503 whatever the method: the service did nothing; a connection that could not be
made; for GET and DELETE also one that broke), each retry after the server's ``Retry-After``, within
``max_retries`` and ``max_retry_wait``."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from selfdebug_client._config import ClientSettings
from selfdebug_client.errors import APIError, RequestTimeout, TransportError, error_for

__all__ = ["AsyncTransport", "SyncTransport", "retry_after_seconds"]

VERSION = "0.1.0"
RETRY_STATUSES = frozenset({429, 503})
SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})  # may be sent again after a connection broke mid-request
BACKOFF_BASE = 0.5  # seconds before the first retry when the server gave no Retry-After; doubled each time
BACKOFF_MAX = 8.0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds: a number, or an HTTP date (seconds until then)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt))


def raise_for_status(response: httpx.Response) -> None:
    """The typed error for an error answer (its body already read)."""
    if response.status_code < 400:
        return
    detail, code, body = response.reason_phrase or "error", None, None
    with contextlib.suppress(ValueError):
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("detail") or detail)
            code = str(body["code"]) if body.get("code") else None
    raise error_for(response.status_code, code, detail, retry_after_seconds(response.headers.get("Retry-After")),
                    body)


class _Policy:
    """When to try a request again, and after how long."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings

    def after_error(self, error: APIError, attempt: int, retry: bool = True) -> float | None:
        """Seconds to wait before trying again after an API error, or None to raise it."""
        if not retry or error.status not in RETRY_STATUSES or attempt >= self.settings.max_retries:
            return None
        wait = error.retry_after if error.retry_after is not None else _backoff(attempt)
        return wait if wait <= self.settings.max_retry_wait else None

    def after_transport(self, exc: httpx.TransportError, method: str, attempt: int) -> float | None:
        """Seconds to wait before trying again after a connection failed, or None to raise it."""
        if attempt >= self.settings.max_retries:
            return None
        # A connection that was never made sent nothing; one that broke may have been served.
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or method in SAFE_METHODS:
            return _backoff(attempt)
        return None


def _transport_error(exc: httpx.TransportError, method: str, url: str) -> TransportError:
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"{method} {url}: no answer in time ({type(exc).__name__})")
    return TransportError(f"{method} {url}: {type(exc).__name__}: {exc or 'the connection failed'}")


def _headers(settings: ClientSettings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    headers = {"User-Agent": f"selfdebug-client/{VERSION}", **(extra or {})}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    return headers


class SyncTransport:
    def __init__(self, settings: ClientSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.policy = _Policy(settings)
        self.http = httpx.Client(base_url=settings.base_url, headers=_headers(settings),
                                 timeout=settings.request_timeout(), transport=transport)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, wait: float = 0.0, retry: bool = True,
                **kwargs: Any) -> httpx.Response:
        """Send, retrying what is safe to retry; the answer if it is a success, else its typed error. ``wait``:
        seconds the service may hold the request (?wait=) before it answers; ``retry=False``: raise a 429 or 503
        at once (a probe that wants the answer as it is)."""
        kwargs.setdefault("timeout", self.settings.request_timeout(wait))
        attempt = 0
        while True:
            try:
                response = self.http.request(method, path, **kwargs)
                raise_for_status(response)
                return response
            except APIError as error:
                delay = self.policy.after_error(error, attempt, retry)
                if delay is None:
                    raise
            except httpx.TransportError as exc:
                delay = self.policy.after_transport(exc, method, attempt)
                if delay is None:
                    raise _transport_error(exc, method, path) from exc
            attempt += 1
            time.sleep(delay)

    @contextlib.contextmanager
    def stream(self, path: str, headers: Mapping[str, str]) -> Iterator[httpx.Response]:
        """A streamed GET (an event stream): getting its answer is retried as ``request`` is; reading the body
        is the caller's (a connection that breaks then is the caller's to resume)."""
        attempt = 0
        while True:
            request = self.http.build_request("GET", path, headers=dict(headers),
                                              timeout=self.settings.stream_timeouts())
            try:
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = self.policy.after_transport(exc, "GET", attempt)
                if delay is None:
                    raise _transport_error(exc, "GET", path) from exc
            else:
                if response.status_code < 400:
                    break
                delay = self._refused(response, attempt)
            attempt += 1
            time.sleep(delay)
        try:
            yield response
        finally:
            response.close()

    def _refused(self, response: httpx.Response, attempt: int) -> float:
        """Seconds to wait before asking again for a stream the service refused; else its error."""
        try:
            response.read()
            raise_for_status(response)
        except APIError as error:
            delay = self.policy.after_error(error, attempt)
            if delay is None:
                raise
            return delay
        finally:
            response.close()
        raise AssertionError("unreachable: an answer of 400 or more is an error")


class AsyncTransport:
    def __init__(self, settings: ClientSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.policy = _Policy(settings)
        self.http = httpx.AsyncClient(base_url=settings.base_url, headers=_headers(settings),
                                      timeout=settings.request_timeout(), transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, *, wait: float = 0.0, retry: bool = True,
                      **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("timeout", self.settings.request_timeout(wait))
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, **kwargs)
                raise_for_status(response)
                return response
            except APIError as error:
                delay = self.policy.after_error(error, attempt, retry)
                if delay is None:
                    raise
            except httpx.TransportError as exc:
                delay = self.policy.after_transport(exc, method, attempt)
                if delay is None:
                    raise _transport_error(exc, method, path) from exc
            attempt += 1
            await asyncio.sleep(delay)

    @contextlib.asynccontextmanager
    async def stream(self, path: str, headers: Mapping[str, str]) -> AsyncIterator[httpx.Response]:
        attempt = 0
        while True:
            request = self.http.build_request("GET", path, headers=dict(headers),
                                              timeout=self.settings.stream_timeouts())
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                delay = self.policy.after_transport(exc, "GET", attempt)
                if delay is None:
                    raise _transport_error(exc, "GET", path) from exc
            else:
                if response.status_code < 400:
                    break
                delay = await self._refused(response, attempt)
            attempt += 1
            await asyncio.sleep(delay)
        try:
            yield response
        finally:
            await response.aclose()

    async def _refused(self, response: httpx.Response, attempt: int) -> float:
        try:
            await response.aread()
            raise_for_status(response)
        except APIError as error:
            delay = self.policy.after_error(error, attempt)
            if delay is None:
                raise
            return delay
        finally:
            await response.aclose()
        raise AssertionError("unreachable: an answer of 400 or more is an error")
