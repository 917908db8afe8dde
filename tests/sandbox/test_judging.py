"""Assert-style tests judged on the host (``sandbox.judging``), in the real sandbox: Python's comparison semantics on
plain values, computed expected values, evidence for the model, and what falls back to running in process."""

from __future__ import annotations

import pytest

from sandbox import Limits, Sandbox, Verdict
from sandbox.judging import EXPRESSIONS, plan_tests

F = "def f(x):\n    return x\n"


def verdicts(sandbox: Sandbox, program: str, tests: list[str]) -> list[tuple[str, str | None]]:
    result = sandbox.run_tests(program, tests)
    return [(test.verdict.value, test.judged) for test in result.tests]


@pytest.mark.parametrize(("test", "verdict"), [
    ("assert f(True) == 1", "passed"),  # Python's ==: True == 1
    ("assert f(1) == 1.0", "passed"),
    ("assert f((1, 2)) == [1, 2]", "failed"),  # a tuple is not a list
    ("assert f({1: 'a'}) == {1: 'a'}", "passed"),  # integer keys survive the trip
    ("assert f(float('nan')) == float('nan')", "failed"),  # nan is not nan
    ("assert f(float('inf')) == float('inf')", "passed"),
    ("assert f(2 ** 20000) == 2 ** 20000", "passed"),  # past the 4300-digit limit of int <-> str
    ("assert f(b'\\x00') == b'\\x00'", "passed"),
    ("assert f(1 + 2j) == 1 + 2j", "passed"),
    ("assert f(frozenset({1})) == {1}", "passed"),
    ("assert f(1) is True", "failed"),  # 1 == True, but 1 is not True
    ("assert f(None) is None", "passed"),
    ("assert f(0.1 + 0.2) == 0.3", "failed"),
    ("assert abs(f(0.1 + 0.2) - 0.3) < 1e-9", "passed"),
    ("assert math.isclose(f(1.0), 1.0 + 1e-12)", "passed"),
    ("assert sorted(f([3, 1, 2])) == [1, 2, 3]", "passed"),
    ("assert set(f([1, 1, 2])) == {1, 2}", "passed"),
    ("assert f([]) ", "failed"),
    ("assert not f('')", "passed"),
    ("assert f(3) in [1, 2, 3]", "passed"),
    ("assert 0 < f(5) < 4", "failed"),
    ("assert f('a') < 1", "error"),  # the comparison raises, as the assert would have
])
def test_values_compare_as_python_compares_plain_data(sandbox: Sandbox, test: str, verdict: str) -> None:
    assert verdicts(sandbox, F, [test]) == [(verdict, "host")]


def test_failures_show_input_expected_and_actual(sandbox: Sandbox) -> None:
    program = "def add(a, b=0):\n    return a - b\n"
    result = sandbox.run_tests(program, ["assert add(1, b=2) == 3", "assert 3 == add(2, 1)"])
    first, second = result.tests
    assert (first.input, first.expected, first.actual) == ("1, b=2", "3", "-1")
    assert first.assertion == "assert add(1, b=2) == 3"
    assert first.exception is not None and first.exception.type == "AssertionError"
    assert first.exception.traceback == ['  File "<test 0>", line 1, in <module>', "    assert add(1, b=2) == 3"]
    assert (second.input, second.expected, second.actual) == ("2, 1", "3", "1")


def test_an_object_that_is_not_plain_data_fails_with_a_reason(sandbox: Sandbox) -> None:
    program = "class Box:\n    def __eq__(self, other):\n        return True\n\ndef f(x):\n    return Box()\n"
    result = sandbox.run_tests(program, ["assert f(1) == 1", "assert f(1)", "assert f(1) is not None"])
    boxed, truthy, identity = result.tests
    assert boxed.verdict is Verdict.FAILED and "not plain data" in boxed.message
    assert truthy.passed and identity.passed  # truth is the object's own; identity needs no comparison


def test_non_literal_values_are_computed_without_the_program(sandbox: Sandbox) -> None:
    # The program rebinds list and float: the test's values are computed where the program does not exist, so
    # they mean what the test says (in process, list(range(5)) would have called None).
    program = "list = None\nfloat = None\n\ndef f(x):\n    return len(x)\n"
    result = sandbox.run_tests(program, ["assert f([0] * 1000) == 10 ** 3",
                                         "assert f(list(range(5))) == 5", "assert f([]) < float('inf')"])
    assert [(t.verdict, t.judged) for t in result.tests] == [(Verdict.PASSED, "host")] * 3, result.tests


def test_values_that_cannot_be_carried_run_in_process(sandbox: Sandbox) -> None:
    tests = ["assert f([[0] * 2] * 2) == [[0, 0], [0, 0]]",  # one list twice: a copy would separate them
             "assert f(lambda: 1)() == 1",  # not a shape the host judges: a call on the result
             "assert f(undefined) == 1",  # a name nobody defines
             "assert f(1) == object()"]  # an expected value that is not plain data
    plans = plan_tests(sandbox, tests)
    assert [plan.on_host for plan in plans] == [False, False, False, False]
    assert "twice" in plans[0].reason and "not plain data" in plans[3].reason
    result = sandbox.run_tests(F, tests)
    assert [(t.verdict.value, t.judged) for t in result.tests] == [
        ("passed", "in_process"), ("passed", "in_process"), ("error", "in_process"), ("failed", "in_process")]


def test_expression_values_are_cached(sandbox: Sandbox) -> None:
    test = "assert f([7] * 3) == [7, 7, 7]"
    sandbox.run_tests(F, [test])
    assert EXPRESSIONS.cached("", "[7] * 3") is not None


def test_in_process_tests_keep_their_own_index_and_state(sandbox: Sandbox) -> None:
    program = "calls = []\n\ndef f(x):\n    calls.append(x)\n    return len(calls)\n"
    # Cases of one run share the program's state, in order, as asserts in one namespace do.
    result = sandbox.run_tests(program, ["assert f('a') == 1", "assert f('b') == 2", "import sys\nassert sys"])
    assert [(t.verdict.value, t.judged) for t in result.tests] == [
        ("passed", "host"), ("passed", "host"), ("passed", "in_process")]
    error = sandbox.run_tests(F, ["assert f(1) == 1", "raise ValueError('x')"]).tests[1]
    assert error.exception is not None and any("<test 1>" in line for line in error.exception.traceback)


def test_a_check_stops_at_its_first_failure_and_counts_its_asserts(sandbox: Sandbox) -> None:
    check = ("def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(2) == 3\n"
             "    assert candidate(3) == 4\n")
    result = sandbox.run_check(F, check, "f")
    (test,) = result.tests
    assert test.name == "check" and test.verdict is Verdict.FAILED and test.asserts == 3
    assert (test.input, test.expected, test.actual) == ("2", "3", "2")
    assert test.exception is not None and test.exception.traceback[0] == '  File "<test 0>", line 3, in check'


def test_exceptions_point_at_the_program_and_the_assert(sandbox: Sandbox) -> None:
    program = "def f(x):\n    return 1 // x\n"
    test = sandbox.run_tests(program, ["assert f(0) == 1"]).tests[0]
    assert test.verdict is Verdict.ERROR and test.exception is not None
    assert test.exception.type == "ZeroDivisionError"
    assert test.exception.traceback[:2] == ['  File "<test 0>", line 1, in <module>', "    assert f(0) == 1"]
    assert any('"<solution>", line 2, in f' in line for line in test.exception.traceback)
    assert not any("__selfdebug" in line or "lambda" in line for line in test.exception.traceback)


def test_a_check_gets_the_time_a_test_would_have(sandbox: Sandbox) -> None:
    slow = "import time\n\ndef f(x):\n    time.sleep(0.4)\n    return x\n"
    check = "def check(candidate):\n" + "".join(f"    assert candidate({i}) == {i}\n" for i in range(5))
    result = sandbox.run_check(slow, check, "f", limits=Limits(test_timeout=1.0))
    assert result.verdict is Verdict.TIMEOUT, result.tests  # 2 s in all, though each call takes 0.4 s


def test_output_and_load_errors_reach_the_result(sandbox: Sandbox) -> None:
    printing = "def f(x):\n    print('seen', x)\n    return x\n"
    assert sandbox.run_tests(printing, ["assert f(1) == 1"]).tests[0].stdout == "seen 1\n"
    broken = sandbox.run_tests("def f(x:\n", ["assert f(1) == 1"]).tests[0]
    assert broken.verdict is Verdict.ERROR and broken.exception is not None
    assert broken.exception.type == "SyntaxError"
