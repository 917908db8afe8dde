"""Judging evalplus-style inputs when outputs are large: compared by digest first, else as values (real sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import Sandbox, Verdict
from selfdebug.datasets import Dataset
from selfdebug.evaluation import EvaluationSettings, Judge
from selfdebug.expected import DIGEST_OVER
from selfdebug.problems import Problem

CANONICAL = "def f(n):\n    return {'n': n, 'items': list(range(n))}\n"
INPUTS = [[3], [2000], [3000]]  # the first output is small, the other two are over DIGEST_OVER bytes of JSON


@pytest.fixture
def judge(sandbox: Sandbox, tmp_path: Path) -> Judge:
    problem = Problem(task_id="big", prompt="", entry_point="f", canonical_solution=CANONICAL, base_inputs=INPUTS)
    dataset = Dataset(name="t", source="-", digest="2" * 64, problems={"big": problem})
    return Judge(sandbox, dataset, EvaluationSettings(cache_dir=tmp_path))


def test_large_expected_outputs_are_kept_as_digests(judge: Judge) -> None:
    reference = judge.references.get(judge.dataset["big"])
    assert reference.known == [True, False, False]
    assert reference.digests[0] is None and all(digest is not None for digest in reference.digests[1:])
    assert reference.sizes[2] > DIGEST_OVER


def test_the_canonical_solution_passes_by_digest(judge: Judge) -> None:
    result = judge.evaluate_program(judge.dataset["big"], CANONICAL)
    assert result.passed and result.inputs is not None and result.inputs.base.passed == 3


@pytest.mark.parametrize("program", [
    # equal values in other bytes: the keys in another order, floats for ints (evalplus: equal is equal)
    "def f(n):\n    return {'items': list(range(n)), 'n': n}\n",
    "def f(n):\n    return {'n': n, 'items': [float(i) for i in range(n)]}\n",
])
def test_equal_outputs_with_other_bytes_are_compared_as_values(judge: Judge, program: str) -> None:
    result = judge.evaluate_program(judge.dataset["big"], program)
    assert result.passed, result


def test_a_wrong_large_output_fails_with_both_values_shown(judge: Judge) -> None:
    program = "def f(n):\n    return {'n': n, 'items': list(range(n))[:-1] + [-1]}\n"
    result = judge.evaluate_program(judge.dataset["big"], program)
    assert not result.passed and result.verdict is Verdict.FAILED
    assert result.inputs is not None and result.inputs.base.passed == 0
    failure = result.inputs.failures[1]
    assert failure.index == 1 and "1999" in failure.expected and "-1" in failure.actual
    # Fetched again to compare, the expected value stays in memory; the cache keeps the digest.
    assert judge.references.get(judge.dataset["big"]).known == [True, True, True]
