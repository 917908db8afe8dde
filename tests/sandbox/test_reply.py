"""Reading the runner's reports (``sandbox.reply``) without Docker: any JSON a report may hold becomes a plain,
encodable ``TestResult``, or that test's ``sandbox_error``; nothing raises."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import Verdict
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
