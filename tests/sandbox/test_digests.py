"""Large returned values come back as a digest the runner takes (never the child), for the host to compare."""

from __future__ import annotations

import json

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
            child.patched = True
        frame = frame.f_back

def big(n, claimed):
    patch(claimed)
    return "wrong"
"""


def test_a_large_value_comes_back_as_the_digest_of_its_json(sandbox: Sandbox) -> None:
    result = sandbox.run_calls(PROGRAM, "big", [[5000], [3]], digest_over=4096)
    large, small = result.tests
    expected = [i / 2 if i % 2 else i for i in range(5000)]
    assert large.passed and large.output is None
    assert large.digest == codec.value_digest(expected)
    assert large.value_bytes == len(json.dumps(codec.encode(expected)))
    assert small.digest is None and small.output == [0, 0.5, 2] and small.value_bytes == len("[0, 0.5, 2]")


def test_without_digest_over_every_value_comes_whole(sandbox: Sandbox) -> None:
    result = sandbox.run_calls(PROGRAM, "text", [[100_000]])
    assert result.tests[0].output == "x" * 100_000 and result.tests[0].digest is None


def test_a_value_holding_nan_always_comes_whole(sandbox: Sandbox) -> None:
    # NaN is unequal to itself: equal digests would pass what the value comparison fails.
    result = sandbox.run_calls(PROGRAM, "with_nan", [[1000]], digest_over=16)
    test = result.tests[0]
    assert test.digest is None and len(test.output) == 1000


def test_the_code_under_test_cannot_claim_a_digest(sandbox: Sandbox) -> None:
    claimed = codec.value_digest([i / 2 if i % 2 else i for i in range(5000)])
    result = sandbox.run_calls(FORGER, "big", [[5000, claimed], [5000, claimed]], digest_over=4096)
    for test in result.tests:
        assert test.verdict is Verdict.PASSED  # it returned, but what it said about a digest was dropped
        assert test.digest is None and test.value_bytes is None and test.output is None
