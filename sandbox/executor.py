"""Run programs against tests in the pool: the sandbox's public API, sync (``Sandbox``) and asyncio
(``AsyncSandbox``).

Four kinds of run:

* ``run_tests``: assert-style snippets (each one test) or a ``check(candidate)`` function (``run_check``),
  judged on the host where they can be read as calls (``sandbox.judging``), else run in the program's interpreter
  (``run_in_process``);
* ``run_stdio``: stdin/stdout cases, stdout compared token by token on the host (``sandbox.compare``);
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

from sandbox import judging
from sandbox.compare import outputs_match
from sandbox.container import Container
from sandbox.errors import ContainerError
from sandbox.models import Limits, RunResult, StdioCase, TestResult, Verdict
from sandbox.pool import ContainerPool
from sandbox.reply import plain_text, read_seconds, read_test
from sandbox.runner import codec
from sandbox.settings import SandboxSettings

__all__ = ["AsyncSandbox", "Sandbox"]

log = logging.getLogger(__name__)

MAX_SHOWN_INPUT = 1000


def _failed(names: list[str], message: str, attempts: int) -> RunResult:
    tests = [TestResult(name=name, verdict=Verdict.SANDBOX_ERROR, message=message) for name in names]
    return RunResult(verdict=Verdict.SANDBOX_ERROR, tests=tests, attempts=attempts, message=message)


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
        """Judge each snippet (e.g. ``assert f(1) == 2``) against the program; one test each. Asserts that call a
        function are judged on the host (``sandbox.judging``); the rest run after the program, in its namespace."""
        return judging.run_tests(self, program, tests, names=names, limits=limits)

    def run_in_process(self, program: str, tests: Sequence[str], *, names: Sequence[str] | None = None,
                       limits: Limits | None = None) -> RunResult:
        """Run each snippet after the program, in its namespace, in the same interpreter; one test each."""
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
                  limits: Limits | None = None, digest_over: int | None = None, encoded: bool = False) -> RunResult:
        """Call ``entry_point(*args)`` for each input; each test's ``output`` holds the returned value.

        ``digest_over``: a value whose JSON takes more bytes than this comes back as its sha256 (``digest``, taken
        by the runner from the bytes the child sent, never by the child) instead of the value, unless it holds a
        NaN; compare it with ``value_digest`` of the expected value. Large outputs then cost no transfer.
        ``encoded``: each input is already ``codec.encode(list(args))`` (a caller that runs the same inputs many
        times encodes them once).
        """
        request: dict[str, Any] = {"kind": "calls", "program": program, "entry_point": entry_point,
                                   "inputs": list(inputs) if encoded else [codec.encode(list(args)) for args in inputs]}
        if digest_over is not None:
            request["digest_over"] = digest_over
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
                    reply = self._request(container, payload, effective["job_timeout"] + self.settings.reply_margin)
                    if reply.get("killed") or not reply.get("clean", False):
                        container.dirty = True  # recycle: it had to kill, or cannot prove itself clean
                    try:
                        return self._result(reply, names, cases, attempt, decode=request["kind"] == "calls")
                    except Exception as exc:
                        container.dirty = True  # a runner that answers nonsense is not trusted with another job
                        if isinstance(exc, ContainerError):
                            raise
                        # A reply nobody foresaw: this run's sandbox_error, never an exception for the caller.
                        log.exception("unreadable sandbox reply")
                        return _failed(names, f"the sandbox's reply was unreadable ({type(exc).__name__})", attempt)
            except ContainerError as exc:
                failure = plain_text(str(exc))
                log.warning("sandbox failure on attempt %d: %s", attempt, failure)
        return _failed(names, failure, 2)

    @staticmethod
    def _request(container: Container, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            return container.request(payload, timeout=timeout)
        except ContainerError:
            raise
        except Exception as exc:
            # A line that is JSON but no object, or nested too deeply to parse: under gVisor the code under test
            # can write lines into the runner's reply stream (see TestGVisor in tests/sandbox/test_security.py).
            container.dirty = True
            raise ContainerError(f"the runner's reply was unreadable ({type(exc).__name__})") from exc

    @staticmethod
    def _result(reply: dict[str, Any], names: list[str], cases: Sequence[StdioCase] | None,
                attempt: int, *, decode: bool) -> RunResult:
        """Turn the runner's reply into verdicts. ``decode``: outputs are codec values (calls), not plain JSON."""
        raw_results = reply.get("results") or []
        if not isinstance(raw_results, list):
            raise ContainerError(f"the runner answered a JSON {type(raw_results).__name__} for the results")
        if len(raw_results) != len(names):
            raise ContainerError(f"the runner answered {len(raw_results)} results for {len(names)} tests")
        tests = []
        for index, (name, raw) in enumerate(zip(names, raw_results, strict=True)):
            test = read_test(name, raw, decode=decode)  # every field from the sandbox made plain and encodable
            if cases is not None:
                case = cases[index]
                test.judged = "host"  # stdout is compared here, never in the sandbox
                test.input = plain_text(case.stdin[:MAX_SHOWN_INPUT])
                if test.verdict is Verdict.PASSED and case.expected is not None:
                    test.expected, test.actual = plain_text(case.expected), test.stdout
                    if not outputs_match(test.stdout, case.expected):
                        test.verdict = Verdict.FAILED
                        test.message = "stdout differs from the expected output"
            tests.append(test)
        return RunResult(
            verdict=_overall(tests),
            tests=tests,
            stdout=plain_text(reply.get("stdout")),
            stderr=plain_text(reply.get("stderr")),
            duration=read_seconds(reply.get("duration")),
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
                        limits: Limits | None = None, digest_over: int | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_calls, program, entry_point, inputs, limits=limits,
                                       digest_over=digest_over)

    async def run_harness(self, harness: str, *, program: str = "", payload: Any = None,
                          limits: Limits | None = None) -> RunResult:
        return await asyncio.to_thread(self.sandbox.run_harness, harness, program=program, payload=payload,
                                       limits=limits)
