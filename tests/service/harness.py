"""Real processes for the service's tests: a worker (``python -m workers`` in a subprocess), the API (uvicorn in a
thread of the test process), and, for the restart test, a Redis server of our own."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import redis
import uvicorn

from api import APISettings, create_app

__all__ = [
    "ApiServer",
    "RedisServer",
    "WorkerProcess",
    "clean_redis",
    "free_port",
    "wait_for",
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll until ``condition()`` is truthy; return its value, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def clean_redis(url: str, run: str) -> None:
    """Delete the keys of test session ``run``: its prefix ``sdt<run>`` and its queues ``*-<run>`` (kombu's
    bindings are kept: a worker that stays up needs them to route messages). Other sessions' keys stay."""
    client = redis.Redis.from_url(url)
    try:
        doomed = [key for key in client.scan_iter(count=1000)
                  if not key.startswith(b"_kombu.") and (key.startswith(f"sdt{run}".encode())
                                                        or key.endswith(f"-{run}".encode()))]
        for start in range(0, len(doomed), 500):
            client.delete(*doomed[start:start + 500])
    finally:
        client.close()


class WorkerProcess:
    """``python -m workers`` (or ``command``) with the given environment; ``ready()`` waits until its sandbox pool is
    warm."""

    def __init__(self, env: Mapping[str, str], *, concurrency: int = 4, name: str = "worker",
                 supervised: bool = False, command: Sequence[str] = (sys.executable, "-m", "workers")) -> None:
        self.env = {**os.environ, **env}
        self.command = list(command)  # what starts a worker; it is given --concurrency, --loglevel and --hostname
        self.concurrency = concurrency
        self.name = name
        # Supervised, as compose's restart policy does: a worker that exits on its own is started again.
        self.supervised = supervised
        self.restarts = 0
        self._stopping = threading.Event()
        self.log_path = Path(tempfile.mkstemp(prefix=f"selfdebug-{name}-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.command, f"--concurrency={self.concurrency}", "--loglevel=INFO",
             f"--hostname={self.name}-{os.getpid()}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        if self.supervised and self.restarts == 0:
            threading.Thread(target=self._supervise, daemon=True, name=f"supervise-{self.name}").start()
        return self

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            if self.process is not None and self.process.poll() is not None and not self._stopping.is_set():
                self.restarts += 1
                self.start()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def report(self, client: redis.Redis) -> dict[str, Any] | None:
        """The worker's liveness report in Redis (it includes its sandbox pool's use once started)."""
        prefix = self.env.get("SELFDEBUG_KEY_PREFIX", "sd")
        raw = client.get(f"{prefix}:worker:{socket.gethostname()}:{self.pid}")
        return json.loads(raw) if raw else None

    def ready(self, timeout: float = 90.0, *, warm: bool = True) -> Self:
        """Wait until the worker reports itself (and, with ``warm``, its sandbox pool has started)."""
        client = redis.Redis.from_url(self.env["SELFDEBUG_REDIS_URL"])
        try:
            def up() -> bool:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"the worker exited ({self.process.returncode}):\n{self.log_tail()}")
                report = self.report(client)
                return bool(report and (report.get("pool") or not warm))

            wait_for(up, timeout, f"{self.name} to warm up")
        finally:
            client.close()
        return self

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """kill -9 the worker's whole process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self._stopping.set()
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class ApiServer:
    """The real app under uvicorn, in a thread of this process, on a free port."""

    def __init__(self, settings: APISettings) -> None:
        self.settings = settings
        self.port = free_port()
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"api-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 60.0), **kwargs)

    def __enter__(self) -> Self:
        self.thread.start()
        wait_for(lambda: self.server.started, 20, "the API to start")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class RedisServer:
    """A redis-server of our own (append-only file, fsync on every write) that can be restarted in place."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            raise AssertionError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="selfdebug-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Self:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        try:
            wait_for(lambda: _pings(client), 10, "redis-server to start")
        finally:
            client.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, only what the append-only file already holds survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def iter_sse(response: httpx.Response) -> Iterator[dict[str, str]]:
    """Parse a Server-Sent Events response into events (id, event, data), as they arrive."""
    event: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if event.get("data") is not None or event.get("id"):
                yield event
            event = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            event["data"] = (event["data"] + "\n" + value) if "data" in event else value
        elif name in ("id", "event", "retry"):
            event[name] = value
