"""Stdio judging is exact where the answer is exact, and a program's normal end is judged by its output.

Wrong answers that a float tolerance used to let through (``1000000000`` for ``1000000007``, ``1e3`` for ``1000``)
are rejected by the token rule of ``sandbox.compare``; right answers that end with ``sys.exit(0)`` and the like are
judged by what they printed, in the real sandbox.
"""

from __future__ import annotations

import pytest

from sandbox import Sandbox, StdioCase, Verdict
from sandbox.compare import outputs_match

pytestmark = pytest.mark.security

# (actual, expected): each must match.
ACCEPTED = [
    ("1000000007", "1000000007"),
    ("1000000007\n", "1000000007"),
    ("  1 2\r\n3\n\n", "1 2 3"),
    ("YES", "YES"),
    ("0010", "0010"),
    ("-5", "-5"),
    ("0.3333333", "0.33333333"),
    ("2.5000000", "2.5"),
    ("1000", "1000.0"),  # a real answer may be written as an integer
    ("1e3", "1000.0"),
    ("1000.0000001", "1000.0"),
    ("0.1000004", "0.1"),
    ("-0.0", "0.0"),
    ("1.0E-9", "0.0"),
    ("3.14159265", "3.141593"),
    ("+2.5", "2.5"),
    ("1.5", "1.5e0"),
    ("nan", "nan"),
    ("inf", "inf"),
    ("1e999", "1e999"),  # the same text, though its value is infinite
    ("0.5 x 7", "0.5000001 x 7"),
]

# (actual, expected): each must differ.
REJECTED = [
    ("1000000000", "1000000007"),  # 7 apart in 1e9: within 1e-6 relative, but an integer answer is exact
    ("123456700", "123456789"),
    ("1_000", "1000"),
    ("1e3", "1000"),
    ("1000.0", "1000"),
    ("1000.", "1000"),
    ("+1000", "1000"),
    ("01000", "1000"),
    ("-0", "0"),
    ("\uff11\uff10\uff10\uff10", "1000"),  # fullwidth digits, which int() and float() read
    ("\u0663", "3"),  # an Arabic-Indic 3
    ("\u0663.0", "3.0"),
    ("10", "0010"),  # a binary string is text, not a number
    ("1.5", "1"),
    ("1.00001", "1.0"),
    ("0.34", "0.33"),
    ("1_000.5", "1000.5"),
    ("0x10", "16.0"),
    ("nan", "0.5"),
    ("inf", "1e300"),
    ("0.5", "nan"),
    ("NaN", "nan"),
    ("Infinity", "inf"),
    ("2e999", "1e999"),  # both infinite: no tolerance makes them equal
    ("yes", "YES"),
    ("", "0"),
    ("1 2", "1 2 3"),
    ("1 2 3", "1 2"),
    ("1000000007 1", "1000000007 2"),
]


@pytest.mark.parametrize(("actual", "expected"), ACCEPTED)
def test_outputs_that_match(actual: str, expected: str) -> None:
    assert outputs_match(actual, expected)


@pytest.mark.parametrize(("actual", "expected"), REJECTED)
def test_outputs_that_differ(actual: str, expected: str) -> None:
    assert not outputs_match(actual, expected)


def test_a_wrong_integer_answer_fails_in_the_sandbox(sandbox: Sandbox) -> None:
    program = "n = int(input())\nprint(n // 10 * 10)\n"
    cases = [StdioCase(stdin="1000000007\n", expected="1000000007"), StdioCase(stdin="120\n", expected="120")]
    result = sandbox.run_stdio(program, cases)
    assert [t.verdict for t in result.tests] == [Verdict.FAILED, Verdict.PASSED]
    assert result.tests[0].actual == "1000000000\n"


# ---------------------------------------------------------------- how a stdio program ends

NORMAL_ENDS = {
    "sys.exit()": "import sys\nsys.exit()",
    "sys.exit(0)": "import sys\nsys.exit(0)",
    "sys.exit(None)": "import sys\nsys.exit(None)",
    "sys.exit(False)": "import sys\nsys.exit(False)",
    "exit()": "exit()",
    "exit(0)": "exit(0)",
    "quit()": "quit()",
    "raise SystemExit": "raise SystemExit",
    "raise SystemExit(0)": "raise SystemExit(0)",
    "in a function": "import sys\ndef stop():\n    sys.exit(0)\nstop()",
    "os._exit(0)": "import os, sys\nsys.stdout.flush()\nos._exit(0)",
    "a thread": None,
}
THREADED = """\
import sys, threading, time
def main():
    time.sleep(0.2)  # still running when the main thread is done
    print(int(input()) * 2)
    sys.exit(0)
threading.stack_size(1 << 24)
threading.Thread(target=main).start()
"""


def _doubling(end: str | None) -> str:
    return THREADED if end is None else f"print(int(input()) * 2)\n{end}\nprint('never printed')\n"


@pytest.mark.parametrize("form", NORMAL_ENDS)
def test_exit_status_0_after_the_output_is_a_normal_end(sandbox: Sandbox, form: str) -> None:
    cases = [StdioCase(stdin="21\n", expected="42"), StdioCase(stdin="21\n", expected="43")]
    result = sandbox.run_stdio(_doubling(NORMAL_ENDS[form]), cases)
    right, wrong = result.tests
    assert right.verdict is Verdict.PASSED, (right.message, right.exception)
    assert right.stdout == "42\n" and right.exception is None
    assert wrong.verdict is Verdict.FAILED and wrong.message == "stdout differs from the expected output"


ERROR_ENDS = {  # the exit, its status, and what it writes to stderr
    "sys.exit(3)": ("import sys\nsys.exit(3)", "3", ""),
    "sys.exit(True)": ("import sys\nsys.exit(True)", "1", ""),
    "exit(2)": ("exit(2)", "2", ""),
    "raise SystemExit(-1)": ("raise SystemExit(-1)", "-1", ""),
    "sys.exit(msg)": ("import sys\nsys.exit('bad input')", "1", "bad input\n"),
    "sys.exit(0.0)": ("import sys\nsys.exit(0.0)", "1", "0.0\n"),  # not an integer: printed, status 1
}


@pytest.mark.parametrize("form", ERROR_ENDS)
def test_a_non_zero_exit_status_is_an_error_even_after_the_right_output(sandbox: Sandbox, form: str) -> None:
    end, status, stderr = ERROR_ENDS[form]
    result = sandbox.run_stdio(_doubling(end), [StdioCase(stdin="21\n", expected="42")])
    (test,) = result.tests
    assert test.verdict is Verdict.ERROR and test.stdout == "42\n" and test.stderr == stderr
    assert test.message == f"the program exited with status {status} (SystemExit)"
    assert test.exception is not None and test.exception.type == "SystemExit"


def test_os_exit_with_a_non_zero_status_is_an_error(sandbox: Sandbox) -> None:
    result = sandbox.run_stdio(_doubling("import os, sys\nsys.stdout.flush()\nos._exit(4)"),
                               [StdioCase(stdin="21\n", expected="42")])
    (test,) = result.tests
    assert test.verdict is Verdict.ERROR and test.stdout == "42\n"
    assert test.message is not None and "code 4" in test.message


def test_a_thread_that_never_ends_is_a_timeout(sandbox: Sandbox) -> None:
    program = ("import threading\ndef spin():\n    while True:\n        pass\n\n"
               "print(1)\nthreading.Thread(target=spin).start()\n")
    result = sandbox.run_stdio(program, [StdioCase(stdin="", expected="1")])
    assert result.tests[0].verdict is Verdict.TIMEOUT


def test_exit_0_is_still_an_error_outside_stdio(sandbox: Sandbox) -> None:
    """Assert-style tests and calls run the program as a module and then call it: a ``SystemExit`` there, while
    loading or in a test, ends no script; it is an error as before."""
    loading = sandbox.run_in_process("import sys\nsys.exit(0)\n", ["assert True"])
    in_test = sandbox.run_in_process("def f():\n    raise SystemExit(0)\n", ["f()"])
    called = sandbox.run_calls("import sys\ndef f(x):\n    sys.exit(0)\n", "f", [[1]])
    for result in (loading, in_test, called):
        (test,) = result.tests
        assert test.verdict is Verdict.ERROR and test.exception is not None
        assert test.exception.type == "SystemExit"
