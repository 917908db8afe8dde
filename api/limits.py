"""Request limits. Size, enforced before a route sees the body: a declared Content-Length over the limit is
refused at once, and a body streamed without one is counted as it arrives (413 either way). And what a job may
ask for (its model, its time limit), checked alike for a job and for every job of a batch."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Invalid, error_response
from api.settings import APISettings

__all__ = ["BodySizeLimit", "job_time_limit"]


class BodySizeLimit:
    """ASGI middleware: at most ``default`` bytes per body, or ``by_path[path]`` for those paths."""

    def __init__(self, app: ASGIApp, *, default: int, by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_path = dict(by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"].rstrip("/"), self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(limit, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"the request body is larger than {limit} bytes")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def job_time_limit(settings: APISettings, model: str | None, time_limit: float | None) -> float:
    """The time limit a job gets (its own, or the default), once its model and that limit are checked (422)."""
    if settings.allowed_models and model is not None and model not in settings.allowed_models:
        raise Invalid(f"model {model!r} is not one of {', '.join(settings.allowed_models)}")
    limit = time_limit or settings.job_time_limit
    if limit > settings.max_job_time_limit:
        raise Invalid(f"time_limit may be at most {settings.max_job_time_limit:g} seconds")
    return limit
