"""``client.batches``: run the loop over a dataset, a list of problems or a JSONL file; follow its progress
(``events``, ``wait``); read its results and report; cancel it; list the caller's own."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from selfdebug_client._payloads import (
    BatchRef,
    OptionsLike,
    ProblemLike,
    batch_body,
    batch_id,
    dumps,
    list_params,
    upload_parameters,
)
from selfdebug_client._streams import follow, follow_async
from selfdebug_client._transport import AsyncTransport, SyncTransport
from selfdebug_client.errors import SelfDebugClientError, WaitTimeout
from selfdebug_client.models import Batch, BatchEvent, BatchStatus, BatchSummary, Page, Report, Result

__all__ = ["AsyncBatches", "Batches", "FileLike"]

FileLike = str | os.PathLike[str] | bytes | IO[bytes]
POLL_FIRST = 0.5  # seconds between polls of a batch that has not ended; doubled up to POLL_MAX
POLL_MAX = 5.0


def _page(body: Any) -> Page[BatchSummary]:
    return Page[BatchSummary].model_validate(body)


def _read(file: FileLike, filename: str | None) -> tuple[str, bytes]:
    """The file's name and bytes, read once, so that a retried upload sends them again."""
    if isinstance(file, bytes):
        return filename or "problems.jsonl", file
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        return filename or path.name, path.read_bytes()
    return filename or Path(str(getattr(file, "name", "problems.jsonl"))).name, file.read()


def _result(line: str) -> Result | None:
    line = line.strip()
    return Result.model_validate(json.loads(line)) if line else None


def _report(batch: Batch) -> Report:
    if batch.report is None:
        raise SelfDebugClientError(f"batch {batch.id} ended ({batch.status.value}) but the service sent no report")
    return batch.report


def _wait_timeout(batch: Batch, timeout: float) -> WaitTimeout:
    return WaitTimeout(f"batch {batch.id} is still running after {timeout:g}s ({batch.done}/{batch.total} done)")


class Batches:
    def __init__(self, transport: SyncTransport) -> None:
        self._t = transport

    def submit(self, *, dataset: str | None = None, problems: Iterable[ProblemLike] | None = None,
               jsonl: str | None = None, task_ids: Sequence[str] | None = None, limit: int | None = None,
               options: OptionsLike = None, model: str | None = None, concurrency: int | None = None,
               time_limit: float | None = None) -> Batch:
        """Run the loop on a dataset by name, on ``problems``, or on the text of a JSONL file: exactly one."""
        parameters = upload_parameters(task_ids=task_ids, limit=limit, options=options, model=model,
                                       concurrency=concurrency, time_limit=time_limit)
        body = batch_body(dataset=dataset, problems=problems, jsonl=jsonl, parameters=parameters)
        return Batch.model_validate(self._t.request("POST", "/v1/batches", json=body).json())

    def upload(self, file: FileLike, *, filename: str | None = None, task_ids: Sequence[str] | None = None,
               limit: int | None = None, options: OptionsLike = None, model: str | None = None,
               concurrency: int | None = None, time_limit: float | None = None) -> Batch:
        """Run the loop on the problems of a JSONL file (a path, its bytes, or an open binary file)."""
        name, data = _read(file, filename)
        parameters = upload_parameters(task_ids=task_ids, limit=limit, options=options, model=model,
                                       concurrency=concurrency, time_limit=time_limit)
        response = self._t.request("POST", "/v1/batches/upload", files={"file": (name, data, "application/jsonl")},
                                   data={"options": dumps(parameters)})
        return Batch.model_validate(response.json())

    def get(self, batch: BatchRef) -> Batch:
        """Progress (jobs by status) and, once it ended, the report."""
        return Batch.model_validate(self._t.request("GET", f"/v1/batches/{batch_id(batch)}").json())

    def wait(self, batch: BatchRef, timeout: float | None = None) -> Batch:
        """The batch once it ended; ``WaitTimeout`` if it did not within ``timeout`` seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = POLL_FIRST
        while True:
            current = self.get(batch)
            if current.terminal:
                return current
            if deadline is not None and time.monotonic() >= deadline:
                raise _wait_timeout(current, timeout or 0.0)
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(POLL_MAX, pause * 2)

    def report(self, batch: BatchRef, timeout: float | None = None) -> Report:
        """The batch's report, once it ended (waiting as ``wait`` does)."""
        return _report(self.wait(batch, timeout))

    def results(self, batch: BatchRef) -> Iterator[Result]:
        """One record per problem, in problem order."""
        with self._t.stream(f"/v1/batches/{batch_id(batch)}/results", {"Accept": "application/x-ndjson"}) as rsp:
            for line in rsp.iter_lines():
                result = _result(line)
                if result is not None:
                    yield result

    def cancel(self, batch: BatchRef) -> Batch:
        """Send no more of its jobs and cancel those queued or running; the report covers what ended."""
        return Batch.model_validate(self._t.request("DELETE", f"/v1/batches/{batch_id(batch)}").json())

    def remove(self, batch: BatchRef) -> None:
        """Remove a batch that is no longer running, with its jobs (``Conflict`` if it still runs)."""
        self._t.request("DELETE", f"/v1/batches/{batch_id(batch)}", params={"remove": "true"})

    def page(self, *, status: BatchStatus | str | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page[BatchSummary]:
        """One page of the caller's batches, newest first."""
        params = list_params(status=status, batch=None, limit=limit, cursor=cursor)
        return _page(self._t.request("GET", "/v1/batches", params=params).json())

    def list(self, *, status: BatchStatus | str | None = None, page_size: int | None = None
             ) -> Iterator[BatchSummary]:
        """Every batch of the caller's (in one ``status``), newest first, page after page."""
        cursor = None
        while True:
            page = self.page(status=status, limit=page_size, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def events(self, batch: BatchRef, *, after: str | None = None) -> Iterator[BatchEvent]:
        """The batch's progress from its start (or after the event id ``after``) until its final status with the
        report, resuming by itself when the connection drops."""
        ident = batch_id(batch)
        for event in follow(self._t, f"/v1/batches/{ident}/events", after, BatchEvent.parse,
                            lambda: self.get(ident).terminal):
            if event is not None:
                yield event


class AsyncBatches:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def submit(self, *, dataset: str | None = None, problems: Iterable[ProblemLike] | None = None,
                     jsonl: str | None = None, task_ids: Sequence[str] | None = None, limit: int | None = None,
                     options: OptionsLike = None, model: str | None = None, concurrency: int | None = None,
                     time_limit: float | None = None) -> Batch:
        parameters = upload_parameters(task_ids=task_ids, limit=limit, options=options, model=model,
                                       concurrency=concurrency, time_limit=time_limit)
        body = batch_body(dataset=dataset, problems=problems, jsonl=jsonl, parameters=parameters)
        return Batch.model_validate((await self._t.request("POST", "/v1/batches", json=body)).json())

    async def upload(self, file: FileLike, *, filename: str | None = None, task_ids: Sequence[str] | None = None,
                     limit: int | None = None, options: OptionsLike = None, model: str | None = None,
                     concurrency: int | None = None, time_limit: float | None = None) -> Batch:
        name, data = await asyncio.to_thread(_read, file, filename)
        parameters = upload_parameters(task_ids=task_ids, limit=limit, options=options, model=model,
                                       concurrency=concurrency, time_limit=time_limit)
        response = await self._t.request("POST", "/v1/batches/upload",
                                         files={"file": (name, data, "application/jsonl")},
                                         data={"options": dumps(parameters)})
        return Batch.model_validate(response.json())

    async def get(self, batch: BatchRef) -> Batch:
        return Batch.model_validate((await self._t.request("GET", f"/v1/batches/{batch_id(batch)}")).json())

    async def wait(self, batch: BatchRef, timeout: float | None = None) -> Batch:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        pause = POLL_FIRST
        while True:
            current = await self.get(batch)
            if current.terminal:
                return current
            if deadline is not None and loop.time() >= deadline:
                raise _wait_timeout(current, timeout or 0.0)
            await asyncio.sleep(pause if deadline is None else max(0.0, min(pause, deadline - loop.time())))
            pause = min(POLL_MAX, pause * 2)

    async def report(self, batch: BatchRef, timeout: float | None = None) -> Report:
        return _report(await self.wait(batch, timeout))

    async def results(self, batch: BatchRef) -> AsyncIterator[Result]:
        async with self._t.stream(f"/v1/batches/{batch_id(batch)}/results",
                                  {"Accept": "application/x-ndjson"}) as response:
            async for line in response.aiter_lines():
                result = _result(line)
                if result is not None:
                    yield result

    async def cancel(self, batch: BatchRef) -> Batch:
        return Batch.model_validate((await self._t.request("DELETE", f"/v1/batches/{batch_id(batch)}")).json())

    async def remove(self, batch: BatchRef) -> None:
        await self._t.request("DELETE", f"/v1/batches/{batch_id(batch)}", params={"remove": "true"})

    async def page(self, *, status: BatchStatus | str | None = None, limit: int | None = None,
                   cursor: str | None = None) -> Page[BatchSummary]:
        params = list_params(status=status, batch=None, limit=limit, cursor=cursor)
        return _page((await self._t.request("GET", "/v1/batches", params=params)).json())

    async def list(self, *, status: BatchStatus | str | None = None, page_size: int | None = None
                   ) -> AsyncIterator[BatchSummary]:
        cursor = None
        while True:
            page = await self.page(status=status, limit=page_size, cursor=cursor)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def events(self, batch: BatchRef, *, after: str | None = None) -> AsyncIterator[BatchEvent]:
        ident = batch_id(batch)

        async def ended() -> bool:
            return (await self.get(ident)).terminal

        async for event in follow_async(self._t, f"/v1/batches/{ident}/events", after, BatchEvent.parse, ended):
            if event is not None:
                yield event
