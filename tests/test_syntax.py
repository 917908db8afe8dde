"""``selfdebug.syntax.parse``: what the engine's parsing goes through, from any thread."""

from __future__ import annotations

import ast
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from selfdebug.syntax import parse

# A HumanEval-sized check function: a long list literal makes a deep-enough tree.
SOURCE = "def check(candidate):\n" + "".join(
    f"    assert candidate([{', '.join(map(str, range(i, i + 40)))}]) == {i}\n" for i in range(30))


def test_parses_from_many_threads_at_once() -> None:
    expected = ast.dump(ast.parse(SOURCE))
    with ThreadPoolExecutor(8) as pool:
        dumps = list(pool.map(lambda _: ast.dump(parse(SOURCE)), range(400)))
    assert set(dumps) == {expected}


def test_one_parse_at_a_time() -> None:
    # While one thread parses, another waits: CPython 3.11's AST constructor shares its depth counter.
    from selfdebug import syntax

    with syntax._LOCK:
        done = threading.Event()
        worker = threading.Thread(target=lambda: (parse("x = 1"), done.set()))
        worker.start()
        assert not done.wait(0.2)
    worker.join(5)
    assert done.is_set()


def test_syntax_warnings_are_silenced_even_as_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(parse('pattern = "\\d+"\n'), ast.Module)
        with pytest.raises(SyntaxError):
            ast.parse('pattern = "\\d+"\n')  # what parse spares its callers
    with pytest.raises(SyntaxError):
        parse("def broken(:\n")
