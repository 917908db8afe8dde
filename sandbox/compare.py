"""Token-by-token comparison of program output, exact where the answer is exact, as contest checkers judge.

The rule (``outputs_match``):

1. Both outputs are split into tokens at any whitespace (spaces, tabs, line breaks): how the tokens are spaced or
   broken into lines, and trailing blank lines, never matter. The token counts must agree.
2. A token equal to the expected one, character for character, matches.
3. Where the expected token is a real number written in decimal with a fraction point or an exponent
   (``0.5``, ``-3.25``, ``1.``, ``.5``, ``2e-3``, ``1.5E+10``), the actual token matches when it is a decimal number
   too (an integer such as ``3`` included) whose value is within ``FLOAT_TOLERANCE`` (1e-6) of the expected one,
   absolutely or relative to the larger of the two, as contests judge real answers (testlib's ``rcmp``). Both
   values must be finite.
4. Every other expected token compares as exact text. Integers above all: ``1000000007`` is matched by
   ``1000000007`` only, never by ``1000000000``, ``1e9``, ``1_000_000_007``, ``1000000007.0``, ``+1000000007`` or
   ``01000000007``; ``0`` is not matched by ``-0``. Leading zeros count because a token of digits is not always a
   number (a binary string ``0010``, a code ``007``). Words compare with their case (``YES`` is not ``yes``), and so
   do ``nan`` and ``inf``, which only their own text matches: they are never within a tolerance of anything.

The rule before this one took any two tokens that ``float`` reads as equal within 1e-6 relative, so
``1000000000`` passed for ``1000000007`` and ``1e3`` or ``1_000`` for ``1000`` (LiveCodeBench's exact decimals take
``1e3`` for ``1000`` too). Contest checkers apply a tolerance only where the answer is a real number; so does this.
"""

from __future__ import annotations

import math
import re

__all__ = ["FLOAT_TOLERANCE", "outputs_match"]

FLOAT_TOLERANCE = 1e-6
# A decimal number: optional sign, digits with an optional fraction point (or a fraction alone), optional exponent.
# ASCII digits only (``\d`` would take other scripts' digits, which ``float`` reads); no ``_``, no hex, no nan/inf.
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _is_real(token: str) -> bool:
    """True for a decimal number with a fraction point or an exponent: a token that a tolerance applies to."""
    return _NUMBER.fullmatch(token) is not None and any(mark in token for mark in ".eE")


def _close(actual: str, expected: str) -> bool:
    if _NUMBER.fullmatch(actual) is None:
        return False
    a, e = float(actual), float(expected)
    if not (math.isfinite(a) and math.isfinite(e)):  # 1e999 is inf: no tolerance makes two of them equal
        return False
    return math.isclose(a, e, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)


def _token_matches(actual: str, expected: str) -> bool:
    """One token against the expected one: exact text, or within the tolerance where the expected one is real."""
    return actual == expected or (_is_real(expected) and _close(actual, expected))


def outputs_match(actual: str, expected: str) -> bool:
    """True when ``actual`` has the expected tokens, each matching by the rule in this module's docstring."""
    got, want = actual.split(), expected.split()
    return len(got) == len(want) and all(_token_matches(a, e) for a, e in zip(got, want, strict=True))
