"""The four actions on a function: *Self-debug this function*, *Trace and repair*, *Generate tests*, *Run tests
in the sandbox*. Each talks to the service through the SDK only, says every failure in the editor, and never lets
one take the server down."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from selfdebug_client import AsyncClient, ExecutionResult, Job, JobStatus, TestOutcome
from selfdebug_lsp.diagnostics import Finding
from selfdebug_lsp.editor import Editor, Progress
from selfdebug_lsp.errors import Busy, FunctionChanged, LspError, NoFunction, NotConfigured, describe
from selfdebug_lsp.functions import Function, find_function, prompt_for, replacement
from selfdebug_lsp.jobs import first_self_tests, run_job
from selfdebug_lsp.progress import describe_event, describe_verdict
from selfdebug_lsp.settings import DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, LspSettings
from selfdebug_lsp.usertests import UserTest, doctest_asserts, files_with_tests, user_tests_in

__all__ = ["Actions", "Target"]

MAX_TASK_ID = 200  # the API's limits (its defaults): a task id's length, visible and hidden tests, one test's size
MAX_GIVEN_TESTS, MAX_TESTS, MAX_TEST_CHARS = 50, 200, 20_000
Error, Warning_, Info = types.MessageType.Error, types.MessageType.Warning, types.MessageType.Info


@dataclass(frozen=True)
class Target:
    """The function an action is on: its document and name (the name finds it again after edits elsewhere)."""

    uri: str
    name: str

    @classmethod
    def parse(cls, argument: Any) -> Target:
        if not isinstance(argument, dict) or not isinstance(argument.get("uri"), str) \
                or not isinstance(argument.get("name"), str):
            raise LspError("the command needs one argument {uri, name}")
        return cls(argument["uri"], argument["name"])


def _client(settings: LspSettings) -> AsyncClient:
    url = settings.url()
    if url is None:
        raise NotConfigured
    return AsyncClient(url, settings.key(), timeout=settings.timeout, max_retries=DEFAULT_MAX_RETRIES,
                       max_retry_wait=DEFAULT_MAX_RETRY_WAIT)


def _outcome_detail(outcome: TestOutcome) -> str:
    if outcome.expected is not None and outcome.actual is not None:
        return f"expected {outcome.expected}, got {outcome.actual}"
    if outcome.exception is not None:
        return f"{outcome.exception.type}: {outcome.exception.message}".rstrip(": ")
    return outcome.message or outcome.verdict


def _first_line(code: str) -> str:
    line = code.strip().splitlines()[0] if code.strip() else code
    return line if len(line) <= 80 else line[:77] + "..."


def _test_functions(tests: list[str], name: str, taken: str) -> str:
    """``tests`` as pytest functions ``test_<name>_<n>``, numbered after any already in ``taken``."""
    used = [int(n) for n in re.findall(rf"def test_{re.escape(name)}_(\d+)\(", taken)]
    first = max(used, default=0) + 1
    blocks = []
    for number, test in enumerate(tests, first):
        body = "\n".join(f"    {line}" if line.strip() else "" for line in test.strip().splitlines())
        blocks.append(f"def test_{name}_{number}():\n{body}\n")
    return "\n\n".join(blocks)


class Actions:
    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.running: set[tuple[str, str]] = set()

    # ---------------------------------------------------------------- plumbing

    def _function(self, target: Target) -> tuple[str, Function]:
        source = self.editor.document(target.uri).source
        function = find_function(source, target.name)
        if function is None:
            raise NoFunction(f"there is no module-level function {target.name} in this file")
        return source, function

    def _user_tests(self, target: Target, source: str, function: Function) -> list[tuple[UserTest, str]]:
        """The user's tests of the function, each with the URI it lives in."""
        found = [(t, target.uri) for t in doctest_asserts(function)]
        found += [(t, target.uri) for t in user_tests_in(source, function.name, skip=function)]
        path = self.editor.path(target.uri)
        if path is not None:
            for file in files_with_tests(path, self.editor.root()):
                uri = self.editor.uri(file)
                text = self.editor.text_of(uri) or ""
                found += [(t, uri) for t in user_tests_in(text, function.name, file)]
        return found

    def _problem(self, target: Target, source: str, function: Function) -> dict[str, Any]:
        path = self.editor.path(target.uri)
        task = f"{path.name if path else target.uri}:{function.name}"[-MAX_TASK_ID:]
        user = [(t, uri) for t, uri in self._user_tests(target, source, function) if len(t.code) <= MAX_TEST_CHARS]
        return {"task_id": task, "prompt": prompt_for(source, function), "entry_point": function.name,
                "given_tests": [t.code for t, _ in user if t.example][:MAX_GIVEN_TESTS],
                "tests": [t.code for t, _ in user if not t.example][:MAX_TESTS]}

    async def _run(self, target: Target, title: str, work: Any) -> None:
        """Run ``work(progress)`` as one editor action: one at a time per function, with a cancellable progress
        and the status line, every failure said in the editor."""
        key = (target.uri, target.name)
        if key in self.running:
            self.editor.show(Warning_, str(Busy(f"{target.name} already has a job running")))
            return
        self.running.add(key)
        progress = await self.editor.progress(f"{title} {target.name}", f"selfdebug: {target.name}",
                                              asyncio.current_task())
        url = self.editor.settings.url() or ""
        try:
            summary = await work(progress)
            progress.end(summary)
            self.editor.show(Info, summary)
        except asyncio.CancelledError:
            progress.end("cancelled")
            self.editor.show(Info, f"{title} {target.name}: cancelled (its job was cancelled on the service)")
        except FunctionChanged as exc:
            progress.end("not applied")
            self.editor.show(Warning_, str(exc))
        except Exception as exc:  # every fault is said in the editor; the server goes on
            progress.end("failed")
            self.editor.show(Error, describe(exc, url))
        finally:
            self.running.discard(key)
            self.editor.status(False)

    # ---------------------------------------------------------------- self-debug, trace and repair

    async def trace_and_repair(self, target: Target) -> None:
        await self.self_debug(target, "in_execution")

    async def self_debug(self, target: Target, strategy: str | None = None) -> None:
        """Repair the function with the configured strategy (``strategy`` overrides it)."""
        strategy = strategy or self.editor.settings.strategy
        title = "Trace and repair" if strategy == "in_execution" else "Self-debug"

        async def work(progress: Progress) -> str:
            return await self._self_debug(target, strategy, progress)

        await self._run(target, title, work)

    async def _self_debug(self, target: Target, strategy: str, progress: Progress) -> str:
        settings = self.editor.settings
        source, function = self._function(target)
        started = time.monotonic()
        body = {"problem": self._problem(target, source, function),
                "options": {"strategy": strategy, "feedback": settings.feedback,
                            "max_iterations": settings.max_iterations, "num_tests": settings.num_tests},
                "model": settings.model, "time_limit": settings.time_limit}
        async with _client(settings) as client:
            job = await run_job(client, body, lambda e: progress.step(describe_event(e, settings.max_iterations)))
            self._check_ended(job)
            program = job.final_program or ""
            new, changed = await self._replace(target, function, program)
            elapsed = time.monotonic() - started
            self.editor.log(f"{target.name}: job {job.id} ended; edit {'applied' if changed else 'not needed'} "
                            f"{elapsed:.2f} s after the action")
            asserts = [str(a) for a in ((job.record.self_tests if job.record else {}) or {}).get("asserts", [])]
            passed = await self._self_test_findings(client, target, new, program, asserts)
        rounds = sum(1 for a in (job.record.attempts if job.record else []) if a.get("iteration", 0) > 0)
        what = "repaired" if changed else "unchanged (the model's program is the same)"
        return (f"{target.name} {what}: {passed}; {describe_verdict(job.verdict)} "
                f"({strategy}, {rounds} repair{'s' if rounds != 1 else ''}, {elapsed:.1f} s)")

    def _check_ended(self, job: Job) -> None:
        if job.status is JobStatus.SUCCEEDED and job.final_program:
            return
        if job.status is JobStatus.CANCELLED:
            raise LspError(f"the job {job.id} was cancelled on the service ({job.reason or 'no reason given'})")
        reason = job.reason or (job.record.error if job.record else None) or "the model wrote no program"
        raise LspError(f"the job {job.id} failed: {reason}")

    async def _replace(self, target: Target, before: Function, program: str) -> tuple[Function, bool]:
        """Replace the function with its version from ``program`` — only if the function is as it was when the
        action started (text elsewhere may have changed: the function is found again by name)."""
        source = self.editor.document(target.uri).source
        now = find_function(source, target.name)
        if now is None:
            raise FunctionChanged(f"{target.name} is no longer in the file: the repaired version was not applied")
        if now.text != before.text:
            raise FunctionChanged(f"{target.name} changed while its job ran: the repaired version was not applied "
                                  "(run the action again on the new version)")
        text = replacement(source, now, program)
        if text is None:
            raise LspError(f"the final program has no function {target.name}: nothing was applied")
        if text == now.text:
            return now, False
        if not await self.editor.replace_lines(target.uri, now.start, now.end, text, f"selfdebug: {target.name}"):
            raise FunctionChanged(f"the editor did not apply the repaired {target.name} (the file changed "
                                  "meanwhile?)")
        lines = source.splitlines(keepends=True)
        after = "".join(lines[:now.start]) + text + "".join(lines[now.end:])
        return find_function(after, target.name) or now, True

    async def _self_test_findings(self, client: AsyncClient, target: Target, function: Function, program: str,
                                  asserts: list[str]) -> str:
        """Run the final program on the model's self-tests; each failure a warning on the function."""
        if not asserts:
            self.editor.set_findings(target.uri, function, [])
            return "no self-tests"
        result = await client.execute(program, tests=asserts)
        findings = [Finding(f"self-test {outcome.verdict}: {_first_line(code)}: {_outcome_detail(outcome)} "
                            "(a test the model wrote: it may be wrong)", types.DiagnosticSeverity.Warning)
                    for code, outcome in zip(asserts, result.tests, strict=False) if outcome.verdict != "passed"]
        self.editor.set_findings(target.uri, function, findings)
        return f"{result.passed_count}/{result.total} self-tests pass"

    # ---------------------------------------------------------------- generate tests

    async def generate_tests(self, target: Target) -> None:
        async def work(progress: Progress) -> str:
            return await self._generate_tests(target, progress)

        await self._run(target, "Generate tests for", work)

    async def _generate_tests(self, target: Target, progress: Progress) -> str:
        settings = self.editor.settings
        source, function = self._function(target)
        problem = self._problem(target, source, function)
        body = {"problem": {**problem, "tests": []},
                "options": {"strategy": "post_execution", "max_iterations": 1, "num_tests": settings.num_tests},
                "model": settings.model, "time_limit": settings.time_limit}
        async with _client(settings) as client:
            job, tests = await first_self_tests(client, body, lambda e: progress.step(describe_event(e, 1)))
        if not tests:
            self._check_ended(job)
            raise LspError(f"the model wrote no usable tests for {target.name}")
        path = self.editor.path(target.uri)
        if settings.tests_location == "file" and path is not None and self.editor.can_create_files():
            return await self._tests_in_file(target, path, tests)
        return await self._tests_below(target, tests)

    async def _tests_below(self, target: Target, tests: list[str]) -> str:
        source, function = self._function(target)
        block = "\n\n" + _test_functions(tests, target.name, source)
        if not await self.editor.replace_lines(target.uri, function.end, function.end, block,
                                               f"selfdebug: tests of {target.name}"):
            raise FunctionChanged("the editor did not insert the tests (the file changed meanwhile?)")
        return f"{len(tests)} tests of {target.name} added below it"

    async def _tests_in_file(self, target: Target, module: Path, tests: list[str]) -> str:
        file = module.parent / f"test_{module.stem}.py"
        uri = self.editor.uri(file)
        existing = self.editor.text_of(uri)
        label = f"selfdebug: tests of {target.name}"
        if existing is not None and existing.strip():
            head = "" if re.search(rf"\bimport\b.*\b{re.escape(target.name)}\b", existing) else \
                f"from {module.stem} import {target.name}\n"
            text = ("\n\n" if existing.endswith("\n") else "\n\n\n") + head + \
                ("\n\n" if head else "") + _test_functions(tests, target.name, existing)
            end = len(existing.splitlines())
            ok = await self.editor.replace_lines(uri, end, end, text, label)
        else:
            text = f"from {module.stem} import {target.name}\n\n\n" + _test_functions(tests, target.name, "")
            ok = await self.editor.create_file(uri, text, label)
        if not ok:
            raise LspError(f"the editor did not write {file.name}")
        return f"{len(tests)} tests of {target.name} written to {file.name}"

    # ---------------------------------------------------------------- run the user's tests

    async def run_tests(self, target: Target) -> None:
        async def work(progress: Progress) -> str:
            return await self._run_tests(target, progress)

        await self._run(target, "Run tests of", work)

    async def _run_tests(self, target: Target, progress: Progress) -> str:
        source, function = self._function(target)
        found = self._user_tests(target, source, function)
        if not found:
            raise LspError(f"no tests of {target.name} found: none in its docstring ('>>> ' examples), in this "
                           f"file (test_* functions, asserts) or in test_<module>.py / <module>_test.py")
        started = time.monotonic()
        async with _client(self.editor.settings) as client:
            result: ExecutionResult = await client.execute(source, tests=[t.code for t, _ in found])
        findings = []
        for (test, uri), outcome in zip(found, result.tests, strict=False):
            if outcome.verdict == "passed":
                continue
            related = types.DiagnosticRelatedInformation(
                location=types.Location(uri=uri, range=types.Range(
                    start=types.Position(line=test.start, character=0),
                    end=types.Position(line=test.end, character=0))),
                message=_first_line(test.code))
            findings.append(Finding(f"{test.name} {outcome.verdict}: {_outcome_detail(outcome)}",
                                    types.DiagnosticSeverity.Error, related=(related,)))
        self.editor.set_findings(target.uri, function, findings)
        return (f"{target.name}: {result.passed_count}/{result.total} of your tests pass in the sandbox "
                f"({time.monotonic() - started:.1f} s)")
