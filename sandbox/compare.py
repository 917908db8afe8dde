"""Whitespace-tolerant comparison of program output, as stdin/stdout judges do."""

from __future__ import annotations

import math

__all__ = ["outputs_match"]

FLOAT_TOLERANCE = 1e-6


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _same_token(actual: str, expected: str) -> bool:
    if actual == expected:
        return True
    try:
        a, e = float(actual), float(expected)
    except ValueError:
        return False
    return math.isclose(a, e, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)


def outputs_match(actual: str, expected: str) -> bool:
    """True when the outputs agree line by line after trailing whitespace is dropped (LiveCodeBench's rule),
    or token by token with numbers equal within 1e-6 (CodeContests' rule for floating-point answers)."""
    if _lines(actual) == _lines(expected):
        return True
    got, want = actual.split(), expected.split()
    return len(got) == len(want) and all(_same_token(a, e) for a, e in zip(got, want, strict=True))
