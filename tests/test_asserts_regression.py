"""Judging asserts on the host changes no verdict on real programs: gpt-3.5's 164 HumanEval programs keep their
hidden-test labels, HumanEval's canonical solutions all pass, MBPP's pass but for the dataset's own faults; and
well over 95% of the asserts of both are judged on the host. With the sandbox's default limits, as ``selfdebug
evaluate`` runs (about 30 s on 2 cores)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox, SandboxSettings, Verdict
from selfdebug.datasets import DatasetSettings, load_dataset
from selfdebug.evaluation import EvaluationSettings, Judge, Sample, SampleResult, judged_counts, load_samples

pytestmark = [pytest.mark.docker, pytest.mark.timeout(240)]

MIN_HOST_SHARE = 0.95
# MBPP/56 and /349 define a function named check, which the test's own check() replaces and then recurses into
# (those tests stay in process, so they still fail); 436 returns a number where its tests expect a tuple.
MBPP_FAULTS = {"MBPP/56": Verdict.ERROR, "MBPP/349": Verdict.ERROR, "MBPP/436": Verdict.FAILED}


@pytest.fixture(scope="module")
def default_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxSettings(pool_size=2)) as box:
        yield box


def judge_all(sandbox: Sandbox, name: str, data_dir: Path, tmp_path: Path,
              samples: list[Sample] | None = None) -> list[SampleResult]:
    dataset = load_dataset(name, settings=DatasetSettings(data_dir=data_dir))
    samples = samples or [Sample(task_id=p.task_id, solution=p.canonical_solution) for p in dataset]
    return Judge(sandbox, dataset, EvaluationSettings(cache_dir=tmp_path)).evaluate_all(samples)


def report(capsys: pytest.CaptureFixture[str], what: str, results: list[SampleResult]) -> float:
    counts = judged_counts(results)
    with capsys.disabled():
        print(f"\n{what}: {counts.describe()}")
    assert counts.host_share is not None
    return counts.host_share


def test_gpt35_programs_keep_their_labels(default_sandbox: Sandbox, data_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    seeds = data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl"
    labels = {row["task_id"]: row["is_solved"] for row in map(json.loads, seeds.read_text().splitlines())}
    results = judge_all(default_sandbox, "humaneval", data_dir, tmp_path, load_samples(seeds))
    assert len(results) == 164
    assert sorted(r.task_id for r in results if r.passed != labels[r.task_id]) == []
    assert report(capsys, "HumanEval, gpt-3.5's programs", results) > MIN_HOST_SHARE


def test_humaneval_canonical_solutions_pass(default_sandbox: Sandbox, data_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    results = judge_all(default_sandbox, "humaneval", data_dir, tmp_path)
    assert [r.task_id for r in results if not r.passed] == []
    assert report(capsys, "HumanEval, canonical solutions", results) > MIN_HOST_SHARE


def test_mbpp_canonical_solutions_pass_but_for_the_dataset_faults(default_sandbox: Sandbox, data_dir: Path,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    results = judge_all(default_sandbox, "mbpp", data_dir, tmp_path)
    assert len(results) == 500
    assert {r.task_id: r.verdict for r in results if not r.passed} == MBPP_FAULTS
    assert report(capsys, "MBPP, canonical solutions", results) > MIN_HOST_SHARE
