"""``EmbeddedServer``: a llama.cpp server process (llama-cpp-python) on a free loopback port.

It fetches the weights if missing, starts ``python -m llama_cpp.server`` in its own process group, waits until
``/v1/models`` answers, and on exit terminates the group (then kills it). The server also watches its parent and
exits when the parent dies, so not even a ``kill -9`` of ours leaves it running.

A server that dies on its own is named as such: ``crash()`` gives an ``EmbeddedServerCrashed`` with its exit code
or signal, the last lines of its log and the log's path, and that log is kept (not deleted on stop) as evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from ..errors import EmbeddedServerCrashed, EmbeddedServerError
from ..settings import DEFAULT_EMBEDDED_CONTEXT, DEFAULT_EMBEDDED_START_TIMEOUT, LLMSettings, default_models_dir
from .weights import EMBEDDED_MODEL_NAME, ensure_weights

__all__ = ["EmbeddedServer", "describe_exit"]

HOST = "127.0.0.1"
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
PROBE_INTERVAL = 0.1
PORT_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
LOG_TAIL_LINES = 30
DEATH_GRACE = 1.0  # seconds a failed request waits to see whether the server is exiting
FAULTS = (signal.SIGSEGV, signal.SIGILL, signal.SIGBUS)
FAULT_HINT = (
    "a fault inside llama.cpp usually means its build uses instructions this processor cannot run: rebuild it "
    "for a lower CPU level (python -m selfdebug.llm.embedded install --level x86-64-v2), or point "
    "SELFDEBUG_LLM_BASE_URL at another endpoint"
)

# Runs llama_cpp.server after starting a thread that ends the process once its parent is gone (reparented).
_BOOTSTRAP = """
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class EmbeddedServer:
    """A llama.cpp server process on 127.0.0.1, as a context manager (``with`` or ``async with``).

    ``model_path`` serves that GGUF file; otherwise SmolLM2 is taken from ``models_dir`` (fetched if missing).
    """

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        models_dir: Path | None = None,
        model_name: str = EMBEDDED_MODEL_NAME,
        context: int = DEFAULT_EMBEDDED_CONTEXT,
        threads: int | None = None,
        start_timeout: float = DEFAULT_EMBEDDED_START_TIMEOUT,
        port: int | None = None,
        python: str = sys.executable,
    ) -> None:
        self.model_path = model_path
        self.models_dir = models_dir if models_dir is not None else default_models_dir()
        self.model_name = model_name
        self.context = context
        self.threads = threads
        self.start_timeout = start_timeout
        self.requested_port = port
        self.python = python
        self.port: int | None = None
        self.log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> Self:
        return cls(
            model_path=settings.embedded_model_path,
            models_dir=settings.embedded_models_dir,
            model_name=settings.model or EMBEDDED_MODEL_NAME,
            context=settings.embedded_context,
            threads=settings.embedded_threads,
            start_timeout=settings.embedded_start_timeout,
        )

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:41234/v1`` (only while running)."""
        if self.port is None or not self.running:
            raise EmbeddedServerError("the embedded server is not running")
        return f"http://{HOST}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # Synchronous life cycle

    def start(self) -> None:
        """Start the server and wait until it answers; on any failure nothing is left running."""
        model = self._prepare()
        try:
            for attempt in range(PORT_ATTEMPTS):
                self._spawn(model)
                deadline = time.monotonic() + self.start_timeout
                while not self._ready_or_failed(deadline):
                    time.sleep(PROBE_INTERVAL)
                if self.running:
                    return
                self._give_up_unless_port_taken(attempt)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate the server's process group, kill it after a grace period, and remove the log (unless the server
        had died on its own: that log is evidence, and errors name its path). Idempotent."""
        process, self._process = self._process, None
        crashed = process is not None and process.poll() is not None
        if process is not None:
            _stop_group(process)
        self._close_log(delete=not crashed)

    def settle(self, timeout: float = DEATH_GRACE) -> None:
        """After a request failed: give a dying server time to be seen dead (its socket closes before it exits), so
        ``crash()`` tells a crash from a refused request."""
        process = self._process
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)

    def crash(self) -> EmbeddedServerCrashed | None:
        """If the server was started and has died on its own since, the error that says how; else None."""
        process = self._process
        if process is None or process.poll() is None:
            return None
        return self._crash_error(process.returncode)

    def _crash_error(self, returncode: int | None, when: str = "") -> EmbeddedServerCrashed:
        how = describe_exit(returncode)
        log = str(self.log_path) if self.log_path is not None else None
        reason = f"the embedded model server (pid {self.pid}) {how}{when}" + (f"; its log: {log}" if log else "")
        if returncode is not None and returncode < 0 and -returncode in FAULTS:
            reason += f". {FAULT_HINT}"
        return EmbeddedServerCrashed(reason, how=how, returncode=returncode, log_path=log, log_tail=self.log_tail())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Asynchronous life cycle: the same steps, with the waits off the event loop

    async def astart(self) -> None:
        """Like ``start``; cancelling it stops whatever was started."""
        model = await asyncio.to_thread(self._prepare)
        try:
            for attempt in range(PORT_ATTEMPTS):
                self._spawn(model)
                deadline = time.monotonic() + self.start_timeout
                while not await asyncio.to_thread(self._ready_or_failed, deadline):
                    await asyncio.sleep(PROBE_INTERVAL)
                if self.running:
                    return
                self._give_up_unless_port_taken(attempt)
        except BaseException:
            await asyncio.to_thread(self.stop)
            raise

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.astop()

    # The steps

    def _prepare(self) -> Path:
        if self.running:
            raise EmbeddedServerError(f"the embedded server is already running on port {self.port}")
        if self.python == sys.executable and importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedServerError(
                "llama-cpp-python is not installed: python -m selfdebug.llm.embedded install (scripts/setup does it), "
                "or configure an endpoint with SELFDEBUG_LLM_BASE_URL"
            )
        model = self.model_path if self.model_path is not None else ensure_weights(self.models_dir, python=self.python)
        if not model.is_file():
            raise EmbeddedServerError(f"the model file {model} does not exist")
        return model

    def _spawn(self, model: Path) -> None:
        self._close_log(delete=True)
        self.port = self.requested_port or _free_port()
        fd, log_name = tempfile.mkstemp(prefix="selfdebug-llama-", suffix=".log")
        self.log_path = Path(log_name)
        self._log = os.fdopen(fd, "wb")
        command = [
            self.python, "-c", _BOOTSTRAP, str(os.getpid()),
            "--model", str(model), "--model_alias", self.model_name,
            "--host", HOST, "--port", str(self.port), "--n_ctx", str(self.context),
        ]  # fmt: skip
        if self.threads is not None:
            command += ["--n_threads", str(self.threads)]
        # Its own session, so stop() can signal the whole group and a Ctrl-C in our terminal is ours to handle.
        # llama.cpp's OpenMP threads spin while they wait; on 2 cores shared with the sandbox that made prompt
        # evaluation 2.5x slower here. Passive waiting yields the core instead (unless the user chose otherwise).
        env = {**os.environ}
        env.setdefault("OMP_WAIT_POLICY", "passive")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def _ready_or_failed(self, deadline: float) -> bool:
        """One readiness probe: True once the server answers or has exited; raises when time is up."""
        if not self.running:
            return True
        if self.port is not None and _answers(self.port):
            return True
        if time.monotonic() > deadline:
            raise EmbeddedServerError(
                f"the embedded server did not answer on port {self.port} within {self.start_timeout:.0f} s",
                log_tail=self.log_tail(),
            )
        return False

    def _give_up_unless_port_taken(self, attempt: int) -> None:
        tail = self.log_tail()
        code = self._process.returncode if self._process is not None else None
        port_taken = "address already in use" in tail.lower()
        if port_taken and self.requested_port is None and attempt + 1 < PORT_ATTEMPTS:
            return
        raise self._crash_error(code, " during start-up")

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the server wrote (stdout and stderr together)."""
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def _close_log(self, *, delete: bool) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if delete and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None


def describe_exit(returncode: int | None) -> str:
    """``-11`` -> ``killed by signal 11 (SIGSEGV)``; ``1`` -> ``exited with code 1``."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with code {returncode}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    """True if GET /v1/models answers 200 (plain http.client: no proxy settings apply to loopback probes)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2.0)
    try:
        connection.request("GET", "/v1/models")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
