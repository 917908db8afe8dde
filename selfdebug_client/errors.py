"""The client's errors: one class per ``code`` the API answers with, and the ways a request can fail before
the API answers at all.

Hierarchy::

    SelfDebugClientError
    ├── APIError                 the service answered with an error: ``status``, ``code``, ``detail``
    │   ├── BadRequest           400 bad_request        the body is not valid JSON
    │   ├── Unauthorized         401 unauthorized       no key, or an unknown one
    │   ├── Forbidden            403 forbidden          another key's job or batch
    │   ├── NotFound             404 not_found
    │   ├── Conflict             409 conflict           e.g. cancelling a job that already ended
    │   ├── PayloadTooLarge      413 payload_too_large
    │   ├── InvalidRequest       422 invalid_request    names the field, the maximum and its setting
    │   ├── RateLimited          429 rate_limited       ``retry_after`` seconds (rate, caps, quotas, streams)
    │   ├── ServerError          500 internal           (and any other status)
    │   └── Unavailable          503 unavailable        ``retry_after`` seconds (a dependency is down)
    ├── TransportError           no answer: the connection failed or broke (``__cause__`` is httpx's error)
    │   └── RequestTimeout       no answer within the timeout
    ├── WaitTimeout              ``wait(timeout=...)`` ran out before the job or batch ended
    └── StreamError              an event stream could not be resumed within the retries

A job that ends ``failed`` or a program that fails its tests is data (``Job.status``, ``Job.verdict``), never an
error. ``RateLimited`` and ``Unavailable`` are raised only once the client's retries (``max_retries``, each
waiting ``Retry-After``) are spent.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RequestTimeout",
    "SelfDebugClientError",
    "ServerError",
    "StreamError",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "WaitTimeout",
    "error_for",
]


class SelfDebugClientError(Exception):
    """Base class of every error this client raises."""


class APIError(SelfDebugClientError):
    """The service answered with an error (``{"detail": ..., "code": ...}``)."""

    status = 0
    code = "error"

    def __init__(self, detail: str, *, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None, body: object = None) -> None:
        self.detail = detail
        self.status = status if status is not None else type(self).status
        self.code = code or type(self).code
        self.retry_after = retry_after
        self.body = body  # the answer's JSON, as sent
        super().__init__(f"{self.status} {self.code}: {detail}")


class BadRequest(APIError):
    status, code = 400, "bad_request"


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


class InvalidRequest(APIError):
    status, code = 422, "invalid_request"


class RateLimited(APIError):
    """Too many requests, jobs, batches, stored records or open streams: ``retry_after`` says when to try again."""

    status, code = 429, "rate_limited"


class ServerError(APIError):
    status, code = 500, "internal"


class Unavailable(APIError):
    """A dependency of the service is down, or the API process serves its most streams: see ``retry_after``."""

    status, code = 503, "unavailable"


class TransportError(SelfDebugClientError):
    """No answer from the service: it could not be reached, or the connection broke."""


class RequestTimeout(TransportError):
    """No answer within the configured timeout."""


class WaitTimeout(SelfDebugClientError):
    """``wait(timeout=...)`` ran out before the job or batch ended (it is still running on the service)."""


class StreamError(SelfDebugClientError):
    """An event stream kept breaking: it could not be resumed within the configured reconnects."""


_BY_CODE: dict[str, type[APIError]] = {cls.code: cls for cls in (
    BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, InvalidRequest, RateLimited,
    ServerError, Unavailable)}
_BY_STATUS: dict[int, type[APIError]] = {cls.status: cls for cls in _BY_CODE.values()}


def error_for(status: int, code: str | None, detail: str, retry_after: float | None = None,
              body: object = None) -> APIError:
    """The error the API's answer stands for: by its ``code``, else by its status."""
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(detail, status=status, code=code or cls.code, retry_after=retry_after, body=body)
