"""Reading assert-style tests as calls (``sandbox.asserts``): what converts, what stays in process and why, and that
reading never runs any of the test's code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.asserts import ACTUAL, Abs, CallCase, Compare, Difference, Given, IsClose, Operand, Truth, read_test


def one(source: str) -> CallCase:
    reading = read_test(source)
    assert reading.on_host, reading.reason
    assert len(reading.cases) == 1
    return reading.cases[0]


def test_an_equality_becomes_a_call_and_a_literal() -> None:
    case = one("assert add(1, [2, 3]) == 6")
    assert case.function == "add"
    assert [(a.prefix, a.operand.value) for a in case.arguments] == [("", 1), ("", [2, 3])]
    assert case.probe == "add(__args[0], __args[1])"
    assert case.check == Compare(items=(ACTUAL, Given(Operand("6", True, 6))), ops=("==",))
    assert case.assertion == "assert add(1, [2, 3]) == 6" and case.line == 1


@pytest.mark.parametrize(("source", "check"), [
    ("assert 6 == f(1)", Compare(items=(Given(Operand("6", True, 6)), ACTUAL), ops=("==",))),
    ("assert f(1) != 2", Compare(items=(ACTUAL, Given(Operand("2", True, 2))), ops=("!=",))),
    ("assert f(1) in (1, 2)", Compare(items=(ACTUAL, Given(Operand("(1, 2)", True, (1, 2)))), ops=("in",))),
    ("assert 0 < f(1) <= 9", Compare(items=(Given(Operand("0", True, 0)), ACTUAL, Given(Operand("9", True, 9))),
                                     ops=("<", "<="))),
    ("assert f(1) is None", Compare(items=(ACTUAL, Given(Operand("None", True, None))), ops=("is",))),
    ("assert f(1) is not True", Compare(items=(ACTUAL, Given(Operand("True", True, True))), ops=("is not",))),
    ("assert f(1)", Truth(expect=True)),
    ("assert not f(1)", Truth(expect=False)),
    ("assert abs(f(1) - 0.5) < 1e-6", Compare(
        items=(Abs(Difference(ACTUAL, Given(Operand("0.5", True, 0.5)))), Given(Operand("1e-06", True, 1e-6))),
        ops=("<",))),
    ("assert math.isclose(f(1), 0.5, rel_tol=0.01)", IsClose(
        left=ACTUAL, right=Given(Operand("0.5", True, 0.5)), rel_tol=Given(Operand("0.01", True, 0.01)))),
])
def test_the_shapes_that_are_judged_on_the_host(source: str, check: object) -> None:
    assert one(source).check == check


def test_wrappers_around_the_call_run_with_it_in_the_sandbox() -> None:
    assert one("assert sorted(f(x=[3, 1])) == [1, 3]").probe == "sorted(f(x=__args[0]))"
    assert one("assert round(f(2), 2) == 0.5").probe == "round(f(__args[0]), 2)"
    assert one("assert f(*[1, 2], **{'k': 3})[0] == 1").probe == "f(*__args[0], **__args[1])[0]"
    assert one("assert f(1)").probe == "__selfdebug_truth__(f(__args[0]))"


def test_expressions_that_are_not_literals_are_kept_as_source() -> None:
    case = one("assert f([1] * 3) == float('inf')")
    operands = list(case.operands())
    assert [(o.source, o.literal) for o in operands] == [("[1] * 3", False), ("float('inf')", False)]
    assert one("assert f(-5) == 1e-6").arguments[0].operand == Operand("-5", True, -5)


def test_a_humaneval_check_is_read_whole() -> None:
    test = textwrap.dedent("""\
        METADATA = {'author': 'jt', 'dataset': 'test'}


        def check(candidate):
            # a comment
            print
            assert candidate([1, 2]) == 3, "This prints if this assert fails"
            assert True, "This prints if this assert fails (also good for debugging!)"
            assert not candidate([])


        check(total)
        """)
    reading = read_test(test)
    assert reading.on_host and reading.asserts == 2
    assert [case.function for case in reading.cases] == ["total", "total"]
    assert [case.scope for case in reading.cases] == ["check", "check"]
    assert reading.cases[0].message == "This prints if this assert fails"
    assert reading.cases[0].line_text == 'assert candidate([1, 2]) == 3, "This prints if this assert fails"'
    assert reading.appendix == "METADATA = {'author': 'jt', 'dataset': 'test'}"


def test_an_mbpp_check_calls_functions_by_name_and_may_shadow_a_builtin() -> None:
    reading = read_test("def check(candidate):\n    assert sum(10, 15) == 6\ncheck(sum)\n")
    assert reading.on_host and reading.cases[0].function == "sum"


def test_imports_go_to_the_program_and_to_the_values() -> None:
    reading = read_test("import math\nfrom math import isclose\nassert isclose(f(1), math.pi)")
    assert reading.on_host
    assert reading.setup == reading.appendix == "import math\nfrom math import isclose"
    assert isinstance(reading.cases[0].check, IsClose)


@pytest.mark.parametrize(("source", "reason"), [
    ("x = [1]\nassert f(x) == 1", "other statements"),
    ("def check(candidate):\n    x = 3\n    assert candidate(x) == 1\ncheck(f)", "sets x"),
    ("def check(candidate):\n    for i in range(3):\n        assert candidate(i) == i\ncheck(f)", "sets i"),
    ("assert f(1) == f(2)", "more than once"),
    ("assert f(1) == helper(2)", "more than once"),
    ("assert f(1) == CONSTANT", "CONSTANT"),
    ("def check(candidate):\n    assert check(70) == False\ncheck(rev)", "which the test itself defines"),
    ("assert f(1) is 3", "'is' check"),
    ("assert f(1) + 1 == 2", "does not judge"),
    ("assert len(f(1)) == len([1, g])", "g"),
    ("from helpers import *\nassert f(1) == 2", "imports *"),
    ("assert True", "no assert that calls"),
    ("print(f(1))", "other statements"),
    ("assert f(1) == 2\nassert False", "false constant"),
    ("assert obj.method(1) == 2", "calls no function"),
    ("assert (y := f(1)) == 2", "does not judge"),
    ("def broken(:", "does not parse"),
])
def test_what_stays_in_process_says_why(source: str, reason: str) -> None:
    reading = read_test(source)
    assert not reading.on_host and reason in reading.reason, reading.reason


def test_reading_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    reading = read_test(f"import os\nassert f({touch}) == {touch}\nassert f(1) == os.system('touch {marker}')")
    assert reading.on_host and not marker.exists()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_reads_without_raising(text: str) -> None:
    reading = read_test(text)
    assert reading.on_host or reading.reason


ASSERT_PARTS = st.sampled_from(["f(", ")", "==", "!=", " is ", " not ", "abs(", " - ", "1", "[1, 2]", "'s'", ",",
                                "candidate", "sorted(", "x", "math.isclose(", "1e-6", "<", "(", "lambda y: y",
                                "*", "**", "=", "\n    ", "def check(candidate):\n    ", "\ncheck(f)\n", "assert "])


@settings(max_examples=500, deadline=None)
@given(st.lists(ASSERT_PARTS, min_size=1, max_size=25))
def test_assert_like_text_reads_without_raising(parts: list[str]) -> None:
    reading = read_test("assert " + "".join(parts))
    assert reading.on_host or reading.reason
    for case in reading.cases:
        assert case.function and case.probe
