"""The canonical solution's outputs computed in harness runs (``selfdebug.canonical``) are exactly what calling it
input by input gives (real sandbox): the same values, digests, sizes and undefined inputs."""

from __future__ import annotations

import math

import pytest

from sandbox import Sandbox, TestResult, Verdict
from sandbox.runner import codec
from selfdebug import canonical
from selfdebug.canonical import canonical_outputs
from selfdebug.expected import DIGEST_OVER, CallPlan, Reference, _stored, _widen, run_calls_bounded

# Every kind of output the judging path treats apart: small values, values raised on, long lists of numbers
# (packed), long text (JSON digest), NaN (always whole), lone surrogates (made plain), huge ints (hex), tuples and
# sets (tagged), output printed along the way (not an output), and state kept from one call to the next.
CANONICAL = '''
import math

calls = []


def f(kind, n):
    calls.append(n)
    print("noise", n)
    if kind == "raise":
        raise ValueError(n)
    if kind == "floats":
        return [i / 3 for i in range(n)]
    if kind == "mixed":
        return [i if i % 2 else i / 2 for i in range(n)]
    if kind == "text":
        return "x" * n
    if kind == "nan":
        return [math.nan] * n
    if kind == "surrogate":
        return "\\udfff" * n
    if kind == "big":
        return 7 ** n
    if kind == "tagged":
        return (n, frozenset({n}), {n: [n]})
    if kind == "state":
        return len(calls)
    return n
'''
INPUTS = [["small", 3], ["raise", 1], ["floats", 5000], ["floats", 10], ["mixed", 3000], ["text", 10000],
          ["nan", 2000], ["surrogate", 3], ["big", 20000], ["tagged", 4], ["state", 0], ["small", -1]]


def _same(harnessed: TestResult, called: TestResult) -> bool:
    if harnessed.passed != called.passed:
        return False
    if not called.passed:
        return True  # an input the canonical solution raised on defines nothing, however it raised
    nan = isinstance(called.output, list) and any(isinstance(x, float) and math.isnan(x) for x in called.output)
    values = repr(harnessed.output) == repr(called.output) if nan else harnessed.output == called.output
    return values and (harnessed.digest, harnessed.value_bytes) == (called.digest, called.value_bytes)


def test_harness_runs_give_what_calls_give(sandbox: Sandbox) -> None:
    encoded = [codec.encode(list(args)) for args in INPUTS]
    harnessed = canonical_outputs(sandbox, CANONICAL, "f", encoded, DIGEST_OVER)
    called = run_calls_bounded(sandbox, CANONICAL, "f", INPUTS, CallPlan(digest_over=DIGEST_OVER), encoded)
    assert harnessed is not None and len(harnessed) == len(INPUTS)
    for args, mine, theirs in zip(INPUTS, harnessed, called, strict=True):
        assert theirs is not None and _same(mine, theirs), (args, mine, theirs)
    digested = [args[0] for args, test in zip(INPUTS, harnessed, strict=True) if test.digest is not None]
    assert digested == ["floats", "mixed", "text", "big"]  # the packed, the JSON, never the NaN
    assert harnessed[INPUTS.index(["state", 0])].output == 11  # one process for the stretch, as for calls


def test_a_stretch_that_runs_long_is_continued_by_the_next_run(sandbox: Sandbox,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canonical, "TIME_SHARE", 0.0)  # every run stops after its first input
    runs: list[int] = []
    harness = sandbox.run_harness

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(1)
        return harness(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "run_harness", counted)
    inputs = [["small", n] for n in range(4)]
    results = canonical_outputs(sandbox, CANONICAL, "f", [codec.encode(args) for args in inputs], DIGEST_OVER)
    assert results is not None and [test.output for test in results] == [0, 1, 2, 3] and len(runs) == 4


@pytest.mark.parametrize("program", ["def f(:\n", "raise SystemExit(3)\n", "def g():\n    pass\n",
                                     "import time\ndef f(kind, n):\n    time.sleep(60)\n"])
def test_a_canonical_solution_the_harness_cannot_run_leaves_it_to_calls(sandbox: Sandbox, program: str) -> None:
    # No definition, a syntax error, an exit at load time, an input that outlasts the run: None, never a guess.
    assert canonical_outputs(sandbox, program, "f", [codec.encode(["small", 1])], DIGEST_OVER) is None


DIGEST = "ab" * 32


@pytest.mark.parametrize("rows", [
    [[True, 0.1, "1, 2", None, 4], [True, 0.1, "3", None, 1]],  # one text holding two values would shift the rest
    [[True, 0.1, "[1", None, 2]],  # no JSON value
    [[True, 0.1, None, "not a digest", 4]],
    [[True, 0.1, "1", DIGEST, 1]],  # a digest and a value at once
    [[True, -1.0, "1", None, 1]],
    [[True, 0.1, "1", None, -1]],
    [[1, 0.1, "1", None, 1]],
    [[True, 0.1, "1", None]],
    ["row"],
])
def test_a_malformed_stretch_is_none_never_a_guess(rows: list[object]) -> None:
    assert canonical._results(0, rows) is None


def test_a_stretch_reads_values_digests_and_raised_inputs_in_order() -> None:
    rows = [[True, 0.5, '{"$t": [1, "\\udfff"]}', None, 21], [False, 0.25, None, None, None],
            [True, 1, None, DIGEST, 9000], [True, 0.0, "[2.5, null]", None, 11]]
    results = canonical._results(7, rows)
    assert results is not None
    assert [test.name for test in results] == ["input_7", "input_8", "input_9", "input_10"]
    assert [test.passed for test in results] == [True, False, True, True]
    assert results[0].output == (1, "\ufffd") and results[0].value_bytes == 21  # the lone surrogate made plain
    assert results[2].digest == DIGEST and results[2].output is None and results[2].duration == 1.0
    assert results[3].output == [2.5, None]


def test_a_reference_takes_results_column_by_column_and_stores_values_as_the_codec_does() -> None:
    tests: list[TestResult | None] = [
        TestResult(name="input_0", verdict=Verdict.PASSED, duration=0.5, output=[1, 2], value_bytes=6),
        TestResult(name="input_1", verdict=Verdict.PASSED, duration=0.25, digest=DIGEST, value_bytes=9000),
        TestResult(name="input_2", verdict=Verdict.ERROR, duration=0.125),
        None,
        TestResult(name="input_4", verdict=Verdict.PASSED, output="abc"),  # no size said: approximated
    ]
    reference = Reference(n_base=2, outputs=[], durations=[], sizes=[], defined=[])
    reference.extend(tests)
    assert reference.outputs == [[1, 2], None, None, None, "abc"]
    assert reference.durations == [0.5, 0.25, 0.125, 0.0, 0.0]
    assert reference.sizes[:2] == [6, 9000] and reference.sizes[4] == 5
    assert reference.defined == [True, True, False, False, True]
    assert reference.digests == [None, DIGEST, None, None, None]
    assert reference.known == [True, False, True, False, True]
    for value in [1, -(2**63), 2**64, 7**20000, 0.5, math.nan, -math.inf, "\udfff", True, None, (1, {2}), {3: [4]}]:
        assert repr(_stored(value)) == repr(codec.encode(_widen(value))), value
