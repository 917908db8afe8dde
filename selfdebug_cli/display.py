"""How a repair loop's steps are shown on stderr: one line per event, the same for a run here and a job on a
service (whose event stream carries the engine's own events)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer

__all__ = ["describe_event", "show_event"]

_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "program_generated": lambda d: f"{len(str(d.get('program') or '').splitlines())} lines",
    "tests_generated": lambda d: f"{d.get('usable')} usable, {d.get('dropped')} dropped",
    "executed": lambda d: f"{d.get('passed')}/{d.get('total')} self-tests passed",
    "trace_recorded": lambda d: f"{len(d.get('traces') or [])} traces",
    "program_repaired": lambda d: "kept" if d.get("kept") else f"not kept ({d.get('reason')})",
    "guard": lambda d: str(d.get("reason")),
    "evaluated": lambda d: f"hidden tests by iteration: {d.get('hidden_by_iteration')}",
    "finished": lambda d: f"stop: {d.get('stop_reason')}",
}


def describe_event(kind: str, iteration: int, data: Mapping[str, Any]) -> str:
    """``[iteration] kind: summary``, e.g. ``[0] executed: 2/3 self-tests passed``."""
    summarize = _SUMMARIES.get(kind)
    summary = summarize(data) if summarize is not None else ""
    return f"[{iteration}] {kind}: {summary}"


def show_event(kind: str, iteration: int, data: Mapping[str, Any]) -> None:
    typer.echo(describe_event(kind, iteration, data), err=True)
