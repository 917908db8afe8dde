"""Token accounting: a ``UsageMeter`` a job owns, and ``MeteredModel`` that records every call into one."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from .models import ChatModel, Completion, Message

__all__ = ["MeteredModel", "UsageMeter", "UsageTotals"]


class UsageTotals(BaseModel):
    """A snapshot of a meter: calls, how many came from the cache, tokens and the time spent waiting."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageMeter:
    """Accumulates the usage of completions. Cached answers count their tokens too (so a budget behaves the same
    on a re-run), and are also counted apart in ``cached_calls``. Safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = UsageTotals()

    def record(self, completion: Completion) -> None:
        with self._lock:
            t = self._totals
            self._totals = UsageTotals(
                calls=t.calls + 1,
                cached_calls=t.cached_calls + int(completion.cached),
                prompt_tokens=t.prompt_tokens + completion.usage.prompt_tokens,
                completion_tokens=t.completion_tokens + completion.usage.completion_tokens,
                latency=t.latency + completion.latency,
            )

    @property
    def totals(self) -> UsageTotals:
        return self._totals

    @property
    def total_tokens(self) -> int:
        return self._totals.total_tokens

    def reset(self) -> UsageTotals:
        """Start again from zero; returns what had been counted."""
        with self._lock:
            before, self._totals = self._totals, UsageTotals()
        return before


class MeteredModel:
    """Wraps a shared ``ChatModel`` so that one job's calls are counted in that job's own meter."""

    def __init__(self, inner: ChatModel, meter: UsageMeter | None = None) -> None:
        self.inner = inner
        self.meter = meter if meter is not None else UsageMeter()

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        completion = await self.inner.complete(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        self.meter.record(completion)
        return completion
