"""A job's events as Server-Sent Events, read from its Redis stream.

Each event's ``id`` is its stream id, so a client that reconnects with ``Last-Event-ID`` gets exactly the
events it missed. Idle streams carry a keep-alive comment every ``sse_ping_interval`` seconds; the stream ends
after the job's final ``status`` event (or at once, when a resumed client has already seen it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from workers.models import TERMINAL
from workers.store import JobStore

__all__ = ["EVENT_ID", "RETRY_MS", "event_stream", "format_event"]

EVENT_ID = r"^[0-9]{1,20}-[0-9]{1,20}$"
RETRY_MS = 2000  # how long a browser's EventSource waits before reconnecting


def format_event(event_id: str, kind: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {kind}\n{lines}\n"


async def event_stream(store: JobStore, job_id: str, after: str | None, *, ping: float) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    cursor = after or "0-0"
    while True:
        events = await store.events(job_id, cursor, block=ping)
        if not events:
            status = await store.status(job_id)
            if status is None or status in TERMINAL:
                return
            yield ": keep-alive\n\n"
            continue
        for event in events:
            yield format_event(event.id, event.kind, event.data)
            cursor = event.id
            if event.terminal_status is not None:
                return
