"""The text side of the language server, without a server: which function a cursor is in, what the model is shown,
how the repaired function replaces the old one, and which of the user's tests are found."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from selfdebug_lsp.functions import find_function, function_at, prompt_for, replacement
from selfdebug_lsp.usertests import doctest_asserts, files_with_tests, user_tests_in

SOURCE = '''import math
from typing import List


@cache
def mean(xs: List[float]) -> float:
    """The mean of xs.

    >>> mean([1, 3])
    2.0
    >>> mean([])
    Traceback (most recent call last):
    ZeroDivisionError: division by zero
    """
    return sum(xs) / len(xs) + 1


class Box:
    def size(self):
        """A method: not offered."""
        return 1


def test_mean():
    from calc import mean
    assert mean([2]) == 2


assert mean([4]) == 4'''


def test_the_function_under_the_cursor_and_a_selection() -> None:
    assert function_at(SOURCE, 4) is None  # the decorator stays outside
    assert function_at(SOURCE, 5).name == "mean"  # type: ignore[union-attr]
    assert function_at(SOURCE, 14).name == "mean"  # type: ignore[union-attr]
    assert function_at(SOURCE, 19) is None  # a method
    assert function_at(SOURCE, 16, 30).name == "test_mean"  # type: ignore[union-attr]
    assert function_at("def broken(:\n", 0) is None


def test_the_prompt_is_the_imports_the_header_and_the_docstring() -> None:
    mean = find_function(SOURCE, "mean")
    assert mean is not None
    prompt = prompt_for(SOURCE, mean)
    assert prompt.startswith("import math\nfrom typing import List\n\n\ndef mean(xs: List[float]) -> float:\n")
    assert prompt.endswith('ZeroDivisionError: division by zero\n    """\n') and "return" not in prompt


def test_the_replacement_keeps_the_docstring_and_brings_what_it_needs() -> None:
    mean = find_function(SOURCE, "mean")
    assert mean is not None
    program = "import statistics\nimport math\n\nSCALE = 1\n\n\ndef _total(xs):\n    return sum(xs)\n\n\n" \
              "def mean(xs):\n    return statistics.fmean(xs) * SCALE\n"
    text = replacement(SOURCE, mean, program)
    assert text is not None
    assert text.startswith("import statistics\n\nSCALE = 1\n\n\ndef _total(xs):\n    return sum(xs)\n\n\n"
                           'def mean(xs):\n    """The mean of xs.\n')
    assert text.endswith('    """\n    return statistics.fmean(xs) * SCALE\n')
    assert replacement(SOURCE, mean, "def other():\n    pass\n") is None
    assert replacement(SOURCE, mean, "def mean(:") is None


def test_the_users_tests_are_found(tmp_path: Path) -> None:
    mean = find_function(SOURCE, "mean")
    assert mean is not None
    assert [t.code for t in doctest_asserts(mean)] == ["assert mean([1, 3]) == 2.0"]
    found = user_tests_in(SOURCE, "mean", skip=mean)
    assert [(t.name, t.code) for t in found] == [("test_mean", "assert mean([2]) == 2\n"),
                                                 ("assert on line 29", "assert mean([4]) == 4")]
    (tmp_path / "tests").mkdir()
    for name in ("test_calc.py", "calc_test.py", "tests/test_calc.py", "test_other.py"):
        (tmp_path / name).write_text("")
    assert files_with_tests(tmp_path / "calc.py", tmp_path) == [
        tmp_path / "test_calc.py", tmp_path / "calc_test.py", tmp_path / "tests" / "test_calc.py"]


@given(st.text())
def test_any_text_is_read_without_an_error(text: str) -> None:
    function_at(text, 0, 3)
    function = find_function(text, "f")
    if function is not None:
        replacement(text, function, text)
        user_tests_in(text, "f")
