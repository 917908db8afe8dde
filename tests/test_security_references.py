"""Expected outputs are keyed by what decides them, never by a name a client chose: two problems with one task_id
but different canonical solutions or inputs, judged by one judge (as every inline problem of the service is),
each get their own expected outputs, in memory and on disk; and a sandbox that would run them differently (image,
limits) never reads another's cached outputs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from sandbox import Sandbox, SandboxSettings
from selfdebug.datasets import Dataset
from selfdebug.evaluation import EvaluationSettings, Judge
from selfdebug.expected import ReferenceStore
from selfdebug.problems import Problem

pytestmark = pytest.mark.security

# The sandbox settings that only say how containers are kept and waited for (the rest decide outputs).
OPERATIONAL = {"acquire_timeout", "base_image", "label", "pool_size", "recycle_after", "reply_margin",
               "start_timeout"}

PLUS_ONE = "def f(x):\n    return x + 1\n"
TWICE = "def f(x):\n    return 2 * x\n"


def _problem(canonical: str, inputs: list[list[int]], task_id: str = "shared/f") -> Problem:
    return Problem(task_id=task_id, prompt="def f(x):\n    pass\n", entry_point="f", canonical_solution=canonical,
                   base_inputs=inputs)


def _inline_judge(sandbox: Sandbox, cache_dir: Path) -> Judge:
    # What the worker makes for inline problems: one judge for all of them, whoever sent them.
    inline = Dataset(name="inline", source="api", digest="inline", problems={})
    return Judge(sandbox, inline, EvaluationSettings(cache_dir=cache_dir))


def _fake_sandbox(settings: SandboxSettings | None = None,
                  image: str = "selfdebug-sandbox:0123456789abcdef") -> Sandbox:
    """Enough of a sandbox to name a cache entry; any run on it fails."""
    return cast(Sandbox, SimpleNamespace(settings=settings or SandboxSettings(), pool=SimpleNamespace(image=image)))


def _changed(name: str, value: Any) -> Any:
    """Another valid value for a sandbox setting."""
    if name == "runtime":
        return "runsc" if value == "runc" else "runc"
    assert isinstance(value, int | float), (name, value)
    return value + 1


def test_one_task_id_with_two_canonical_solutions_gets_two_sets_of_expected_outputs(
        sandbox: Sandbox, tmp_path: Path) -> None:
    judge = _inline_judge(sandbox, tmp_path)
    alice = _problem(PLUS_ONE, [[3], [4]])
    bob = _problem(TWICE, [[3], [4]])  # the same task_id: only the canonical solution differs
    assert judge.evaluate_program(alice, PLUS_ONE).passed
    # Bob's wrong program (right for Alice) fails on Bob's problem, and his right one passes.
    wrong = judge.evaluate_program(bob, PLUS_ONE)
    assert not wrong.passed and wrong.verdict.value == "failed", wrong
    assert judge.evaluate_program(bob, TWICE).passed
    # And Alice's verdicts are still hers.
    assert judge.evaluate_program(alice, PLUS_ONE).passed
    assert not judge.evaluate_program(alice, TWICE).passed


def test_one_task_id_with_two_sets_of_inputs_gets_two_sets_of_expected_outputs(
        sandbox: Sandbox, tmp_path: Path) -> None:
    judge = _inline_judge(sandbox, tmp_path)
    # Both say "x + 1"; a program that is right only on 1 and 2 passes the first and must fail the second.
    on_small = "def f(x):\n    return x + 1 if x < 3 else 0\n"
    first = _problem(PLUS_ONE, [[1], [2]])
    second = _problem(PLUS_ONE, [[1], [2], [7]])
    assert judge.evaluate_program(first, on_small).passed
    result = judge.evaluate_program(second, on_small)
    assert not result.passed and result.inputs is not None and result.inputs.base.total == 3, result


def test_a_fresh_store_reads_only_the_outputs_of_the_same_content(sandbox: Sandbox, tmp_path: Path) -> None:
    """Across processes (a restarted worker reads the disk cache), one task_id's entries stay apart too."""
    _inline_judge(sandbox, tmp_path).evaluate_program(_problem(PLUS_ONE, [[3]]), PLUS_ONE)
    later = _inline_judge(sandbox, tmp_path)
    assert later.evaluate_program(_problem(TWICE, [[3]]), TWICE).passed
    assert not later.evaluate_program(_problem(TWICE, [[3]]), PLUS_ONE).passed


def test_the_cache_key_is_the_content_and_the_sandbox_never_the_name(tmp_path: Path) -> None:
    store = ReferenceStore(_fake_sandbox(), tmp_path)
    problem = _problem(PLUS_ONE, [[3]])
    same = store.path(problem)
    assert store.path(_problem(PLUS_ONE, [[3]], task_id="another/name")) == same  # the name decides nothing
    for changed in (_problem(TWICE, [[3]]), _problem(PLUS_ONE, [[4]]),
                    problem.model_copy(update={"entry_point": "g", "canonical_solution": PLUS_ONE + "g = f\n"})):
        assert store.path(changed) != same
    # What the sandbox runs them with decides outputs too: its image, and every limit or knob of a run (a setting
    # added later, such as a hash seed, is in the key unless it is named as one that cannot change outputs).
    assert ReferenceStore(_fake_sandbox(image="selfdebug-sandbox:fedcba9876543210"), tmp_path).path(problem) != same
    defaults = SandboxSettings()
    decisive = [name for name in SandboxSettings.model_fields if name not in OPERATIONAL | {"image"}]
    assert {"memory_bytes", "test_timeout", "output_bytes", "cpu_time", "pids", "runtime"} <= set(decisive)
    for name in decisive:
        other = defaults.model_copy(update={name: _changed(name, getattr(defaults, name))})
        assert ReferenceStore(_fake_sandbox(other), tmp_path).path(problem) != same, name
    # How many containers there are, and how long one waits for them, does not.
    for name in OPERATIONAL - {"label", "base_image"}:
        other = defaults.model_copy(update={name: _changed(name, getattr(defaults, name))})
        assert ReferenceStore(_fake_sandbox(other), tmp_path).path(problem) == same, name
