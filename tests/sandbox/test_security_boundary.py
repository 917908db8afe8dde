"""Strange values from the code under test cross into the host as plain, encodable data, through every kind of run.

Each attack makes the runner's report carry something a naive host chokes on: an exception whose ``str()`` is a
``str`` subclass that slices to a dict, an exception class whose ``__name__`` (through a metaclass) is not a
``str``, lone surrogates (``'\\udfff'``) in printed output, in a message, in an assert message, in a returned value.
Every run must come back as a result (no exception from ``Sandbox.run_*``) whose every string is an exact ``str``
that UTF-8 can encode, and which serialises to JSON.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox import RunResult, Sandbox, StdioCase, Verdict
from tests.hostile import ODD_MESSAGE, ODD_NAME, REPLACEMENT, SURROGATE

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.timeout(120)]

# Besides the shared SURROGATE's add(): values that carry lone surrogates back.
SURROGATES = SURROGATE + '''

def g(*args):
    return "\\udfff"


def h(*args):
    return ["\\udfff", {"k\\udfff": ("\\udfff", frozenset({"\\udfff"}))}]
'''


def _strings(value: Any) -> list[Any]:
    """Every string in a result, dict keys included, however nested (tuples, sets, models dumped to dicts)."""
    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Verdict):
            continue
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return found


def assert_plain(run: RunResult) -> None:
    """Every string is an exact, encodable str, and the result serialises (as the API and Redis do it)."""
    for text in _strings(run.model_dump()):
        assert type(text) is str, repr(text)
        text.encode("utf-8")
    run.model_dump_json()
    json.dumps(run.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
    for test in run.tests:
        if test.exception is not None:
            assert type(test.exception.type) is str and type(test.exception.message) is str


# ---------------------------------------------------------------- run_tests


def test_a_str_subclass_message_becomes_plain_text(sandbox: Sandbox) -> None:
    run = sandbox.run_tests(ODD_MESSAGE, ["add()", "assert 1 + 1 == 2"])
    assert_plain(run)
    bad, good = run.tests
    assert bad.verdict is Verdict.ERROR and bad.exception is not None and bad.exception.type == "Boom"
    # The child reports the exact str behind the subclass; were it to send the odd slice, the host would coerce it
    # (that layer is tested on its own in test_reply.py).
    assert bad.exception.message == "boom"
    assert good.verdict is Verdict.PASSED  # the bad test costs the good one nothing


def test_a_non_str_exception_name_becomes_plain_text(sandbox: Sandbox) -> None:
    run = sandbox.run_tests(ODD_NAME, ["add()", "assert True"])
    assert_plain(run)
    bad, good = run.tests
    assert bad.verdict is Verdict.ERROR and bad.exception is not None
    # The class's real name, read past the metaclass (the host would coerce anything else: see test_reply.py).
    assert bad.exception.type == "Weird" and bad.exception.message == "x"
    assert good.verdict is Verdict.PASSED


def test_lone_surrogates_in_output_and_messages_are_replaced(sandbox: Sandbox) -> None:
    run = sandbox.run_tests(SURROGATES, ["add()", "assert 1 == 2, 'no \\udfff'", "print('fine \\udfff')"])
    assert_plain(run)
    raised, failed, printed = run.tests
    assert raised.verdict is Verdict.ERROR and raised.exception is not None
    assert raised.exception.message == f"bad {REPLACEMENT}"
    assert raised.stdout == f"out {REPLACEMENT}\n" and raised.stderr == f"err {REPLACEMENT}\n"
    assert failed.verdict is Verdict.FAILED and failed.exception is not None
    assert failed.exception.message == f"no {REPLACEMENT}"
    assert printed.verdict is Verdict.PASSED and printed.stdout == f"fine {REPLACEMENT}\n"


# ---------------------------------------------------------------- run_calls


def test_returned_surrogates_come_back_replaced_in_every_container(sandbox: Sandbox) -> None:
    run = sandbox.run_calls(SURROGATES, "g", [[]])
    assert_plain(run)
    assert run.passed and run.tests[0].output == REPLACEMENT
    nested = sandbox.run_calls(SURROGATES, "h", [[]])
    assert_plain(nested)
    r = REPLACEMENT
    assert nested.passed and nested.tests[0].output == [r, {f"k{r}": (r, frozenset({r}))}]


@pytest.mark.parametrize("program", [ODD_MESSAGE, ODD_NAME, SURROGATES], ids=["str-subclass", "name", "surrogate"])
def test_calls_that_raise_strange_exceptions_are_errors(sandbox: Sandbox, program: str) -> None:
    run = sandbox.run_calls(program, "add", [[1], [2]])
    assert_plain(run)
    assert [t.verdict for t in run.tests] == [Verdict.ERROR, Verdict.ERROR]


# ---------------------------------------------------------------- run_stdio and run_harness


# Not SURROGATES: a stdio program's print goes to a real pipe, whose encoder refuses a surrogate in the child.
@pytest.mark.parametrize("program", [ODD_MESSAGE, ODD_NAME, "def add():\n    raise ValueError('bad \\udfff')\n"],
                         ids=["str-subclass", "name", "surrogate"])
def test_stdio_programs_that_raise_strange_exceptions_are_errors(sandbox: Sandbox, program: str) -> None:
    run = sandbox.run_stdio(program + "\nadd()\n", [StdioCase(stdin="1\n", expected="1"), StdioCase(stdin="2\n")])
    assert_plain(run)
    assert [t.verdict for t in run.tests] == [Verdict.ERROR, Verdict.ERROR]


def test_a_stdio_case_after_a_strange_one_is_judged_normally(sandbox: Sandbox) -> None:
    program = "import sys\nline = sys.stdin.readline()\nif line.startswith('bad'):\n    raise ValueError('\\udfff')\n"
    program += "print(line.strip())\n"
    run = sandbox.run_stdio(program, [StdioCase(stdin="bad\n"), StdioCase(stdin="ok\n", expected="ok")])
    assert_plain(run)
    bad, good = run.tests
    assert bad.verdict is Verdict.ERROR and bad.exception is not None and bad.exception.message == REPLACEMENT
    assert good.verdict is Verdict.PASSED


def test_a_harness_that_emits_surrogates_gets_them_replaced(sandbox: Sandbox) -> None:
    run = sandbox.run_harness("emit({'k\\udfff': ['\\udfff', 1, None]})")
    assert_plain(run)
    assert run.passed and run.tests[0].output == {f"k{REPLACEMENT}": [REPLACEMENT, 1, None]}

