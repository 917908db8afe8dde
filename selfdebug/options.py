"""How one self-debugging run is configured: strategy, feedback level, guard, iterations and budgets."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DebugOptions", "Feedback", "Strategy"]


class Strategy(StrEnum):
    """``none``: the first program as is. ``post_execution``: repair from self-test failures. ``in_execution``:
    repair from block traces on self-test inputs (no expected outputs shown). ``oracle``: post-execution on the
    problem's visible tests (the LDB setting)."""

    NONE = "none"
    POST_EXECUTION = "post_execution"
    IN_EXECUTION = "in_execution"
    ORACLE = "oracle"


class Feedback(StrEnum):
    """Post-execution feedback: ``label`` names the failed tests; ``detail`` adds input, expected and actual."""

    LABEL = "label"
    DETAIL = "detail"


class DebugOptions(BaseModel):
    """Everything that shapes one repair loop. Defaults follow the paper (10 self-tests, 2 iterations)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Strategy = Strategy.POST_EXECUTION
    feedback: Feedback = Feedback.DETAIL
    guard: bool = Field(False, description="Keep a repair only when the self-test evidence says it is better.")
    max_iterations: int = Field(2, ge=0, le=10)
    num_tests: int = Field(10, ge=1, le=50)
    token_budget: int | None = Field(None, gt=0, description="Stop repairing past this many tokens.")
    time_budget: float | None = Field(None, gt=0, description="Stop repairing past this many seconds.")
    max_traces: int = Field(3, ge=1, le=10, description="Self-test inputs traced per in-execution round.")
    trace_blocks: int = Field(10, ge=2, description="Blocks shown per trace; longer runs keep first/last half.")
    repr_limit: int = Field(100, ge=10, description="Characters of a value shown in a trace.")

    @property
    def label(self) -> str:
        """A short name for reports, e.g. ``post_execution/detail+guard``."""
        name = self.strategy.value
        if self.strategy in (Strategy.POST_EXECUTION, Strategy.ORACLE):
            name += f"/{self.feedback.value}"
        return name + ("+guard" if self.guard else "")
