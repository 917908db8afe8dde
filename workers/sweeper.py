"""The sweeper: nothing stays ``running`` after its worker died, nothing stays ``queued`` after its message was
lost, and no batch stalls. Every worker process and every API process sweeps now and then; the Lua scripts make
sweeps by several processes at once harmless.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from workers.batch_store import BatchStore
from workers.batches import Send, after_job, finalize
from workers.models import JobStatus
from workers.settings import ServiceSettings
from workers.store import JobStore

__all__ = ["SweepReport", "sweep"]

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    requeued: int = 0
    failed: int = 0
    resent: int = 0
    batches_advanced: int = 0


async def sweep(store: JobStore, batches: BatchStore, settings: ServiceSettings, send: Send, *,
                holder: str) -> SweepReport:
    report = SweepReport()
    await _lost_workers(store, batches, settings, send, holder=holder, report=report)
    await _lost_messages(store, settings, send, report)
    for batch_id in await batches.active():
        ids = await batches.advance(batch_id)
        for job_id in ids:
            await send(job_id)
        report.batches_advanced += bool(ids)
        await finalize(batches, batch_id, holder=holder)
    return report


async def _lost_workers(store: JobStore, batches: BatchStore, settings: ServiceSettings, send: Send, *, holder: str,
                        report: SweepReport) -> None:
    """Running jobs whose heartbeat stopped: run them again, or fail them after ``max_runs`` runs."""
    stale_before = time.time() - settings.stale_after
    for job_id in await store.stale_running(stale_before):
        job = await store.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            continue
        lost = f"its worker ({job.worker or 'unknown'}) stopped answering for {settings.stale_after:g}s"
        if job.cancel_requested or job.runs >= settings.max_runs:
            status = JobStatus.CANCELLED if job.cancel_requested else JobStatus.FAILED
            reason = f"{lost} during run {job.runs} of at most {settings.max_runs}"
            finished = await store.finish(job_id, status, reason=reason, run=job.runs, expect=JobStatus.RUNNING,
                                          stale_before=stale_before)
            if finished is not None:
                log.warning("job %s %s: %s", job_id, status.value, reason)
                report.failed += 1
                await after_job(batches, finished, send, holder=holder)
        elif await store.requeue(job_id, job.runs, stale_before, reason=f"{lost}; it runs again"):
            log.warning("job %s requeued: %s", job_id, lost)
            report.requeued += 1
            await send(job_id)


async def _lost_messages(store: JobStore, settings: ServiceSettings, send: Send, report: SweepReport) -> None:
    """Queued jobs still waiting long after the queue emptied lost their message (a crash between storing the
    job and sending it, or a broker restart that dropped it): send them again. A duplicate is harmless, since
    only one delivery can claim a queued job."""
    if await store.queue_depth() > 0:
        return
    sent_before = time.time() - settings.requeue_after
    for job_id in await store.long_queued(sent_before):
        if await store.mark_resent(job_id, sent_before):
            log.warning("job %s was queued for over %gs with an empty queue: sending it again", job_id,
                        settings.requeue_after)
            report.resent += 1
            await send(job_id)
