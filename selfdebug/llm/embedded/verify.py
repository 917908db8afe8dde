"""Proof that the embedded model really works here: a real completion of a few tokens, not just a server that starts.

A llama.cpp build made for another processor starts, answers ``GET /v1/models``, and only dies on its first
completion; so setup asks for one, and a failure names the cause (the crash, the log) and the fix.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass

from ..errors import EmbeddedServerError
from .server import EmbeddedServer

__all__ = ["Verified", "verify_completion"]

PROMPT = "Write a Python function that adds two numbers."
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Verified:
    """A real completion: its text, how many tokens it generated, and how fast."""

    text: str
    completion_tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


def verify_completion(server: EmbeddedServer, *, max_tokens: int = 16, prompt: str = PROMPT) -> Verified:
    """Ask the running ``server`` for a completion; raise ``EmbeddedServerCrashed`` if it dies meanwhile, or
    ``EmbeddedServerError`` if it answers with no text."""
    if server.port is None or not server.running:
        raise server.crash() or EmbeddedServerError("the embedded server is not running")
    body = json.dumps({
        "model": server.model_name, "max_tokens": max_tokens, "temperature": 0.0,
        "messages": [{"role": "user", "content": prompt}],
    })
    result: dict[str, object] = {}

    def ask() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            reply = connection.getresponse()
            result["status"], result["body"] = reply.status, reply.read()
        except (OSError, http.client.HTTPException) as exc:
            result["error"] = exc
        finally:
            connection.close()

    started = time.monotonic()
    # In a thread, so a server that dies mid-request is seen dying (by its exit), not as a socket error later.
    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    while asker.is_alive():
        asker.join(timeout=0.1)
        crash = server.crash()
        if crash is not None:
            raise crash
    seconds = time.monotonic() - started
    if "error" in result:
        server.settle()
    crash = server.crash()
    if crash is not None:
        raise crash
    if "error" in result:
        raise EmbeddedServerError(f"the embedded server did not answer a completion: {result['error']}",
                                  log_tail=server.log_tail())
    return _parse(result, seconds, server)


def _parse(result: dict[str, object], seconds: float, server: EmbeddedServer) -> Verified:
    raw = result.get("body")
    text_body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    if result.get("status") != 200:
        raise EmbeddedServerError(f"the embedded server answered {result.get('status')}: {text_body[:300]}",
                                  log_tail=server.log_tail())
    try:
        data = json.loads(text_body)
        text = data["choices"][0]["message"]["content"] or ""
        tokens = int(data.get("usage", {}).get("completion_tokens", 0))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise EmbeddedServerError(f"the embedded server's answer is not a chat completion: {text_body[:300]}") from exc
    if not text.strip() or tokens <= 0:
        raise EmbeddedServerError(f"the embedded server generated no text ({tokens} tokens)",
                                  log_tail=server.log_tail())
    return Verified(text=text, completion_tokens=tokens, seconds=seconds)
