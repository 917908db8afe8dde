"""Stored jobs and batches turned into what the API shows."""

from __future__ import annotations

from api.schemas import (
    BatchLinks,
    BatchSummary,
    BatchView,
    ExecutionResult,
    JobLinks,
    JobSummary,
    JobTiming,
    JobUsage,
    JobView,
    TestOutcome,
    timestamp,
)
from sandbox import RunResult
from selfdebug.report import StrategyReport
from workers.listing import Listed
from workers.models import Batch, Job

__all__ = ["batch_summary", "batch_view", "execution_result", "job_summary", "job_view"]

MAX_OUTPUT_SHOWN = 10_000  # characters of a test's stdout or stderr in an execution result


def _span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 6) if start is not None and end is not None else None


def job_view(job: Job) -> JobView:
    result = job.result
    record = result.record if result is not None else None
    spec = job.spec
    timing = JobTiming(queued=_span(job.created_at, job.started_at), run=_span(job.started_at, job.finished_at))
    usage = None
    if record is not None:
        timing.engine, timing.llm, timing.sandbox = record.seconds, record.llm_seconds, record.sandbox_seconds
        usage = JobUsage(prompt_tokens=record.usage.prompt_tokens, completion_tokens=record.usage.completion_tokens,
                         calls=record.usage.calls)
    return JobView(
        id=job.id, status=job.status, task_id=spec.task_id, created_at=timestamp(job.created_at) or job.created_at,
        started_at=timestamp(job.started_at), finished_at=timestamp(job.finished_at), runs=job.runs,
        reason=job.reason, cancel_requested=job.cancel_requested, batch_id=job.batch_id,
        dataset=spec.ref.dataset if spec.ref is not None else None, problem=spec.problem, options=spec.options,
        model=spec.model, time_limit=spec.time_limit,
        final_program=record.final_program if record is not None else None,
        verdict=result.verdict if result is not None else None, usage=usage, timing=timing, record=record,
        links=_job_links(job),
    )


def _job_links(job: Job) -> JobLinks:
    return JobLinks(job=f"/v1/jobs/{job.id}", events=f"/v1/jobs/{job.id}/events")


def job_summary(listed: Listed) -> JobSummary:
    job = listed.job
    return JobSummary(
        id=job.id, status=job.status, task_id=job.spec.task_id, created_at=timestamp(job.created_at) or job.created_at,
        started_at=timestamp(job.started_at), finished_at=timestamp(job.finished_at), reason=job.reason,
        cancel_requested=job.cancel_requested, batch_id=job.batch_id, options=job.spec.options, model=job.spec.model,
        verdict=listed.verdict, links=_job_links(job),
    )


def batch_view(batch: Batch, counts: dict[str, int]) -> BatchView:
    return BatchView(
        id=batch.id, status=batch.status, source=batch.spec.source, total=batch.total, done=batch.done,
        jobs=counts, concurrency=batch.spec.concurrency, options=batch.spec.options, model=batch.spec.model,
        created_at=timestamp(batch.created_at) or batch.created_at, finished_at=timestamp(batch.finished_at),
        cancel_requested=batch.cancel_requested,
        report=StrategyReport.model_validate(batch.report) if batch.report else None,
        report_markdown=batch.report_markdown, links=_batch_links(batch),
    )


def _batch_links(batch: Batch) -> BatchLinks:
    return BatchLinks(batch=f"/v1/batches/{batch.id}", results=f"/v1/batches/{batch.id}/results",
                      events=f"/v1/batches/{batch.id}/events")


def batch_summary(batch: Batch) -> BatchSummary:
    return BatchSummary(
        id=batch.id, status=batch.status, source=batch.spec.source, total=batch.total, done=batch.done,
        concurrency=batch.spec.concurrency, options=batch.spec.options, model=batch.spec.model,
        created_at=timestamp(batch.created_at) or batch.created_at, finished_at=timestamp(batch.finished_at),
        cancel_requested=batch.cancel_requested, links=_batch_links(batch),
    )


def _cut(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_SHOWN else text[:MAX_OUTPUT_SHOWN] + "\n[... cut]"


def execution_result(run: RunResult) -> ExecutionResult:
    tests = [TestOutcome(name=t.name, verdict=t.verdict, duration=t.duration, message=t.message,
                         assertion=t.assertion, input=t.input, expected=t.expected, actual=t.actual,
                         exception=t.exception, stdout=_cut(t.stdout), stderr=_cut(t.stderr), judged=t.judged)
             for t in run.tests]
    return ExecutionResult(verdict=run.verdict, passed=run.passed, passed_count=run.pass_count, total=len(run.tests),
                           duration=run.duration, message=run.message, tests=tests)
