"""What both clients send and how they read it: request bodies and parameters from the caller's arguments, and
ids from what the caller holds. No I/O here, so ``Client`` and ``AsyncClient`` cannot drift apart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from selfdebug_client.errors import StreamError
from selfdebug_client.models import (
    BatchStatus,
    BatchSummary,
    JobStatus,
    JobSummary,
    Options,
    Problem,
    StdioCase,
)

__all__ = [
    "BatchRef",
    "JobRef",
    "OptionsLike",
    "ProblemLike",
    "Resume",
    "batch_body",
    "batch_id",
    "dumps",
    "execution_body",
    "job_body",
    "job_id",
    "list_params",
    "upload_parameters",
]

JobRef = str | JobSummary
BatchRef = str | BatchSummary
ProblemLike = Problem | Mapping[str, Any]
OptionsLike = Options | Mapping[str, Any] | None
_ID = re.compile(r"^[0-9a-f]{32}$")
RECONNECT_BASE = 0.25  # seconds before the first reconnect of a broken stream; doubled each time
RECONNECT_MAX = 5.0


def _id(ref: str | JobSummary | BatchSummary, what: str) -> str:
    value = ref if isinstance(ref, str) else ref.id
    if not _ID.match(value):  # it goes into a URL path
        raise ValueError(f"{value!r} is not a {what} id (32 hexadecimal digits)")
    return value


def job_id(ref: JobRef) -> str:
    return _id(ref, "job")


def batch_id(ref: BatchRef) -> str:
    return _id(ref, "batch")


def _problem(problem: ProblemLike) -> dict[str, Any]:
    if isinstance(problem, Problem):
        return problem.model_dump(mode="json", exclude_unset=True)
    return dict(problem)


def _options(options: OptionsLike) -> dict[str, Any] | None:
    if options is None:
        return None
    if isinstance(options, Options):
        return options.model_dump(mode="json", exclude_unset=True)
    return dict(options)


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def job_body(problem: ProblemLike, options: OptionsLike, model: str | None, time_limit: float | None
             ) -> dict[str, Any]:
    return _drop_none({"problem": _problem(problem), "options": _options(options), "model": model,
                       "time_limit": time_limit})


def upload_parameters(*, task_ids: Sequence[str] | None, limit: int | None, options: OptionsLike,
                      model: str | None, concurrency: int | None, time_limit: float | None) -> dict[str, Any]:
    """How a batch runs, whatever its problems come from (the ``options`` part of an upload)."""
    return _drop_none({"task_ids": list(task_ids) if task_ids is not None else None, "limit": limit,
                       "options": _options(options), "model": model, "concurrency": concurrency,
                       "time_limit": time_limit})


def batch_body(*, dataset: str | None, problems: Iterable[ProblemLike] | None, jsonl: str | None,
               parameters: dict[str, Any]) -> dict[str, Any]:
    sources = [s for s in (dataset, problems, jsonl) if s is not None]
    if len(sources) != 1:
        raise ValueError("give exactly one of dataset, problems or jsonl (or upload a file)")
    return _drop_none({"dataset": dataset, "jsonl": jsonl,
                       "problems": [_problem(p) for p in problems] if problems is not None else None,
                       **parameters})


def execution_body(code: str, *, tests: Sequence[str] | None, check: str | None, entry_point: str | None,
                   stdio: Sequence[StdioCase | Mapping[str, Any]] | None, timeout: float | None) -> dict[str, Any]:
    if sum(kind is not None for kind in (tests, check, stdio)) != 1:
        raise ValueError("give exactly one of tests, check or stdio")
    cases = None
    if stdio is not None:
        cases = [c.model_dump(mode="json", exclude_unset=True) if isinstance(c, StdioCase) else dict(c)
                 for c in stdio]
    return _drop_none({"code": code, "tests": list(tests) if tests is not None else None, "check": check,
                       "entry_point": entry_point, "stdio": cases, "timeout": timeout})


def list_params(*, status: JobStatus | BatchStatus | str | None, batch: BatchRef | None, limit: int | None,
                cursor: str | None) -> dict[str, Any]:
    return _drop_none({"status": str(status) if status is not None else None,
                       "batch": batch_id(batch) if batch is not None else None, "limit": limit, "cursor": cursor})


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Resume:
    """Where a followed event stream is, so that a new connection picks up after the last event seen: no event
    twice, none missed. Counts the reconnects in a row (an event in between resets them)."""

    def __init__(self, after: str | None, reconnects: int) -> None:
        self.last_id = after
        self.reconnects = reconnects
        self.failures = 0

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        return headers

    def seen(self, event_id: str | None) -> None:
        self.failures = 0
        if event_id:
            self.last_id = event_id

    def broke(self, why: str) -> float:
        """Seconds to wait before reconnecting; raises ``StreamError`` when the stream broke too often in a row."""
        self.failures += 1
        if self.failures > self.reconnects:
            raise StreamError(f"the event stream broke {self.failures} times in a row ({why}); last event seen: "
                              f"{self.last_id or 'none'}")
        return float(min(RECONNECT_MAX, RECONNECT_BASE * 2 ** (self.failures - 1)))
