"""A job on the service, as an editor action runs it through the SDK: submit, follow its events, and cancel it
on the service when the editor cancels (a job whose submission was still under way is cancelled once its id is
known, never left running)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from selfdebug_client import AsyncClient, Conflict, Job, JobEvent, SelfDebugClientError

__all__ = ["CANCEL_WAIT", "cancel_quietly", "first_self_tests", "run_job"]

CANCEL_WAIT = 10.0  # seconds a cancelled action still waits to learn its job's id, and to cancel the job


async def cancel_quietly(client: AsyncClient, job: Job) -> None:
    """Cancel ``job`` on the service; one that already ended, or a service that does not answer, is no error
    here (the action is being cancelled anyway)."""
    with contextlib.suppress(Conflict, SelfDebugClientError, TimeoutError):
        async with asyncio.timeout(CANCEL_WAIT):
            await client.jobs.cancel(job)


async def _submitted(client: AsyncClient, body: dict[str, Any]) -> Job:
    submit = asyncio.ensure_future(client.jobs.submit(body["problem"], body["options"], model=body.get("model"),
                                                      time_limit=body.get("time_limit")))
    try:
        return await asyncio.shield(submit)
    except asyncio.CancelledError:
        with contextlib.suppress(SelfDebugClientError, TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(CANCEL_WAIT):
                await cancel_quietly(client, await submit)
        raise


async def run_job(client: AsyncClient, body: dict[str, Any], on_event: Callable[[JobEvent], None],
                  on_submitted: Callable[[Job], None] | None = None) -> Job:
    """Submit ``body`` (``problem``, ``options``, ``model``, ``time_limit``), pass each event to ``on_event``
    until the job ends, and return the whole job. Cancelling the caller cancels the job."""
    job = await _submitted(client, body)
    if on_submitted is not None:
        on_submitted(job)
    try:
        async for event in client.jobs.events(job):
            on_event(event)
            if event.terminal:
                break
        return await client.jobs.get(job)
    except asyncio.CancelledError:
        await cancel_quietly(client, job)
        raise


async def first_self_tests(client: AsyncClient, body: dict[str, Any], on_event: Callable[[JobEvent], None]
                           ) -> tuple[Job, list[str] | None]:
    """The self-tests the model writes for ``body``'s problem: its job is followed until they exist, then
    cancelled (the repair after them is not wanted). None when the job ended without writing any."""
    job = await _submitted(client, body)
    try:
        async for event in client.jobs.events(job):
            on_event(event)
            if event.kind == "tests_generated":
                await cancel_quietly(client, job)
                return job, [str(test) for test in event.data.get("tests", [])]
            if event.terminal:
                break
        return await client.jobs.get(job), None
    except asyncio.CancelledError:
        await cancel_quietly(client, job)
        raise
