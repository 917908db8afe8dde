"""What the service stores about jobs and batches, shared by the API (which shows it) and the workers (which
write it)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord

__all__ = [
    "TERMINAL",
    "Batch",
    "BatchSpec",
    "BatchStatus",
    "Job",
    "JobResult",
    "JobSpec",
    "JobStatus",
    "JobVerdict",
    "ProblemRef",
    "StoredEvent",
]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the loop ran to its end (the program may still be wrong: see the verdict)
    FAILED = "failed"  # the loop could not finish: LLM endpoint, sandbox, time limit or a lost worker
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class BatchStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every job ended (some may have failed) and the report is written
    CANCELLED = "cancelled"


class ProblemRef(BaseModel):
    """A problem named by dataset and task id; the worker loads it (datasets can be large)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    task_id: str


class JobSpec(BaseModel):
    """What to run: one problem (inline or by reference), the loop's options, the model and a time limit."""

    model_config = ConfigDict(extra="forbid")

    problem: Problem | None = None
    ref: ProblemRef | None = None
    options: DebugOptions = Field(default_factory=DebugOptions)
    model: str | None = None
    time_limit: float = Field(gt=0)

    @property
    def task_id(self) -> str:
        if self.problem is not None:
            return self.problem.task_id
        return self.ref.task_id if self.ref is not None else ""


class JobVerdict(BaseModel):
    """How the final program fared: on the problem's hidden tests, else on its visible tests, else unknown."""

    source: Literal["hidden_tests", "visible_tests", "none"]
    passed: bool | None = None
    verdict: str | None = None


class JobResult(BaseModel):
    record: DebugRecord
    verdict: JobVerdict


class Job(BaseModel):
    """A job as stored. Times are Unix seconds."""

    id: str
    owner: str
    status: JobStatus
    spec: JobSpec
    batch_id: str | None = None
    created_at: float
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    runs: int = 0
    worker: str | None = None
    reason: str | None = None
    cancel_requested: bool = False
    result: JobResult | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class BatchSpec(BaseModel):
    """A batch: its options for every job, how many jobs run at once, and where its problems came from."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="The dataset name, or 'inline'.")
    options: DebugOptions = Field(default_factory=DebugOptions)
    model: str | None = None
    concurrency: int = Field(ge=1)
    time_limit: float = Field(gt=0)


class Batch(BaseModel):
    id: str
    owner: str
    status: BatchStatus
    spec: BatchSpec
    total: int
    done: int = 0
    inflight: int = 0
    created_at: float
    finished_at: float | None = None
    cancel_requested: bool = False
    report: dict[str, Any] | None = None
    report_markdown: str | None = None


class StoredEvent(BaseModel):
    """One entry of a job's event stream: its stream id (the SSE id), kind and JSON payload."""

    id: str
    kind: str
    data: str

    @property
    def terminal_status(self) -> JobStatus | None:
        """The job's final status, when this is the event that ends the stream."""
        if self.kind != "status":
            return None
        try:
            status = JobStatus(json.loads(self.data).get("status"))
        except (ValueError, AttributeError):
            return None
        return status if status in TERMINAL else None
