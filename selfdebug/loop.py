"""The repair loop: generate a program, generate tests, execute, feed back, repair — within a budget.

One ``Debugger`` serves many problems (the batch runner calls ``run`` concurrently); each call keeps its own
state in a ``_Run``. Test failures, traces and a model that returns no code are data recorded in the attempt;
only a fault of the LLM endpoint stops a loop early, and even then the record says why and keeps the best
program so far.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from sandbox import AsyncSandbox, Limits, RunResult, StdioCase, TestResult
from sandbox.tracing import Trace, render_trace, trace_program_async
from selfdebug.errors import ProblemError
from selfdebug.events import Event, EventKind, EventSink, emit
from selfdebug.extract import extract_code
from selfdebug.judged import JudgedCounts
from selfdebug.llm import ChatModel, LLMError, Message
from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug.problems import Problem, ProblemKind
from selfdebug.prompts import (
    FailedTest,
    block_verdict_prompt,
    generation_prompt,
    repair_prompt,
    selftest_prompt,
)
from selfdebug.record import Attempt, BlockVerdict, DebugRecord, SelfTests, StopReason
from selfdebug.selftests import parse_tests

__all__ = ["Debugger", "Evaluator", "HiddenVerdict", "check_problem", "parse_block_verdicts"]


class HiddenVerdict(NamedTuple):
    """What an evaluator says of a program, with how its tests were judged (host or in process), if it knows."""

    passed: bool
    verdict: str
    judged: JudgedCounts | None = None


Evaluator = Callable[[Problem, str], Awaitable["tuple[bool, str] | HiddenVerdict"]]
"""Judges a program on the problem's hidden tests: (passed, verdict), or a ``HiddenVerdict``. Never shown to the
model."""

_VERDICT = re.compile(r"\[\s*block\s*(\d+)\s*\]\s*:?\s*(correct|incorrect|wrong)\b\W*(.*)", re.IGNORECASE)
SELF_TEST_LIMITS = Limits(test_timeout=5.0, job_timeout=60.0)


def parse_block_verdicts(text: str) -> list[BlockVerdict]:
    """Read ``[block N] correct|wrong: reason`` lines; a block judged twice keeps its last verdict."""
    verdicts: dict[int, BlockVerdict] = {}
    for match in _VERDICT.finditer(text):
        block = int(match.group(1))
        verdicts[block] = BlockVerdict(block=block, correct=match.group(2).lower() == "correct",
                                       reason=match.group(3).strip()[:500])
    return list(verdicts.values())


def _failure(test: TestResult, source: str | None = None) -> FailedTest:
    failed: FailedTest = {"assertion": test.assertion or source or test.name}
    if test.input is not None:
        failed["input"] = test.input
    if test.expected is not None:
        failed["expected"] = test.expected
    if test.exception is not None and test.verdict.value != "failed":
        failed["error"] = f"{test.exception.type}: {test.exception.message}"
    elif test.actual is not None:
        failed["actual"] = test.actual
    elif test.verdict.value != "failed":
        failed["error"] = test.message or test.verdict.value
    return failed


def _summary(test: TestResult) -> dict[str, Any]:
    return test.model_dump(include={"name", "verdict", "assertion", "input", "expected", "actual", "message",
                                    "exception", "judged"}, exclude_none=True, mode="json")


class _OutOfBudget(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Debugger:
    """Runs the self-debugging loop of ``options`` on problems, with ``model`` and ``sandbox``."""

    def __init__(self, model: ChatModel, sandbox: AsyncSandbox, options: DebugOptions, *,
                 evaluator: Evaluator | None = None, on_event: EventSink | None = None) -> None:
        self.model = model
        self.sandbox = sandbox
        self.options = options
        self.evaluator = evaluator
        self.on_event = on_event

    async def run(self, problem: Problem, on_event: EventSink | None = None, *, seed: str | None = None) -> DebugRecord:
        """Run the loop on ``problem``; raises ``ProblemError`` before any work if the problem cannot be run.

        ``seed`` is a first program written elsewhere (LDB's setting: e.g. a stronger model's programs), used
        instead of asking the model for one; the loop then only tests and repairs it.
        """
        check_problem(problem, self.options)
        return await _Run(self, problem, on_event or self.on_event, seed).run()


def check_problem(problem: Problem, options: DebugOptions) -> None:
    """Refuse, with a clear reason, what the loop cannot work on."""
    if not problem.prompt.strip():
        raise ProblemError(f"{problem.task_id}: the prompt is empty")
    if options.strategy is Strategy.IN_EXECUTION and (problem.kind is ProblemKind.STDIO or not problem.entry_point):
        raise ProblemError(f"{problem.task_id}: in-execution tracing needs a function problem with an entry point")
    if options.strategy is Strategy.ORACLE and not problem.given_tests:
        raise ProblemError(f"{problem.task_id}: the oracle strategy needs the problem's visible tests (given_tests)")


class _Run:
    """The state of one problem's loop."""

    def __init__(self, debugger: Debugger, problem: Problem, sink: EventSink | None, seed: str | None) -> None:
        self.d = debugger
        self.seed = seed
        self.options = debugger.options
        self.problem = problem
        self.sink = sink
        self.started = time.monotonic()
        self.stdio_cases: list[StdioCase] = []
        self.record = DebugRecord(task_id=problem.task_id, strategy=self.options.label,
                                  options=self.options.model_dump(mode="json"), seeded=seed is not None)

    # ------------------------------------------------------------------ plumbing

    async def event(self, kind: EventKind, iteration: int, **data: Any) -> None:
        await emit(self.sink, Event(kind=kind, task_id=self.problem.task_id, iteration=iteration, data=data))

    def check_budget(self) -> None:
        tokens, seconds = self.options.token_budget, self.options.time_budget
        if tokens is not None and self.record.usage.total >= tokens:
            raise _OutOfBudget(StopReason.TOKEN_BUDGET)
        if seconds is not None and time.monotonic() - self.started >= seconds:
            raise _OutOfBudget(StopReason.TIME_BUDGET)

    async def ask(self, messages: list[Message]) -> tuple[str, int]:
        """One model call; returns the text and the tokens it cost."""
        self.check_budget()
        started = time.monotonic()
        completion = await self.d.model.complete(messages)
        self.record.llm_seconds += time.monotonic() - started
        usage = completion.usage
        self.record.usage.add(usage.prompt_tokens, usage.completion_tokens)
        return completion.text, usage.prompt_tokens + usage.completion_tokens

    async def timed(self, work: Awaitable[RunResult]) -> RunResult:
        started = time.monotonic()
        try:
            return await work
        finally:
            self.record.sandbox_seconds += time.monotonic() - started

    async def extract(self, text: str) -> str | None:
        # In a thread, as all CPU work over a model's answer and a client's prompt: the event loop it would block
        # also carries every other job's heartbeats and LLM calls, and this job's own time limit.
        return await asyncio.to_thread(extract_code, text, prompt=self.problem.prompt,
                                       entry_point=self.problem.entry_point)

    @property
    def stdio(self) -> bool:
        return self.problem.kind is ProblemKind.STDIO

    # ------------------------------------------------------------------ the loop

    async def run(self) -> DebugRecord:
        record = self.record
        try:
            await self.loop()
        except _OutOfBudget as stop:
            record.stop_reason = stop.reason
        except LLMError as exc:
            record.stop_reason = StopReason.LLM_ERROR
            record.error = f"{type(exc).__name__}: {exc}"
        if not record.final_program and record.attempts:
            record.final_program = next((a.program for a in reversed(record.attempts) if a.kept), "")
        self.fill_iterations()
        if self.d.evaluator is not None:
            await self.evaluate()
        record.seconds = time.monotonic() - self.started
        await self.event(EventKind.FINISHED, len(record.program_by_iteration) - 1,
                         stop_reason=record.stop_reason, final_program=record.final_program,
                         hidden_passed=record.final_passed, tokens=record.usage.total, error=record.error)
        return record

    async def loop(self) -> None:
        record, options = self.record, self.options
        program: str | None
        if self.seed is not None:
            text, tokens, program = "", 0, self.seed
        else:
            text, tokens = await self.ask(generation_prompt(self.problem.prompt, stdio=self.stdio))
            program = await self.extract(text)
        attempt = Attempt(iteration=0, program=program or "", response=text, tokens=tokens)
        record.attempts.append(attempt)
        await self.event(EventKind.PROGRAM_GENERATED, 0, program=attempt.program, tokens=tokens,
                         seeded=self.seed is not None)
        if program is None:
            record.stop_reason = StopReason.NO_CODE
            record.error = "the model returned no code"
            return
        record.final_program = program
        if options.strategy is Strategy.NONE or options.max_iterations == 0:
            record.stop_reason = StopReason.NO_REPAIR
            return
        await self.make_tests()
        tests = record.self_tests
        if not tests.asserts and not tests.inputs:
            record.stop_reason = StopReason.NO_TESTS
            return
        current = attempt
        for iteration in range(1, options.max_iterations + 1):
            if options.strategy is Strategy.IN_EXECUTION:
                outcome = await self.in_execution_round(current, iteration)
            else:
                outcome = await self.post_execution_round(current, iteration)
            if isinstance(outcome, str):
                record.stop_reason = outcome
                return
            if outcome.kept:
                current = outcome
                record.final_program = outcome.program
        record.stop_reason = StopReason.MAX_ITERATIONS

    async def make_tests(self) -> None:
        problem, options, record = self.problem, self.options, self.record
        if options.strategy is Strategy.ORACLE:
            record.self_tests = SelfTests(source="visible", asserts=list(problem.given_tests),
                                          usable=len(problem.given_tests))
        else:
            messages = selftest_prompt(problem.prompt, problem.entry_point, options.num_tests, stdio=self.stdio)
            text, _ = await self.ask(messages)
            parsed = await asyncio.to_thread(parse_tests, text, entry_point=problem.entry_point,
                                             kind="stdio" if self.stdio else "function", limit=options.num_tests)
            record.self_tests = SelfTests(source="model", raw=text,
                                          asserts=[] if self.stdio else parsed.asserts(),
                                          inputs=parsed.inputs(), usable=parsed.usable, dropped=len(parsed.dropped))
            if self.stdio:
                self.stdio_cases = [StdioCase(stdin=c.input, expected=c.expected) for c in parsed.cases]
        await self.event(EventKind.TESTS_GENERATED, 0, source=record.self_tests.source,
                         tests=record.self_tests.asserts, usable=record.self_tests.usable,
                         dropped=record.self_tests.dropped)

    async def run_self_tests(self, program: str) -> RunResult:
        if self.stdio:
            result = await self.timed(self.d.sandbox.run_stdio(program, self.stdio_cases, limits=SELF_TEST_LIMITS))
        else:
            result = await self.timed(self.d.sandbox.run_tests(program, self.record.self_tests.asserts,
                                                               limits=SELF_TEST_LIMITS))
        if self.record.self_tests_judged is None:  # how they are judged depends on the tests, not the program
            self.record.self_tests_judged = JudgedCounts.of(result.tests)
        return result

    async def post_execution_round(self, current: Attempt, iteration: int) -> Attempt | str:
        result = await self.run_self_tests(current.program)
        current.self_test_results = [_summary(t) for t in result.tests]
        current.self_tests_passed = result.pass_count
        await self.event(EventKind.EXECUTED, iteration - 1, passed=result.pass_count, total=len(result.tests),
                         results=current.self_test_results)
        if result.passed:
            return StopReason.TESTS_PASS
        # A test judged on the host may carry no assertion text of its own: show the test as it was written.
        sources = [] if self.stdio else [code.strip() for code in self.record.self_tests.asserts]
        written = [sources[i] if i < len(sources) else None for i in range(len(result.tests))]
        failed = [_failure(t, written[i]) for i, t in enumerate(result.tests) if not t.passed]
        passed = [t.assertion or written[i] or t.name for i, t in enumerate(result.tests) if t.passed]
        detail = self.options.feedback is Feedback.DETAIL
        messages = repair_prompt(self.problem.prompt, current.program, failed, passed, detail=detail)
        current.feedback = messages[-1]["content"]
        await self.event(EventKind.FEEDBACK_SENT, iteration, feedback=current.feedback)
        return await self.repair(messages, current, iteration)

    async def in_execution_round(self, current: Attempt, iteration: int) -> Attempt | str:
        problem, options = self.problem, self.options
        assert problem.entry_point is not None  # check_problem refused the run otherwise
        inputs = self.record.self_tests.inputs[: options.max_traces]
        started = time.monotonic()
        traces: list[Trace] = await trace_program_async(
            self.d.sandbox, current.program, problem.entry_point, inputs, max_blocks=options.trace_blocks,
            keep=options.trace_blocks // 2, repr_limit=options.repr_limit,
        )
        self.record.sandbox_seconds += time.monotonic() - started
        current.traces = [t.model_dump(mode="json") for t in traces]
        rendered = [render_trace(t) for t in traces]
        await self.event(EventKind.TRACE_RECORDED, iteration - 1, traces=rendered)
        messages = block_verdict_prompt(problem.prompt, current.program, rendered)
        current.feedback = messages[-1]["content"]
        await self.event(EventKind.FEEDBACK_SENT, iteration, feedback=current.feedback)
        return await self.repair(messages, current, iteration, judge_blocks=True)

    async def repair(self, messages: list[Message], current: Attempt, iteration: int, *,
                     judge_blocks: bool = False) -> Attempt | str:
        started = time.monotonic()
        text, tokens = await self.ask(messages)
        if judge_blocks:
            current.block_verdicts = parse_block_verdicts(text)
            if current.block_verdicts and all(v.correct for v in current.block_verdicts):
                return StopReason.ALL_BLOCKS_CORRECT
        program = await self.extract(text)
        attempt = Attempt(iteration=iteration, program=program or current.program, response=text, tokens=tokens,
                          seconds=time.monotonic() - started)
        self.record.attempts.append(attempt)
        if program is None:
            attempt.kept, attempt.guard_reason = False, "the model returned no code"
        elif self.options.guard:
            await self.guard(current, attempt)
        await self.event(EventKind.PROGRAM_REPAIRED, iteration, program=attempt.program, kept=attempt.kept,
                         reason=attempt.guard_reason, tokens=tokens)
        return attempt

    async def guard(self, old: Attempt, new: Attempt) -> None:
        """Keep ``new`` only if it passes every self-test ``old`` passed and at least one more.

        Self-tests are often wrong (the paper: about 10% of expected outputs), so "passes more tests" alone
        lets a correct program be traded for one that fits a wrong test; demanding no regression on the tests
        the old program already passed blocks the commonest way a correct program gets broken.
        """
        if not self.record.self_tests.asserts and not self.stdio:
            new.kept, new.guard_reason = False, "no self-tests with expected values to compare on"
            return
        if not old.self_test_results:
            before = await self.run_self_tests(old.program)
            old.self_test_results = [_summary(t) for t in before.tests]
            old.self_tests_passed = before.pass_count
        after = await self.run_self_tests(new.program)
        new.self_test_results = [_summary(t) for t in after.tests]
        new.self_tests_passed = after.pass_count
        was = {r["name"] for r in old.self_test_results if r["verdict"] == "passed"}
        now = {t.name for t in after.tests if t.passed}
        lost = sorted(was - now)
        if lost:
            new.kept, new.guard_reason = False, f"rejected: it fails {len(lost)} self-test(s) the old program passed"
        elif len(now) <= len(was):
            new.kept, new.guard_reason = False, f"rejected: it passes {len(now)} self-tests, no more than before"
        else:
            new.kept, new.guard_reason = True, f"kept: it passes {len(now)} self-tests, {len(was)} before"
        await self.event(EventKind.GUARD, new.iteration, kept=new.kept, reason=new.guard_reason)

    # ------------------------------------------------------------------ hidden evaluation

    def fill_iterations(self) -> None:
        """The program in force after each round 0..max_iterations (a stopped loop keeps its last program)."""
        record = self.record
        rounds = self.options.max_iterations if self.options.strategy is not Strategy.NONE else 0
        program = ""
        by_iteration: dict[int, str] = {}
        for attempt in record.attempts:
            if attempt.iteration == 0 or attempt.kept:
                program = attempt.program
            by_iteration[attempt.iteration] = program
        current = ""
        record.program_by_iteration = []
        for i in range(rounds + 1):
            current = by_iteration.get(i, current)
            record.program_by_iteration.append(current)

    async def evaluate(self) -> None:
        assert self.d.evaluator is not None
        verdicts: dict[str, tuple[bool, str]] = {}
        started = time.monotonic()
        for program in self.record.program_by_iteration:
            if program in verdicts:
                continue
            if not program:
                verdicts[program] = (False, "no_code")
                continue
            outcome = await self.d.evaluator(self.problem, program)
            verdicts[program] = (outcome[0], outcome[1])
            if isinstance(outcome, HiddenVerdict) and outcome.judged is not None:
                self.record.hidden_judged = outcome.judged
        self.record.eval_seconds = time.monotonic() - started
        self.record.hidden_by_iteration = [verdicts[p][0] for p in self.record.program_by_iteration]
        for attempt in self.record.attempts:
            if attempt.program in verdicts:
                attempt.hidden_passed, attempt.hidden_verdict = verdicts[attempt.program]
        await self.event(EventKind.EVALUATED, len(self.record.program_by_iteration) - 1,
                         hidden_by_iteration=self.record.hidden_by_iteration)
