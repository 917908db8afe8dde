"""The service as the benchmarks start it: ``selfdebug`` processes (the API, workers) in sessions of their own,
each logging to a file, waited for until a readiness check passes, and stopped (SIGTERM, then SIGKILL) however
the benchmark ends. Imported by bench_service.py and bench_editor.py (a folder, not a script: no benchmark itself)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["free_port", "selfdebug_processes"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def selfdebug_processes(commands: Sequence[Sequence[str]], env: dict[str, str], logs: Path, *,
                        ready: Callable[[], bool], timeout: float, stop_timeout: float) -> Iterator[None]:
    """Run ``selfdebug <command>`` for each command (logs in ``logs/process-<i>.log``) until ``ready()`` is true,
    then yield; RuntimeError naming the logs if it is not within ``timeout`` seconds."""
    selfdebug = shutil.which("selfdebug", path=str(Path(sys.executable).parent)) or "selfdebug"
    processes = []
    try:
        for index, command in enumerate(commands):
            log = (logs / f"process-{index}.log").open("wb")
            processes.append(subprocess.Popen([selfdebug, *command], env={**os.environ, **env}, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not get ready; logs in {logs}")
            time.sleep(0.5)
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
