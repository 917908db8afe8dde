"""The record of one repair loop: every attempt with its evidence, the final program, tokens and times."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from selfdebug.judged import JudgedCounts

__all__ = ["Attempt", "BlockVerdict", "DebugRecord", "SelfTests", "StopReason", "Usage"]


class StopReason:
    """Why a loop stopped (plain strings in records, so old records stay readable)."""

    NO_REPAIR = "no_repair"  # strategy none
    TESTS_PASS = "tests_pass"
    ALL_BLOCKS_CORRECT = "all_blocks_correct"
    MAX_ITERATIONS = "max_iterations"
    TOKEN_BUDGET = "token_budget"
    TIME_BUDGET = "time_budget"
    NO_CODE = "no_code"
    NO_TESTS = "no_tests"
    LLM_ERROR = "llm_error"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.calls += 1


class BlockVerdict(BaseModel):
    trace: int = 0
    block: int
    correct: bool
    reason: str = ""


class SelfTests(BaseModel):
    """The tests the model wrote for itself (or the visible tests, for ``oracle``)."""

    source: str = Field("", description="'model' or 'visible'")
    raw: str = ""
    asserts: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)
    usable: int = 0
    dropped: int = 0


class Attempt(BaseModel):
    """One program in the loop: iteration 0 is the first program; iteration i is the i-th repair."""

    iteration: int
    program: str
    response: str = ""
    tokens: int = 0
    seconds: float = 0.0
    self_test_results: list[dict[str, Any]] = Field(default_factory=list)
    self_tests_passed: int | None = None
    traces: list[dict[str, Any]] = Field(default_factory=list)
    block_verdicts: list[BlockVerdict] = Field(default_factory=list)
    feedback: str | None = None
    kept: bool = True
    guard_reason: str = ""
    hidden_passed: bool | None = None
    hidden_verdict: str | None = None


class DebugRecord(BaseModel):
    """Everything one problem's loop did. ``program_by_iteration[i]`` is the program in force after round i."""

    task_id: str
    strategy: str
    options: dict[str, Any]
    seeded: bool = False  # the first program was given (e.g. another model's), not generated
    attempts: list[Attempt] = Field(default_factory=list)
    self_tests: SelfTests = Field(default_factory=SelfTests)
    program_by_iteration: list[str] = Field(default_factory=list)
    hidden_by_iteration: list[bool] = Field(default_factory=list)
    final_program: str = ""
    stop_reason: str = ""
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0
    llm_seconds: float = 0.0
    sandbox_seconds: float = 0.0  # self-tests and traces: what the loop itself ran
    eval_seconds: float = 0.0  # the hidden-test evaluation (never shown to the model)
    hidden_judged: JudgedCounts | None = None  # how the hidden tests were judged, if the evaluator said
    self_tests_judged: JudgedCounts | None = None  # how the self-tests (or visible tests) were judged

    @property
    def first_passed(self) -> bool | None:
        return self.hidden_by_iteration[0] if self.hidden_by_iteration else None

    @property
    def final_passed(self) -> bool | None:
        return self.hidden_by_iteration[-1] if self.hidden_by_iteration else None
