"""Running one job: claim it, run the engine with its events going to the job's stream, keep a heartbeat that
also notices cancellation, stop it at its time limit, and record how it ended.

A job ends ``succeeded`` when the loop ran to its end (its verdict says whether the program is right),
``failed`` with a reason when it could not (LLM endpoint, sandbox, time limit, a bug), ``cancelled`` when asked.
Stopping a job cancels its coroutine (an LLM request in flight is dropped) and kills the sandbox container it
holds, so the work really stops and the pool gets a fresh container.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from selfdebug.datasets import Dataset
from selfdebug.evaluation import judged_counts
from selfdebug.events import Event
from selfdebug.judged import JudgedCounts
from selfdebug.loop import Debugger, Evaluator, HiddenVerdict
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord, StopReason
from workers.batches import after_job
from workers.errors import ModelNotAllowed, SandboxFault
from workers.metrics import TimedModel, record_job
from workers.models import Job, JobResult, JobStatus, JobVerdict
from workers.runtime import Runtime
from workers.sandboxing import CURRENT_JOB

__all__ = ["execute_job"]

log = logging.getLogger(__name__)

STOP_GRACE = 5.0  # seconds a stopped engine may take to unwind before its job is ended without it


@dataclass
class _Outcome:
    status: JobStatus | None  # None: this run lost the job to another; record nothing
    reason: str = ""
    result: JobResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def execute_job(rt: Runtime, job_id: str) -> str:
    """Run the job if this delivery can claim it; returns what happened, for the task's log."""
    run = await rt.store.claim(job_id, rt.worker_id)
    if not run:
        return "skipped: not queued (a duplicate delivery, or cancelled)"
    job = await rt.store.get(job_id)
    if job is None:
        return "skipped: the job's record is gone"
    rt.running.add(job_id)
    token = CURRENT_JOB.set(f"{job_id}#{run}")
    started = time.monotonic()
    try:
        outcome = await _supervise(rt, job, run)
    finally:
        CURRENT_JOB.reset(token)
        rt.running.discard(job_id)
    if outcome.status is None:
        return "abandoned: the job was given to another run"
    finished = await rt.store.finish(job_id, outcome.status, reason=outcome.reason, result=outcome.result, run=run,
                                     expect=JobStatus.RUNNING, extra=outcome.extra)
    if finished is not None:
        await after_job(rt.batches, finished, rt.send, holder=rt.worker_id)
    log.info("job %s run %d %s in %.2fs %s", job_id, run, outcome.status.value, time.monotonic() - started,
             outcome.reason)
    return outcome.status.value


async def _supervise(rt: Runtime, job: Job, run: int) -> _Outcome:
    engine = asyncio.create_task(_engine(rt, job, run))
    why: list[str] = []

    async def stop(reason: str) -> None:
        why.append(reason)
        # Containers first: the engine's thread blocked on a sandbox run wakes up at once, and the container
        # goes back to the pool as dirty (replaced by a fresh one). Then the coroutine (an LLM call, say).
        if rt.pool is not None:
            killed = await asyncio.to_thread(rt.pool.stop_job, f"{job.id}#{run}")
            log.info("job %s stopping (%s): killed %d sandbox container(s)", job.id, reason, killed)
        engine.cancel()

    async def watch() -> None:
        while not engine.done():
            try:
                state = await rt.store.heartbeat(job.id, run)
            except Exception as exc:  # Redis restarting: the engine goes on; the next beat will tell
                log.warning("heartbeat of job %s failed: %s", job.id, exc)
                state = "ok"
            if state != "ok":
                await stop(state)
                return
            await asyncio.sleep(rt.settings.heartbeat_interval)

    watcher = asyncio.create_task(watch())
    try:
        done, _ = await asyncio.wait({engine}, timeout=job.spec.time_limit)
        if not done:
            await stop("timeout")
        # A cancelled engine ends at its next await. One that does not within the grace is left to end on its
        # own, unwatched: the job ends now, held to its time limit whatever the engine's work is doing.
        done, _ = await asyncio.wait({engine}, timeout=STOP_GRACE)
        if not done:
            log.error("job %s: its engine did not stop within %gs of being told to (%s); ending the job without it",
                      job.id, STOP_GRACE, why[0] if why else "?")
            engine.add_done_callback(_ignore_outcome)
    finally:
        watcher.cancel()
        await asyncio.wait({watcher})
    return _outcome(job, engine, why[0] if why else None)


def _ignore_outcome(engine: asyncio.Task[JobResult]) -> None:
    if not engine.cancelled():
        engine.exception()  # read, so that an abandoned engine's error is not reported as never retrieved


def _outcome(job: Job, engine: asyncio.Task[JobResult], why: str | None) -> _Outcome:
    # Read the engine's error even when it no longer matters (a stopped run often ends with the sandbox error its
    # killed container caused): an unread task exception is logged as a bug.
    error = None if not engine.done() or engine.cancelled() else engine.exception()
    if why == "lost":
        return _Outcome(None)
    if why == "cancel":
        return _Outcome(JobStatus.CANCELLED, "cancelled by request")
    if why == "timeout":
        return _Outcome(JobStatus.FAILED, f"time limit of {job.spec.time_limit:g}s exceeded")
    if isinstance(error, SandboxFault | ModelNotAllowed):
        return _Outcome(JobStatus.FAILED, str(error))
    if error is not None:
        log.error("job %s crashed", job.id, exc_info=error)
        return _Outcome(JobStatus.FAILED, f"internal error: {type(error).__name__}: {error}")
    result = engine.result()
    record = result.record
    extra = {"verdict": result.verdict.model_dump(), "final_program": record.final_program}
    if record.stop_reason == StopReason.LLM_ERROR:
        return _Outcome(JobStatus.FAILED, f"the LLM endpoint failed: {record.error}", result, extra)
    return _Outcome(JobStatus.SUCCEEDED, "", result, extra)


async def _engine(rt: Runtime, job: Job, run: int) -> JobResult:
    spec = job.spec
    dataset = await rt.dataset(spec.ref.dataset) if spec.ref is not None else None
    problem = dataset[spec.ref.task_id] if dataset is not None and spec.ref is not None else spec.problem
    if problem is None:
        raise ValueError("the job names no problem")
    sandbox = await rt.sandbox()
    evaluator, source = await _evaluator(rt, problem, dataset)

    async def sink(event: Event) -> None:
        # Tagged with the run: a job run again after its worker died streams both runs' events, and a reader
        # tells the abandoned run's apart (the status event between them says why it runs again).
        await rt.store.append_event(job.id, event.kind.value, json.dumps({**event.model_dump(mode="json"), "run": run}))

    async with rt.model(spec.model) as chat:
        model = TimedModel(chat)
        started = time.monotonic()
        record = await Debugger(model, sandbox, spec.options, evaluator=evaluator).run(problem, on_event=sink)
    with contextlib.suppress(Exception):  # metrics must never fail a job
        await record_job(rt.redis, rt.keys.stats, model, time.monotonic() - started)
    return JobResult(record=record, verdict=_verdict(record, source))


async def _evaluator(rt: Runtime, problem: Problem, dataset: Dataset | None) -> tuple[Evaluator | None, str]:
    """Judge on the hidden tests if the problem has some, else on its visible tests, else not at all."""
    if problem.has_hidden_tests:
        judge = await rt.judge(dataset)

        async def hidden(problem: Problem, program: str) -> HiddenVerdict:
            result = await asyncio.to_thread(judge.evaluate_program, problem, program)
            if result.verdict.value == "sandbox_error":
                raise SandboxFault(f"the sandbox failed while judging: {result.message}")
            return HiddenVerdict(result.passed, result.verdict.value, judged_counts([result]))

        return hidden, "hidden_tests"
    if problem.given_tests:
        sandbox = await rt.sandbox()

        async def visible(problem: Problem, program: str) -> HiddenVerdict:
            result = await sandbox.run_tests(program, problem.given_tests)
            return HiddenVerdict(result.passed, result.verdict.value, JudgedCounts.of(result.tests))

        return visible, "visible_tests"
    return None, "none"


def _verdict(record: DebugRecord, source: str) -> JobVerdict:
    if source == "none" or not record.hidden_by_iteration:
        return JobVerdict(source="none")
    final = next((a.hidden_verdict for a in reversed(record.attempts) if a.program == record.final_program), None)
    passed = record.final_passed
    return JobVerdict(source="hidden_tests" if source == "hidden_tests" else "visible_tests", passed=passed,
                      verdict=final or ("passed" if passed else "failed"))
