"""The canonical solution's outputs on many inputs, computed in one sandboxed run per stretch of inputs.

Judging a program calls it once per input, each call its own unit with its own time limit, reported and checked
by the runner: the program under test is an adversary. The canonical solution is the dataset's own reference, so
computing its outputs needs none of that per call (a unit costs some 40 µs beyond the call itself, and a pass over
HumanEval+ has 122,000 of them). Here a harness loads it once in the sandbox, calls it on a stretch of inputs,
and sends back for each input what the runner would have: whether it returned, how long it took, and its value's
JSON, or, past ``digest_over`` bytes, the sha256 of exactly the bytes a judged program's child sends for an equal
value (the packed form of a long list of numbers, else the JSON; never a digest of a value holding a NaN).

Its digests are taken in the canonical solution's own process: a solution that lied about them could only spoil
its own expected outputs, which its author decides anyway, and the cache is keyed by its content. Anything
unexpected (a harness run that fails, a malformed answer) returns None, and the caller computes the outputs call by
call as before. A stretch stops early, well inside the run's time limit and reply budget, and the next run goes on
from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from sandbox import Limits, Sandbox, TestResult, Verdict
from sandbox.reply import plain_data
from sandbox.runner import codec

__all__ = ["canonical_outputs"]

# Seconds of a stretch as a share of the run's time limit, and the JSON a stretch may send back, before it stops
# and leaves the rest to the next run.
TIME_SHARE = 0.4
STRETCH_BYTES = 4 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")

HARNESS = r'''
import hashlib
import sys
import time

import child  # the runner's own modules, loaded in every child
import codec

entry, inputs, digest_over = PAYLOAD["entry"], PAYLOAD["inputs"], PAYLOAD["digest_over"]
seconds, budget = PAYLOAD["seconds"], PAYLOAD["bytes"]


class Sink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


namespace = {"__name__": "solution", "__builtins__": __builtins__}
exec(compile(PROGRAM, "<solution>", "exec", dont_inherit=True), namespace)
function = namespace[entry]
rows, started, sent = [], time.perf_counter(), 0
sys.stdout = sys.stderr = Sink()  # what the solution prints is no output of its
for args in inputs:
    if rows and (time.perf_counter() - started > seconds or sent > budget):
        break
    decoded = codec.decode(args)
    begun = time.perf_counter()
    try:
        value = function(*decoded)
    except (child.UnitTimeout, child.OutputLimit):
        raise
    except BaseException:
        rows.append([False, time.perf_counter() - begun, None, None, None])
        continue
    # The very bytes a judged program's child sends for an equal value (codec.value_bytes), digested where the
    # runner would digest them (codec.digested); the time counts the encoding too, as a unit's does.
    data = codec.value_bytes(value, digest_over)
    duration = time.perf_counter() - begun
    if codec.digested(data, digest_over):
        rows.append([True, duration, None, hashlib.sha256(data).hexdigest(), len(data)])
    else:
        rows.append([True, duration, data.decode("utf-8"), None, len(data)])
        sent += len(data)
emit(rows)
'''


def canonical_outputs(sandbox: Sandbox, program: str, entry_point: str, encoded: Sequence[Any],
                      digest_over: int) -> list[TestResult] | None:
    """Each input's result as ``Sandbox.run_calls`` with ``digest_over`` would give it (``encoded``: each input's
    ``codec.encode(list(args))``), or None if the harness could not compute them all."""
    seconds = sandbox.effective_limits(None)["test_timeout"] * TIME_SHARE
    results: list[TestResult] = []
    while len(results) < len(encoded):
        payload = {"entry": entry_point, "inputs": list(encoded[len(results):]), "digest_over": digest_over,
                   "seconds": seconds, "bytes": STRETCH_BYTES}
        run = sandbox.run_harness(HARNESS, program=program, payload=payload, limits=Limits())
        rows = run.tests[0].output if run.passed and run.tests else None
        if not isinstance(rows, list) or not rows or len(rows) > len(encoded) - len(results):
            return None
        stretch = _results(len(results), rows)
        if stretch is None:
            return None
        results += stretch
    return results


def _results(first: int, rows: list[Any]) -> list[TestResult] | None:
    """A stretch's rows from the harness as the TestResults calls of their own would have given (``first``: the
    index of its first input), or None if any row is malformed."""
    checked: list[tuple[bool, float, str | None, Any]] = []  # (returned, duration, digest, size)
    texts: list[str] = []
    for row in rows:
        if not (type(row) is list and len(row) == 5):
            return None
        returned, duration, text, digest, size = row
        if not (type(returned) is bool and type(duration) in (float, int) and duration >= 0):
            return None
        if returned and not (type(size) is int and size >= 0):
            return None
        if returned and digest is not None:
            if not (type(digest) is str and _SHA256.fullmatch(digest) and text is None):
                return None
        elif returned:
            if type(text) is not str:
                return None
            texts.append(text)
        checked.append((returned, float(duration), digest, size))
    values = _parsed(texts)
    if values is None:
        return None
    taken = iter(values)
    results = []
    for k, (returned, duration, digest, size) in enumerate(checked, first):
        name = f"input_{k}"
        if not returned:
            results.append(TestResult(name=name, verdict=Verdict.ERROR, duration=duration,
                                      message="the canonical solution raised"))
        elif digest is not None:
            results.append(TestResult(name=name, verdict=Verdict.PASSED, duration=duration, digest=digest,
                                      value_bytes=size))
        else:
            results.append(TestResult(name=name, verdict=Verdict.PASSED, duration=duration, output=next(taken),
                                      value_bytes=size))
    return results


def _parsed(texts: list[str]) -> list[Any] | None:
    """The values whose JSON the rows hold, as ``sandbox.reply`` reads a value, or None if one is no JSON value.

    One parse for the stretch, not one per row: a cold pass over HumanEval+ reads 120,000 of them. A text that
    is no single JSON value (``1, 2``) could shift the values after it, so the count is checked; beyond that, only
    a lying canonical solution could write such rows, and it decides its own expected outputs anyway."""
    if not texts:
        return []
    try:
        values = json.loads("[" + ",".join(texts) + "]")
        if len(values) != len(texts):
            return None
        # Plain data as they are unless a string holds a lone surrogate or nesting runs too deep: checked once
        # for all (plain_data gives back the very list), and only then made plain value by value.
        if plain_data(values) is not values:
            values = [plain_data(value) for value in values]
        return [codec.decode(value) for value in values]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
