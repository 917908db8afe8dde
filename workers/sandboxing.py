"""The sandbox as the workers use it: containers are tracked per job so cancelling a job kills the container
it is using (the run in that container stops at once and the pool starts a fresh one), and a sandbox fault
stops the job instead of being fed to the model as if the program had failed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from sandbox import AsyncSandbox, ContainerError, ContainerPool, Limits, RunResult, Sandbox, StdioCase, Verdict
from sandbox.container import Container
from workers.errors import SandboxFault

__all__ = ["CURRENT_JOB", "GuardedSandbox", "TrackedPool"]

CURRENT_JOB: ContextVar[str | None] = ContextVar("selfdebug_current_job", default=None)
"""The job run (``<job id>#<run>``) a coroutine, and the threads it starts with ``asyncio.to_thread``, work for."""
STOP_MEMORY = 3600.0  # seconds a stopped run stays refused a container (its threads may start late)


class TrackedPool(ContainerPool):
    """A container pool that knows which job holds which container, and can take them back by force."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lent: dict[str, set[Container]] = {}
        self._stopped: dict[str, float] = {}  # run -> when it was stopped
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[Container]:
        job = CURRENT_JOB.get()
        if job is not None and job in self._stopped:
            raise ContainerError(f"job {job} was stopped")
        with super().acquire(timeout) as container:
            if job is None:
                yield container
                return
            with self._lock:  # checked and registered at once, so stop_job sees this container or we see it
                if job in self._stopped:
                    raise ContainerError(f"job {job} was stopped")
                self._lent.setdefault(job, set()).add(container)
            try:
                yield container
            finally:
                with self._lock:
                    held = self._lent.get(job)
                    if held is not None:
                        held.discard(container)
                        if not held:
                            del self._lent[job]

    def stop_job(self, job: str) -> int:
        """Kill every container the run holds (a blocked run there ends with an error at once); the run never
        gets a container again, even from a thread that starts after it ended. Returns how many were killed."""
        now = time.monotonic()
        with self._lock:
            self._stopped = {run: at for run, at in self._stopped.items() if now - at < STOP_MEMORY}
            self._stopped[job] = now
            held = list(self._lent.get(job, ()))
        for container in held:
            container.abort()  # the thread waiting on its reply raises at once; the container is removed
        return len(held)

    def held(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._lent.values())


def _checked(result: RunResult) -> RunResult:
    if result.verdict is Verdict.SANDBOX_ERROR:
        raise SandboxFault(f"the sandbox could not run the program: {result.message or 'sandbox_error'}")
    return result


class GuardedSandbox(AsyncSandbox):
    """An ``AsyncSandbox`` whose runs raise ``SandboxFault`` instead of returning a ``sandbox_error`` verdict."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox=sandbox)

    async def run_tests(self, program: str, tests: Sequence[str], *, names: Sequence[str] | None = None,
                        limits: Limits | None = None) -> RunResult:
        return _checked(await super().run_tests(program, tests, names=names, limits=limits))

    async def run_check(self, program: str, check: str, entry_point: str, *,
                        limits: Limits | None = None) -> RunResult:
        return _checked(await super().run_check(program, check, entry_point, limits=limits))

    async def run_stdio(self, program: str, cases: Sequence[StdioCase], *, limits: Limits | None = None) -> RunResult:
        return _checked(await super().run_stdio(program, cases, limits=limits))

    async def run_calls(self, program: str, entry_point: str, inputs: Sequence[Sequence[Any]], *,
                        limits: Limits | None = None, digest_over: int | None = None) -> RunResult:
        return _checked(await super().run_calls(program, entry_point, inputs, limits=limits, digest_over=digest_over))

    async def run_harness(self, harness: str, *, program: str = "", payload: Any = None,
                          limits: Limits | None = None) -> RunResult:
        return _checked(await super().run_harness(harness, program=program, payload=payload, limits=limits))
