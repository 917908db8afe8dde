"""In-execution traces, host side: run ``sandbox/tracer.py`` as a harness, parse what it emits, render it for a model.

``trace_program`` (and ``trace_program_async``) trace a program's entry point on call inputs given as Python
source, one ``Trace`` per input. A run that fails as a whole (a timeout, memory, the sandbox) never raises: each
input's ``Trace`` carries an ``error``. When several inputs were traced together and the run failed, the program is
loaded alone and then each input is traced alone, so one runaway input does not hide the traces of the others.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.executor import AsyncSandbox, Sandbox
from sandbox.models import Limits, RunResult, Verdict
from sandbox.quoting import quoted

__all__ = ["Trace", "TraceBlock", "TraceException", "render_trace", "trace_program", "trace_program_async"]

TRACER_SOURCE = (Path(__file__).parent / "tracer.py").read_text(encoding="utf-8")
DEFAULT_MAX_EVENTS = 100_000
MAX_SECONDS_PER_INPUT = 2.0
TIME_SHARE = 0.75  # of the harness's own time limit, spread over the inputs; the rest is for loading and reporting
MIN_SECONDS_PER_INPUT = 0.05
SHOWN_OUTPUT = 300
_ISOLATE = {Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT, Verdict.ERROR}


class TraceBlock(BaseModel):
    """One dynamic block: a run through one basic block, with the local variables before and after it."""

    index: int = Field(description="Position among all the blocks this call ran (shown as [block N]).")
    block: int = Field(description="The static basic block's id in the program.")
    function: str
    depth: int = Field(0, description="Traced frames below this one: 0 for the entry point's own frame.")
    lines: list[int]
    code: str
    before: dict[str, str]
    after: dict[str, str] | None = Field(None, description="None when tracing ended inside the block.")
    returned: str | None = None
    yielded: str | None = None
    raised: str | None = None


class TraceException(BaseModel):
    """The exception that ended a traced call, with the program's line it came from."""

    type: str
    message: str = ""
    line: int | None = None
    function: str | None = None


class Trace(BaseModel):
    """The trace of one call on one input; ``error`` says why there is none."""

    model_config = ConfigDict(populate_by_name=True)

    input: str
    blocks: list[TraceBlock] = Field(default_factory=list)
    dropped: int = Field(0, description="Blocks left out between the first and last ones kept.")
    total_blocks: int = 0
    return_value: str | None = Field(None, alias="return")
    exception: TraceException | None = None
    truncated: bool = False
    stop_reason: str | None = None
    output: str = ""
    error: str | None = None


# ---------------------------------------------------------------- running


def _validate(max_blocks: int, keep: int, repr_limit: int, max_events: int) -> None:
    if max_blocks < 1 or keep < 0 or 2 * keep > max_blocks:
        raise ValueError(f"need max_blocks >= 1 and 0 <= 2 * keep <= max_blocks, got {max_blocks=} {keep=}")
    if repr_limit < 1 or max_events < 1:
        raise ValueError(f"repr_limit and max_events must be positive, got {repr_limit=} {max_events=}")


def _failure(result: RunResult) -> str:
    """Why a harness run produced no traces, in one line."""
    test = result.tests[0] if result.tests else None
    if test is not None and test.exception is not None:
        return f"{result.verdict.value}: {test.exception.type}: {test.exception.message}"
    return f"{result.verdict.value}: {(test.message if test else '') or result.message or 'no detail'}"


def _traces(result: RunResult, inputs: Sequence[str]) -> list[Trace] | str:
    """The traces a run emitted, or why it has none."""
    if not result.passed or not result.tests:
        return _failure(result)
    output = result.tests[0].output
    if not isinstance(output, dict):
        return "sandbox_error: the tracer emitted no traces"
    if output.get("error"):
        return [Trace(input=source, error=str(output["error"])) for source in inputs]
    raw = output.get("traces")
    if not isinstance(raw, list) or len(raw) != len(inputs):
        return "sandbox_error: the tracer emitted the wrong number of traces"
    try:
        return [Trace.model_validate(item) for item in raw]
    except ValidationError as exc:
        return f"sandbox_error: the tracer emitted a malformed trace ({exc.error_count()} errors)"


_Plan = Generator[dict[str, Any], RunResult, list[Trace]]


def _plan(inputs: Sequence[str], base: dict[str, Any], seconds: float) -> _Plan:
    """The runs to make and what to make of them, apart from how they are run (sync or async).

    Yields payloads, is sent each run's result, returns the traces.
    """

    def payload(some: Sequence[str]) -> dict[str, Any]:
        per_input = min(MAX_SECONDS_PER_INPUT, max(MIN_SECONDS_PER_INPUT, seconds * TIME_SHARE / max(1, len(some))))
        return {**base, "inputs": list(some), "time_limit": per_input}

    result = yield payload(inputs)
    traces = _traces(result, inputs)
    if not isinstance(traces, str):
        return traces
    if len(inputs) == 1 or result.verdict not in _ISOLATE:
        return [Trace(input=source, error=traces) for source in inputs]
    load = _traces((yield payload([])), [])
    if isinstance(load, str):
        return [Trace(input=source, error=f"{load} (while loading the program)") for source in inputs]
    isolated: list[Trace] = []
    for source in inputs:
        alone = _traces((yield payload([source])), [source])
        isolated.extend([Trace(input=source, error=alone)] if isinstance(alone, str) else alone)
    return isolated


def _start(sandbox: Sandbox, entry_point: str, inputs: Sequence[str], limits: Limits | None, *, max_blocks: int,
           keep: int, repr_limit: int, max_events: int) -> _Plan:
    _validate(max_blocks, keep, repr_limit, max_events)
    effective = sandbox.effective_limits(limits)
    seconds = min(float(effective["test_timeout"]), float(effective["cpu_time"]))
    base = {"entry_point": entry_point, "max_blocks": max_blocks, "keep": keep, "repr_limit": repr_limit,
            "max_events": max_events}
    return _plan(inputs, base, seconds)


def trace_program(sandbox: Sandbox, program: str, entry_point: str, inputs: Sequence[str], *, max_blocks: int = 10,
                  keep: int = 5, repr_limit: int = 100, max_events: int = DEFAULT_MAX_EVENTS,
                  limits: Limits | None = None) -> list[Trace]:
    """Trace ``entry_point`` on each input (argument source such as ``"[1, 2], 3"``); one ``Trace`` per input.

    Runs over ``max_blocks`` blocks keep their first and last ``keep``; values are reprs of at most
    ``repr_limit`` characters; a call stops (``truncated``) after ``max_events`` events or its share of the time.
    """
    if not inputs:
        return []
    plan = _start(sandbox, entry_point, inputs, limits, max_blocks=max_blocks, keep=keep, repr_limit=repr_limit,
                  max_events=max_events)
    try:
        payload = next(plan)
        while True:
            result = sandbox.run_harness(TRACER_SOURCE, program=program, payload=payload, limits=limits)
            payload = plan.send(result)
    except StopIteration as done:
        traces: list[Trace] = done.value
        return traces


async def trace_program_async(sandbox: AsyncSandbox, program: str, entry_point: str, inputs: Sequence[str], *,
                              max_blocks: int = 10, keep: int = 5, repr_limit: int = 100,
                              max_events: int = DEFAULT_MAX_EVENTS, limits: Limits | None = None) -> list[Trace]:
    """``trace_program`` for an ``AsyncSandbox``."""
    if not inputs:
        return []
    plan = _start(sandbox.sandbox, entry_point, inputs, limits, max_blocks=max_blocks, keep=keep,
                  repr_limit=repr_limit, max_events=max_events)
    try:
        payload = next(plan)
        while True:
            result = await sandbox.run_harness(TRACER_SOURCE, program=program, payload=payload, limits=limits)
            payload = plan.send(result)
    except StopIteration as done:
        traces: list[Trace] = done.value
        return traces


# ---------------------------------------------------------------- rendering


def _line_ranges(lines: Sequence[int]) -> str:
    ranges: list[list[int]] = []
    for line in lines:
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)
    return f"line {text}" if len(lines) == 1 else f"lines {text}"


def _state(values: dict[str, str]) -> str:
    return ", ".join(f"{quoted(name)}={quoted(value)}" for name, value in values.items()) or "(no variables)"


def _changes(before: dict[str, str], after: dict[str, str] | None) -> str:
    if after is None:
        return "(not recorded: tracing stopped inside this block)"
    changed = {name: value for name, value in after.items() if before.get(name) != value}
    return _state(changed) if changed else "(no change)"


def _render_block(block: TraceBlock) -> list[str]:
    function = quoted(block.function)
    where = function if block.depth == 0 else f"{function} (call depth {block.depth})"
    out = [f"[block {block.index}] {where}, {_line_ranges(block.lines)}", f"  before: {_state(block.before)}"]
    out += [f"    {line}" for line in block.code.splitlines()]  # the program's own lines, indented as code
    out.append(f"  after: {_changes(block.before, block.after)}")
    for label, value in (("returns", block.returned), ("yields", block.yielded), ("raises", block.raised)):
        if value is not None:
            out.append(f"  {label} {quoted(value)}")
    return out


def _outcome(trace: Trace) -> list[str]:
    out = []
    if trace.exception is not None:
        exc = trace.exception
        where = f" (line {exc.line} in {quoted(exc.function or '?')})" if exc.line is not None else ""
        out.append(f"Raised: {quoted(exc.type)}: {quoted(exc.message)}{where}")
    elif trace.return_value is not None:
        out.append(f"Returned: {quoted(trace.return_value)}")
    if trace.truncated:
        out.append(f"Tracing stopped early: {quoted(trace.stop_reason or '?')}")
    if trace.output:
        printed = trace.output if len(trace.output) <= SHOWN_OUTPUT else trace.output[:SHOWN_OUTPUT] + "..."
        out.append(f"Printed: {quoted(printed.rstrip())}")
    return out


def render_trace(trace: Trace) -> str:
    """The trace as text for a prompt: each block's code between the state before it and what it changed.

    Every value that came from the run (reprs, names, messages, what was printed) is ``quoted``: a value with a line
    break shows as one quoted literal, so it cannot write lines that look like the trace's own.
    """
    out = [f"Input: {quoted(trace.input)}"]
    if trace.error is not None:
        return "\n".join([*out, f"Could not trace this input: {quoted(trace.error)}"])
    shown = -1
    for block in trace.blocks:
        if block.index > shown + 1:
            out.append(f"... {block.index - shown - 1} blocks omitted ...")
        out += _render_block(block)
        shown = block.index
    if trace.total_blocks > shown + 1:
        out.append(f"... {trace.total_blocks - shown - 1} blocks omitted ...")
    if not trace.blocks:
        out.append("(no blocks ran)")
    return "\n".join(out + _outcome(trace))
