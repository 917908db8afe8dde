"""Assert-style tests judged on the host: the sandbox only calls the function, the host compares.

Code under test that shares an interpreter with its asserts can fool them (an object whose ``__eq__`` is always
true, ``sys.settrace`` jumping over the assert, reading the assert's source for the expected value, patching the
runner). So a test that ``sandbox.asserts`` can read as calls is judged this way instead:

1. its arguments and expected values that are not literals are computed in a run without the program
   (``sandbox.expressions``);
2. one ``calls`` run loads the program and calls, for each assert, its call side (``f(a)``, ``sorted(f(a))``) on
   fresh copies of the arguments; each value comes back encoded by the codec, so it is plain data on the host (a
   program's own class, or a subclass of int, str or list, cannot survive the trip with its methods);
3. the host compares each value with the expected one, with Python's semantics for plain data.

The expected value never enters a sandbox with the program. A value that is not plain data (the codec could carry
only its repr) fails its comparison, with a message saying so. Tests that cannot be read this way run in the
program's interpreter as before; every result says which way it was judged (``TestResult.judged``).

The cases of one test run in order in one process, as the test's asserts would, and the run as a whole gets the
time the test would have had (``test_timeout`` per test plus one for loading). A test's result is its first case
that did not pass, with that case's input, expected and actual values.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.asserts import (
    ARGS,
    Abs,
    Actual,
    CallCase,
    Compare,
    Difference,
    Given,
    IsClose,
    Operand,
    Term,
    TestReading,
    Truth,
    read_test,
)
from sandbox.expressions import ExpressionValues, is_plain
from sandbox.models import ExceptionInfo, Limits, RunResult, TestResult, Verdict
from sandbox.runner import codec

if TYPE_CHECKING:
    from sandbox.executor import Sandbox

__all__ = ["EXPRESSIONS", "TestPlan", "plan_tests", "run_tests"]

ENTRY = "__selfdebug_probe__"
PROBES = "__selfdebug_probes__"
TRUTH = "__selfdebug_truth__"
MAX_SHOWN_ARGUMENT = 200
EXPRESSIONS = ExpressionValues()  # shared by every sandbox of the process: outcomes depend only on the source
_SOLUTION_FRAME = re.compile(r'^  File "<solution>", line (\d+), in ')
_DECODE_FAILURES = (ValueError, TypeError, KeyError, RecursionError)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b, "is": operator.is_, "is not": operator.is_not,
}


@dataclass
class TestPlan:
    """How one test will be judged: on the host (``reading.cases`` with every operand's value), or in process."""

    __test__ = False  # not a pytest class, despite the name

    reading: TestReading
    values: dict[tuple[str, str], Any] = field(default_factory=dict)  # (setup, source) -> computed value
    reason: str = ""  # why the test runs in process

    @property
    def on_host(self) -> bool:
        return self.reading.on_host and not self.reason

    def value(self, operand: Operand) -> Any:
        if operand.literal:
            return operand.value
        return codec.decode(self.values[(self.reading.setup, operand.source)])


def plan_tests(sandbox: Sandbox, tests: Sequence[str], limits: Limits | None = None) -> list[TestPlan]:
    """Read every test and compute the values its asserts need (one sandboxed run for all, none if all are
    literals or cached)."""
    plans = [TestPlan(reading=read_test(test)) for test in tests]
    wanted: list[tuple[str, str | None]] = []
    for plan in plans:
        if not plan.reading.on_host:
            plan.reason = plan.reading.reason
            continue
        wanted += _wanted(plan.reading)
    if not wanted:
        return plans
    outcomes = EXPRESSIONS.compute(sandbox, wanted, limits)
    for plan in plans:
        for key in _wanted(plan.reading) if plan.on_host else []:
            outcome = outcomes[key]
            if not outcome.ok:
                plan.reason = f"{key[1]}: {outcome.error}" if key[1] is not None else outcome.error
                break
            if key[1] is not None:
                plan.values[(key[0], key[1])] = outcome.encoded
    return plans


def _wanted(reading: TestReading) -> list[tuple[str, str | None]]:
    keys: list[tuple[str, str | None]] = [(reading.setup, None)] if reading.setup else []
    for case in reading.cases:
        keys += [(reading.setup, operand.source) for operand in case.operands() if not operand.literal]
    return keys


def run_tests(sandbox: Sandbox, program: str, tests: Sequence[str], *, names: Sequence[str] | None = None,
              limits: Limits | None = None) -> RunResult:
    """Judge each test on the host if it can be read as calls, else run it in the program's interpreter."""
    names = list(names) if names else [f"test_{i}" for i in range(len(tests))]
    if not tests:
        return sandbox.run_in_process(program, tests, names=names, limits=limits)
    plans = plan_tests(sandbox, tests, limits)
    results: list[TestResult | None] = [None] * len(tests)
    runs: list[RunResult] = []
    host = [index for index, plan in enumerate(plans) if plan.on_host]
    if host:
        run, judged = _Host(sandbox, program, [(index, names[index], plans[index]) for index in host]).run(limits)
        runs.append(run)
        for index, result in zip(host, judged, strict=True):
            results[index] = result
    if len(host) < len(tests):
        # The host's tests become "pass" here, so each test keeps its index (its file name <test i>) and nothing
        # of theirs reaches this run.
        sources = [test if not plan.on_host else "pass" for test, plan in zip(tests, plans, strict=True)]
        run = sandbox.run_in_process(program, sources, names=names, limits=limits)
        runs.append(run)
        for index, (plan, result) in enumerate(zip(plans, run.tests, strict=True)):
            if not plan.on_host:
                results[index] = result.model_copy(update={"judged": "in_process", "asserts": plan.reading.asserts})
    tests_out = [result for result in results if result is not None]
    return RunResult(
        verdict=_overall(tests_out),
        tests=tests_out,
        stdout="".join(run.stdout for run in runs),
        stderr="".join(run.stderr for run in runs),
        duration=sum(run.duration for run in runs),
        attempts=max(run.attempts for run in runs),
        message="; ".join(run.message for run in runs if run.message),
    )


def _overall(tests: list[TestResult]) -> Verdict:
    if any(test.verdict is Verdict.SANDBOX_ERROR for test in tests):
        return Verdict.SANDBOX_ERROR
    return next((test.verdict for test in tests if not test.passed), Verdict.PASSED)


# ---------------------------------------------------------------- the calls run


class _Host:
    """One ``calls`` run for the cases of every host-judged test, and their verdicts."""

    def __init__(self, sandbox: Sandbox, program: str, tests: list[tuple[int, str, TestPlan]]) -> None:
        self.sandbox = sandbox
        self.tests = tests
        program = program if program.endswith("\n") or not program else program + "\n"
        self.first_line = program.count("\n") + 1  # where the appended probes start: frames there are the test's
        probes: dict[str, int] = {}
        appendix: dict[str, None] = {}
        self.inputs: list[list[Any]] = []
        self.cases: list[tuple[int, TestPlan, CallCase]] = []
        for index, _, plan in tests:
            if plan.reading.appendix:
                appendix.setdefault(plan.reading.appendix)
            for case in plan.reading.cases:
                number = probes.setdefault(case.probe, len(probes))
                self.inputs.append([number, [plan.value(argument.operand) for argument in case.arguments]])
                self.cases.append((index, plan, case))
        lines = [*appendix,
                 f"def {TRUTH}(value):", "    return (True if value else False), value",
                 f"def {ENTRY}(case, {ARGS}):", f"    return {PROBES}[case]({ARGS})",
                 f"{PROBES} = (", *(f"    lambda {ARGS}: {probe}," for probe in probes), ")"]
        self.program = program + "\n".join(lines) + "\n"

    def limits(self, limits: Limits | None) -> Limits:
        """The caller's limits, with the run's wall time held to what the tests would have had in process."""
        effective = self.sandbox.effective_limits(limits)
        job = min(effective["job_timeout"], effective["test_timeout"] * (1 + len(self.tests)))
        return (limits or Limits()).model_copy(update={"job_timeout": job})

    def run(self, limits: Limits | None) -> tuple[RunResult, list[TestResult]]:
        try:
            run = self.sandbox.run_calls(self.program, ENTRY, self.inputs, limits=self.limits(limits))
            calls: list[TestResult] = run.tests
        except _DECODE_FAILURES:
            # Only a runner that the program tampered with answers values that do not decode.
            message = "the run's answer does not decode: the program tampered with the sandbox's runner"
            calls = [TestResult(name=f"input_{i}", verdict=Verdict.ERROR, message=message)
                     for i in range(len(self.inputs))]
            run = RunResult(verdict=Verdict.ERROR, tests=calls, message=message)
        verdicts: dict[int, list[_CaseVerdict]] = {index: [] for index, _, _ in self.tests}
        for (index, plan, case), call in zip(self.cases, calls, strict=True):
            verdicts[index].append(_judge(case, plan, call, self.frame(index, case)))
        judged = [_aggregate(name, verdicts[index]) for index, name, _ in self.tests]
        return run, judged

    def frame(self, index: int, case: CallCase) -> _Frames:
        return _Frames([f'  File "<test {index}>", line {case.line}, in {case.scope}', f"    {case.line_text}"],
                       self.first_line)


@dataclass
class _Frames:
    """The assert's frame in its test, and how to put it in place of the probe's frames in a traceback."""

    test: list[str]
    first_line: int  # of the probes in the program that ran

    def rewrite(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        placed, dropping = False, False
        for line in lines:
            if line.startswith('  File "'):
                match = _SOLUTION_FRAME.match(line)
                dropping = match is not None and int(match.group(1)) >= self.first_line
                if dropping and not placed:
                    out += self.test
                    placed = True
            if not dropping:  # a dropped frame's source line and its carets go with it
                out.append(line)
        return out


# ---------------------------------------------------------------- judging one case


@dataclass
class _CaseVerdict:
    verdict: Verdict
    call: TestResult
    message: str = ""
    exception: ExceptionInfo | None = None
    assertion: str | None = None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None


def _judge(case: CallCase, plan: TestPlan, call: TestResult, frames: _Frames) -> _CaseVerdict:
    shown_input = ", ".join(f"{argument.prefix}{_show(plan.value(argument.operand), MAX_SHOWN_ARGUMENT)}"
                            for argument in case.arguments)
    expected = _expected(case.check)
    shown_expected = None if expected is None else _show(plan.value(expected))
    evidence = {"assertion": case.assertion, "input": shown_input, "expected": shown_expected}
    if not call.passed:
        exception = call.exception
        if exception is not None:
            exception = exception.model_copy(update={"traceback": frames.rewrite(exception.traceback)})
        return _CaseVerdict(call.verdict, call, call.message, exception, **evidence)
    value = call.output
    test_frame = frames.test
    if isinstance(case.check, Truth):
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool)):
            return _CaseVerdict(Verdict.ERROR, call, "the run answered a malformed truth value", None, **evidence)
        truth, value = value
        passed = truth is case.check.expect
    else:
        if not (is_plain(value) or _identity_check(case.check)):
            message = (f"{case.function} returned {_show(value)}, which is not plain data (an object the sandbox "
                       "can carry only as its repr), so it cannot be compared with the expected value")
            return _CaseVerdict(Verdict.FAILED, call, message, None, **evidence, actual=_show(value))
        try:
            passed = _holds(case.check, value, plan)
        except Exception as exc:  # what the comparison raises, as the assert would have raised it
            info = ExceptionInfo(type=type(exc).__name__, message=str(exc)[: codec.MAX_REPR], traceback=test_frame)
            return _CaseVerdict(Verdict.ERROR, call, "", info, **evidence, actual=_show(value))
    if passed:
        return _CaseVerdict(Verdict.PASSED, call)
    info = ExceptionInfo(type="AssertionError", message=case.message or "", traceback=test_frame)
    return _CaseVerdict(Verdict.FAILED, call, "", info, **evidence, actual=_show(value))


def _identity_check(check: Compare | IsClose | Truth) -> bool:
    return isinstance(check, Compare) and check.ops in (("is",), ("is not",))


def _expected(check: Compare | IsClose | Truth) -> Operand | None:
    """The operand shown as "expected": the first one the check names (``X`` in ``abs(f(a) - X) < eps``)."""
    if isinstance(check, Truth):
        return None
    terms: list[Term] = list(check.items) if isinstance(check, Compare) else [check.left, check.right]
    while terms:
        term = terms.pop(0)
        if isinstance(term, Given):
            return term.operand
        if isinstance(term, Abs):
            terms.insert(0, term.term)
        elif isinstance(term, Difference):
            terms[:0] = [term.left, term.right]
    return None


def _holds(check: Compare | IsClose | Truth, actual: Any, plan: TestPlan) -> bool:
    """Evaluates the check on plain values, as Python would (comparison chains stop at the first false link)."""

    def value(term: Term) -> Any:
        if isinstance(term, Actual):
            return actual
        if isinstance(term, Given):
            return plan.value(term.operand)
        if isinstance(term, Abs):
            return abs(value(term.term))
        return value(term.left) - value(term.right)

    if isinstance(check, Compare):
        left = value(check.items[0])
        for op, item in zip(check.ops, check.items[1:], strict=True):
            right = value(item)
            if not _COMPARE[op](left, right):
                return False
            left = right
        return True
    if isinstance(check, IsClose):
        tolerances = {name: value(term) for name, term in (("rel_tol", check.rel_tol), ("abs_tol", check.abs_tol))
                      if term is not None}
        return math.isclose(value(check.left), value(check.right), **tolerances)
    raise TypeError(f"not a value check: {check!r}")


def _aggregate(name: str, cases: list[_CaseVerdict]) -> TestResult:
    """One test's result from its cases': the first that did not pass decides, as the first failing assert
    would have stopped the test."""
    failing = next((case for case in cases if case.verdict is Verdict.SANDBOX_ERROR), None) or next(
        (case for case in cases if case.verdict is not Verdict.PASSED), None)
    common: dict[str, Any] = {
        "name": name,
        "duration": sum(case.call.duration for case in cases),
        "stdout": "".join(case.call.stdout for case in cases),
        "stderr": "".join(case.call.stderr for case in cases),
        "judged": "host",
        "asserts": len(cases),
    }
    if failing is None:
        return TestResult(verdict=Verdict.PASSED, **common)
    return TestResult(verdict=failing.verdict, message=failing.message, exception=failing.exception,
                      assertion=failing.assertion, input=failing.input, expected=failing.expected,
                      actual=failing.actual, **common)


def _show(value: Any, limit: int = codec.MAX_REPR) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4300-digit str() limit
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2 :]
