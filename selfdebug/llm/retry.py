"""Which failures are worth another attempt, how long to wait before it, and the typed error when we give up."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import openai

from .errors import LLMBadResponse, LLMCallError, LLMRateLimited, LLMRequestRejected, LLMTimeout, LLMUnavailable

__all__ = ["BadShapeError", "Failure", "FailureKind", "backoff_delay", "classify", "parse_retry_after"]

# Request Timeout and Conflict are transient too (OpenAI's own client retries them).
_TRANSIENT_STATUSES = frozenset({408, 409})


class BadShapeError(Exception):
    """Raised by an attempt whose HTTP answer was fine but is not a usable chat completion."""


class FailureKind(Enum):
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    BAD_RESPONSE = "bad_response"


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified."""

    kind: FailureKind
    reason: str
    retry_after: float | None = None
    status_code: int | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in {FailureKind.TIMEOUT, FailureKind.RATE_LIMITED, FailureKind.UNAVAILABLE}

    def error(self, *, endpoint: str, model: str, attempts: int) -> LLMCallError:
        """The exception to raise when this was the last attempt."""
        reason = self.reason
        match self.kind:
            case FailureKind.TIMEOUT:
                return LLMTimeout(reason, endpoint=endpoint, model=model, attempts=attempts)
            case FailureKind.RATE_LIMITED:
                return LLMRateLimited(
                    reason, endpoint=endpoint, model=model, attempts=attempts, retry_after=self.retry_after
                )
            case FailureKind.UNAVAILABLE:
                return LLMUnavailable(reason, endpoint=endpoint, model=model, attempts=attempts)
            case FailureKind.REJECTED:
                return LLMRequestRejected(
                    reason, endpoint=endpoint, model=model, attempts=attempts, status_code=self.status_code or 0
                )
            case FailureKind.BAD_RESPONSE:
                return LLMBadResponse(reason, endpoint=endpoint, model=model, attempts=attempts)


def classify(exc: BaseException) -> Failure | None:
    """Classify an exception raised by one attempt; ``None`` for anything that is not a failure of the call."""
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return Failure(FailureKind.TIMEOUT, "timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return Failure(FailureKind.UNAVAILABLE, f"connection failed: {cause}")
    if isinstance(exc, BadShapeError):
        return Failure(FailureKind.BAD_RESPONSE, str(exc))
    if isinstance(exc, openai.APIResponseValidationError):
        return Failure(FailureKind.BAD_RESPONSE, f"invalid response: {exc.message}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        reason = f"HTTP {status}: {_short(exc.message)}"
        if status == 429:
            return Failure(FailureKind.RATE_LIMITED, reason, parse_retry_after(exc.response.headers), status)
        if status >= 500 or status in _TRANSIENT_STATUSES:
            return Failure(FailureKind.UNAVAILABLE, reason, parse_retry_after(exc.response.headers), status)
        return Failure(FailureKind.REJECTED, reason, status_code=status)
    return None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, or ``retry-after`` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(retry: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``retry`` (0 for the first): exponential, capped, with jitter in [½, 1]."""
    jitter: float = (rng or random).uniform(0.5, 1.0)
    return min(cap, base * 2.0**retry) * jitter


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
