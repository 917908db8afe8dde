"""Parsing Python source on the host, safe to call from many threads at once (the engine's parsing goes through
here too, so every thread of the process shares one lock)."""

from __future__ import annotations

import ast
import threading
import warnings

__all__ = ["parse"]

_LOCK = threading.Lock()


def parse(source: str) -> ast.Module:
    """``ast.parse`` with the parser's SyntaxWarnings silenced (model code is full of "\\d" in plain strings), one
    call at a time.

    One at a time because CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state: two
    threads building trees together can trip its own consistency check ("SystemError: AST constructor recursion
    depth mismatch", python/cpython#106905), as the evaluator's threads did here parsing HumanEval's tests. The
    warnings filters that ``catch_warnings`` swaps are process-wide too. Parsing takes microseconds: no one waits.
    """
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)
