"""The LLM clients of one worker process: one per model name, shared by the jobs that ask for it, and at most
``max_open`` open at once. Opening one more closes the least recently used client no job is using; while every
open client is in use, a job asking for another model waits for one to be given back. A client is never closed
under a job using it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from selfdebug.llm import ChatModel, LLMSettings, open_chat_model

__all__ = ["ModelClients"]

log = logging.getLogger(__name__)


@dataclass
class _Client:
    model: ChatModel
    exits: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    users: int = 0


class ModelClients:
    """Bounded, least-recently-used LLM clients by model name (None: the configured model)."""

    def __init__(self, settings: LLMSettings, max_open: int) -> None:
        if max_open < 1:
            raise ValueError("max_open must be at least 1")
        self.settings = settings
        self.max_open = max_open
        self._clients: OrderedDict[str | None, _Client] = OrderedDict()
        self._lock = asyncio.Lock()
        self._freed = asyncio.Event()

    @property
    def open_count(self) -> int:
        return len(self._clients)

    def models(self) -> list[ChatModel]:
        """The open clients."""
        return [client.model for client in self._clients.values()]

    @contextlib.asynccontextmanager
    async def lease(self, name: str | None) -> AsyncIterator[ChatModel]:
        """The client for ``name``, opened if need be, kept open while the block runs."""
        key = None if self.settings.embedded else name  # the embedded server serves one model, whatever its name
        client = await self._acquire(key)
        try:
            yield client.model
        finally:
            client.users -= 1  # no await here: a second cancellation must not leave the client counted as in use
            self._freed.set()

    async def _acquire(self, key: str | None) -> _Client:
        while True:
            async with self._lock:
                client = self._clients.get(key)
                if client is None and (len(self._clients) < self.max_open or await self._close_idle()):
                    client = await self._open(key)
                if client is not None:
                    self._clients.move_to_end(key)
                    client.users += 1
                    return client
                self._freed.clear()
            await self._freed.wait()  # every open client is in use: wait until a job gives one back

    async def _open(self, key: str | None) -> _Client:
        settings = self.settings if key is None else self.settings.model_copy(update={"model": key})
        exits = contextlib.AsyncExitStack()
        model = await exits.enter_async_context(open_chat_model(settings))
        client = _Client(model, exits)
        self._clients[key] = client
        return client

    async def _close_idle(self) -> bool:
        """Close the least recently used client no job is using; False if every one is in use."""
        idle = [key for key, client in self._clients.items() if client.users == 0]  # oldest use first
        if not idle:
            return False
        key = idle[0]
        client = self._clients.pop(key)
        try:
            await client.exits.aclose()
        except Exception as exc:  # a client that fails to close is gone all the same
            log.warning("closing the LLM client for model %s failed: %s", key or "(configured)", exc)
        return True

    async def aclose(self) -> None:
        """Close every client (at shutdown, when no job runs)."""
        async with self._lock:
            while self._clients:
                _, client = self._clients.popitem(last=False)
                with contextlib.suppress(Exception):
                    await client.exits.aclose()
