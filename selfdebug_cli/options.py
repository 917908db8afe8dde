"""Options that several commands share, and turning them into the engine's ``DebugOptions``."""

from __future__ import annotations

from typing import Annotated

import typer

from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug_cli.errors import ExitCode, fail

__all__ = [
    "FeedbackOpt",
    "GuardOpt",
    "IterOpt",
    "LocalOpt",
    "ModelOpt",
    "ServerOpt",
    "StrategyOpt",
    "TestsOpt",
    "one_option",
    "parse_options",
]

StrategyOpt = Annotated[
    str, typer.Option("--strategy", "-s", help="none, post_execution, in_execution or oracle; "
                      "run takes several, comma-separated.")
]
FeedbackOpt = Annotated[Feedback, typer.Option("--feedback", help="Post-execution feedback level.")]
GuardOpt = Annotated[bool, typer.Option("--guard/--no-guard", help="Keep a repair only if it is shown better.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name at the endpoint.")]
IterOpt = Annotated[int, typer.Option("--max-iterations", min=0, max=10, help="Repair rounds (the paper: 2).")]
TestsOpt = Annotated[int, typer.Option("--num-tests", min=1, max=50, help="Self-generated tests to ask for.")]
ServerOpt = Annotated[str | None, typer.Option(
    "--server", envvar="SELFDEBUG_URL", show_envvar=True, metavar="URL",
    help="A selfdebug service to run on (its API key from SELFDEBUG_API_KEY); without it, the engine runs here.")]
LocalOpt = Annotated[bool, typer.Option("--local", help="Run here even when SELFDEBUG_URL names a service.")]


def parse_options(strategies: str, feedback: Feedback, guard: bool, max_iterations: int,
                  num_tests: int) -> list[DebugOptions]:
    """One ``DebugOptions`` per strategy named in ``strategies`` (comma-separated)."""
    chosen = []
    for name in (part.strip() for part in strategies.split(",") if part.strip()):
        try:
            strategy = Strategy(name)
        except ValueError:
            known = ", ".join(s.value for s in Strategy)
            fail(f"unknown strategy {name!r}; choose from {known}", ExitCode.USAGE)
        chosen.append(DebugOptions(strategy=strategy, feedback=feedback, guard=guard, max_iterations=max_iterations,
                                   num_tests=num_tests))
    if not chosen:
        fail("--strategy names no strategy", ExitCode.USAGE)
    return chosen


def one_option(strategy: str, feedback: Feedback, guard: bool, max_iterations: int, num_tests: int) -> DebugOptions:
    options = parse_options(strategy, feedback, guard, max_iterations, num_tests)
    if len(options) > 1:
        fail("solve runs one strategy; give --strategy one name (run compares several)", ExitCode.USAGE)
    return options[0]
