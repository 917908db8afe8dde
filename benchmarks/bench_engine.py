"""Benchmark the self-debugging engine's own cost against the sandbox work it asks for (issue 3, section 4).

``selfdebug run --dataset humaneval --strategy post_execution`` over all 164 problems, built the way
``selfdebug_cli/local.py`` builds it (``Debugger`` on an ``AsyncSandbox`` over one warm pool of 2 containers,
``run_batch`` into a temporary folder with concurrency 2, the hidden-test ``Judge`` as evaluator), except that the
model is an instant ``ScriptedModel``:

* generation: the canonical solution for every 4th problem (``right-first``), otherwise the prompt with the body
  ``return None`` (wrong);
* tests: up to 20 assert lines, the problem's visible tests (``given_tests``) then the asserts of its hidden
  ``check()`` with ``candidate`` renamed to the entry point, of which the parser keeps up to 10 (repeats dropped);
  for ``bad-test`` problems (index % 4 == 3) one expected value is made wrong, as model-written tests often are;
* repair: the canonical solution, every time.

So the mix is: ``right-first`` runs its self-tests once and stops (tests pass); ``repaired`` (index % 4 in 1, 2)
fails round 1, is repaired, passes in round 2; ``bad-test`` fails both rounds (the canonical program cannot pass the
wrong test) and stops at max iterations. Each distinct program in force is then judged on the hidden tests.

Every call the engine makes on the ``Sandbox`` (self-tests through ``AsyncSandbox``, hidden tests through the
``Judge``) is recorded with its arguments and replayed in the same process directly against ``Sandbox`` with 2 worker
threads: that is "the same executions in the sandbox alone". The engine and the replay each get a fresh pool of 2
containers, started and given one trivial job each before the clock starts, so neither pays for the other's
container recycling (``recycle_after``) or for a first job. Odd rounds run the engine first, even rounds replay the
previous round's (identical) runs first. Besides the ratio, each round prints the split of the engine's time (the
records' ``sandbox_seconds`` and ``llm_seconds``, the recorded calls, how long a container slot sat idle) and the
engine's wall over its own sandbox calls packed on 2 slots, a figure the machine's load cannot skew between the
two phases. The script exits non-zero if a problem crashed, a final program fails its hidden tests, the mix is not
the designed one, or the replay's runs or verdicts differ from the engine's.

    .venv/bin/python benchmarks/bench_engine.py [--limit N] [--repeat R] [--keep DIR]
    .venv/bin/python benchmarks/bench_engine.py --smoke    # the first 8 problems, one round (CI)

The last line is ``engine/sandbox-alone = X.XXx (target < 2)`` (the median over repeats).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import contextvars
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any

from sandbox import AsyncSandbox, RunResult, Sandbox, SandboxSettings
from selfdebug.batch import run_batch, write_report
from selfdebug.datasets import Dataset, load_dataset
from selfdebug.evaluation import EvaluationSettings, Judge, judged_counts
from selfdebug.llm import ScriptedCall, ScriptedModel
from selfdebug.loop import SELF_TEST_LIMITS, Debugger, Evaluator, HiddenVerdict
from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord, StopReason

CONCURRENCY = 2  # selfdebug run's default, and the pool's size
POOL_SIZE = 2
MAX_ITERATIONS = 2
NUM_TESTS = 10
TARGET = 2.0
METHODS = ("run_tests", "run_check", "run_stdio", "run_calls", "run_harness")
WRONG_VALUE = "'a value no function here returns'"

_task: contextvars.ContextVar[str] = contextvars.ContextVar("task", default="?")


# ---------------------------------------------------------------- the scripted model


def _kind(index: int) -> str:
    return ("right-first", "repaired", "repaired", "bad-test")[index % 4]


def _fence(code: str) -> str:
    return f"```python\n{code.strip(chr(10))}\n```"


class _Rename(ast.NodeTransformer):
    def __init__(self, name: str) -> None:
        self.name = name

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id=self.name, ctx=node.ctx) if node.id == "candidate" else node


def hidden_asserts(problem: Problem) -> list[str]:
    """The asserts written directly in the body of the problem's ``check(candidate)``, calling the entry point."""
    if not problem.test or not problem.entry_point:
        return []
    tree = ast.parse(problem.test)
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    rename = _Rename(problem.entry_point)
    return [ast.unparse(rename.visit(stmt)) for check in checks for stmt in check.body if isinstance(stmt, ast.Assert)]


def _spoil(asserts: list[str], entry_point: str) -> list[str]:
    """The same asserts with the first ``f(...) == expected`` made wrong (a test no correct program passes)."""
    for i, text in enumerate(asserts):
        node = ast.parse(text).body[0]
        if (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
                and isinstance(node.test.ops[0], ast.Eq) and isinstance(node.test.left, ast.Call)
                and isinstance(node.test.left.func, ast.Name) and node.test.left.func.id == entry_point):
            spoiled = f"assert {ast.unparse(node.test.left)} == {WRONG_VALUE}"
            return [*asserts[:i], spoiled, *asserts[i + 1:]]
    return asserts


def self_tests(problem: Problem, kind: str) -> list[str]:
    # visible tests often repeat in check(): the parser drops repeats, so offer up to twice what is asked for
    seen: dict[str, None] = dict.fromkeys([*problem.given_tests, *hidden_asserts(problem)])
    asserts = list(seen)[: 2 * NUM_TESTS]
    return _spoil(asserts, problem.entry_point or "") if kind == "bad-test" else asserts


@dataclass
class Script:
    """Answers each call of the loop from the problem named in the prompt; counts the calls by kind."""

    problems: list[Problem]
    by_prompt: dict[str, tuple[int, Problem]] = field(init=False)
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.by_prompt = {p.prompt.strip("\n"): (i, p) for i, p in enumerate(self.problems)}

    def problem(self, text: str) -> tuple[int, Problem]:
        start = text.find("```python\n")
        if start >= 0:
            end = text.find("\n```", start + 10)
            found = self.by_prompt.get(text[start + 10:end])
            if found is not None:
                return found
        for key, found in self.by_prompt.items():  # fallback: a prompt with a fence of its own
            if key in text:
                return found
        raise LookupError(f"no problem in the prompt {text[:200]!r}")

    def __call__(self, call: ScriptedCall) -> str:
        text = call.prompt
        index, problem = self.problem(text)
        kind = _kind(index)
        assert problem.canonical_solution is not None
        if text.startswith("Complete the following"):
            self.calls["generation"] += 1
            if kind == "right-first":
                return _fence(problem.canonical_solution)
            return _fence(problem.prompt.rstrip() + "\n    return None\n")
        if text.startswith("Write "):
            self.calls["tests"] += 1
            return _fence("\n".join(self_tests(problem, kind)))
        if text.startswith("The task:"):
            self.calls["repair"] += 1
            return _fence(problem.canonical_solution)
        raise LookupError(f"an unexpected call: {text[:200]!r}")


# ---------------------------------------------------------------- recording and replaying sandbox calls


@dataclass
class Call:
    """One sandbox run as the engine asked for it, with what it took and how it ended."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    task: str
    origin: str  # "self-test" or "hidden"
    started: float = 0.0  # time.perf_counter() at the call
    seconds: float = 0.0
    verdict: str = ""


class Recorder:
    """Wraps the public run methods of one ``Sandbox`` instance; a run made inside another (run_check calls
    run_tests) is recorded once, as the outer call."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.calls: list[Call] = []
        self.recording = False
        self._lock = threading.Lock()
        self._local = threading.local()
        for name in METHODS:
            original: Callable[..., RunResult] = getattr(sandbox, name)
            setattr(sandbox, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Callable[..., RunResult]) -> Callable[..., RunResult]:
        @wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> RunResult:
            depth = getattr(self._local, "depth", 0)
            if depth or not self.recording:
                return original(*args, **kwargs)
            origin = "self-test" if kwargs.get("limits") is SELF_TEST_LIMITS else "hidden"
            call = Call(name, args, dict(kwargs), _task.get(), origin)
            self._local.depth = depth + 1
            call.started = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                call.seconds = time.perf_counter() - call.started
                self._local.depth = depth
            call.verdict = str(result.verdict)
            with self._lock:
                self.calls.append(call)
            return result

        return wrapper



def replay(sandbox: Sandbox, calls: Sequence[Call], workers: int) -> tuple[float, list[tuple[float, str]]]:
    """Run ``calls`` again on ``sandbox``, in their order, on ``workers`` threads; (wall, [(seconds, verdict)])."""

    def one(call: Call) -> tuple[float, str]:
        started = time.perf_counter()
        result: RunResult = getattr(sandbox, call.method)(*call.args, **call.kwargs)
        return time.perf_counter() - started, str(result.verdict)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replay") as executor:
        results = list(executor.map(one, calls))
    return time.perf_counter() - started, results


# ---------------------------------------------------------------- the engine, as selfdebug run builds it


class TaggedDebugger(Debugger):
    """A ``Debugger`` that names the problem in a context variable, so sandbox calls can be attributed to it
    (``asyncio.to_thread`` carries context variables into its thread)."""

    async def run(self, problem: Problem, on_event: Any = None, *, seed: str | None = None) -> DebugRecord:
        _task.set(problem.task_id)
        return await super().run(problem, on_event, seed=seed)


def evaluator_for(sandbox: Sandbox, dataset: Dataset) -> Evaluator:
    judge = Judge(sandbox, dataset, EvaluationSettings())

    async def evaluate(problem: Problem, program: str) -> HiddenVerdict:  # as selfdebug_cli/local.py does
        result = await asyncio.to_thread(judge.evaluate_program, problem, program)
        return HiddenVerdict(result.passed, str(result.verdict), judged_counts([result]))

    return evaluate


@dataclass
class EngineRun:
    started: float
    wall: float
    report_seconds: float
    records: list[DebugRecord]
    calls: list[Call]
    script: Script


async def run_engine(sandbox: Sandbox, dataset: Dataset, problems: list[Problem], output: Path,
                     recorder: Recorder) -> EngineRun:
    script = Script(problems)
    model = ScriptedModel(default=script)
    options = DebugOptions(strategy=Strategy.POST_EXECUTION, feedback=Feedback.DETAIL,
                           max_iterations=MAX_ITERATIONS, num_tests=NUM_TESTS)
    debugger = TaggedDebugger(model, AsyncSandbox(sandbox=sandbox), options,
                              evaluator=evaluator_for(sandbox, dataset))
    recorder.calls = []
    recorder.recording = True
    started = time.perf_counter()
    try:
        records = await run_batch(problems, debugger, output / dataset.name, concurrency=CONCURRENCY)
    finally:
        recorder.recording = False
    wall = time.perf_counter() - started
    started += wall
    write_report(output / dataset.name, title=f"Self-debugging on {dataset.name}")
    report_seconds = time.perf_counter() - started
    return EngineRun(started - wall, wall, report_seconds, records, list(recorder.calls), script)


# ---------------------------------------------------------------- checks and printing


def check_mix(problems: list[Problem], records: list[DebugRecord], calls: list[Call]) -> list[str]:
    """What differs from the designed run; empty when every problem did what its kind says."""
    runs = Counter(c.task for c in calls if c.origin == "self-test")
    expected = {"right-first": (StopReason.TESTS_PASS, 1), "repaired": (StopReason.TESTS_PASS, 2),
                "bad-test": (StopReason.MAX_ITERATIONS, 2)}
    problems_found = []
    for index, (problem, record) in enumerate(zip(problems, records, strict=True)):
        stop, n = expected[_kind(index)]
        if record.error or record.stop_reason != stop or runs[problem.task_id] != n or not record.final_passed:
            problems_found.append(f"{problem.task_id} ({_kind(index)}): stop {record.stop_reason}, "
                                  f"{runs[problem.task_id]} self-test runs, final passed {record.final_passed}, "
                                  f"usable tests {record.self_tests.usable}, error {record.error}")
    return problems_found


def describe(run: EngineRun, problems: list[Problem]) -> None:
    records = run.records
    kinds = Counter(_kind(i) for i in range(len(problems)))
    stops = Counter(r.stop_reason for r in records)
    self_runs = Counter(Counter(c.task for c in run.calls if c.origin == "self-test")[p.task_id] for p in problems)
    hidden = Counter(c.origin for c in run.calls)["hidden"]
    usable = [r.self_tests.usable for r in records]
    print(f"problems: {len(problems)}  kinds: {dict(kinds)}")
    print(f"stop reasons: {dict(stops)}  self-test runs per problem: {dict(sorted(self_runs.items()))}")
    print(f"model calls: {dict(run.script.calls)}  self-tests per problem: mean {statistics.mean(usable):.1f}, "
          f"min {min(usable)}, max {max(usable)}")
    by_iteration = [sum(r.hidden_by_iteration[i] for r in records) for i in range(MAX_ITERATIONS + 1)]
    print(f"sandbox runs: {len(run.calls)} ({len(run.calls) - hidden} self-test, {hidden} hidden-test); "
          f"hidden pass@1 by iteration: {by_iteration} of {len(records)}")


def occupancy(run: EngineRun) -> list[float]:
    """Seconds of the engine's wall time during which 0, 1, 2, ... sandbox calls were in flight."""
    edges = sorted([(c.started, 1) for c in run.calls] + [(c.started + c.seconds, -1) for c in run.calls])
    seconds = [0.0] * (CONCURRENCY + 2)
    level, last = 0, run.started
    for at, step in edges:
        seconds[min(level, CONCURRENCY + 1)] += at - last
        level, last = level + step, at
    seconds[0] += run.started + run.wall - last
    return seconds[: CONCURRENCY + 1] if seconds[CONCURRENCY + 1] == 0 else seconds


def split(run: EngineRun) -> None:
    """Where the engine's time went, per problem summed (2 problems run at once, so the sums are ~2x the wall)."""
    records = run.records
    total = sum(r.seconds for r in records)
    self_test = sum(r.sandbox_seconds for r in records)  # the loop's own timing of its self-test runs
    llm = sum(r.llm_seconds for r in records)
    by_origin: dict[str, float] = defaultdict(float)
    for call in run.calls:
        by_origin[call.origin] += call.seconds
    hidden_in_thread = by_origin["hidden"]
    # records.seconds covers the loop and the evaluation; the evaluator's await is not timed in the record
    other = total - self_test - hidden_in_thread - llm
    print(f"engine, summed over problems: {total:.2f}s = self-test sandbox {self_test:.2f}s (records' "
          f"sandbox_seconds) + hidden-test sandbox {hidden_in_thread:.2f}s + model {llm:.3f}s (records' "
          f"llm_seconds) + everything else {other:.2f}s ({100 * other / total:.1f}%)")
    inside = by_origin["self-test"]
    print(f"  sandbox calls' own time (in the worker thread): self-test {inside:.2f}s, hidden {hidden_in_thread:.2f}s;"
          f" await overhead on self-tests (to_thread hand-off) {self_test - inside:.2f}s")
    busy = occupancy(run)
    idle = sum(t * max(CONCURRENCY - n, 0) for n, t in enumerate(busy)) / CONCURRENCY
    in_flight = ", ".join(f"{n}: {t:.2f}s" for n, t in enumerate(busy))
    print(f"  engine wall by sandbox calls in flight: {in_flight}; a container slot idle {idle:.2f}s of "
          f"{run.wall:.2f}s ({100 * idle / run.wall:.1f}%)")
    print(f"  batch plumbing outside Debugger.run (result writes, scheduling): "
          f"{CONCURRENCY * run.wall - total:.2f}s of {CONCURRENCY} x {run.wall:.2f}s; "
          f"write_report after the batch: {run.report_seconds:.2f}s (not in the ratio)")


def _key(call: Call) -> str:
    return repr((call.method, call.args, sorted(call.kwargs.items())))


@contextlib.contextmanager
def fresh_pool(name: str) -> Iterator[Sandbox]:
    """A new warm pool (its start is not timed), so the engine and the replay each begin with unused containers
    and neither pays for the other's recycling (a container is replaced after ``recycle_after`` jobs)."""
    started = time.perf_counter()
    sandbox = Sandbox(SandboxSettings(pool_size=POOL_SIZE))
    sandbox.start()
    try:
        with ThreadPoolExecutor(max_workers=POOL_SIZE) as executor:  # a first job on each container, untimed
            list(executor.map(lambda _: sandbox.run_tests("x = 1", ["assert x == 1"]), range(2 * POOL_SIZE)))
        ready = time.perf_counter() - started
        jobs = sandbox.pool.usage()["jobs"]
        yield sandbox
        usage = sandbox.pool.usage()
        print(f"{name}: pool of {POOL_SIZE} started and warmed in {ready:.2f}s (not timed); "
              f"{usage['jobs'] - jobs} jobs, {usage['recycled']} containers recycled")
    finally:
        sandbox.close()


@dataclass
class Replay:
    calls: list[Call]
    wall: float
    results: list[tuple[float, str]]  # (seconds, verdict) per call
    first: bool  # run before the engine in its round


def replay_alone(calls: list[Call], *, first: bool) -> Replay:
    with fresh_pool("sandbox alone") as sandbox:
        wall, results = replay(sandbox, calls, CONCURRENCY)
    return Replay(calls, wall, results, first)


def verify(problems: list[Problem], run: EngineRun, alone: Replay) -> bool:
    """Print what is not as designed; True when everything is."""
    wrong = check_mix(problems, run.records, run.calls)
    if sorted(map(_key, alone.calls)) != sorted(map(_key, run.calls)):
        wrong.append("the replayed runs are not the same set as this round's engine runs")
    wrong += [f"replay verdict differs: {c.task} {c.method} engine {c.verdict}, alone {verdict}"
              for c, (_, verdict) in zip(alone.calls, alone.results, strict=True) if c.verdict != verdict]
    for line in wrong[:10]:
        print(f"  NOT AS DESIGNED: {line}")
    return not wrong


def compare(problems: list[Problem], run: EngineRun, alone: Replay) -> float:
    """Print the round's figures; return engine wall / sandbox-alone wall."""
    engine_call = statistics.mean(c.seconds for c in run.calls)
    alone_call = statistics.mean(seconds for seconds, _ in alone.results)
    print(f"engine wall (run_batch, {len(problems)} problems, concurrency {CONCURRENCY}): {run.wall:.2f}s")
    print(f"sandbox alone (the same {len(alone.calls)} runs replayed on {CONCURRENCY} threads, "
          f"{'before' if alone.first else 'after'} the engine): {alone.wall:.2f}s")
    print(f"mean sandbox call: {1000 * engine_call:.1f} ms in the engine, {1000 * alone_call:.1f} ms alone")
    split(run)
    packed = sum(c.seconds for c in run.calls) / CONCURRENCY
    print(f"engine wall / its own sandbox calls packed on {CONCURRENCY} slots ({packed:.2f}s) = "
          f"{run.wall / packed:.2f}x (insensitive to the machine's load drifting between the two phases)")
    return run.wall / alone.wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N problems (default: all 164).")
    parser.add_argument("--repeat", type=int, default=1, help="Engine run + replay pairs (median reported).")
    parser.add_argument("--keep", type=Path, default=None, help="Write the runs' results here, not a temp folder.")
    parser.add_argument("--smoke", action="store_true", help="The first 8 problems (two of each kind), one round.")
    args = parser.parse_args(argv)
    if args.smoke:
        args.limit, args.repeat = 8, 1

    dataset = load_dataset("humaneval")
    problems = list(dataset)[: args.limit]
    ratios = []
    ok = True
    previous: list[Call] | None = None
    for round_ in range(1, args.repeat + 1):
        print(f"\n== round {round_}")
        # Odd rounds run the engine first; even rounds replay the previous round's (identical) runs first, so
        # neither side always goes first on a machine whose load drifts.
        alone = replay_alone(previous, first=True) if previous is not None and round_ % 2 == 0 else None
        output = Path(tempfile.mkdtemp(prefix="bench-engine-")) if args.keep is None else args.keep / str(round_)
        try:
            with fresh_pool("engine") as sandbox:
                run = asyncio.run(run_engine(sandbox, dataset, problems, output, Recorder(sandbox)))
        finally:
            if args.keep is None:
                shutil.rmtree(output, ignore_errors=True)
        if alone is None:
            alone = replay_alone(run.calls, first=False)
        previous = run.calls
        describe(run, problems)
        ok = verify(problems, run, alone) and ok
        ratios.append(compare(problems, run, alone))
        print(f"round {round_}: engine/sandbox-alone = {ratios[-1]:.2f}x")
    if not ok:
        print("the run was not as designed (see above): the figures below are not a result", file=sys.stderr)
    print(f"engine/sandbox-alone = {statistics.median(ratios):.2f}x (target < {TARGET:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
