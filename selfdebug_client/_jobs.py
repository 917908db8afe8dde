"""``client.jobs``: submit a problem, follow it (``events``, ``wait``), cancel it, list the caller's own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from selfdebug_client._config import WAIT_CHUNK
from selfdebug_client._payloads import BatchRef, JobRef, OptionsLike, ProblemLike, job_body, job_id, list_params
from selfdebug_client._streams import follow, follow_async
from selfdebug_client._transport import AsyncTransport, SyncTransport
from selfdebug_client.errors import WaitTimeout
from selfdebug_client.models import Job, JobEvent, JobStatus, JobSummary, Page

__all__ = ["AsyncJobs", "Jobs"]

PAUSE = 1.0  # seconds between polls when the service answers a ?wait= sooner than asked (its max_wait is lower)


def _page(body: Any) -> Page[JobSummary]:
    return Page[JobSummary].model_validate(body)


def _wait_timeout(job: Job, timeout: float) -> WaitTimeout:
    return WaitTimeout(f"job {job.id} is still {job.status.value} after {timeout:g}s")


class Jobs:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def submit(self, problem: ProblemLike, options: OptionsLike = None, *, model: str | None = None,
               time_limit: float | None = None, wait: float | None = None) -> Job:
        """Queue ``problem``; with ``wait``, return once it ended if it ends within that many seconds."""
        params = {"wait": wait} if wait else None
        response = self._t.request("POST", "/v1/jobs", json=job_body(problem, options, model, time_limit),
                                   params=params, wait=wait or 0.0)
        return Job.model_validate(response.json())

    def get(self, job: JobRef, *, wait: float | None = None) -> Job:
        """The job as it is now; with ``wait``, once it ended or after that many seconds."""
        params = {"wait": wait} if wait else None
        response = self._t.request("GET", f"/v1/jobs/{job_id(job)}", params=params, wait=wait or 0.0)
        return Job.model_validate(response.json())

    def wait(self, job: JobRef, timeout: float | None = None) -> Job:
        """The job once it ended; ``WaitTimeout`` if it did not within ``timeout`` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = WAIT_CHUNK if deadline is None else min(WAIT_CHUNK, deadline - time.monotonic())
            asked = time.monotonic()
            current = self.get(job, wait=max(remaining, 0.0) or None)
            if current.terminal:
                return current
            if deadline is not None and time.monotonic() >= deadline:
                raise _wait_timeout(current, timeout or 0.0)
            if time.monotonic() - asked < remaining / 2:
                time.sleep(min(PAUSE, max(remaining, 0.0)))

    def cancel(self, job: JobRef) -> Job:
        """Cancel a queued or running job (``Conflict`` if it already ended); the job as it is after."""
        return Job.model_validate(self._t.request("DELETE", f"/v1/jobs/{job_id(job)}").json())

    def remove(self, job: JobRef) -> None:
        """Remove an ended job and its events (``Conflict`` if it has not ended, or is a batch's)."""
        self._t.request("DELETE", f"/v1/jobs/{job_id(job)}", params={"remove": "true"})

    def page(self, *, status: JobStatus | str | None = None, batch: BatchRef | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page[JobSummary]:
        """One page of the caller's jobs, newest first."""
        params = list_params(status=status, batch=batch, limit=limit, cursor=cursor)
        return _page(self._t.request("GET", "/v1/jobs", params=params).json())

    def list(self, *, status: JobStatus | str | None = None, batch: BatchRef | None = None,
             page_size: int | None = None) -> Iterator[JobSummary]:
        """Every job of the caller's (of one ``batch``, in one ``status``), newest first, page after page."""
        cursor = None
        while True:
            page = self.page(status=status, batch=batch, limit=page_size, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def events(self, job: JobRef, *, after: str | None = None) -> Iterator[JobEvent]:
        """The job's events from the start (or after the event id ``after``) until its final status, resuming
        by itself when the connection drops."""
        for event in self._follow(job, after):
            if event is not None:
                yield event

    def _follow(self, job: JobRef, after: str | None) -> Iterator[JobEvent | None]:
        ident = job_id(job)
        return follow(self._t, f"/v1/jobs/{ident}/events", after, JobEvent.parse,
                      lambda: self.get(ident).terminal)


class AsyncJobs:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def submit(self, problem: ProblemLike, options: OptionsLike = None, *, model: str | None = None,
                     time_limit: float | None = None, wait: float | None = None) -> Job:
        params = {"wait": wait} if wait else None
        response = await self._t.request("POST", "/v1/jobs", json=job_body(problem, options, model, time_limit),
                                         params=params, wait=wait or 0.0)
        return Job.model_validate(response.json())

    async def get(self, job: JobRef, *, wait: float | None = None) -> Job:
        params = {"wait": wait} if wait else None
        response = await self._t.request("GET", f"/v1/jobs/{job_id(job)}", params=params, wait=wait or 0.0)
        return Job.model_validate(response.json())

    async def wait(self, job: JobRef, timeout: float | None = None) -> Job:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = WAIT_CHUNK if deadline is None else min(WAIT_CHUNK, deadline - loop.time())
            asked = loop.time()
            current = await self.get(job, wait=max(remaining, 0.0) or None)
            if current.terminal:
                return current
            if deadline is not None and loop.time() >= deadline:
                raise _wait_timeout(current, timeout or 0.0)
            if loop.time() - asked < remaining / 2:
                await asyncio.sleep(min(PAUSE, max(remaining, 0.0)))

    async def cancel(self, job: JobRef) -> Job:
        return Job.model_validate((await self._t.request("DELETE", f"/v1/jobs/{job_id(job)}")).json())

    async def remove(self, job: JobRef) -> None:
        await self._t.request("DELETE", f"/v1/jobs/{job_id(job)}", params={"remove": "true"})

    async def page(self, *, status: JobStatus | str | None = None, batch: BatchRef | None = None,
                   limit: int | None = None, cursor: str | None = None) -> Page[JobSummary]:
        params = list_params(status=status, batch=batch, limit=limit, cursor=cursor)
        return _page((await self._t.request("GET", "/v1/jobs", params=params)).json())

    async def list(self, *, status: JobStatus | str | None = None, batch: BatchRef | None = None,
                   page_size: int | None = None) -> AsyncIterator[JobSummary]:
        cursor = None
        while True:
            page = await self.page(status=status, batch=batch, limit=page_size, cursor=cursor)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def events(self, job: JobRef, *, after: str | None = None) -> AsyncIterator[JobEvent]:
        async for event in self._follow(job, after):
            if event is not None:
                yield event

    def _follow(self, job: JobRef, after: str | None) -> AsyncIterator[JobEvent | None]:
        ident = job_id(job)

        async def ended() -> bool:
            return (await self.get(ident)).terminal

        return follow_async(self._t, f"/v1/jobs/{ident}/events", after, JobEvent.parse, ended)
