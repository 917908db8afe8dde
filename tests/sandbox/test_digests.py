"""Large returned values come back as a digest the runner takes (never the child), for the host to compare."""

from __future__ import annotations

import hashlib
import struct

import pytest

from sandbox import Sandbox, Verdict
from sandbox.runner import codec

PROGRAM = """
def big(n):
    return [i / 2 if i % 2 else i for i in range(n)]

def with_nan(n):
    return [float("nan")] * n

def text(n):
    return "x" * n
"""

# Finds the child's Child object and makes it pack every returned value, whatever the run asked for.
PACKER = """
import sys

def patch():
    frame = sys._getframe()
    while frame is not None:
        child = frame.f_locals.get("self")
        if type(child).__name__ == "Child":
            child._digest_over = 0
        frame = frame.f_back
"""

# Finds the child's Child object and makes every report claim the expected output's digest instead of the value.
FORGER = """
import sys

def patch(claimed):
    frame = sys._getframe()
    while frame is not None:
        child = frame.f_locals.get("self")
        if type(child).__name__ == "Child" and not getattr(child, "patched", False):
            original = child.report

            def report(event, original=original):
                if event.get("e") == "end":
                    event = {k: v for k, v in event.items() if k != "value"}
                    event.update(digest=claimed, bytes=123456)
                original(event)

            child.report = report
            child.hold = lambda *args: False  # no returned call is reported with others: each goes through report
            child.patched = True
        frame = frame.f_back

def big(n, claimed):
    patch(claimed)
    return "wrong"
"""


def test_a_large_value_comes_back_as_the_digest_of_its_json(sandbox: Sandbox) -> None:
    result = sandbox.run_calls(PROGRAM, "text", [[5000], [3]], digest_over=4096)
    large, small = result.tests
    assert large.passed and large.output is None
    assert large.digest == codec.value_digest("x" * 5000, 4096) == hashlib.sha256(b'"' + b"x" * 5000 + b'"').hexdigest()
    assert large.value_bytes == 5002
    assert small.digest is None and small.output == "xxx" and small.value_bytes == len('"xxx"')


def test_a_long_list_of_numbers_comes_back_as_the_digest_of_its_packed_form(sandbox: Sandbox) -> None:
    # JSON text for a million floats costs the child seconds; packed, they cost milliseconds.
    result = sandbox.run_calls(PROGRAM, "big", [[5000], [3]], digest_over=4096)
    large, small = result.tests
    expected = [i / 2 if i % 2 else i for i in range(5000)]
    packed = codec.packed(expected)
    assert packed is not None and large.passed and large.output is None
    assert large.digest == codec.value_digest(expected, 4096) == hashlib.sha256(packed).hexdigest()
    assert large.value_bytes == len(packed)
    assert small.digest is None and small.output == [0, 0.5, 2] and small.value_bytes == len("[0, 0.5, 2]")


def test_packed_bytes_that_hold_newlines_are_read_by_their_length(sandbox: Sandbox) -> None:
    # Every byte of this float is a newline: the runner must frame a value by its announced length, not by lines.
    newlines = struct.unpack("d", b"\n" * 8)[0]
    program = f"def many(n):\n    return [{newlines!r}] * n\n"
    result = sandbox.run_calls(program, "many", [[300], [400]], digest_over=1024)
    expected = [[newlines] * 300, [newlines] * 400]
    assert [test.digest for test in result.tests] == [codec.value_digest(value, 1024) for value in expected]
    assert all(b"\n" * 8 in (codec.packed(value) or b"") for value in expected)


@pytest.mark.parametrize(("one", "other"), [
    ([1.0] * 300, [1] * 300),  # floats and ints that are equal in Python still differ in kind
    ([True] * 300, [1] * 300),
    ([2**53 + 1] + [0.5] * 299, [2**53] + [0.5] * 299),  # ints a double cannot tell apart: not packed at all
    ([0.1 * i for i in range(300)], [0.1 * i for i in range(299)] + [29.900000000000006]),
])
def test_different_values_never_pack_alike(one: list[object], other: list[object]) -> None:
    packed_one, packed_other = codec.packed(one), codec.packed(other)
    assert packed_one is None or packed_one != packed_other


def test_mixed_numbers_pack_as_the_numbers_they_are() -> None:
    # Mixed kinds go as doubles: lists equal as the host compares them (==) pack alike, unequal ones never do.
    one, other = [1, 2.5] * 150, [True, 2.5] * 150
    assert one == other and codec.packed(one) is not None and codec.packed(one) == codec.packed(other)
    assert codec.packed([1, 2.5] * 150) != codec.packed([1, 2.25] * 150)


@pytest.mark.parametrize("value", [
    [float("nan")] * 300, [float("inf")] * 300, [1] * 255, [2**70] * 300, ["a"] * 300, [[1]] * 300, (1.0,) * 300,
])
def test_only_long_lists_of_finite_numbers_pack(value: object) -> None:
    assert codec.packed(value) is None


def test_a_packed_value_is_never_sent_whole(sandbox: Sandbox) -> None:
    # The runner only digests packed bytes: where no digest is asked for, or the value is too short for one,
    # a child that sends packed bytes anyway (it is the code under test's own process) gets a broken report.
    program = PACKER + "\ndef big(n):\n    patch()\n    return [0.5] * n\n"
    for digest_over in (None, 1 << 20):
        test = sandbox.run_calls(program, "big", [[1000]], digest_over=digest_over).tests[0]
        assert test.verdict is Verdict.ERROR and "broken" in test.message, test
        assert test.digest is None and test.output is None


def test_without_digest_over_every_value_comes_whole(sandbox: Sandbox) -> None:
    result = sandbox.run_calls(PROGRAM, "text", [[100_000]])
    assert result.tests[0].output == "x" * 100_000 and result.tests[0].digest is None


def test_a_value_holding_nan_always_comes_whole(sandbox: Sandbox) -> None:
    # NaN is unequal to itself: equal digests would pass what the value comparison fails.
    result = sandbox.run_calls(PROGRAM, "with_nan", [[1000]], digest_over=16)
    test = result.tests[0]
    assert test.digest is None and len(test.output) == 1000


def test_the_code_under_test_cannot_claim_a_digest(sandbox: Sandbox) -> None:
    claimed = codec.value_digest([i / 2 if i % 2 else i for i in range(5000)], 4096)
    result = sandbox.run_calls(FORGER, "big", [[5000, claimed], [5000, claimed]], digest_over=4096)
    for test in result.tests:
        assert test.verdict is Verdict.PASSED  # it returned, but what it said about a digest was dropped
        assert test.digest is None and test.value_bytes is None and test.output is None
