"""The job store's transitions and the sweeper, on a real Redis (no worker, no Docker): every Lua script's
conditions, so two processes can never both move a job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis

from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from tests.service.conftest import PREFIX, REDIS_URL, queue
from workers import BatchSpec, BatchStore, CapReached, JobSpec, JobStatus, JobStore, ServiceSettings, async_redis
from workers.sweeper import sweep

T = TypeVar("T")
pytestmark = pytest.mark.timeout(30)

SPEC = JobSpec(problem=Problem(task_id="t", prompt="def f(): ...", entry_point="f"), time_limit=10)


def settings(**overrides: Any) -> ServiceSettings:
    # A prefix of its own: the session's worker and API sweep their own keys and never touch these.
    values: dict[str, Any] = {"redis_url": REDIS_URL, "key_prefix": f"{PREFIX}store", "queue": queue("selfdebug-store"),
                              "heartbeat_interval": 0.1, "stale_after": 1.0, "requeue_after": 1.0, "max_runs": 2}
    values.update(overrides)
    return ServiceSettings(**values)


def run(test: Callable[[JobStore, BatchStore], Awaitable[T]], **overrides: Any) -> T:
    async def main() -> T:
        client = async_redis(settings(**overrides))
        store = JobStore(client, settings(**overrides))
        try:
            return await test(store, BatchStore(client, store.settings, store))
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_a_job_is_claimed_once_and_finished_once(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, _: BatchStore) -> None:
        job_id, first = await store.create("alice", SPEC)
        assert first and (await store.get(job_id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
        assert await store.claim(job_id, "w1") == 1
        assert await store.claim(job_id, "w2") == 0  # a duplicate delivery runs nothing
        assert await store.heartbeat(job_id, 1) == "ok"
        assert await store.finish(job_id, JobStatus.SUCCEEDED, run=2) is None  # not this run's
        finished = await store.finish(job_id, JobStatus.SUCCEEDED, run=1, extra={"verdict": "x"})
        assert finished is not None and finished.batch_id is None
        assert await store.finish(job_id, JobStatus.FAILED, run=1) is None  # already ended
        assert await store.heartbeat(job_id, 1) == "lost"
        job = await store.get(job_id)
        assert job is not None and job.status is JobStatus.SUCCEEDED and job.runs == 1
        kinds = [(e.kind, e.terminal_status) for e in await store.events(job_id, "0-0")]
        assert kinds == [("status", None), ("status", None), ("status", JobStatus.SUCCEEDED)]
        assert await store.active_count("alice") == 0
        counters = await store.counters()
        assert counters["jobs_submitted"] == 1 and counters["jobs_succeeded"] == 1

    run(scenario)


def test_cancel_queued_and_running(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, _: BatchStore) -> None:
        queued, _ = await store.create("alice", SPEC)
        outcome = await store.request_cancel(queued)
        assert outcome is not None and not isinstance(outcome, JobStatus)
        assert await store.status(queued) is JobStatus.CANCELLED
        assert await store.claim(queued, "w") == 0
        running, _ = await store.create("alice", SPEC)
        await store.claim(running, "w")
        assert await store.request_cancel(running) is JobStatus.RUNNING
        assert await store.heartbeat(running, 1) == "cancel"
        assert await store.request_cancel("0" * 32) is None

    run(scenario)


def test_the_cap_counts_queued_and_running_jobs(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, _: BatchStore) -> None:
        first, _ = await store.create("alice", SPEC, cap=1)
        with pytest.raises(CapReached):
            await store.create("alice", SPEC, cap=1)
        await store.create("bob", SPEC, cap=1)
        await store.claim(first, "w")
        await store.finish(first, JobStatus.FAILED, reason="x", run=1)
        await store.create("alice", SPEC, cap=1)

    run(scenario)


def test_wait_finished_returns_when_the_job_ends(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, _: BatchStore) -> None:
        job_id, first = await store.create("alice", SPEC)
        assert await store.wait_finished(job_id, first, 0.3) is False

        async def finish_soon() -> None:
            await asyncio.sleep(0.2)
            await store.claim(job_id, "w")
            await store.finish(job_id, JobStatus.SUCCEEDED, run=1)

        task = asyncio.create_task(finish_soon())
        started = time.monotonic()
        assert await store.wait_finished(job_id, first, 5) is True
        assert time.monotonic() - started < 2
        await task

    run(scenario)


def test_the_sweeper_requeues_then_fails_a_job_whose_worker_died(redis_db: redis.Redis) -> None:
    sent: list[str] = []

    async def send(job_id: str) -> None:
        sent.append(job_id)

    async def scenario(store: JobStore, batches: BatchStore) -> None:
        job_id, _ = await store.create("alice", SPEC)
        await store.claim(job_id, "dead-worker")
        report = await sweep(store, batches, store.settings, send, holder="t")
        assert report.requeued == 0  # its heartbeat is fresh
        await asyncio.sleep(1.2)
        report = await sweep(store, batches, store.settings, send, holder="t")
        assert report.requeued == 1 and sent == [job_id]
        job = await store.get(job_id)
        assert job is not None and job.status is JobStatus.QUEUED and "stopped answering" in (
            (await store.events(job_id, "0-0"))[-1].data)
        assert await store.claim(job_id, "w2") == 2
        await asyncio.sleep(1.2)
        report = await sweep(store, batches, store.settings, send, holder="t")
        job = await store.get(job_id)
        assert report.failed == 1 and job is not None and job.status is JobStatus.FAILED
        assert job.reason is not None and "run 2 of at most 2" in job.reason

    run(scenario)


def test_the_sweeper_resends_a_lost_message_only_when_the_queue_is_empty(redis_db: redis.Redis) -> None:
    sent: list[str] = []

    async def send(job_id: str) -> None:
        sent.append(job_id)

    async def scenario(store: JobStore, batches: BatchStore) -> None:
        job_id, _ = await store.create("alice", SPEC)
        await store.redis.rpush(store.settings.queue, "a message for another job")  # type: ignore[misc]
        await asyncio.sleep(1.2)
        await sweep(store, batches, store.settings, send, holder="t")
        assert sent == []  # a backlog, not a lost message
        await store.redis.delete(store.settings.queue)
        report = await sweep(store, batches, store.settings, send, holder="t")
        assert report.resent == 1 and sent == [job_id]
        assert (await sweep(store, batches, store.settings, send, holder="t")).resent == 0  # not again at once

    run(scenario)


def test_a_batch_sends_at_most_its_concurrency_and_reports_once(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, batches: BatchStore) -> None:
        spec = BatchSpec(source="inline", options=DebugOptions(), concurrency=2, time_limit=10)
        batch_id, to_send = await batches.create("alice", spec, [SPEC] * 5)
        assert len(to_send) == 2 and await batches.advance(batch_id) == []
        ids = await batches.job_ids(batch_id)
        assert to_send == ids[:2]
        await store.claim(ids[0], "w")
        finished = await store.finish(ids[0], JobStatus.SUCCEEDED, run=1)
        assert finished is not None and finished.batch_id == batch_id and (finished.done, finished.total) == (1, 5)
        assert await batches.advance(batch_id) == [ids[2]]
        await store.request_cancel(ids[4])  # a pending job cancelled: it must leave the pending list
        for job_id in ids[1:4]:
            await store.claim(job_id, "w")
            await store.finish(job_id, JobStatus.FAILED, reason="x", run=1)
            await batches.advance(batch_id)
        batch = await batches.get(batch_id)
        assert batch is not None and batch.done == 5 and batch.inflight == 0
        sent: list[str] = []

        async def send(job_id: str) -> None:
            sent.append(job_id)

        await sweep(store, batches, store.settings, send, holder="t")
        batch = await batches.get(batch_id)
        assert batch is not None and batch.status.value == "succeeded" and sent == []
        assert batch.report is not None and batch.report["problems"] == 5 and batch.report["errors"] == 4
        assert await batches.active() == []

    run(scenario)


def test_rate_limit_allows_a_burst_then_an_even_pace(redis_db: redis.Redis) -> None:
    async def scenario(store: JobStore, _: BatchStore) -> list[float | None]:
        burst = [await store.hit_rate("alice", 3, 60) for _ in range(4)]
        other = await store.hit_rate("bob", 3, 60)
        # 3 per 60 s is one per 20 s; 10 per 10 s, one a second once the burst is spent.
        fast = [await store.hit_rate("carol", 10, 10) for _ in range(10)]
        await asyncio.sleep(1.2)
        paced = [await store.hit_rate("carol", 10, 10) for _ in range(2)]
        return [*burst, other, *fast, *paced]

    waits = run(scenario)
    assert waits[:3] == [None, None, None] and waits[4] is None  # a burst of the limit, per key
    assert waits[3] is not None and 19 < waits[3] <= 20  # the next one is due in window/limit
    assert all(wait is None for wait in waits[5:15])
    assert waits[15] is None and waits[16] is not None and 0 < waits[16] <= 1  # one more a second
