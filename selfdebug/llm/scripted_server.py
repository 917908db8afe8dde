"""A scripted OpenAI-compatible HTTP server (on 127.0.0.1 unless told), run in a thread inside the tests.

``openai`` 3.x sends through httpx2, which respx cannot intercept, so the client is tested over real HTTP. Each
POST to ``/v1/chat/completions`` takes the next scripted step: a reply, an error status (optionally with
Retry-After), a malformed body, a slow reply or one that never comes. Every request is recorded.

    with ScriptedOpenAIServer() as server:
        server.fail(500).reply("def f(): ...")
        settings = LLMSettings(base_url=server.base_url, model=server.model)

It is the HTTP twin of ``selfdebug.llm.fake.ScriptedModel``: the tests (``tests.llm.fixtures`` has a fixture) and
the benchmarks both use it, and so can anyone testing code that talks to an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["RecordedRequest", "ScriptedOpenAIServer", "Step"]

HANG_LIMIT = 60.0  # a "hanging" reply still ends by itself after this long, or when the server stops


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float  # time.monotonic()

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


@dataclass(frozen=True)
class Step:
    """What the server does for one chat request. ``body`` (bytes) overrides the completion built from ``text``."""

    status: int = 200
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    hang: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"


Responder = Callable[[RecordedRequest], Step]


class ScriptedOpenAIServer:
    """The server; start it with ``with`` (or ``start()``/``stop()``). Script steps with the chainable methods."""

    def __init__(self, *, model: str = "scripted-model", default: Step | Responder | None = None,
                 host: str = "127.0.0.1") -> None:
        self.model = model
        self.host = host  # another address (the Docker bridge's) lets containers reach it
        self.default = default
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.unscripted = 0  # chat requests that found the script empty (answered 500)
        self._script: deque[Step | Responder] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Scripting

    def reply(
        self,
        text: str,
        *,
        delay: float = 0.0,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "stop",
    ) -> Self:
        return self.step(
            Step(
                text=text,
                delay=delay,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                finish_reason=finish_reason,
            )
        )

    def fail(self, status: int, *, retry_after: float | str | None = None, message: str = "scripted failure") -> Self:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = json.dumps({"error": {"message": message, "type": "scripted", "code": status}}).encode()
        return self.step(Step(status=status, headers=headers, body=body))

    def hang(self) -> Self:
        """A request that gets no answer (until the server stops)."""
        return self.step(Step(hang=True))

    def raw(self, body: bytes, *, status: int = 200, content_type: str = "application/json") -> Self:
        return self.step(Step(status=status, body=body, content_type=content_type))

    def step(self, *steps: Step | Responder) -> Self:
        with self._lock:
            self._script.extend(steps)
        return self

    @property
    def remaining(self) -> int:
        return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # Life cycle

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted server is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer((self.host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and delayed replies
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Serving (called from the handler threads)

    def _next_step(self, request: RecordedRequest) -> Step:
        with self._lock:
            planned = self._script.popleft() if self._script else self.default
            if planned is None:
                self.unscripted += 1
        if planned is None:
            return Step(status=500, body=b'{"error": {"message": "scripted server: no reply left in the script"}}')
        return planned(request) if callable(planned) else planned

    def _completion_body(self, step: Step, request: RecordedRequest) -> bytes:
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in request.messages)
        prompt_tokens = step.prompt_tokens if step.prompt_tokens is not None else prompt_words
        completion_tokens = step.completion_tokens if step.completion_tokens is not None else len(step.text.split())
        body = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": step.text},
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }
        return json.dumps(body).encode()

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedOpenAIServer
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    timeout = 10  # idle keep-alive connections end on their own

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": self.owner.model, "object": "model"}]}))
        else:
            self._send(404, '{"error": {"message": "not found"}}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode(errors="replace")
        request = self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, '{"error": {"message": "not found"}}')
            return
        owner = self.owner
        owner._enter()
        try:
            step = owner._next_step(request)
            if step.hang:
                owner._stopping.wait(HANG_LIMIT)
                self.close_connection = True
                return
            if step.delay:
                owner._stopping.wait(step.delay)
            payload = step.body if step.body is not None else owner._completion_body(step, request)
            self._send(step.status, payload, content_type=step.content_type, headers=step.headers)
        finally:
            owner._leave()

    def _record(self, body: Any) -> RecordedRequest:
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self.owner._lock:
            self.owner.requests.append(request)
        return request

    def _send(
        self,
        status: int,
        payload: bytes | str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timed out) before we answered
            self.close_connection = True
