"""The client's parts that need no service: reading event streams as the API writes them, Retry-After, the
error for each code, resuming bookkeeping, and the arguments it refuses before sending anything. Everything the
client does against a service is tested against the real one in tests/service/test_client*.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.sse import format_event
from selfdebug_client import Client, ClientSettings, Conflict, NotFound, RateLimited, ServerError, StreamError
from selfdebug_client._payloads import Resume, batch_body, execution_body, job_id
from selfdebug_client._sse import KEEP_ALIVE, SSEDecoder
from selfdebug_client._transport import retry_after_seconds
from selfdebug_client.errors import APIError, error_for

ids = st.from_regex(r"[0-9]{1,13}-[0-9]{1,3}", fullmatch=True)
kinds = st.sampled_from(["status", "program_generated", "executed", "job"])
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=200)


@given(st.lists(st.tuples(ids, kinds, texts), max_size=8))
def test_events_read_back_as_the_api_writes_them(events: list[tuple[str, str, str]]) -> None:
    decoder = SSEDecoder()
    wire = "retry: 2000\n\n: keep-alive\n\n" + "".join(format_event(i, k, d) for i, k, d in events)
    got = []
    for line in wire.split("\n"):
        event = decoder.feed(line)
        if event is not None and event is not KEEP_ALIVE:
            got.append((event.id, event.event, event.data))
    # The API writes each line of the data as its own data: line; a reader joins them with \n (any \r\n or
    # lone line break it split on comes back as \n, which JSON data never holds unescaped).
    assert got == [(i, k, "\n".join(d.splitlines()) if d.splitlines() else "") for i, k, d in events]


def test_a_comment_is_a_keep_alive_and_a_retry_alone_is_nothing() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(": keep-alive") is KEEP_ALIVE
    assert decoder.feed("retry: 2000") is None
    assert decoder.feed("") is None


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("0.5") == 0.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(later) or 0) <= 31


def test_each_code_has_its_error() -> None:
    assert isinstance(error_for(404, "not_found", "gone"), NotFound)
    assert isinstance(error_for(409, "conflict", "ended"), Conflict)
    limited = error_for(429, "rate_limited", "slow down", 3.0)
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    assert isinstance(error_for(502, None, "bad gateway"), ServerError)  # a proxy's answer, no code
    odd = error_for(418, "teapot", "no")
    assert type(odd) is APIError and odd.code == "teapot" and str(odd) == "418 teapot: no"


def test_resuming_keeps_the_last_id_and_gives_up_after_the_reconnects() -> None:
    resume = Resume("5-0", reconnects=2)
    assert resume.headers()["Last-Event-ID"] == "5-0"
    resume.seen("7-1")
    assert resume.headers()["Last-Event-ID"] == "7-1"
    assert resume.broke("x") < resume.broke("y")
    with pytest.raises(StreamError, match="7-1"):
        resume.broke("z")
    resume.seen(None)  # an event without an id still shows the stream is alive
    assert resume.failures == 0 and resume.last_id == "7-1"


def test_arguments_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="job id"):
        job_id("../../v1/batches")
    with pytest.raises(ValueError, match="exactly one"):
        batch_body(dataset="humaneval", problems=[], jsonl=None, parameters={})
    with pytest.raises(ValueError, match="exactly one"):
        execution_body("x = 1", tests=["assert x"], check="def check(c): ...", entry_point=None, stdio=None,
                       timeout=None)
    with pytest.raises(ValueError, match="http"):
        Client("127.0.0.1:8000")


def test_settings_come_from_arguments_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_URL", "http://example.test:9000/")
    monkeypatch.setenv("SELFDEBUG_API_KEY", "from-env")
    settings = ClientSettings.resolve(max_retries=0)
    assert (settings.base_url, settings.api_key, settings.max_retries) == ("http://example.test:9000", "from-env", 0)
    assert ClientSettings.resolve("http://other.test", "argument").api_key == "argument"
    monkeypatch.delenv("SELFDEBUG_URL")
    monkeypatch.delenv("SELFDEBUG_API_KEY")
    assert ClientSettings.resolve().base_url == "http://127.0.0.1:8000"
    assert ClientSettings.resolve().api_key is None
