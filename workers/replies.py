"""Redis replies read as text, and a stream's events read from a cursor: shared by the job store and the batches'
event streams. It imports nothing of the service, so the Lua scripts' module (which the store imports) can use it too.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

from workers.models import StoredEvent

__all__ = ["read_events", "text", "text_map"]


def text(value: Any) -> str:
    """A Redis reply as ``str`` (the clients decode replies, but the types say bytes or str)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def text_map(reply: Any) -> dict[str, str]:
    return {text(k): text(v) for k, v in (reply or {}).items()}


async def read_events(client: redis.asyncio.Redis, key: str, after: str, *, count: int,
                      block: float | None) -> list[StoredEvent]:
    """The stream's events after the id ``after`` ('0-0' for all); with ``block`` wait up to that many seconds."""
    entries: Any
    if block is None:
        entries = await client.xrange(key, min=f"({after}" if after != "0-0" else "-", count=count)
    else:
        reply: Any = await client.xread({key: after}, count=count, block=max(1, int(block * 1000)))
        entries = reply[0][1] if reply else []
    events = []
    for event_id, fields in entries:
        values = text_map(fields)
        events.append(StoredEvent(id=text(event_id), kind=values.get("kind", ""), data=values.get("data", "{}")))
    return events
