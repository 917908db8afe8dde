"""``EmbeddedModel``: the chat model on the embedded server, which notices the server dying and says so.

Without it, a llama.cpp server that dies (a segfault on a processor it was not built for, the OOM killer) shows up
as "connection failed" after every retry has run out against a dead port. Here each call races its request against
the server process: when the process dies the request is abandoned at once, the server is restarted (once per call)
and the request tried again; if the restart fails or the server dies again, the call raises
``EmbeddedServerCrashed``, which names the exit code or signal, the log's last lines and where the log is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ..client import OpenAIChatModel
from ..errors import EmbeddedServerCrashed, EmbeddedServerError
from ..models import Completion, Message
from ..settings import LLMSettings
from .server import EmbeddedServer

__all__ = ["EmbeddedModel"]

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.2  # seconds between checks that the server process is alive while a request is in flight


class _Died(Exception):
    """The server process died while a request was in flight."""


class EmbeddedModel:
    """A ``ChatModel`` backed by an ``EmbeddedServer`` it supervises. ``open()`` starts both and stops both."""

    def __init__(self, server: EmbeddedServer, settings: LLMSettings) -> None:
        self.server = server
        self.settings = settings
        self.restarts = 0
        self.last_crash: EmbeddedServerCrashed | None = None
        self._client: OpenAIChatModel | None = None
        self._generation = 0  # bumped by each restart, so concurrent callers restart a dead server only once
        self._lock = asyncio.Lock()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: LLMSettings) -> AsyncIterator[EmbeddedModel]:
        server = EmbeddedServer.from_settings(settings)
        async with server:
            model = cls(server, settings)
            model._client = model._connect()
            try:
                yield model
            finally:
                await model._disconnect()

    @property
    def model(self) -> str:
        return self.server.model_name

    def health(self) -> dict[str, Any]:
        """What the worker reports about this model: alive or not, how often restarted, the last crash."""
        return {
            "embedded": True,
            "running": self.server.running,
            "restarts": self.restarts,
            "last_crash": str(self.last_crash.reason) if self.last_crash is not None else None,
        }

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        first: EmbeddedServerCrashed | None = None
        restarted = False
        while True:
            generation, client = self._generation, self._client
            crash = self.server.crash()
            if crash is None and client is not None:
                try:
                    return await self._watched(
                        client.complete(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
                    )
                except _Died:
                    crash = self.server.crash()
            crash = crash or self.last_crash
            if restarted:
                raise _died_again(crash, first)
            first = crash
            await self._restart(generation, crash)
            restarted = True

    async def revive(self) -> None:
        """Restart the server if it died since it was started (the worker calls this between jobs, too)."""
        crash = self.server.crash()
        if crash is not None:
            with contextlib.suppress(EmbeddedServerError):
                await self._restart(self._generation, crash)

    async def _watched(self, work: Awaitable[Completion]) -> Completion:
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=WATCH_INTERVAL)
                if done and task.exception() is not None:
                    await asyncio.to_thread(self.server.settle)
                if done and (task.exception() is None or self.server.running):
                    return task.result()
                if not self.server.running:
                    raise _Died
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _restart(self, generation: int, crash: EmbeddedServerCrashed | None) -> None:
        async with self._lock:
            if generation != self._generation and self._client is not None:
                return  # another caller restarted it meanwhile
            self.last_crash = crash or self.last_crash
            log.warning("the embedded model server is down (%s); restarting it", crash.reason if crash else "stopped")
            await self._disconnect()
            await self.server.astop()  # keeps a crashed server's log: the crash error names it
            try:
                await self.server.astart()
            except EmbeddedServerError as exc:
                raise _restart_failed(crash, exc) from exc
            self._client = self._connect()
            self._generation += 1
            self.restarts += 1

    def _connect(self) -> OpenAIChatModel:
        # llama.cpp's server answers one request at a time: queue here, so each request's timeout measures its own
        # generation and not the wait behind the others.
        local = self.settings.model_copy(
            update={"base_url": self.server.base_url, "model": self.server.model_name, "concurrency": 1}
        )
        return OpenAIChatModel(local)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _died_again(crash: EmbeddedServerCrashed | None, first: EmbeddedServerCrashed | None) -> EmbeddedServerError:
    if crash is None:
        return EmbeddedServerError("the embedded server is not running")
    if first is None:
        return crash
    return EmbeddedServerCrashed(
        f"{crash.reason} (restarted once after it first {first.how}, it died again)",
        how=crash.how, returncode=crash.returncode, log_path=crash.log_path, log_tail=crash.log_tail,
    )


def _restart_failed(crash: EmbeddedServerCrashed | None, exc: EmbeddedServerError) -> EmbeddedServerCrashed:
    if crash is None:
        return EmbeddedServerCrashed(f"the embedded model server could not be started again: {exc.reason}",
                                     how="not running", returncode=None, log_path=None, log_tail=exc.log_tail)
    return EmbeddedServerCrashed(
        f"{crash.reason}; restarting it failed too: {exc.reason}",
        how=crash.how, returncode=crash.returncode, log_path=crash.log_path, log_tail=exc.log_tail or crash.log_tail,
    )
