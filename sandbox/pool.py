"""A pool of warm sandbox containers, replenished ahead of demand, and the reaper that removes orphans.

A container goes back to the pool only if its last job ended cleanly (nothing killed, the runner proved the
container empty) and it has served fewer than ``recycle_after`` jobs; otherwise it is removed and a
replacement starts in the background at once, so the next caller rarely waits for a cold start.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from types import TracebackType

import docker.errors
from docker.client import DockerClient

from sandbox.container import Container
from sandbox.errors import ContainerError, PoolClosed
from sandbox.image import connect, ensure_image
from sandbox.owners import owner_is_gone, owner_labels
from sandbox.settings import SandboxSettings

__all__ = ["ContainerPool", "reap_orphans"]

log = logging.getLogger(__name__)


def reap_orphans(client: DockerClient, label: str, *, pool_id: str | None = None) -> int:
    """Remove our containers whose owner process is gone (or, with ``pool_id``, that pool's); see
    ``sandbox.owners`` for how an owner is known dead. Returns how many were removed.
    """
    removed = 0
    # The list endpoint's own entries (labels included), not docker-py's models: those inspect every container
    # again, and one that another pool removes meanwhile would fail the whole listing.
    for entry in client.api.containers(all=True, filters={"label": label}):
        labels = entry.get("Labels") or {}
        if labels.get(f"{label}.pool") == pool_id if pool_id is not None else owner_is_gone(client, label, labels):
            with contextlib.suppress(docker.errors.DockerException):
                client.api.remove_container(entry["Id"], force=True)
                removed += 1
    return removed


class ContainerPool:
    """Warm containers to lend out, one job at a time each. Use as a context manager."""

    def __init__(self, settings: SandboxSettings | None = None, client: DockerClient | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.client = client or connect()
        self.pool_id = uuid.uuid4().hex[:12]
        self._labels = owner_labels(self.client, self.settings.label, self.pool_id)
        self.image = ""
        self._idle: deque[Container] = deque()
        self._live = 0  # idle + lent + starting
        self._cond = threading.Condition()
        self._closed = False
        self._started = False
        self._failures = 0
        self._last_error = ""
        self.stats = {"started": 0, "recycled": 0, "jobs": 0}

    def __enter__(self) -> ContainerPool:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self, *, wait: bool = True) -> None:
        """Reap orphans, make sure the image exists, and start the warm containers."""
        if self._started:
            return
        reaped = reap_orphans(self.client, self.settings.label)
        if reaped:
            log.info("removed %d orphaned sandbox containers", reaped)
        self.image = ensure_image(self.client, self.settings)
        self._started = True
        self._replenish()
        if wait:
            with self._cond:
                ok = self._cond.wait_for(lambda: len(self._idle) >= self.settings.pool_size or self._failures > 3,
                                         timeout=self.settings.start_timeout * 2)
                if not ok or not self._idle:
                    raise ContainerError(f"the pool could not start its containers: {self._last_error}")

    def _replenish(self) -> None:
        """Start background launches until idle + lent + starting reaches the pool size."""
        with self._cond:
            if self._closed:
                return
            missing = self.settings.pool_size - self._live
            self._live += max(missing, 0)
        for _ in range(max(missing, 0)):
            threading.Thread(target=self._launch, name="sandbox-launch", daemon=True).start()

    def _launch(self) -> None:
        try:
            container = Container(self.client, self.settings, self.image, self._labels)
        except ContainerError as exc:
            # A launch that close() overtook (it removes starting containers too) is no failure.
            (log.debug if self._closed else log.warning)("sandbox container failed to start: %s", exc)
            with self._cond:
                self._live -= 1
                self._failures += 1
                self._last_error = str(exc)
                self._cond.notify_all()
            if self._failures <= 3:
                time.sleep(0.5 * self._failures)
                self._replenish()
            return
        with self._cond:
            self.stats["started"] += 1
            self._failures = 0
            if self._closed:
                self._live -= 1
                container.remove()
                return
            self._idle.append(container)
            self._cond.notify_all()

    @contextlib.contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[Container]:
        """Lend a warm container for one job; it returns to the pool only if it is still clean."""
        wait = self.settings.acquire_timeout if timeout is None else timeout
        with self._cond:
            if self._closed:
                raise PoolClosed("the sandbox pool is closed")
            if not self._started:
                raise PoolClosed("the sandbox pool was not started")
            self._replenish()  # the condition's lock is re-entrant
            if not self._cond.wait_for(lambda: bool(self._idle) or self._closed, timeout=wait):
                raise ContainerError(f"no sandbox container became free within {wait:.0f}s ({self._last_error})")
            if self._closed:
                raise PoolClosed("the sandbox pool is closed")
            container = self._idle.popleft()
        try:
            yield container
        finally:
            self._give_back(container)

    def _give_back(self, container: Container) -> None:
        container.jobs += 1
        self.stats["jobs"] += 1
        keep = not container.dirty and container.jobs < self.settings.recycle_after
        with self._cond:
            if keep and not self._closed:
                self._idle.append(container)
                self._cond.notify_all()
                return
            self._live -= 1
            self.stats["recycled"] += 1
        threading.Thread(target=container.remove, name="sandbox-remove", daemon=True).start()
        self._replenish()

    def usage(self) -> dict[str, int]:
        """Pool occupancy for metrics: size, idle, busy, and lifetime counters."""
        with self._cond:
            idle = len(self._idle)
            return {"size": self.settings.pool_size, "idle": idle, "live": self._live, **self.stats}

    def close(self) -> None:
        """Remove every container of this pool, including any that are still starting."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._cond.notify_all()
        for container in idle:
            container.remove()
        with contextlib.suppress(docker.errors.DockerException):
            reap_orphans(self.client, self.settings.label, pool_id=self.pool_id)
