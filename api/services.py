"""What the API's routes share in one process: Redis stores (and the event streams' own), the queue, the limits on
open event streams, the sandbox for direct executions, loaded datasets, and the sweeper. Created when the app
starts, closed when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import AsyncIterator

from fastapi import Request

from api.errors import RateLimited, Unavailable
from api.settings import APISettings
from api.streams import StreamLimits
from sandbox import AsyncSandbox, SandboxSettings
from sandbox.errors import SandboxError
from selfdebug.datasets import Dataset, load_dataset
from workers.app import make_celery, sender
from workers.batch_events import BatchEvents
from workers.batch_store import BatchStore
from workers.connection import async_redis
from workers.listing import Listing
from workers.store import JobStore
from workers.sweeper import sweep

__all__ = ["Services", "get_services"]

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: APISettings) -> None:
        self.settings = settings
        self.redis = async_redis(settings)
        self.store = JobStore(self.redis, settings)
        # Event streams wait on Redis through a pool of their own, one connection per stream this process may
        # serve: however many are open, the pool above stays free for every other request (api.streams).
        self.stream_redis = async_redis(settings, max_connections=settings.max_streams)
        self.stream_store = JobStore(self.stream_redis, settings)
        self.batch_events = BatchEvents(self.stream_redis, settings)
        self.streams = StreamLimits(self.redis, settings)
        self.batches = BatchStore(self.redis, settings, self.store)
        self.listing = Listing(self.redis, settings)
        self._send = sender(make_celery(settings))
        self.holder = f"api:{socket.gethostname()}:{os.getpid()}"
        self._sandbox: AsyncSandbox | None = None
        self._sandbox_lock = asyncio.Lock()
        self._executions = asyncio.Semaphore(settings.executions_concurrency)
        self._datasets: dict[str, Dataset] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._rng = random.Random()  # our own: never touch the global generator others seed

    async def start(self) -> None:
        if self.settings.sweep:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.wait({self._sweeper})
        if self._sandbox is not None:
            await asyncio.to_thread(self._sandbox.sandbox.close)
        for client in (self.stream_redis, self.redis):
            with contextlib.suppress(Exception):
                await client.aclose()

    async def send(self, job_id: str) -> None:
        """Put a job on the queue; a failure is logged, and the sweeper sends it again later."""
        try:
            await asyncio.to_thread(self._send, job_id)
        except Exception as exc:
            log.warning("could not queue job %s (the sweeper will retry): %s", job_id, exc)

    async def dataset(self, name: str) -> Dataset:
        if name not in self._datasets:
            self._datasets[name] = await asyncio.to_thread(load_dataset, name)
        return self._datasets[name]

    # ------------------------------------------------------------------ direct executions

    async def sandbox(self) -> AsyncSandbox:
        """The executions' own warm pool, started on first use (and again after a failed start)."""
        async with self._sandbox_lock:
            if self._sandbox is None:
                settings = SandboxSettings().model_copy(update={"pool_size": self.settings.executions_pool_size})
                box = AsyncSandbox(settings)
                try:
                    await asyncio.to_thread(box.sandbox.start)
                except SandboxError as exc:
                    await asyncio.to_thread(box.sandbox.close)
                    raise Unavailable(f"the sandbox is unavailable: {exc}", retry_after=10) from exc
                self._sandbox = box
            return self._sandbox

    @contextlib.asynccontextmanager
    async def execution_slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.settings.executions_queue_timeout):
                await self._executions.acquire()
        except TimeoutError:
            raise RateLimited("every execution slot is busy; try again shortly", retry_after=1) from None
        try:
            yield
        finally:
            self._executions.release()

    def pool_usage(self) -> dict[str, int] | None:
        return self._sandbox.sandbox.pool.usage() if self._sandbox is not None else None

    # ------------------------------------------------------------------ sweeping

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval * self._rng.uniform(0.8, 1.2))
            try:
                await sweep(self.store, self.batches, self.settings, self.send, holder=self.holder)
            except Exception as exc:
                log.warning("sweep failed: %s", exc)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
