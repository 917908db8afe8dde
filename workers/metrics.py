"""Counters the workers add to Redis so any API process can show them on /metrics: LLM calls, tokens and
latency (a histogram kept as bucket counters), and how long jobs took."""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis.asyncio

from selfdebug.llm import ChatModel, Completion, Message

__all__ = ["JOB_BUCKETS", "LLM_BUCKETS", "TimedModel", "bucket_field", "record_job"]

LLM_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
JOB_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def bucket_field(metric: str, le: float) -> str:
    return f"{metric}_bucket_{le:g}"


class TimedModel:
    """Wraps a job's model: remembers each call's latency and tokens for the job's metrics."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.latencies: list[float] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def complete(self, messages: Sequence[Message], *, temperature: float | None = None,
                       max_tokens: int | None = None, stop: Sequence[str] | None = None) -> Completion:
        started = time.monotonic()
        completion = await self.inner.complete(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        self.latencies.append(time.monotonic() - started)
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        return completion


def _observe(pipe: redis.asyncio.client.Pipeline, key: str, metric: str, buckets: Sequence[float],
             value: float) -> None:
    for le in buckets:
        if value <= le:
            pipe.hincrby(key, bucket_field(metric, le), 1)
    pipe.hincrby(key, f"{metric}_count", 1)
    pipe.hincrbyfloat(key, f"{metric}_sum", value)


async def record_job(client: redis.asyncio.Redis, stats_key: str, model: TimedModel | None, seconds: float) -> None:
    """Add one job's LLM use and duration to the shared counters (one round trip)."""
    async with client.pipeline(transaction=False) as pipe:
        if model is not None:
            pipe.hincrby(stats_key, "llm_prompt_tokens", model.prompt_tokens)
            pipe.hincrby(stats_key, "llm_completion_tokens", model.completion_tokens)
            for latency in model.latencies:
                _observe(pipe, stats_key, "llm_latency", LLM_BUCKETS, latency)
        _observe(pipe, stats_key, "job_duration", JOB_BUCKETS, seconds)
        await pipe.execute()
