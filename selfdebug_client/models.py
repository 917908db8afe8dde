"""What the service takes and gives, as typed models of the client's own: they mirror the API's schemas
(``api/schemas.py``; ``tests/test_client_models.py`` holds the two together) without importing the service.

Every model keeps the fields a newer service adds (``model_extra``), so an older client reads a newer service.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "TERMINAL_JOB_STATUSES",
    "Batch",
    "BatchEvent",
    "BatchLinks",
    "BatchStatus",
    "BatchSummary",
    "ExceptionInfo",
    "ExecutionResult",
    "Feedback",
    "IOCase",
    "Job",
    "JobEvent",
    "JobLinks",
    "JobStatus",
    "JobSummary",
    "JobTiming",
    "JobUsage",
    "JobVerdict",
    "JudgedCounts",
    "Options",
    "Page",
    "Problem",
    "ProblemKind",
    "Readiness",
    "ReadinessCheck",
    "Record",
    "Report",
    "Result",
    "StdioCase",
    "Strategy",
    "TestOutcome",
]

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------- what a job runs


class Strategy(StrEnum):
    """``none``: the first program as is; ``post_execution``: repair from failed self-tests; ``in_execution``:
    repair from traced blocks (no expected outputs shown); ``oracle``: post-execution on the visible tests."""

    NONE = "none"
    POST_EXECUTION = "post_execution"
    IN_EXECUTION = "in_execution"
    ORACLE = "oracle"


class Feedback(StrEnum):
    LABEL = "label"
    DETAIL = "detail"


class ProblemKind(StrEnum):
    FUNCTION = "function"
    STDIO = "stdio"


class IOCase(_Model):
    stdin: str = ""
    stdout: str


class Problem(_Model):
    """A problem: what the model is shown (``prompt``), visible ``given_tests``, and hidden ``tests`` / ``test``
    (a ``check(candidate)`` function) / ``io_tests`` that only judge the final program."""

    task_id: str = "problem"
    prompt: str
    kind: ProblemKind = ProblemKind.FUNCTION
    entry_point: str | None = None
    given_tests: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    test: str | None = None
    test_setup: str = ""
    io_tests: list[IOCase] = Field(default_factory=list)


class Options(_Model):
    """How the loop runs. Only the fields set here are sent; the service's defaults fill the rest (the same as
    these)."""

    strategy: Strategy = Strategy.POST_EXECUTION
    feedback: Feedback = Feedback.DETAIL
    guard: bool = False
    max_iterations: int = 2
    num_tests: int = 10
    token_budget: int | None = None
    time_budget: float | None = None
    max_traces: int = 3
    trace_blocks: int = 10
    repr_limit: int = 100


# ---------------------------------------------------------------- jobs


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the loop ran to its end: the verdict says whether the program is right
    FAILED = "failed"  # the loop could not finish (LLM endpoint, sandbox, time limit, lost worker): see reason
    CANCELLED = "cancelled"


TERMINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobVerdict(_Model):
    """How the final program fared: on the hidden tests, else on the visible ones, else unknown (``none``)."""

    source: str
    passed: bool | None = None
    verdict: str | None = None


class JobUsage(_Model):
    prompt_tokens: int
    completion_tokens: int
    calls: int


class JobTiming(_Model):
    queued: float | None = None
    run: float | None = None
    engine: float | None = None
    llm: float | None = None
    sandbox: float | None = None


class JobLinks(_Model):
    job: str
    events: str


class JudgedCounts(_Model):
    """How tests were judged: ``host`` (the outputs compared outside the sandbox) or ``in_process``."""

    host_tests: int = 0
    in_process_tests: int = 0
    host_asserts: int = 0
    in_process_asserts: int = 0


class Record(_Model):
    """The engine's record of a run: every attempt (program, self-test results, traces, feedback) and the
    outcome. The attempts' inner detail is kept as the service sent it."""

    task_id: str
    strategy: str
    options: dict[str, Any] = Field(default_factory=dict)
    seeded: bool = False
    attempts: list[dict[str, Any]] = Field(default_factory=list)
    self_tests: dict[str, Any] = Field(default_factory=dict)
    program_by_iteration: list[str] = Field(default_factory=list)
    hidden_by_iteration: list[bool] = Field(default_factory=list)
    final_program: str = ""
    stop_reason: str = ""
    error: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0
    llm_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    eval_seconds: float = 0.0
    hidden_judged: JudgedCounts | None = None
    self_tests_judged: JudgedCounts | None = None


class Result(Record):
    """One line of a batch's results: the engine's record of one problem, with its job's id and status (a job
    that produced no record gets one saying why, in ``error``)."""

    job_id: str
    status: JobStatus
    reason: str | None = None


class JobSummary(_Model):
    """A job as ``GET /v1/jobs`` lists it: no problem, no record (``jobs.get`` has them)."""

    id: str
    status: JobStatus
    task_id: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    cancel_requested: bool = False
    batch_id: str | None = None
    options: Options = Field(default_factory=Options)
    model: str | None = None
    verdict: JobVerdict | None = None
    links: JobLinks

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES


class Job(JobSummary):
    """A job: its status and, once it ended, its final program, verdict and the record of every attempt."""

    runs: int = 0
    dataset: str | None = None
    problem: Problem | None = None
    time_limit: float | None = None
    final_program: str | None = None
    usage: JobUsage | None = None
    timing: JobTiming | None = None
    record: Record | None = None


class JobEvent(_Model):
    """One event of a job's stream: ``status`` (the job's own transitions; the last one carries ``reason``,
    ``verdict`` and ``final_program``) or an engine step (``program_generated``, ``tests_generated``,
    ``executed``, ``trace_recorded``, ``feedback_sent``, ``program_repaired``, ``guard``, ``evaluated``,
    ``finished``) with its ``iteration`` and ``data``. ``id`` resumes the stream after it."""

    id: str
    kind: str
    run: int | None = None
    iteration: int | None = None
    task_id: str | None = None
    at: float | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus | None = None
    reason: str | None = None
    verdict: JobVerdict | None = None
    final_program: str | None = None
    cancel_requested: bool | None = None

    @property
    def terminal(self) -> bool:
        """True for the event that ends the stream: the job's final status."""
        return self.kind == "status" and self.status in TERMINAL_JOB_STATUSES

    @classmethod
    def parse(cls, event_id: str, kind: str, data: str) -> JobEvent:
        return cls.model_validate({**_object(data), "id": event_id, "kind": kind})


# ---------------------------------------------------------------- batches


class BatchStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every job ended (some may have failed) and the report is written
    CANCELLED = "cancelled"


class Report(_Model):
    """A batch's figures: pass@1 by iteration (0: the first program), the bias table (``broken``: correct first
    programs made wrong; ``fixed``: wrong ones made right), tokens and time."""

    strategy: str
    problems: int
    evaluated: int
    pass_at_1: list[float]
    broken: int
    fixed: int
    changed: int
    errors: int
    mean_tokens: float
    mean_seconds: float
    self_tests_usable: float
    stop_reasons: dict[str, int] = Field(default_factory=dict)
    hidden_judged: JudgedCounts = Field(default_factory=JudgedCounts)
    self_tests_judged: JudgedCounts = Field(default_factory=JudgedCounts)


class BatchLinks(_Model):
    batch: str
    results: str
    events: str | None = None


class BatchSummary(_Model):
    """A batch as ``GET /v1/batches`` lists it: no per-status counts, no report (``batches.get`` has them)."""

    id: str
    status: BatchStatus
    source: str
    total: int
    done: int
    concurrency: int
    options: Options = Field(default_factory=Options)
    model: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    cancel_requested: bool = False
    links: BatchLinks

    @property
    def terminal(self) -> bool:
        return self.status is not BatchStatus.RUNNING


class Batch(BatchSummary):
    jobs: dict[str, int] = Field(default_factory=dict, description="Jobs by status.")
    report: Report | None = None
    report_markdown: str | None = None


class BatchEvent(_Model):
    """One event of a batch's stream: ``status`` (the batch's own: ``running`` when created, then
    ``succeeded`` or ``cancelled`` with its ``report``) or ``job`` (one of its jobs started, ended, or runs again:
    ``job_id``, ``task_id``, the job's ``status``, and for an ended one ``reason`` and ``verdict``). Every event
    carries the batch's ``done`` and ``total`` at that moment."""

    id: str
    kind: str
    status: str | None = None
    job_id: str | None = None
    task_id: str | None = None
    done: int | None = None
    total: int | None = None
    reason: str | None = None
    verdict: JobVerdict | None = None
    jobs: dict[str, int] | None = None
    report: Report | None = None
    at: float | None = None

    @property
    def terminal(self) -> bool:
        """True for the event that ends the stream: the batch's final status."""
        return self.kind == "status" and self.status in (BatchStatus.SUCCEEDED, BatchStatus.CANCELLED)

    @classmethod
    def parse(cls, event_id: str, kind: str, data: str) -> BatchEvent:
        return cls.model_validate({**_object(data), "id": event_id, "kind": kind})


class Page(_Model, Generic[T]):
    """One page of a listing, newest first; pass ``next_cursor`` back for the next (None: this was the last)."""

    items: list[T]
    next_cursor: str | None = None


# ---------------------------------------------------------------- executions


class StdioCase(_Model):
    stdin: str = ""
    expected: str | None = None


class ExceptionInfo(_Model):
    type: str
    message: str = ""
    traceback: list[str] = Field(default_factory=list)


class TestOutcome(_Model):
    __test__ = False  # not a pytest class, despite the name

    name: str
    verdict: str
    duration: float = 0.0
    message: str = ""
    assertion: str | None = None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None
    exception: ExceptionInfo | None = None
    stdout: str = ""
    stderr: str = ""
    judged: str | None = None


class ExecutionResult(_Model):
    """Per-test verdicts (``passed``, ``failed``, ``error``, ``timeout``, ``memory``, ``output_limit``,
    ``sandbox_error``): data, never an exception."""

    verdict: str
    passed: bool
    passed_count: int
    total: int
    duration: float
    message: str = ""
    tests: list[TestOutcome]


# ---------------------------------------------------------------- health


class ReadinessCheck(_Model):
    ok: bool
    detail: str = ""


class Readiness(_Model):
    status: str
    checks: dict[str, ReadinessCheck] = Field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.status == "ready"


def _object(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        return {"raw": data}
    return value if isinstance(value, dict) else {"value": value}
