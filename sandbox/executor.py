"""Run programs against tests in the pool: the sandbox's public API, sync (``Sandbox``) and asyncio
(``AsyncSandbox``).

Four kinds of run:

* ``run_tests``: assert-style snippets (each one test) or a ``check(candidate)`` function (``run_check``);
* ``run_stdio``: stdin/stdout cases, compared whitespace-tolerantly;
* ``run_calls``: call the entry point on each input and return the outputs, with no expected value;
* ``run_harness``: run a harness script that receives ``PROGRAM`` and ``PAYLOAD`` and returns via ``emit()``.

If the sandbox itself fails (a container dies, its runner stops answering), the run is retried once on a fresh
container; if that fails too, every test gets the verdict ``sandbox_error``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sandbox.compare import outputs_match
from sandbox.errors import ContainerError
from sandbox.models import ExceptionInfo, Limits, RunResult, StdioCase, TestResult, Verdict
from sandbox.pool import ContainerPool
from sandbox.runner import codec
from sandbox.settings import SandboxSettings

__all__ = ["AsyncSandbox", "Sandbox"]

log = logging.getLogger(__name__)

_STATUS = {
    "ok": Verdict.PASSED,
    "failed": Verdict.FAILED,
    "error": Verdict.ERROR,
    "timeout": Verdict.TIMEOUT,
    "memory": Verdict.MEMORY,
    "output_limit": Verdict.OUTPUT_LIMIT,
}
MAX_SHOWN_INPUT = 1000


def _overall(tests: list[TestResult]) -> Verdict:
    for test in tests:
        if test.verdict is Verdict.SANDBOX_ERROR:
            return Verdict.SANDBOX_ERROR
    return next((test.verdict for test in tests if not test.passed), Verdict.PASSED)


class Sandbox:
    """Runs untrusted code in a pool of warm Docker containers. Use as a context manager."""

    def __init__(self, settings: SandboxSettings | None = None, pool: ContainerPool | None = None) -> None:
        self.settings = settings or (pool.settings if pool else SandboxSettings())
        self.pool = pool or ContainerPool(self.settings)

    def __enter__(self) -> Sandbox:
        self.pool.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        self.pool.start()

    def close(self) -> None:
        self.pool.close()

    # ------------------------------------------------------------------ the four kinds of run

    def run_tests(self, program: str, tests: Sequence[str], *, names: Sequence[str] | None = None,
                  limits: Limits | None = None) -> RunResult:
        """Run each snippet (e.g. ``assert f(1) == 2``) after the program, in its namespace; one test each."""
        names = list(names) if names else [f"test_{i}" for i in range(len(tests))]
        request = {"kind": "tests", "program": program, "tests": [{"code": code} for code in tests]}
        return self._execute(request, names, limits)

    def run_check(self, program: str, check: str, entry_point: str, *, limits: Limits | None = None) -> RunResult:
        """HumanEval style: ``check`` defines ``check(candidate)``; it is called with the entry point."""
        return self.run_tests(program, [f"{check}\n\ncheck({entry_point})\n"], names=["check"], limits=limits)

    def run_stdio(self, program: str, cases: Sequence[StdioCase], *, limits: Limits | None = None) -> RunResult:
        """Run the program once per case with the case's stdin; compare stdout when an expectation is given."""
        names = [case.name or f"case_{i}" for i, case in enumerate(cases)]
        request = {"kind": "stdio", "program": program, "cases": [{"stdin": case.stdin} for case in cases]}
        return self._execute(request, names, limits, cases=cases)

    def run_calls(self, program: str, entry_point: str, inputs: Sequence[Sequence[Any]], *,
                  limits: Limits | None = None) -> RunResult:
        """Call ``entry_point(*args)`` for each input; each test's ``output`` holds the returned value."""
        request = {"kind": "calls", "program": program, "entry_point": entry_point,
                   "inputs": [codec.encode(list(args)) for args in inputs]}
        names = [f"input_{i}" for i in range(len(inputs))]
        return self._execute(request, names, limits)

    def run_harness(self, harness: str, *, program: str = "", payload: Any = None,
                    limits: Limits | None = None) -> RunResult:
        """Run ``harness`` with globals ``PROGRAM``, ``PAYLOAD`` and ``emit``; ``tests[0].output`` is what it
        emitted last (JSON data)."""
        request = {"kind": "harness", "program": program, "harness": harness, "payload": payload}
        return self._execute(request, ["harness"], limits)

    # ------------------------------------------------------------------ plumbing

    def effective_limits(self, limits: Limits | None) -> dict[str, Any]:
        """The pool's limits, lowered where ``limits`` asks for less."""
        s = self.settings
        values: dict[str, Any] = {
            "test_timeout": s.test_timeout,
            "cpu_time": s.cpu_time,
            "job_timeout": s.job_timeout,
            "output_bytes": s.output_bytes,
        }
        if limits is not None:
            for key, value in limits.model_dump(exclude_none=True).items():
                values[key] = min(values[key], value)
        values.update(memory_bytes=s.memory_bytes, file_bytes=s.disk_bytes, open_files=s.open_files)
        return values

    def _execute(self, request: dict[str, Any], names: list[str], limits: Limits | None,
                 cases: Sequence[StdioCase] | None = None) -> RunResult:
        if not names:
            return RunResult(verdict=Verdict.PASSED, tests=[], message="no tests to run")
        effective = self.effective_limits(limits)
        payload = {"op": "run", **request, "limits": effective}
        failure = ""
        for attempt in (1, 2):
            try:
                with self.pool.acquire() as container:
                    reply = container.request(payload, timeout=effective["job_timeout"] + self.settings.reply_margin)
                    if reply.get("killed") or not reply.get("clean", False):
                        container.dirty = True  # recycle: it had to kill, or cannot prove itself clean
                return self._result(reply, names, cases, attempt, decode=request["kind"] == "calls")
            except ContainerError as exc:
                failure = str(exc)
                log.warning("sandbox failure on attempt %d: %s", attempt, failure)
        tests = [TestResult(name=name, verdict=Verdict.SANDBOX_ERROR, message=failure) for name in names]
        return RunResult(verdict=Verdict.SANDBOX_ERROR, tests=tests, attempts=2, message=failure)

    @staticmethod
    def _result(reply: dict[str, Any], names: list[str], cases: Sequence[StdioCase] | None,
                attempt: int, *, decode: bool) -> RunResult:
        """Turn the runner's reply into verdicts. ``decode``: outputs are codec values (calls), not plain JSON."""
        raw_results = reply.get("results") or []
        if len(raw_results) != len(names):
            raise ContainerError(f"the runner answered {len(raw_results)} results for {len(names)} tests")
        tests = []
        for index, (name, raw) in enumerate(zip(names, raw_results, strict=True)):
            verdict = _STATUS.get(raw.get("status", ""), Verdict.SANDBOX_ERROR)
            test = TestResult(
                name=name,
                verdict=verdict,
                duration=float(raw.get("duration", 0.0)),
                message=str(raw.get("message", "")),
                exception=ExceptionInfo(**raw["exception"]) if raw.get("exception") else None,
                assertion=raw.get("assertion"),
                input=raw.get("input"),
                expected=raw.get("expected"),
                actual=raw.get("actual"),
                output=(codec.decode(raw["value"]) if decode else raw["value"]) if "value" in raw else None,
                stdout=raw.get("stdout", ""),
                stderr=raw.get("stderr", ""),
            )
            if cases is not None:
                case = cases[index]
                test.input = case.stdin[:MAX_SHOWN_INPUT]
                if verdict is Verdict.PASSED and case.expected is not None:
                    test.expected, test.actual = case.expected, test.stdout
                    if not outputs_match(test.stdout, case.expected):
                        test.verdict = Verdict.FAILED
                        test.message = "stdout differs from the expected output"
            tests.append(test)
        return RunResult(
            verdict=_overall(tests),
            tests=tests,
            stdout=reply.get("stdout", ""),
            stderr=reply.get("stderr", ""),
            duration=float(reply.get("duration", 0.0)),
            attempts=attempt,
        )


class AsyncSandbox:
    """The asyncio face of ``Sandbox``: the same runs, awaited; blocking work happens in threads."""

    def __init__(self, settings: SandboxSettings | None = None, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox or Sandbox(settings)

    async def __aenter__(self) -> AsyncSandbox:
        await asyncio.to_thread(self.sandbox.start)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.sandbox.close)

    async def run_tests(self, program: str, tests: Sequence[str], *, names: Sequence[str] | None = None,
                        limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_tests, program, tests, names=names, limits=limits)

    async def run_check(self, program: str, check: str, entry_point: str, *,
                        limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_check, program, check, entry_point, limits=limits)

    async def run_stdio(self, program: str, cases: Sequence[StdioCase], *, limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_stdio, program, cases, limits=limits)

    async def run_calls(self, program: str, entry_point: str, inputs: Sequence[Sequence[Any]], *,
                        limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_calls, program, entry_point, inputs, limits=limits)

    async def run_harness(self, harness: str, *, program: str = "", payload: Any = None,
                          limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_harness, harness, program=program, payload=payload,
                                       limits=limits)
