"""The events a repair loop emits at each step; the service streams them, the CLI shows progress with them."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Event", "EventKind", "EventSink", "emit"]


class EventKind(StrEnum):
    PROGRAM_GENERATED = "program_generated"
    TESTS_GENERATED = "tests_generated"
    EXECUTED = "executed"
    TRACE_RECORDED = "trace_recorded"
    FEEDBACK_SENT = "feedback_sent"
    PROGRAM_REPAIRED = "program_repaired"
    GUARD = "guard"
    EVALUATED = "evaluated"
    FINISHED = "finished"


class Event(BaseModel):
    kind: EventKind
    task_id: str
    iteration: int
    data: dict[str, Any] = Field(default_factory=dict)
    at: float = Field(default_factory=time.time)


EventSink = Callable[[Event], Awaitable[None] | None]


async def emit(sink: EventSink | None, event: Event) -> None:
    """Deliver ``event`` to a sync or async sink; no sink, no work."""
    if sink is None:
        return
    result = sink(event)
    if inspect.isawaitable(result):
        await result
