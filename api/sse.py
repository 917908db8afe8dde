"""A job's or a batch's events as Server-Sent Events, read from its Redis stream.

Each event's ``id`` is its stream id, so a client that reconnects with ``Last-Event-ID`` gets exactly the
events it missed. Idle streams carry a keep-alive comment every ``sse_ping_interval`` seconds; the stream ends
after the final ``status`` event (or at once, when a resumed client has already seen it), or when its slot
lapsed (``api.streams``: the client resumes with ``Last-Event-ID``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from workers.batch_events import BatchEvents, is_last
from workers.models import TERMINAL, StoredEvent
from workers.store import JobStore

__all__ = ["EVENT_ID", "EVENT_SCHEMA", "RELEASE_TIMEOUT", "RETRY_MS", "EventStreamResponse", "batch_event_stream",
           "event_stream", "format_event"]

EVENT_ID = r"^[0-9]{1,20}-[0-9]{1,20}$"
RETRY_MS = 2000  # how long a browser's EventSource waits before reconnecting
# One event, as OpenAPI before 3.2 describes a text/event-stream response: its schema is each event's.
EVENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string", "description": "Its position, for Last-Event-ID."},
    "event": {"type": "string", "description": "Its kind."}, "data": {"type": "string", "description": "JSON."},
    "retry": {"type": "integer", "description": "Milliseconds a reconnecting client waits."}}}
RELEASE_TIMEOUT = 5.0  # seconds an ended stream may spend giving its slot back (else the slot's lease expires)


def format_event(event_id: str, kind: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {kind}\n{lines}\n"


Renew = Callable[[], Awaitable[bool]]
Read = Callable[[str, float | None], Awaitable[list[StoredEvent]]]  # events after a stream id, waiting that long


def event_stream(store: JobStore, job_id: str, after: str | None, *, ping: float,
                 renew: Renew | None = None) -> AsyncIterator[str]:
    """The SSE text of a job's events after ``after``; ``renew`` is called at every turn (at least every ``ping``
    seconds) to keep the stream's slot, and the stream ends when it returns False."""

    async def read(cursor: str, block: float | None) -> list[StoredEvent]:
        return await store.events(job_id, cursor, block=block)

    async def ended() -> bool:
        status = await store.status(job_id)
        return status is None or status in TERMINAL

    return _stream(read, ended, lambda event: event.terminal_status is not None, after, ping, renew)


def batch_event_stream(events: BatchEvents, batch_id: str, after: str | None, *, ping: float,
                       renew: Renew | None = None) -> AsyncIterator[str]:
    """The SSE text of a batch's events (``workers.batch_events``) after ``after``, as ``event_stream``."""

    async def read(cursor: str, block: float | None) -> list[StoredEvent]:
        return await events.read(batch_id, cursor, block=block)

    async def ended() -> bool:
        return await events.ended(batch_id)

    return _stream(read, ended, is_last, after, ping, renew)


async def _stream(read: Read, ended: Callable[[], Awaitable[bool]], last: Callable[[StoredEvent], bool],
                  after: str | None, ping: float, renew: Renew | None) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    cursor = after or "0-0"
    while True:
        if renew is not None and not await renew():
            return
        events = await read(cursor, ping)
        if not events:
            if not await ended():
                yield ": keep-alive\n\n"
                continue
            # It ended after the wait above came back empty: its last events were written since. Once more.
            events = await read(cursor, None)
            if not events:
                return
        for event in events:
            yield format_event(event.id, event.kind, event.data)
            cursor = event.id
            if last(event):
                return


class EventStreamResponse(StreamingResponse):
    """An SSE response that calls ``release`` once it is over, however it ended: the job's last event, the client
    hanging up (Starlette then cancels the stream), an error, or the server shutting down."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[str], release: Callable[[], Awaitable[None]], *,
                 background: BackgroundTask | None = None) -> None:
        super().__init__(content, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                         background=background)
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: when the request is being cancelled, an unshielded await here would be cancelled too, and
            # the slot kept until its lease expired.
            with anyio.move_on_after(RELEASE_TIMEOUT, shield=True):
                await self.release()
