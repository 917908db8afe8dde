"""Reports over repair-loop records: pass@1 by iteration, the bias table, tokens and time; markdown and a plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from selfdebug.judged import JudgedCounts
from selfdebug.record import DebugRecord

__all__ = ["StrategyReport", "render_markdown", "render_plot", "summarize"]


class StrategyReport(BaseModel):
    """The figures of one strategy over one problem set."""

    strategy: str
    problems: int
    evaluated: int
    pass_at_1: list[float]  # by iteration: 0 is the first program
    broken: int  # correct first program, wrong final one: the paper's false negatives
    fixed: int  # wrong first program, correct final one
    changed: int  # programs whose hidden verdict changed between first and final
    errors: int
    mean_tokens: float
    mean_seconds: float
    self_tests_usable: float
    stop_reasons: dict[str, int]
    hidden_judged: JudgedCounts = Field(default_factory=JudgedCounts)  # hidden tests, over every problem
    self_tests_judged: JudgedCounts = Field(default_factory=JudgedCounts)  # self-tests (oracle: visible tests)


def summarize(strategy: str, records: Sequence[DebugRecord]) -> StrategyReport:
    """Aggregate records of one strategy. Records without a hidden evaluation count toward nothing but errors."""
    evaluated = [r for r in records if r.hidden_by_iteration]
    rounds = max((len(r.hidden_by_iteration) for r in evaluated), default=0)
    pass_at_1 = []
    for i in range(rounds):
        passed = sum(r.hidden_by_iteration[min(i, len(r.hidden_by_iteration) - 1)] for r in evaluated)
        pass_at_1.append(passed / len(evaluated))
    broken = sum(1 for r in evaluated if r.first_passed and not r.final_passed)
    fixed = sum(1 for r in evaluated if not r.first_passed and r.final_passed)
    reasons: dict[str, int] = {}
    for record in records:
        reasons[record.stop_reason or "unknown"] = reasons.get(record.stop_reason or "unknown", 0) + 1
    count = max(len(records), 1)
    hidden, self_tests = JudgedCounts(), JudgedCounts()
    for record in records:
        hidden += record.hidden_judged or JudgedCounts()
        self_tests += record.self_tests_judged or JudgedCounts()
    return StrategyReport(
        strategy=strategy,
        problems=len(records),
        evaluated=len(evaluated),
        pass_at_1=pass_at_1,
        broken=broken,
        fixed=fixed,
        changed=broken + fixed,
        errors=sum(1 for r in records if r.error),
        mean_tokens=sum(r.usage.total for r in records) / count,
        mean_seconds=sum(r.seconds for r in records) / count,
        self_tests_usable=sum(r.self_tests.usable for r in records) / count,
        stop_reasons=dict(sorted(reasons.items())),
        hidden_judged=hidden,
        self_tests_judged=self_tests,
    )


def render_markdown(reports: Sequence[StrategyReport], *, title: str = "Self-debugging report") -> str:
    rounds = max((len(r.pass_at_1) for r in reports), default=1)
    head = ["strategy", "n", *[f"pass@1 it{i}" for i in range(rounds)], "broken", "fixed", "tokens/problem",
            "s/problem", "usable self-tests", "errors"]
    lines = [f"# {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in reports:
        cells = [r.strategy, str(r.evaluated)]
        cells += [f"{100 * p:.1f}" for p in r.pass_at_1] + ["-"] * (rounds - len(r.pass_at_1))
        cells += [str(r.broken), str(r.fixed), f"{r.mean_tokens:.0f}", f"{r.mean_seconds:.1f}",
                  f"{r.self_tests_usable:.1f}", str(r.errors)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Bias: programs whose hidden verdict changed between the first and the final program", "",
              "| strategy | changed | correct -> wrong (broken) | wrong -> correct (fixed) |", "|---|---|---|---|"]
    for r in reports:
        lines.append(f"| {r.strategy} | {r.changed} | {r.broken} | {r.fixed} |")
    lines += ["", "## Why loops stopped", ""]
    for r in reports:
        reasons = ", ".join(f"{k}: {v}" for k, v in r.stop_reasons.items())
        lines.append(f"- {r.strategy}: {reasons}")
    lines += ["", "## How tests were judged", "",
              "On the host, the program's outputs were compared outside the sandbox; in process, the test ran in the "
              "program's interpreter, where a wrong program can fool it.", "",
              "| strategy | hidden tests | self-tests |", "|---|---|---|"]
    for r in reports:
        lines.append(f"| {r.strategy} | {r.hidden_judged.describe()} | {r.self_tests_judged.describe()} |")
    return "\n".join(lines) + "\n"


def render_plot(reports: Sequence[StrategyReport], path: Path) -> None:
    """pass@1 by iteration, one line per strategy, as a PNG."""
    # The object API with the Agg canvas: no pyplot state machine (and its slow import), no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for r in reports:
        ax.plot(range(len(r.pass_at_1)), [100 * p for p in r.pass_at_1], marker="o", label=r.strategy)
    ax.set_xlabel("iteration (0 = first program)")
    ax.set_ylabel("pass@1 on hidden tests (%)")
    ax.set_title("pass@1 by iteration and strategy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    rounds = max((len(r.pass_at_1) for r in reports), default=1)
    ax.set_xticks(range(rounds))
    best = max((100 * p for r in reports for p in r.pass_at_1), default=0.0)
    ax.set_ylim(0, max(5.0, best * 1.15))  # small models score near 0: keep the axis honest, not inverted
    fig.tight_layout()
    fig.savefig(path)
