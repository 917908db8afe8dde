"""What goes into a sandbox run and what comes out: verdicts, per-test results, whole-run results."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExceptionInfo", "Judged", "Limits", "RunResult", "StdioCase", "TestResult", "Verdict"]

Judged = Literal["host", "in_process"]


class Verdict(StrEnum):
    """How one test (or a whole run) ended. Every value is data; only ``sandbox_error`` is our fault."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"


class Limits(BaseModel):
    """Per-run limits; unset fields take the pool's settings. A run may only lower them."""

    model_config = ConfigDict(extra="forbid")

    test_timeout: float | None = Field(None, gt=0)
    cpu_time: float | None = Field(None, gt=0)
    job_timeout: float | None = Field(None, gt=0)
    output_bytes: int | None = Field(None, gt=0)


class StdioCase(BaseModel):
    """One stdin/stdout test: the program reads ``stdin``; its stdout is compared with ``expected``."""

    model_config = ConfigDict(extra="forbid")

    stdin: str = ""
    expected: str | None = None
    name: str | None = None


class ExceptionInfo(BaseModel):
    """An exception raised by the code under test, with the traceback lines that are in that code."""

    type: str
    message: str = ""
    traceback: list[str] = Field(default_factory=list)


class TestResult(BaseModel):
    """The verdict of one test with the evidence behind it."""

    __test__ = False  # not a pytest class, despite the name

    name: str
    verdict: Verdict
    duration: float = 0.0
    message: str = ""
    exception: ExceptionInfo | None = None
    assertion: str | None = None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None
    output: Any = None
    digest: str | None = Field(None, description="In place of ``output`` when a run asked for digests of large values "
                               "(``digest_over``): the sha256 of the value's JSON, taken by the runner outside the "
                               "code under test.")
    value_bytes: int | None = Field(None, description="Bytes of the returned value's JSON (sent or digested).")
    stdout: str = ""
    stderr: str = ""
    judged: Judged | None = Field(None, description="Where the verdict was reached: 'host' (the output was compared "
                                  "outside the sandbox) or 'in_process' (the test ran beside the program).")
    asserts: int = Field(0, description="Assert statements the test holds (not counting constant ones).")

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


class RunResult(BaseModel):
    """All the tests of one run. ``verdict`` is ``passed`` only when every test reported that it passed."""

    verdict: Verdict
    tests: list[TestResult]
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    attempts: int = 1
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def pass_count(self) -> int:
        return sum(test.passed for test in self.tests)
