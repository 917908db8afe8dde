"""Job records and event streams in Redis: the one place the API and the workers read and write them.

Records survive restarts of both (they live in Redis, which compose runs with an append-only file). Every state
change goes through a Lua script in ``workers.scripts``, so two processes can never both move a job.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio

from workers.errors import CapReached, QuotaReached
from workers.keys import Keys
from workers.models import Job, JobResult, JobSpec, JobStatus, StoredEvent
from workers.quota import StorageQuota
from workers.replies import read_events, text, text_map
from workers.scripts import CANCEL, CLAIM, CREATE_JOB, FINISH, HEARTBEAT, RATE, REMOVE_JOB, REQUEUE, RESEND
from workers.settings import ServiceSettings

__all__ = ["Finished", "JobStore", "new_id", "quota_reached"]

_QUOTA_SETTINGS = {"jobs": ("jobs", "max_stored_jobs"), "bytes": ("bytes of jobs", "max_stored_bytes"),
                   "batches": ("batches", "max_stored_batches")}


def new_id() -> str:
    return uuid.uuid4().hex


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def quota_reached(what: str, retry_after: Any, quota: StorageQuota, retention: float) -> QuotaReached:
    """The error a creating script's answer {'jobs' | 'bytes' | 'batches', seconds} stands for."""
    noun, setting = _QUOTA_SETTINGS[what]
    most = getattr(quota, what)
    return QuotaReached(
        f"this key stores {most} {noun}, the most it may (SELFDEBUG_{setting.upper()}): remove ended jobs "
        f"(DELETE /v1/jobs/{{id}}?remove=true) or batches (DELETE /v1/batches/{{id}}?remove=true), or wait for "
        f"them to expire ({retention:g} s after they end)", retry_after=float(retry_after))


@dataclass(frozen=True)
class Finished:
    """What FINISH reports back: for a batch's job, how many of the batch's jobs are now done."""

    batch_id: str | None
    done: int
    total: int

    @property
    def batch_complete(self) -> bool:
        return self.batch_id is not None and self.done >= self.total


class JobStore:
    """Jobs and their event streams. ``redis`` must decode replies to ``str``."""

    def __init__(self, client: redis.asyncio.Redis, settings: ServiceSettings) -> None:
        self.redis = client
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self._create = client.register_script(CREATE_JOB)
        self._claim = client.register_script(CLAIM)
        self._heartbeat = client.register_script(HEARTBEAT)
        self._finish = client.register_script(FINISH)
        self._requeue = client.register_script(REQUEUE)
        self._resend = client.register_script(RESEND)
        self._cancel = client.register_script(CANCEL)
        self._rate = client.register_script(RATE)
        self._remove = client.register_script(REMOVE_JOB)

    # ------------------------------------------------------------------ creating and reading

    async def create(self, owner: str, spec: JobSpec, *, cap: int = 0,
                     quota: StorageQuota | None = None) -> tuple[str, str]:
        """Store a queued job; returns its id and the id of its first event. Raises ``CapReached`` (too many
        active), ``QuotaReached`` (the owner stores its most jobs or bytes)."""
        job_id = new_id()
        k = self.keys
        quota = quota or StorageQuota()
        what, value = await self._create(
            keys=[k.job(job_id), k.events(job_id), k.queued, k.owner_active(owner), k.stats],
            args=[job_id, owner, spec.model_dump_json(), time.time(), cap, self.settings.events_max,
                  self.settings.key_prefix, quota.jobs, quota.bytes],
        )
        if what == "cap":
            raise CapReached(f"this key already has {cap} jobs queued or running; wait for one to finish")
        if what != "ok":
            raise quota_reached(str(what), value, quota, self.settings.retention)
        return job_id, str(value)

    async def remove(self, job_id: str) -> str:
        """Remove an ended job that belongs to no batch, with its events: 'removed', 'missing', 'active' (queued
        or running), or the id of its batch."""
        k = self.keys
        return text(await self._remove(keys=[k.job(job_id), k.events(job_id)], args=[job_id, k.prefix]))

    async def get(self, job_id: str) -> Job | None:
        raw = text_map(await self.redis.hgetall(self.keys.job(job_id)))
        return _job(raw) if raw.get("spec") else None

    async def status(self, job_id: str) -> JobStatus | None:
        value = await self.redis.hget(self.keys.job(job_id), "status")
        return JobStatus(text(value)) if value else None

    # ------------------------------------------------------------------ a worker's side

    async def claim(self, job_id: str, worker: str) -> int:
        """Start a run of a queued job; returns the run number, or 0 if the job is not queued."""
        k = self.keys
        run = await self._claim(keys=[k.job(job_id), k.events(job_id), k.queued, k.running],
                                args=[job_id, worker, time.time(), self.settings.events_max])
        return int(run)

    async def heartbeat(self, job_id: str, run: int) -> str:
        """'ok', 'cancel' (cancellation asked) or 'lost' (this run no longer owns the job)."""
        k = self.keys
        return str(await self._heartbeat(keys=[k.job(job_id), k.running], args=[job_id, run, time.time()]))

    async def append_event(self, job_id: str, kind: str, data: str) -> str:
        event_id = await self.redis.xadd(self.keys.events(job_id), {"kind": kind, "data": data},
                                         maxlen=self.settings.events_max, approximate=True)
        return str(event_id)

    async def finish(self, job_id: str, status: JobStatus, *, reason: str = "", result: JobResult | None = None,
                     run: int | None = None, expect: JobStatus | None = None, stale_before: float | None = None,
                     extra: dict[str, Any] | None = None) -> Finished | None:
        """End a job (if it is still queued or running and the conditions hold); None if it was not ended here."""
        k = self.keys
        reply = await self._finish(
            keys=[k.job(job_id), k.events(job_id), k.queued, k.running, k.stats],
            args=[job_id, expect.value if expect else "", "" if run is None else run,
                  "" if stale_before is None else stale_before, status.value, reason,
                  result.model_dump_json() if result else "", time.time(), self.settings.events_max,
                  int(self.settings.retention), json.dumps(extra or {}), self.settings.key_prefix],
        )
        if reply is None:
            return None
        batch, done, total = reply
        return Finished(batch_id=str(batch) or None, done=int(done), total=int(total))

    # ------------------------------------------------------------------ cancellation

    async def request_cancel(self, job_id: str) -> Finished | JobStatus | None:
        """Cancel a job: a queued one ends at once (returns ``Finished``); a running one is told to stop (its
        worker notices within a heartbeat; returns RUNNING). Returns the status of a finished job, None if none."""
        k = self.keys
        status = await self._cancel(keys=[k.job(job_id), k.events(job_id)],
                                    args=[time.time(), self.settings.events_max])
        if status is None:
            return None
        if status == JobStatus.QUEUED:
            finished = await self.finish(job_id, JobStatus.CANCELLED, reason="cancelled before it started",
                                         expect=JobStatus.QUEUED)
            if finished is not None:
                return finished
            return await self.status(job_id)  # a worker claimed it meanwhile: it sees the flag at once
        return JobStatus(status)

    # ------------------------------------------------------------------ events

    async def events(self, job_id: str, after: str, *, count: int = 100, block: float | None = None
                     ) -> list[StoredEvent]:
        """Events after the stream id ``after`` ('0-0' for all); with ``block`` wait up to that many seconds."""
        return await read_events(self.redis, self.keys.events(job_id), after, count=count, block=block)

    async def wait_finished(self, job_id: str, after: str, timeout: float) -> bool:
        """Wait until the job's stream shows its final status, at most ``timeout`` seconds; True if it did."""
        deadline = time.monotonic() + timeout
        cursor = after
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            events = await self.events(job_id, cursor, block=min(left, 10.0))
            for event in events:
                if event.terminal_status is not None:
                    return True
                cursor = event.id
            if not events:
                status = await self.status(job_id)
                if status is None or status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                    return status is not None

    # ------------------------------------------------------------------ sweeping

    async def stale_running(self, before: float, limit: int = 100) -> list[str]:
        ids = await self.redis.zrangebyscore(self.keys.running, "-inf", before, start=0, num=limit)
        return [str(i) for i in ids]

    async def long_queued(self, before: float, limit: int = 100) -> list[str]:
        ids = await self.redis.zrangebyscore(self.keys.queued, "-inf", before, start=0, num=limit)
        return [str(i) for i in ids]

    async def requeue(self, job_id: str, run: int, stale_before: float, reason: str) -> bool:
        k = self.keys
        done = await self._requeue(keys=[k.job(job_id), k.events(job_id), k.queued, k.running, k.stats],
                                   args=[job_id, run, stale_before, time.time(), self.settings.events_max, reason])
        return bool(done)

    async def mark_resent(self, job_id: str, sent_before: float) -> bool:
        k = self.keys
        return bool(await self._resend(keys=[k.job(job_id), k.queued], args=[job_id, sent_before, time.time()]))

    async def queue_depth(self) -> int:
        """Messages waiting in the broker's queue (kombu keeps a Redis list named after the queue)."""
        return int(await self.redis.llen(self.settings.queue))

    # ------------------------------------------------------------------ rate limits and counters

    async def hit_rate(self, owner: str, limit: int, window: int) -> float | None:
        """Count a request against ``limit`` per ``window`` seconds (a burst of ``limit``, then evenly spaced);
        None if it may go, else the seconds until one more may (for Retry-After)."""
        wait = await self._rate(keys=[self.keys.rate(owner)], args=[limit, window])
        return None if wait is None else float(wait)

    async def active_count(self, owner: str) -> int:
        return int(await self.redis.scard(self.keys.owner_active(owner)))

    async def counters(self) -> dict[str, float]:
        raw = text_map(await self.redis.hgetall(self.keys.stats))
        return {name: float(value) for name, value in raw.items()}

    async def job_counts(self) -> dict[str, int]:
        """Jobs waiting in the queue and running now."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self.keys.queued)
            pipe.zcard(self.keys.running)
            queued, running = await pipe.execute()
        return {"queued": int(queued), "running": int(running)}


def _job(raw: dict[str, str]) -> Job:
    result = raw.get("result")
    return Job(
        id=raw["id"],
        owner=raw.get("owner", ""),
        status=JobStatus(raw["status"]),
        spec=JobSpec.model_validate_json(raw["spec"]),
        batch_id=raw.get("batch") or None,
        created_at=float(raw.get("created", 0)),
        queued_at=_float(raw.get("queued_at")),
        started_at=_float(raw.get("started")),
        finished_at=_float(raw.get("finished")),
        heartbeat_at=_float(raw.get("heartbeat")),
        runs=int(raw.get("runs", 0)),
        worker=raw.get("worker") or None,
        reason=raw.get("reason") or None,
        cancel_requested=raw.get("cancel") == "1",
        result=JobResult.model_validate_json(result) if result else None,
    )
