"""What the API takes and gives, with the examples its OpenAPI schema shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox import ExceptionInfo, Judged, Verdict
from selfdebug.datasets import DATASET_NAMES
from selfdebug.options import DebugOptions, Strategy
from selfdebug.problems import IOCase, Problem, ProblemKind
from selfdebug.record import DebugRecord
from selfdebug.report import StrategyReport
from workers.models import BatchStatus, JobStatus, JobVerdict

__all__ = [
    "ADD_PROBLEM",
    "BatchLinks",
    "BatchPage",
    "BatchParameters",
    "BatchRequest",
    "BatchSummary",
    "BatchView",
    "ExecutionRequest",
    "ExecutionResult",
    "Health",
    "JobLinks",
    "JobPage",
    "JobRequest",
    "JobSummary",
    "JobTiming",
    "JobUsage",
    "JobView",
    "ProblemIn",
    "Readiness",
    "ReadinessCheck",
    "StdioCaseIn",
    "TestOutcome",
    "timestamp",
]

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
TaskId = Annotated[str, Field(min_length=1, max_length=200)]
DatasetName = Literal["humaneval", "humanevalplus", "mbpp", "mbppplus"]
assert set(DatasetName.__args__) == set(DATASET_NAMES)  # type: ignore[attr-defined]

ADD_PROBLEM: dict[str, Any] = {
    "task_id": "demo/add",
    "prompt": 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
    "entry_point": "add",
    "given_tests": ["assert add(1, 2) == 3"],
    "tests": ["assert add(2, 2) == 4", "assert add(-1, 1) == 0"],
}


def timestamp(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


# ---------------------------------------------------------------- jobs


class ProblemIn(BaseModel):
    """A problem as a client sends it. ``tests``, ``test`` and ``io_tests`` are hidden: the model never sees them;
    they only judge the final program. ``given_tests`` are visible (the ``oracle`` strategy repairs on them)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ADD_PROBLEM]})

    task_id: TaskId = "problem"
    prompt: str = Field(min_length=1, pattern=r"\S", description="What the model is shown: a function stub with a "
                        "docstring, or a statement. At most SELFDEBUG_MAX_PROMPT_CHARS characters (50,000).")
    kind: ProblemKind = ProblemKind.FUNCTION
    entry_point: str | None = Field(None, max_length=100, pattern=IDENTIFIER,
                                    description="The function to write; required for function problems.")
    given_tests: list[str] = Field(default_factory=list, description="Visible asserts: at most "
                                   "SELFDEBUG_MAX_GIVEN_TESTS (50), each of SELFDEBUG_MAX_TEST_CHARS (20,000).")
    tests: list[str] = Field(default_factory=list, description="Hidden asserts: at most SELFDEBUG_MAX_TESTS (200), "
                             "each of SELFDEBUG_MAX_TEST_CHARS.")
    test: str | None = Field(None, description="Hidden check(candidate) function: at most SELFDEBUG_MAX_CODE_CHARS "
                             "characters (100,000).")
    test_setup: str = Field("", description="Code the hidden asserts need first: at most SELFDEBUG_MAX_TEST_CHARS.")
    io_tests: list[IOCase] = Field(default_factory=list, description="Hidden stdin/stdout tests: at most "
                                   "SELFDEBUG_MAX_IO_TESTS (200), each part of SELFDEBUG_MAX_IO_CHARS (100,000).")

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind is ProblemKind.FUNCTION and not self.entry_point:
            raise ValueError("a function problem needs an entry_point")
        return self

    def to_problem(self) -> Problem:
        return Problem.model_validate(self.model_dump())


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"problem": ADD_PROBLEM, "options": {"strategy": "post_execution", "feedback": "detail", "max_iterations": 2}},
    ]})

    problem: ProblemIn
    options: DebugOptions = Field(default_factory=DebugOptions, description="Strategy, feedback, guard, budgets.")
    model: str | None = Field(None, min_length=1, max_length=200, description="Model name; default: the "
                              "configured one.")
    time_limit: float | None = Field(None, gt=0, le=86_400, description="Seconds the job may run; default and "
                                     "maximum are settings.")

    @model_validator(mode="after")
    def _strategy_fits_problem(self) -> Self:
        if self.options.strategy is Strategy.IN_EXECUTION and self.problem.kind is ProblemKind.STDIO:
            raise ValueError("in_execution traces a function: it cannot run on a stdio problem")
        return self


class JobLinks(BaseModel):
    job: str
    events: str


class JobUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    calls: int


class JobTiming(BaseModel):
    """Seconds: waiting in the queue, the whole run, and the engine's own split of it."""

    queued: float | None = None
    run: float | None = None
    engine: float | None = None
    llm: float | None = None
    sandbox: float | None = None


class JobView(BaseModel):
    """A job: its status, and once it ended its final program, verdict and the full record of every attempt."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "status": "succeeded", "task_id": "demo/add",
        "created_at": "2025-01-01T12:00:00Z", "started_at": "2025-01-01T12:00:00.050000Z",
        "finished_at": "2025-01-01T12:00:02Z", "runs": 1, "options": {"strategy": "post_execution"},
        "final_program": "def add(a: int, b: int) -> int:\n    return a + b\n",
        "verdict": {"source": "hidden_tests", "passed": True, "verdict": "passed"},
        "usage": {"prompt_tokens": 412, "completion_tokens": 96, "calls": 3},
        "links": {"job": "/v1/jobs/3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b",
                  "events": "/v1/jobs/3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b/events"},
    }]})

    id: str
    status: JobStatus
    task_id: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    runs: int = Field(0, description="Times the job started (more than 1 after a worker was lost).")
    reason: str | None = Field(None, description="Why it failed or was cancelled.")
    cancel_requested: bool = False
    batch_id: str | None = None
    dataset: str | None = None
    problem: Problem | None = None
    options: DebugOptions
    model: str | None = None
    time_limit: float | None = None
    final_program: str | None = None
    verdict: JobVerdict | None = None
    usage: JobUsage | None = None
    timing: JobTiming | None = None
    record: DebugRecord | None = Field(None, description="Every attempt: program, self-tests, execution results, "
                                                         "traces, feedback.")
    links: JobLinks


class JobSummary(BaseModel):
    """A job as ``GET /v1/jobs`` lists it: its status and outcome, without its problem or record (``GET
    /v1/jobs/{id}`` has them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "status": "succeeded", "task_id": "demo/add",
        "created_at": "2025-01-01T12:00:00Z", "finished_at": "2025-01-01T12:00:02Z",
        "options": {"strategy": "post_execution"}, "verdict": {"source": "hidden_tests", "passed": True,
                                                               "verdict": "passed"},
        "links": {"job": "/v1/jobs/3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b",
                  "events": "/v1/jobs/3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b/events"},
    }]})

    id: str
    status: JobStatus
    task_id: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    cancel_requested: bool = False
    batch_id: str | None = None
    options: DebugOptions
    model: str | None = None
    verdict: JobVerdict | None = None
    links: JobLinks


class JobPage(BaseModel):
    """One page of the caller's jobs, newest first."""

    items: list[JobSummary]
    next_cursor: str | None = Field(None, description="Pass it as ?cursor= for the next page; null: no more.")


# ---------------------------------------------------------------- batches


class BatchParameters(BaseModel):
    """How a batch runs, whatever its problems come from: the ``options`` part of ``POST /v1/batches/upload``,
    and every field of ``BatchRequest`` but its source."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"limit": 10, "options": {"strategy": "in_execution"}, "concurrency": 2},
    ]})

    task_ids: list[TaskId] | None = Field(None, min_length=1, max_length=5000, description="Only these problems.")
    limit: int | None = Field(None, ge=1, description="Only the first N problems.")
    options: DebugOptions = Field(default_factory=DebugOptions)
    model: str | None = Field(None, min_length=1, max_length=200)
    concurrency: int | None = Field(None, ge=1, le=64, description="Jobs in flight at once; default a setting.")
    time_limit: float | None = Field(None, gt=0, le=86_400, description="Seconds each job may run.")


class BatchRequest(BatchParameters):
    """Exactly one source: a dataset by name, problems inline, or the text of a JSONL file (any format
    ``selfdebug.datasets`` reads)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"dataset": "humaneval", "limit": 10, "options": {"strategy": "in_execution"}, "concurrency": 2},
        {"problems": [ADD_PROBLEM], "options": {"strategy": "post_execution", "feedback": "label"}},
    ]})

    dataset: DatasetName | None = None
    problems: list[ProblemIn] | None = Field(None, min_length=1, description="At most SELFDEBUG_MAX_BATCH_PROBLEMS "
                                             "run; each within the limits of a job's problem.")
    jsonl: str | None = Field(None, min_length=1, description="A JSONL file's content; each problem within the "
                              "limits of a job's problem.")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [s for s in (self.dataset, self.problems, self.jsonl) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of dataset, problems or jsonl")
        return self


class BatchLinks(BaseModel):
    batch: str
    results: str
    events: str


class BatchView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "status": "running", "source": "humaneval", "total": 10,
        "done": 4, "jobs": {"queued": 4, "running": 2, "succeeded": 4, "failed": 0, "cancelled": 0},
        "concurrency": 2, "options": {"strategy": "in_execution"}, "created_at": "2025-01-01T12:00:00Z",
        "links": {"batch": "/v1/batches/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
                  "results": "/v1/batches/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e/results",
                  "events": "/v1/batches/9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e/events"},
    }]})

    id: str
    status: BatchStatus
    source: str
    total: int
    done: int
    jobs: dict[str, int] = Field(description="Jobs by status.")
    concurrency: int
    options: DebugOptions
    model: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    cancel_requested: bool = False
    report: StrategyReport | None = Field(None, description="pass@1 by iteration, the bias table, tokens, time.")
    report_markdown: str | None = None
    links: BatchLinks


class BatchSummary(BaseModel):
    """A batch as ``GET /v1/batches`` lists it: its progress, without per-status counts or report (``GET
    /v1/batches/{id}`` has them)."""

    id: str
    status: BatchStatus
    source: str
    total: int
    done: int
    concurrency: int
    options: DebugOptions
    model: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    cancel_requested: bool = False
    links: BatchLinks


class BatchPage(BaseModel):
    """One page of the caller's batches, newest first."""

    items: list[BatchSummary]
    next_cursor: str | None = Field(None, description="Pass it as ?cursor= for the next page; null: no more.")


# ---------------------------------------------------------------- executions


class StdioCaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stdin: str = Field("", description="At most SELFDEBUG_MAX_IO_CHARS characters (100,000).")
    expected: str | None = Field(None, description="At most SELFDEBUG_MAX_IO_CHARS characters.")


class ExecutionRequest(BaseModel):
    """Code and exactly one kind of test: asserts, a check(candidate) function (with entry_point), or stdio."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"code": "def add(a, b):\n    return a - b\n", "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]},
        {"code": "print(sum(map(int, input().split())))", "stdio": [{"stdin": "1 2", "expected": "3"}]},
    ]})

    code: str = Field(min_length=1, description="At most SELFDEBUG_MAX_CODE_CHARS characters (100,000).")
    tests: list[str] | None = Field(None, min_length=1, description="At most SELFDEBUG_MAX_EXECUTION_TESTS (100), "
                                    "each of SELFDEBUG_MAX_TEST_CHARS (20,000).")
    check: str | None = Field(None, min_length=1, description="At most SELFDEBUG_MAX_CODE_CHARS characters.")
    entry_point: str | None = Field(None, max_length=100, pattern=IDENTIFIER)
    stdio: list[StdioCaseIn] | None = Field(None, min_length=1, description="At most "
                                            "SELFDEBUG_MAX_EXECUTION_TESTS cases.")
    timeout: float | None = Field(None, gt=0, le=60, description="Seconds per test; at most a setting.")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [k for k in (self.tests, self.check, self.stdio) if k is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of tests, check or stdio")
        if self.check is not None and not self.entry_point:
            raise ValueError("check needs the entry_point it is called with")
        return self


class TestOutcome(BaseModel):
    __test__ = False  # not a pytest class, despite the name

    name: str
    verdict: Verdict
    duration: float = 0.0
    message: str = ""
    assertion: str | None = None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None
    exception: ExceptionInfo | None = None
    stdout: str = ""
    stderr: str = ""
    judged: Judged | None = Field(None, description="'host': the code's outputs were compared outside the sandbox "
                                  "(asserts that call a function; stdio); 'in_process': the test ran beside the code.")


class ExecutionResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "verdict": "failed", "passed": False, "passed_count": 1, "total": 2, "duration": 0.08, "message": "",
        "tests": [{"name": "test_0", "verdict": "failed", "assertion": "assert add(1, 2) == 3", "input": "1, 2",
                   "expected": "3", "actual": "-1", "judged": "host"},
                  {"name": "test_1", "verdict": "passed", "judged": "host"}],
    }]})

    verdict: Verdict
    passed: bool
    passed_count: int
    total: int
    duration: float
    message: str = ""
    tests: list[TestOutcome]


# ---------------------------------------------------------------- health


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class ReadinessCheck(BaseModel):
    ok: bool
    detail: str = ""


class Readiness(BaseModel):
    """200 when every required check passes, else 503 with the same body. ``workers`` is informational."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ready", "checks": {
        "redis": {"ok": True, "detail": "PONG"}, "docker": {"ok": True, "detail": "28.2.2"},
        "sandbox_image": {"ok": True, "detail": "selfdebug-sandbox:1f2e3d4c5b6a7980"},
        "llm": {"ok": True, "detail": "http://127.0.0.1:8080/v1 answers"},
        "workers": {"ok": True, "detail": "2 live"}}}]})

    status: Literal["ready", "not_ready"]
    checks: dict[str, ReadinessCheck]
