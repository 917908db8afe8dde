"""Reading the runner's reports (``sandbox.reply``) without Docker: any JSON a report may hold becomes a plain,
encodable ``TestResult``, or that test's ``sandbox_error``; nothing raises. Whole replies go through ``Sandbox``
with a scripted pool, since the runner itself no longer lets the code under test write them (under runc or gVisor)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import ContainerPool, RunResult, Sandbox, SandboxSettings, TestResult, Verdict, executor
from sandbox.reply import MAX_NAME, MAX_TEXT, plain_data, plain_text, read_seconds, read_test
from sandbox.runner import codec

pytestmark = pytest.mark.security

# Every code point, lone surrogates included (Hypothesis leaves category Cs out unless asked).
ANY_TEXT = st.text(st.characters(exclude_categories=[]), max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _encodes(value: Any) -> None:
    json.dumps(value, ensure_ascii=False).encode("utf-8")


@given(ANY_TEXT)
def test_any_text_becomes_encodable_and_good_text_stays_as_it_is(text: str) -> None:
    plain = plain_text(text)
    plain.encode("utf-8")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        assert "\ufffd" in plain
    else:
        assert plain == text


@given(JSON)
def test_any_json_becomes_encodable(value: Any) -> None:
    _encodes(plain_data(value))


def test_surrogate_pairs_are_joined_and_lone_ones_replaced() -> None:
    assert plain_text("a\ud83d\ude00b\udfffc\ud800") == "a\U0001f600b\ufffdc\ufffd"


def test_text_is_exact_str_and_bounded() -> None:
    class Odd(str):
        def __str__(self) -> str:
            return "not this"

    assert type(plain_text(Odd("mine"))) is str and plain_text(Odd("mine")) == "mine"
    assert plain_text(None) == "" and plain_text({"a": [1]}) == "{'a': [1]}"
    cut = plain_text("x" * (MAX_TEXT * 2), MAX_TEXT)
    assert len(cut) <= MAX_TEXT + 3 and "..." in cut


def test_nesting_too_deep_for_the_host_is_cut_not_raised() -> None:
    value: Any = "\udfff"
    for _ in range(5000):
        value = [value]
    item, depth = plain_data(value), 0
    while isinstance(item, list):
        item, depth = item[0], depth + 1
    assert depth < 5000 and item == "<nested too deeply>"


@pytest.mark.parametrize("value", [None, True, "3", [1], {"s": 1}, float("nan"), float("inf"), -1, 10**400])
def test_a_duration_that_is_not_finite_seconds_is_zero(value: Any) -> None:
    assert read_seconds(value) == 0.0 and read_seconds(1.5) == 1.5


@pytest.mark.parametrize("raw", [None, "ok", 3, ["ok"], []], ids=["null", "string", "number", "list", "empty"])
def test_a_report_that_is_not_an_object_is_a_sandbox_error(raw: Any) -> None:
    test = read_test("t", raw, decode=False)
    assert test.verdict is Verdict.SANDBOX_ERROR and "unreadable" in test.message


@pytest.mark.parametrize("status", [None, ["ok"], {"ok": 1}, "passed", 1])
def test_an_unknown_status_is_a_sandbox_error(status: Any) -> None:
    test = read_test("t", {"status": status}, decode=False)
    assert test.verdict is Verdict.SANDBOX_ERROR and test.message


HOSTILE_FIELDS: list[dict[str, Any]] = [
    {"message": {"a": ["b"]}, "stdout": ["x"], "stderr": 5, "duration": "1"},
    {"exception": {"type": {"name": 42}, "message": ["x", "\udfff"], "traceback": "one\ntwo"}},
    {"exception": {"type": None, "message": None, "traceback": [1, None, {"a": "\udfff"}]}},
    {"exception": "just text \udfff"},
    {"exception": {"type": "T" * 5000, "traceback": ["line"] * 1000}},
    {"assertion": ["assert"], "input": {"x": 1}, "expected": 3, "actual": "\udfff"},
]


@pytest.mark.parametrize("fields", HOSTILE_FIELDS)
def test_hostile_fields_are_coerced_and_the_verdict_kept(fields: dict[str, Any]) -> None:
    test = read_test("t", {"status": "error", **fields}, decode=False)
    assert test.verdict is Verdict.ERROR
    _encodes(test.model_dump(mode="json"))
    test.model_dump_json()
    if test.exception is not None:
        assert len(test.exception.type) <= MAX_NAME + 3 and len(test.exception.traceback) <= 100
        assert all(type(line) is str for line in test.exception.traceback)


@pytest.mark.parametrize("value", [
    {"$r": {"not": "text"}}, {"$q": 1}, {"$d": [[[1], 2]]}, {"$b": ["x"]}, {"$i": "zz"}, {"$t": 5}, {"a": 1, "b": 2},
])
def test_a_returned_value_the_codec_cannot_rebuild_is_a_sandbox_error(value: Any) -> None:
    test = read_test("t", {"status": "ok", "value": value}, decode=True)
    assert test.verdict is Verdict.SANDBOX_ERROR and "could not be decoded" in test.message


def test_returned_values_decode_with_their_strings_made_encodable() -> None:
    value = codec.encode({"\udfff": ("\udfff", 1.5, {b"x"})})
    test = read_test("t", {"status": "ok", "value": json.loads(json.dumps(value))}, decode=True)
    assert test.passed and test.output == {"\ufffd": ("\ufffd", 1.5, {b"x"})}
    harness = read_test("t", {"status": "ok", "value": {"k": ["\udfff"]}}, decode=False)
    assert harness.output == {"k": ["\ufffd"]}


# ---------------------------------------------------------------- whole replies, through Sandbox with a scripted pool

Answer = dict[str, Any] | BaseException


class ScriptedContainer:
    """Stands in for ``sandbox.container.Container``: every request gets the scripted answer (a reply or an error)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.dirty = False

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


class ScriptedPool:
    """Stands in for ``sandbox.pool.ContainerPool``: lends a fresh scripted container per job, records them all."""

    def __init__(self, answer: Answer) -> None:
        self.settings = SandboxSettings()
        self.answer = answer
        self.lent: list[ScriptedContainer] = []

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[ScriptedContainer]:
        container = ScriptedContainer(self.answer)
        self.lent.append(container)
        yield container


def _run(answer: Answer) -> tuple[RunResult, ScriptedPool]:
    pool = ScriptedPool(answer)
    run = Sandbox(pool=cast(ContainerPool, pool)).run_tests("", ["assert True"])
    _encodes(run.model_dump(mode="json"))
    return run, pool


# What Container.request raises for a line that is JSON but no object ([1]), or nested past the parser's limit.
@pytest.mark.parametrize("error", [TypeError("cannot convert dictionary update sequence"), RecursionError("deep")],
                         ids=["not-an-object", "too-deep"])
def test_a_reply_line_that_cannot_be_read_is_a_sandbox_error_after_a_retry(error: BaseException) -> None:
    run, pool = _run(error)
    assert run.verdict is Verdict.SANDBOX_ERROR and run.attempts == 2 and "unreadable" in run.message
    assert [container.dirty for container in pool.lent] == [True, True]


def test_results_that_are_no_list_are_a_sandbox_error_after_a_retry() -> None:
    run, pool = _run({"results": {"0": {"status": "ok"}}, "clean": True})
    assert run.verdict is Verdict.SANDBOX_ERROR and run.attempts == 2 and len(pool.lent) == 2


def test_a_reply_with_strange_values_everywhere_is_read_as_plain_data() -> None:
    result = {"status": "error", "duration": "soon", "stdout": {"a": "\udfff"},
              "exception": {"type": {"x": 1}, "message": ["\udfff"], "traceback": 7}}
    run, _ = _run({"results": [result], "clean": True, "stdout": 5, "stderr": "\udfff", "duration": [1]})
    (test,) = run.tests
    assert test.verdict is Verdict.ERROR and test.exception is not None and test.exception.type == "{'x': 1}"
    assert test.exception.message == "['\ufffd']" and test.exception.traceback == []
    assert test.duration == 0.0 and run.duration == 0.0 and run.stdout == "5" and run.stderr == "\ufffd"


def test_a_reply_nobody_foresaw_is_a_sandbox_error_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str, raw: Any, *, decode: bool) -> TestResult:
        raise KeyError("a bug in reading")

    monkeypatch.setattr(executor, "read_test", broken)
    run, pool = _run({"results": [{"status": "ok"}], "clean": True})
    assert run.verdict is Verdict.SANDBOX_ERROR and run.attempts == 1 and "KeyError" in run.message
    assert pool.lent[0].dirty
