"""What happens when a batch's job ends: send the next ones, and once all have ended, write the report (pass@1
first and final, per iteration, the bias table) with the engine's own ``summarize``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from selfdebug.record import DebugRecord
from selfdebug.report import render_markdown, summarize
from workers.batch_store import BatchStore
from workers.models import BatchStatus, Job, JobStatus
from workers.store import Finished

__all__ = ["after_job", "finalize", "record_of"]

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]


def record_of(job: Job) -> DebugRecord:
    """The job's engine record; a job that never produced one gets a record saying why (as ``run_batch`` does)."""
    if job.result is not None:
        return job.result.record
    options = job.spec.options
    return DebugRecord(task_id=job.spec.task_id, strategy=options.label, options=options.model_dump(mode="json"),
                       stop_reason=job.status.value,
                       error=job.reason or (None if job.status is JobStatus.SUCCEEDED else job.status.value))


async def after_job(batches: BatchStore, finished: Finished, send: Send, *, holder: str) -> None:
    """Keep a batch moving after one of its jobs ended."""
    if finished.batch_id is None:
        return
    for job_id in await batches.advance(finished.batch_id):
        await send(job_id)
    if finished.batch_complete:
        await finalize(batches, finished.batch_id, holder=holder)


async def finalize(batches: BatchStore, batch_id: str, *, holder: str) -> bool:
    """Write the batch's report if all its jobs ended and nobody else is writing it; True if written here."""
    batch = await batches.get(batch_id)
    if batch is None or batch.status is not BatchStatus.RUNNING or batch.done < batch.total:
        return False
    if not await batches.lock_report(batch_id, holder):
        return False
    jobs = await batches.jobs(batch_id)
    records = [record_of(job) for job in jobs]
    report = summarize(batch.spec.options.label, records)
    markdown = render_markdown([report], title=f"Batch {batch_id} ({batch.spec.source})")
    await batches.save_report(batch, report.model_dump(mode="json"), markdown)
    log.info("batch %s finished: %d jobs", batch_id, len(jobs))
    return True
