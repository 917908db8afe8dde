"""Following an event stream (a job's or a batch's) to its end, resuming with ``Last-Event-ID`` whenever the
connection drops or the service ends the stream early (an API process stopping, a stream slot that lapsed):
each event is seen once, in order, none missed.

The followers yield ``None`` for each keep-alive too, so that a caller waiting with a deadline can check it while
nothing happens; the public ``events()`` methods leave those out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Protocol, TypeVar

import httpx

from selfdebug_client._payloads import Resume
from selfdebug_client._sse import KEEP_ALIVE, SSEDecoder
from selfdebug_client._transport import AsyncTransport, SyncTransport

__all__ = ["follow", "follow_async"]


class _Event(Protocol):
    @property
    def terminal(self) -> bool: ...


E = TypeVar("E", bound=_Event)
Parse = Callable[[str, str, str], E]


def follow(transport: SyncTransport, path: str, after: str | None, parse: Parse[E],
           ended: Callable[[], bool]) -> Iterator[E | None]:
    """Events of ``path`` after ``after`` until a terminal one; ``ended()`` says whether the stream's subject has
    ended (asked when the service closes a stream before its terminal event)."""
    resume = Resume(after, transport.settings.reconnects)
    while True:
        try:
            with transport.stream(path, resume.headers()) as response:
                decoder = SSEDecoder()
                for line in response.iter_lines():
                    sse = decoder.feed(line)
                    if sse is None:
                        continue
                    if sse is KEEP_ALIVE:
                        yield None
                        continue
                    resume.seen(sse.id)
                    event = parse(sse.id or "", sse.event, sse.data)
                    yield event
                    if event.terminal:
                        return
            why = "the service closed it"
            if ended():
                return
        except httpx.TransportError as exc:  # read errors, a read timeout (no keep-alive), a torn chunk
            why = f"{type(exc).__name__}: {exc}"
        time.sleep(resume.broke(why))


async def follow_async(transport: AsyncTransport, path: str, after: str | None, parse: Parse[E],
                       ended: Callable[[], Awaitable[bool]]) -> AsyncIterator[E | None]:
    resume = Resume(after, transport.settings.reconnects)
    while True:
        try:
            async with transport.stream(path, resume.headers()) as response:
                decoder = SSEDecoder()
                async for line in response.aiter_lines():
                    sse = decoder.feed(line)
                    if sse is None:
                        continue
                    if sse is KEEP_ALIVE:
                        yield None
                        continue
                    resume.seen(sse.id)
                    event = parse(sse.id or "", sse.event, sse.data)
                    yield event
                    if event.terminal:
                        return
            why = "the service closed it"
            if await ended():
                return
        except httpx.TransportError as exc:
            why = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(resume.broke(why))
