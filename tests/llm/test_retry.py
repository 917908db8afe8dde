"""The retry policy on its own: Retry-After parsing, backoff bounds, and which failures are retried."""

from __future__ import annotations

import email.utils
import random
import time

import httpx2
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfdebug.llm import LLMRateLimited, LLMRequestRejected, LLMUnavailable
from selfdebug.llm.retry import BadShapeError, FailureKind, backoff_delay, classify, parse_retry_after

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    error_class = {429: openai.RateLimitError, 400: openai.BadRequestError}.get(status, openai.APIStatusError)
    if status >= 500:
        error_class = openai.InternalServerError
    return error_class(f"Error code: {status}", response=response, body=None)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    waited = parse_retry_after({"retry-after": when})
    assert waited is not None and 25 <= waited <= 31


@given(retry=st.integers(0, 40), base=st.floats(0, 10), cap=st.floats(0, 100), seed=st.integers())
def test_backoff_is_capped_exponential_with_jitter(retry: int, base: float, cap: float, seed: int) -> None:
    delay = backoff_delay(retry, base=base, cap=cap, rng=random.Random(seed))
    nominal = min(cap, base * 2.0**retry)
    assert nominal / 2 <= delay <= nominal


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (openai.APITimeoutError(request=REQUEST), FailureKind.TIMEOUT, True),
        (TimeoutError(), FailureKind.TIMEOUT, True),
        (openai.APIConnectionError(request=REQUEST), FailureKind.UNAVAILABLE, True),
        (status_error(429), FailureKind.RATE_LIMITED, True),
        (status_error(500), FailureKind.UNAVAILABLE, True),
        (status_error(503), FailureKind.UNAVAILABLE, True),
        (status_error(408), FailureKind.UNAVAILABLE, True),
        (status_error(400), FailureKind.REJECTED, False),
        (status_error(404), FailureKind.REJECTED, False),
        (BadShapeError("no choices"), FailureKind.BAD_RESPONSE, False),
    ],
)
def test_failures_are_classified(exc: BaseException, kind: FailureKind, retryable: bool) -> None:
    failure = classify(exc)
    assert failure is not None and failure.kind is kind and failure.retryable is retryable


def test_other_exceptions_are_not_ours_to_classify() -> None:
    assert classify(ValueError("a bug")) is None
    assert classify(KeyError("x")) is None


def test_the_final_error_names_what_failed() -> None:
    rate = classify(status_error(429, {"retry-after": "7"}))
    assert rate is not None and rate.retry_after == 7.0
    error = rate.error(endpoint="http://h/v1", model="m", attempts=4)
    assert isinstance(error, LLMRateLimited) and error.retry_after == 7.0
    assert str(error).startswith("LLM request to http://h/v1 (model 'm') failed after 4 attempts: HTTP 429")
    rejected = classify(status_error(400))
    assert rejected is not None
    assert isinstance(rejected.error(endpoint="e", model="m", attempts=1), LLMRequestRejected)
    down = classify(openai.APIConnectionError(request=REQUEST))
    assert down is not None and "1 attempt:" in str(down.error(endpoint="e", model="m", attempts=1))
    assert isinstance(down.error(endpoint="e", model="m", attempts=1), LLMUnavailable)
