"""How tests were judged (host or in process), counted where results are read: ``selfdebug evaluate``, the repair
loop's record and the batch report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox import AsyncSandbox, Sandbox, TestResult, Verdict
from selfdebug.datasets import Dataset
from selfdebug.evaluation import EvaluationSettings, Judge, judged_counts
from selfdebug.judged import JudgedCounts
from selfdebug.llm import ScriptedModel
from selfdebug.loop import Debugger, HiddenVerdict
from selfdebug.options import DebugOptions, Strategy
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord
from selfdebug.report import render_markdown, summarize
from selfdebug_cli import app


def result(judged: str | None, asserts: int) -> TestResult:
    return TestResult(name="t", verdict=Verdict.PASSED, judged=judged, asserts=asserts)  # type: ignore[arg-type]


def test_counts_add_up_tests_and_asserts_each_way() -> None:
    counts = JudgedCounts.of([result("host", 7), result("host", 1), result("in_process", 3), result(None, 0)])
    assert counts == JudgedCounts(host_tests=2, in_process_tests=1, host_asserts=8, in_process_asserts=3)
    assert counts.tests == 3 and counts.host_share == 8 / 11
    assert counts.describe() == "8 asserts in 2 tests on the host, 3 asserts in 1 tests in process (72.7% on the host)"
    assert (counts + counts).host_asserts == 16
    assert JudgedCounts().host_share is None and "%" not in JudgedCounts().describe()


def test_the_batch_report_sums_the_records() -> None:
    hidden = JudgedCounts(host_tests=1, host_asserts=9)
    own = JudgedCounts(host_tests=3, host_asserts=3, in_process_tests=1, in_process_asserts=1)
    records = [DebugRecord(task_id=f"t{i}", strategy="post_execution", options={}, hidden_by_iteration=[True],
                           hidden_judged=hidden, self_tests_judged=own) for i in range(2)]
    records.append(DebugRecord(task_id="old", strategy="post_execution", options={}))  # a record from before
    report = summarize("post_execution", records)
    assert report.hidden_judged == JudgedCounts(host_tests=2, host_asserts=18)
    assert report.self_tests_judged.in_process_asserts == 2
    markdown = render_markdown([report])
    assert "## How tests were judged" in markdown
    assert "| post_execution | 18 asserts in 2 tests on the host, 0 asserts in 0 tests in process (100.0% on the " \
           "host) | 6 asserts in 6 tests on the host, 2 asserts in 2 tests in process (75.0% on the host) |" in markdown


def test_the_loop_records_how_hidden_and_self_tests_were_judged(sandbox: Sandbox, tmp_path: Path) -> None:
    problem = Problem(task_id="demo/add", prompt="def add(a, b):\n    pass\n", entry_point="add",
                      tests=["assert add(1, 2) == 3", "assert add(*[2, 2]) == 4\nimport math"],
                      test_setup="")
    judge = Judge(sandbox, Dataset(name="t", source="-", digest="t" * 8, problems={problem.task_id: problem}),
                  EvaluationSettings(cache_dir=tmp_path))

    async def evaluate(problem: Problem, program: str) -> HiddenVerdict:
        outcome = await asyncio.to_thread(judge.evaluate_program, problem, program)
        return HiddenVerdict(outcome.passed, outcome.verdict.value, judged_counts([outcome]))

    tests = "```python\nassert add(1, 2) == 3\nassert add(1, 1) == 2\n```"
    model = ScriptedModel("```python\ndef add(a, b):\n    return a + b\n```", tests)
    debugger = Debugger(model, AsyncSandbox(sandbox=sandbox), DebugOptions(strategy=Strategy.POST_EXECUTION),
                        evaluator=evaluate)
    record = asyncio.run(debugger.run(problem))
    assert record.hidden_by_iteration[-1] is True
    assert record.hidden_judged == JudgedCounts(host_tests=2, host_asserts=2)
    assert record.self_tests_judged == JudgedCounts(host_tests=2, host_asserts=2)
    assert record.attempts[0].self_test_results[0]["judged"] == "host"


@pytest.mark.docker
def test_cli_evaluate_prints_how_tests_were_judged(data_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SELFDEBUG_CACHE_DIR", str(tmp_path / "cache"))
    seeds = data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl"
    # The first 10 samples of the file: every check is read as calls (62 asserts, "assert True" lines aside).
    outcome = CliRunner().invoke(app, ["evaluate", "--dataset", "humaneval", "--samples", str(seeds), "--limit", "10"])
    assert outcome.exit_code == 0, outcome.output
    *_, judged, last = outcome.stdout.strip().splitlines()
    assert judged == "judged: 62 asserts in 10 tests on the host, 0 asserts in 0 tests in process (100.0% on the host)"
    assert last == "pass@1: 0.9000 (9/10)"
