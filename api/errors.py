"""The API's errors and the one shape every error response has: ``{"detail": "...", "code": "..."}``.

Hierarchy (status, code)::

    APIError
    ├── Unauthorized       401 unauthorized       no or unknown bearer token
    ├── Forbidden          403 forbidden          another key's job or batch
    ├── NotFound           404 not_found
    ├── Conflict           409 conflict           e.g. cancelling a job that already ended
    ├── PayloadTooLarge    413 payload_too_large
    ├── Invalid            422 invalid_request    the request is well-formed but cannot be served
    ├── RateLimited        429 rate_limited       with Retry-After (too many requests, jobs or batches)
    └── Unavailable        503 unavailable        a dependency is down (sandbox, Redis), with Retry-After

Validation errors (422) and unknown routes (404/405) use the same shape; Redis not answering (after the client's
retries) is 503 ``unavailable``; an unexpected exception is logged and answered 500 ``internal`` with no traceback.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "APIError",
    "Conflict",
    "ErrorBody",
    "Forbidden",
    "Invalid",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "error_response",
    "error_responses",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
          429: "rate_limited", 500: "internal", 503: "unavailable"}
_DESCRIPTIONS = {400: "The body is not valid JSON.",
                 401: "No bearer token, or an unknown one.", 403: "The job or batch belongs to another key.",
                 404: "No such job or batch.", 409: "The request conflicts with the current state.",
                 413: "The request body is too large.", 422: "The request is invalid.",
                 429: "Rate limit, or cap on jobs in flight, reached: see Retry-After.",
                 503: "A dependency (sandbox, Redis) is unavailable: see Retry-After."}


class ErrorBody(BaseModel):
    """Every error response."""

    detail: str = Field(description="What went wrong, for a person.", examples=["job 3f2a... not found"])
    code: str = Field(description="What went wrong, for a program.", examples=["not_found"])


class APIError(Exception):
    status = 500
    code = "internal"

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class Unauthorized(APIError):
    status, code = 401, "unauthorized"


class Forbidden(APIError):
    status, code = 403, "forbidden"


class NotFound(APIError):
    status, code = 404, "not_found"


class Conflict(APIError):
    status, code = 409, "conflict"


class PayloadTooLarge(APIError):
    status, code = 413, "payload_too_large"


class Invalid(APIError):
    status, code = 422, "invalid_request"


class RateLimited(APIError):
    status, code = 429, "rate_limited"


class Unavailable(APIError):
    status, code = 503, "unavailable"


def error_response(status: int, detail: str, code: str | None = None, *,
                   retry_after: float | None = None) -> JSONResponse:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = ErrorBody(detail=detail, code=code or _CODES.get(status, "error"))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses, all with the one error shape."""
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS.get(status, "Error.")} for status in statuses}


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return error_response(exc.status, exc.detail, exc.code, retry_after=exc.retry_after)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, _validation_detail(exc), "invalid_request")

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail))

    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis does not answer on %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, "the job store (Redis) does not answer; try again shortly", "unavailable",
                              retry_after=5)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error; it has been logged", "internal")

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for error in (RedisConnectionError, RedisTimeoutError):
        app.add_exception_handler(error, redis_down)
    app.add_exception_handler(Exception, unexpected)
