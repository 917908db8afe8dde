"""Batches in Redis: a batch is a list of ordinary jobs sent to the queue a few at a time.

At most ``concurrency`` of a batch's jobs are in the queue or running; when one ends, ADVANCE sends the next.
When all have ended, one process writes the report (under a short lock) and the batch is done. A sweeper
re-runs ADVANCE and the report for any batch whose chain was broken (a worker died between two steps).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import redis.asyncio

from workers.batch_events import final_event
from workers.errors import CapReached
from workers.keys import Keys
from workers.models import Batch, BatchSpec, BatchStatus, Job, JobSpec, JobStatus
from workers.quota import StorageQuota
from workers.replies import text, text_map
from workers.scripts import ADVANCE, CREATE_BATCH, REMOVE_BATCH
from workers.settings import ServiceSettings
from workers.store import JobStore, new_id, quota_reached

__all__ = ["BatchStore"]

LOCK_SECONDS = 120  # a report writer that dies frees the batch for another after this long


class BatchStore:
    def __init__(self, client: redis.asyncio.Redis, settings: ServiceSettings, jobs: JobStore) -> None:
        self.redis = client
        self.settings = settings
        self.job_store = jobs
        self.keys = Keys(settings.key_prefix)
        self._advance = client.register_script(ADVANCE)
        self._create = client.register_script(CREATE_BATCH)
        self._remove = client.register_script(REMOVE_BATCH)

    async def create(self, owner: str, spec: BatchSpec, job_specs: Sequence[JobSpec], *, cap: int = 0,
                     quota: StorageQuota | None = None) -> tuple[str, list[str]]:
        """Store a batch and its jobs (in one script: all or nothing); returns the batch id and the job ids to send
        to the queue now. Raises ``CapReached`` (too many running), ``QuotaReached`` (the owner stores its most
        jobs, bytes or batches)."""
        k = self.keys
        quota = quota or StorageQuota()
        batch_id = new_id()
        jobs: list[str] = []
        for job_spec in job_specs:
            jobs += [new_id(), job_spec.model_dump_json()]
        what, value = await self._create(
            keys=[k.batch(batch_id), k.batch_jobs(batch_id), k.batch_pending(batch_id), k.batches_active,
                  k.owner_batches(owner), k.stats],
            args=[batch_id, owner, spec.model_dump_json(), time.time(), spec.concurrency, cap, quota.jobs,
                  quota.bytes, quota.batches, k.prefix, *jobs],
        )
        if what == "cap":
            raise CapReached(f"this key already has {cap} batches running; wait for one to finish")
        if what != "ok":
            raise quota_reached(text(what), value, quota, self.settings.retention)
        return batch_id, await self.advance(batch_id)

    async def remove(self, batch_id: str) -> str:
        """Remove a batch that is no longer running, with its jobs: 'removed', 'missing' or 'active'."""
        k = self.keys
        return text(await self._remove(keys=[k.batch(batch_id), k.batch_jobs(batch_id), k.batch_pending(batch_id),
                                             k.batch_lock(batch_id)], args=[batch_id, k.prefix]))

    async def advance(self, batch_id: str) -> list[str]:
        """Move pending jobs into the queue up to the batch's concurrency; returns the ids to send."""
        k = self.keys
        ids = await self._advance(keys=[k.batch(batch_id), k.batch_pending(batch_id), k.queued],
                                  args=[time.time(), self.settings.key_prefix])
        return [str(i) for i in ids]

    async def get(self, batch_id: str) -> Batch | None:
        raw = text_map(await self.redis.hgetall(self.keys.batch(batch_id)))
        if not raw.get("spec"):
            return None
        report = raw.get("report")
        return Batch(
            id=raw["id"], owner=raw.get("owner", ""), status=BatchStatus(raw["status"]),
            spec=BatchSpec.model_validate_json(raw["spec"]), total=int(raw.get("total", 0)),
            done=int(raw.get("done", 0)), inflight=int(raw.get("inflight", 0)),
            created_at=float(raw.get("created", 0)),
            finished_at=float(raw["finished"]) if raw.get("finished") else None,
            cancel_requested=raw.get("cancel") == "1",
            report=json.loads(report) if report else None, report_markdown=raw.get("report_md") or None,
        )

    async def job_ids(self, batch_id: str) -> list[str]:
        ids = await self.redis.lrange(self.keys.batch_jobs(batch_id), 0, -1)
        return [text(i) for i in ids]

    async def status_counts(self, batch_id: str) -> dict[str, int]:
        ids = await self.job_ids(batch_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hget(self.keys.job(job_id), "status")
            statuses = await pipe.execute()
        counts = Counter(text(s) for s in statuses if s)
        return {status.value: counts.get(status.value, 0) for status in JobStatus}

    async def jobs(self, batch_id: str, ids: Sequence[str] | None = None) -> list[Job]:
        """The batch's jobs in problem order (those whose record expired are left out)."""
        ids = list(ids) if ids is not None else await self.job_ids(batch_id)
        found = []
        for job_id in ids:
            job = await self.job_store.get(job_id)
            if job is not None:
                found.append(job)
        return found

    async def request_cancel(self, batch_id: str) -> None:
        """Stop sending the batch's jobs and cancel those queued or running; the report still gets written."""
        k = self.keys
        await self.redis.hset(k.batch(batch_id), "cancel", "1")
        for job_id in await self.job_ids(batch_id):
            status = await self.job_store.status(job_id)
            if status in (JobStatus.QUEUED, JobStatus.RUNNING):
                await self.job_store.request_cancel(job_id)

    async def active(self) -> list[str]:
        ids = await self.redis.smembers(self.keys.batches_active)
        return sorted(text(i) for i in ids)

    async def lock_report(self, batch_id: str, holder: str) -> bool:
        return bool(await self.redis.set(self.keys.batch_lock(batch_id), holder, nx=True, ex=LOCK_SECONDS))

    async def save_report(self, batch: Batch, report: dict[str, Any], markdown: str) -> None:
        k = self.keys
        status = BatchStatus.CANCELLED if batch.cancel_requested else BatchStatus.SUCCEEDED
        retention = int(self.settings.retention)
        now = time.time()
        counts = await self.status_counts(batch.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.batch(batch.id), mapping={"status": status.value, "report": json.dumps(report),
                                                  "report_md": markdown, "finished": now})
            pipe.xadd(k.batch_events(batch.id), {"kind": "status", "data": final_event(
                status.value, batch.done, batch.total, counts, report)})
            # The owner's quota counts the batch until its record expires.
            pipe.zadd(k.owner_stored_batches(batch.owner), {batch.id: now + retention}, xx=True)
            pipe.srem(k.batches_active, batch.id)
            pipe.srem(k.owner_batches(batch.owner), batch.id)
            pipe.hincrby(k.stats, f"batches_{status.value}", 1)
            for key in (k.batch(batch.id), k.batch_jobs(batch.id), k.batch_pending(batch.id), k.batch_events(batch.id)):
                pipe.expire(key, retention)
            pipe.delete(k.batch_lock(batch.id))
            await pipe.execute()
