"""One ``Runtime`` per worker process: an asyncio loop in a thread, and on it what jobs share — Redis clients,
the warm sandbox pool, the LLM clients, loaded datasets — plus the sweeper and the worker's liveness report.

Celery runs each task in one of its own threads (or processes); the task hands its coroutine to this loop and
waits. So jobs of one process share one sandbox pool and one HTTP client per model, as the engine expects: at most
``max_model_clients`` of them, and only for the models a job may ask for (``allowed_models``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import redis.asyncio

from sandbox import Sandbox, SandboxSettings, reap_orphans
from sandbox.errors import SandboxError
from selfdebug.datasets import Dataset, load_dataset
from selfdebug.evaluation import Judge
from selfdebug.llm import ChatModel, EmbeddedModel, LLMSettings
from workers.batch_store import BatchStore
from workers.connection import async_redis
from workers.errors import ModelNotAllowed, SandboxFault
from workers.keys import Keys
from workers.llm_clients import ModelClients
from workers.sandboxing import GuardedSandbox, TrackedPool
from workers.settings import ServiceSettings
from workers.store import JobStore
from workers.sweeper import sweep

__all__ = ["Runtime"]

log = logging.getLogger(__name__)
T = TypeVar("T")

REPORT_INTERVAL = 5.0  # seconds between a worker's liveness reports (they expire after three of these)
REAP_INTERVAL = 60.0  # seconds between removals of sandbox containers whose owner process died
INLINE = "inline"  # the digest of the judge for inline problems (a dataset's digest is a sha256: never this)


class Runtime:
    """Shared state of one worker process. ``send`` puts a job id on the queue (blocking; run in a thread)."""

    def __init__(self, settings: ServiceSettings, send: Callable[[str], None], *,
                 sandbox_settings: SandboxSettings | None = None, llm_settings: LLMSettings | None = None) -> None:
        self.settings = settings
        self.sandbox_settings = sandbox_settings or SandboxSettings()
        self.llm_settings = llm_settings or LLMSettings()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.keys = Keys(settings.key_prefix)
        self._send = send
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="selfdebug-runtime", daemon=True)
        self._thread.start()
        self.redis: redis.asyncio.Redis = self.call(self._connect())
        self.store = JobStore(self.redis, settings)
        self.batches = BatchStore(self.redis, settings, self.store)
        self.running: set[str] = set()
        self._pool: TrackedPool | None = None
        self._guarded: GuardedSandbox | None = None
        self._sandbox_lock = asyncio.Lock()
        self.models = ModelClients(self.llm_settings, settings.max_model_clients)
        self._datasets: dict[str, Dataset] = {}
        self._judges: dict[str, Judge] = {}
        self._background: list[concurrent.futures.Future[None]] = []
        self._closed = False
        self._rng = random.Random()  # our own: never touch the global generator others seed

    async def _connect(self) -> redis.asyncio.Redis:
        return async_redis(self.settings)  # created on the loop it will be used on

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the runtime's loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def start_background(self, *, sweep: bool = True) -> None:
        """Start the liveness report and (unless told not to) the sweeper on the loop."""
        self._background.append(asyncio.run_coroutine_threadsafe(self._report_forever(), self.loop))
        self._background.append(asyncio.run_coroutine_threadsafe(self._revive_forever(), self.loop))
        if sweep:
            self._background.append(asyncio.run_coroutine_threadsafe(self._sweep_forever(), self.loop))

    async def warm(self) -> None:
        """Start the sandbox pool and the default model now rather than on the first job."""
        for what, starter in (("sandbox", self.sandbox), ("model", self._warm_model)):
            try:
                await starter()
            except Exception as exc:  # the first job will try again and fail with the reason if it still fails
                log.warning("could not start the %s yet: %s", what, exc)

    # ------------------------------------------------------------------ shared resources

    async def sandbox(self) -> GuardedSandbox:
        async with self._sandbox_lock:
            if self._guarded is not None:
                return self._guarded
            pool = TrackedPool(self.sandbox_settings)
            try:
                await asyncio.to_thread(pool.start)
            except SandboxError as exc:
                await asyncio.to_thread(pool.close)
                raise SandboxFault(f"the sandbox is unavailable: {exc}") from exc
            except Exception:
                await asyncio.to_thread(pool.close)
                raise
            self._pool = pool
            self._guarded = GuardedSandbox(Sandbox(self.sandbox_settings, pool=pool))
            return self._guarded

    @property
    def pool(self) -> TrackedPool | None:
        return self._pool

    @contextlib.asynccontextmanager
    async def model(self, name: str | None) -> AsyncIterator[ChatModel]:
        """The shared client for ``name`` (None: the configured model) while the block runs. Raises
        ``ModelNotAllowed`` for a name outside ``allowed_models`` (the API refuses those: this is the worker's own
        check, so that no name a client made up ever opens a client)."""
        if not self.settings.model_allowed(name, self.llm_settings.model):
            raise ModelNotAllowed(f"model {name!r} is not allowed on this worker")
        async with self.models.lease(name) as model:
            yield model

    async def _warm_model(self) -> None:
        async with self.model(None):
            pass

    async def dataset(self, name: str) -> Dataset:
        if name not in self._datasets:
            self._datasets[name] = await asyncio.to_thread(load_dataset, name)
        return self._datasets[name]

    async def judge(self, dataset: Dataset | None) -> Judge:
        """A judge for a dataset's hidden tests; None: for problems sent inline, which carry their hidden tests
        themselves (asserts, a check function, stdio cases, or inputs with a canonical solution).

        One judge per dataset content (its digest), and one for every inline problem of every API key: sharing
        is safe because a judge keys what it caches (expected outputs) by the content that decides it, never by a
        task_id or a name a client chose."""
        dataset = dataset or Dataset(name="inline", source="api", digest=INLINE, problems={})
        if dataset.digest not in self._judges:
            sandbox = await self.sandbox()
            self._judges[dataset.digest] = Judge(sandbox.sandbox, dataset)
        return self._judges[dataset.digest]

    async def send(self, job_id: str) -> None:
        """Put a job on the queue. A failure is only logged: the sweeper sends lost jobs again."""
        try:
            await asyncio.to_thread(self._send, job_id)
        except Exception as exc:
            log.warning("could not queue job %s (the sweeper will retry): %s", job_id, exc)

    # ------------------------------------------------------------------ background work

    async def _report_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                embedded = self._embedded()
                report = {"worker": self.worker_id, "pid": os.getpid(), "running": len(self.running),
                          "pool": self._pool.usage() if self._pool is not None else None, "at": time.time(),
                          "llm": embedded[0].health() if embedded else None}
                await self.redis.set(self.keys.worker(self.worker_id), json.dumps(report),
                                     ex=int(3 * REPORT_INTERVAL))
            await asyncio.sleep(REPORT_INTERVAL)

    def _embedded(self) -> list[EmbeddedModel]:
        return [model for model in self.models.models() if isinstance(model, EmbeddedModel)]

    async def _revive_forever(self) -> None:
        # Apart from the liveness report: a restart can take a minute, and the report must not wait for it.
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            for model in self._embedded():  # a server that died between jobs is restarted now, not by the next job
                with contextlib.suppress(Exception):
                    await model.revive()

    async def _sweep_forever(self) -> None:
        last_reap = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.sweep_interval * self._rng.uniform(0.8, 1.2))
            try:
                await sweep(self.store, self.batches, self.settings, self.send, holder=self.worker_id)
            except Exception as exc:  # Redis restarting, say: try again next time
                log.warning("sweep failed: %s", exc)
            if self._pool is not None and time.monotonic() - last_reap > REAP_INTERVAL:
                last_reap = time.monotonic()
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(reap_orphans, self._pool.client, self.sandbox_settings.label)

    # ------------------------------------------------------------------ shutdown

    def close(self) -> None:
        """Stop background work, close the models, the pool and Redis, and stop the loop. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for future in self._background:
            future.cancel()
        with contextlib.suppress(Exception):
            self.call(self._aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    async def _aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.redis.delete(self.keys.worker(self.worker_id))
        with contextlib.suppress(Exception):
            await self.models.aclose()
        if self._pool is not None:
            await asyncio.to_thread(self._pool.close)
        with contextlib.suppress(Exception):
            await self.redis.aclose()
