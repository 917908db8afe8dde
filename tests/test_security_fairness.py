"""Host-side work on a model's answer grows linearly with the answer and the prompt, whatever their shape: a job
whose client sends a long prompt must not hold a worker's only event loop for the square of its length (a 50,000-
character prompt of imports took 30 s to extract code for, and a job ran 46 s past its 5 s limit).

Work is counted, not timed, where Python does it: lines the interpreter runs (in every module, the standard
library's too) and characters handed to the parser. Regular expressions and list moves work in C, out of a tracer's
sight: those shapes compare CPU time at two sizes in one run, with a bound a linear cost meets by a wide margin and
a quadratic one misses by far."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

import pytest

import selfdebug.extract
import selfdebug.syntax
from selfdebug.extract import extract_code
from selfdebug.selftests import parse_tests

pytestmark = [pytest.mark.security, pytest.mark.timeout(120)]

GROWTH = 4  # the larger input is this many times the smaller one
SLACK = 2.0  # linear work grows GROWTH times; quadratic work GROWTH² (16) times: allow up to GROWTH x SLACK (8)
ANSWER = "```python\ndef f(x):\n    return x\n```"
STUB = "def f(x):\n    pass\n"


class _TooMuchWork(Exception):
    pass


class _Work:
    """Lines run and characters parsed while counting; past ``budget`` lines the work stops with ``_TooMuchWork``."""

    def __init__(self, budget: int | None = None) -> None:
        self.lines = 0
        self.parsed = 0
        self.budget = budget

    @property
    def total(self) -> int:
        return self.lines + self.parsed

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines += 1
            if self.budget is not None and self.total > self.budget:
                raise _TooMuchWork
        return self._trace


@contextmanager
def _counting(work: _Work, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Work]:
    parse = selfdebug.syntax.parse

    def counted(source: str) -> Any:
        work.parsed += len(source)
        return parse(source)

    monkeypatch.setattr(selfdebug.extract, "parse", counted)
    previous = sys.gettrace()
    sys.settrace(work._trace)
    try:
        yield work
    finally:
        sys.settrace(previous)
        monkeypatch.setattr(selfdebug.extract, "parse", parse)


def _imports(n: int) -> tuple[str, str]:
    return ANSWER, "import os\n" * (n // 10) + STUB  # the prompt: every import is cut out of it


def _assignments(n: int) -> tuple[str, str]:
    return ANSWER, "LIMIT = 1\n" * (n // 10) + STUB


def _one_line_of_imports(n: int) -> tuple[str, str]:
    return ANSWER, "import os; " * (n // 11) + "\n" + STUB  # many statements cut out of one long line


def _many_bodies(n: int) -> tuple[str, str]:
    # Fenced bodies that are no completion of a long stub: each was tried against the whole stub.
    prompt = 'def f(x):\n    """' + "Some words.\n" * (n // 12) + '    """\n'
    return "\n\n".join(["```\n    return x +\n```"] * (n // 20)), prompt


@pytest.mark.parametrize("shape", [_imports, _assignments, _one_line_of_imports, _many_bodies],
                         ids=lambda shape: shape.__name__.strip("_"))
def test_extracting_code_does_linear_work(shape: Callable[[int], tuple[str, str]],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    small = 2_000
    answer, prompt = shape(small)
    extract_code(answer, prompt=prompt, entry_point="f")  # warm: compiled patterns, imports
    with _counting(_Work(), monkeypatch) as base:
        extract_code(answer, prompt=prompt, entry_point="f")
    budget = int(GROWTH * SLACK * base.total)
    answer, prompt = shape(GROWTH * small)
    with _counting(_Work(budget), monkeypatch) as large, suppress(_TooMuchWork):
        extract_code(answer, prompt=prompt, entry_point="f")
    assert large.total <= budget, (
        f"{GROWTH}x the input took more than {GROWTH * SLACK:g}x the work ({base.total} lines and characters "
        f"parsed for {small} characters): quadratic")


def _cpu_seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return max(best, 1e-4)  # the clock's grain: a tiny baseline must not make a linear cost look steep


STEEP = 64  # for 16x the input: linear work takes about 16x the time, quadratic 256x


@pytest.mark.parametrize("shape", ["backticks", "blank_lines"])
def test_extracting_code_takes_linear_time_where_c_does_the_work(shape: str) -> None:
    def answer(n: int) -> str:
        if shape == "backticks":  # "a````...` !": the fence pattern rescanned the run from each backtick
            return "a" + "`" * n + " !\n" + ANSWER
        return "\n" * n + "    return x\n"  # blank lines popped one by one off the front of a list

    def extract(n: int) -> Callable[[], object]:
        return lambda: extract_code(answer(n), prompt=STUB, entry_point="f")

    sizes = (500, 8_000) if shape == "backticks" else (5_000, 80_000)
    small, large = (_cpu_seconds(extract(n)) for n in sizes)
    assert large / small < STEEP, f"16x the answer took {large / small:.0f}x the time ({small:.4f}s, {large:.4f}s)"


def test_reading_self_tests_takes_linear_time() -> None:
    # A claimed result with a long run of spaces in its comment: a lazy pattern rescanned the run from each space.
    def read(n: int) -> Callable[[], object]:
        return lambda: parse_tests("f(1)  # returns 1" + " " * n + "x\n", entry_point="f")

    small, large = (_cpu_seconds(read(n)) for n in (1_250, 20_000))
    assert large / small < STEEP, f"16x the answer took {large / small:.0f}x the time ({small:.4f}s, {large:.4f}s)"
