"""Strange values from the sandbox (str-subclass messages, non-str exception names, lone surrogates) reach the repair
prompt and ``selfdebug evaluate`` as plain, encodable text; one poisoned sample never costs the others.

Real sandbox (Docker), scripted model; the sandbox's own coercion is tested in tests/sandbox/test_security_boundary.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sandbox import AsyncSandbox, RunResult, Sandbox, Verdict
from selfdebug.datasets import load_dataset
from selfdebug.evaluation import EvaluationSettings, Judge, Sample, SampleResult
from selfdebug.events import Event
from selfdebug.llm import ScriptedModel
from selfdebug.loop import Debugger
from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug.problems import Problem
from selfdebug.record import StopReason
from selfdebug_cli import app
from tests.hostile import ODD_MESSAGE, ODD_NAME, REPLACEMENT, SURROGATE

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.timeout(180)]

PROBLEM = Problem(task_id="demo/add", prompt='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
                  entry_point="add", tests=["assert add(2, 2) == 4"])
TESTS = "```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\n```"
RIGHT = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"

# The traced return value's repr and the printed line carry lone surrogates.
SURROGATE_REPR = '''
class Odd:
    def __repr__(self):
        return "odd \\udfff"


def add(a, b):
    print("printed \\udfff")
    return Odd()
'''

POISONED = {  # program -> what the repair prompt shows of its failure
    # The child reports the exact str behind a str subclass and the class's real name past a metaclass.
    "str-subclass": (ODD_MESSAGE, "Boom: boom"),
    "name": (ODD_NAME, "Weird: x"),
    "surrogate": (SURROGATE, f"ValueError: bad {REPLACEMENT}"),
}


def _fenced(code: str) -> str:
    return f"```python\n{code}```"


def _encodable(value: Any) -> None:
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def _debug(model: ScriptedModel, sandbox: Sandbox, strategy: Strategy) -> tuple[Any, list[Event]]:
    events: list[Event] = []
    options = DebugOptions(strategy=strategy, feedback=Feedback.DETAIL, max_iterations=1)
    debugger = Debugger(model, AsyncSandbox(sandbox=sandbox), options, on_event=events.append)
    return asyncio.run(debugger.run(PROBLEM)), events


@pytest.mark.parametrize("case", POISONED)
def test_the_repair_prompt_shows_strange_failures_as_plain_text(sandbox: Sandbox, case: str) -> None:
    program, shown = POISONED[case]
    model = ScriptedModel(_fenced(program), TESTS, RIGHT)
    record, events = _debug(model, sandbox, Strategy.POST_EXECUTION)
    feedback = model.history[2].prompt
    feedback.encode("utf-8")
    assert f"raised: {shown}" in feedback
    assert "a + b" in record.final_program
    record.model_dump_json()
    _encodable([event.model_dump(mode="json") for event in events])


def test_a_trace_with_strange_reprs_and_output_reaches_the_prompt_as_plain_text(sandbox: Sandbox) -> None:
    model = ScriptedModel(_fenced(SURROGATE_REPR), TESTS, "[block 0] wrong: fix it\n" + RIGHT)
    record, events = _debug(model, sandbox, Strategy.IN_EXECUTION)
    prompt = model.history[2].prompt
    prompt.encode("utf-8")
    assert f"odd {REPLACEMENT}" in prompt and f"printed {REPLACEMENT}" in prompt
    assert record.stop_reason == StopReason.MAX_ITERATIONS and "a + b" in record.final_program
    record.model_dump_json()
    _encodable([event.model_dump(mode="json") for event in events])


# ---------------------------------------------------------------- selfdebug evaluate

DATASET = [
    {"task_id": "add", "prompt": "def add(a, b):\n", "entry_point": "add",
     "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]},
    {"task_id": "echo", "prompt": "def echo(s):\n", "entry_point": "echo",
     "canonical_solution": "def echo(s):\n    return s\n", "base_inputs": [["a"], ["b"]]},
    {"task_id": "sum", "prompt": "Read two integers; print their sum.",
     "io_tests": [{"stdin": "1 2\n", "stdout": "3\n"}]},
]
GOOD = [
    {"task_id": "add", "solution": "def add(a, b):\n    return a + b\n"},
    {"task_id": "echo", "solution": "def echo(s):\n    return s\n"},
    {"task_id": "sum", "solution": "print(sum(map(int, input().split())))\n"},
]
BAD = [
    {"task_id": "add", "solution": ODD_NAME},
    {"task_id": "add", "solution": ODD_MESSAGE},
    {"task_id": "add", "solution": SURROGATE},
    {"task_id": "echo", "solution": "def echo(s):\n    return s + '\\udfff'\n"},
    {"task_id": "echo", "solution": ODD_NAME.replace("def add(a, b)", "def echo(s)")},
    {"task_id": "sum", "solution": "raise ValueError('\\udfff')\n"},
]


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "boundary.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in DATASET))
    return path


def test_evaluate_judges_every_sample_when_some_are_poisoned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SANDBOX_POOL_SIZE", "2")
    samples = tmp_path / "samples.jsonl"
    rows = [BAD[0], GOOD[0], BAD[1], BAD[2], GOOD[1], BAD[3], BAD[4], GOOD[2], BAD[5]]
    samples.write_text("".join(json.dumps(row) + "\n" for row in rows))
    output = tmp_path / "results.jsonl"
    result = CliRunner().invoke(app, ["evaluate", "--dataset", str(_dataset(tmp_path)), "--samples", str(samples),
                                      "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith("(3/9)")
    # Strict UTF-8 JSON, as pydantic reads it back (it refuses lone surrogates, even escaped).
    judged = [SampleResult.model_validate_json(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r.task_id for r in judged] == [row["task_id"] for row in rows]
    assert [r.passed for r in judged] == [row in GOOD for row in rows]
    verdicts = [r.verdict for r in judged]
    assert verdicts == [Verdict.ERROR, Verdict.PASSED, Verdict.ERROR, Verdict.ERROR, Verdict.PASSED, Verdict.FAILED,
                        Verdict.ERROR, Verdict.PASSED, Verdict.ERROR]
    assert "Weird: x" in judged[0].message and f"bad {REPLACEMENT}" in judged[3].message
    assert judged[5].inputs is not None and REPLACEMENT in judged[5].inputs.failures[0].actual


class _BrokenJudging(Sandbox):
    """The real sandbox, except that running the program marked POISON raises, as a bug on our side would."""

    def run_tests(self, program: str, tests: Any, **kwargs: Any) -> RunResult:
        if "POISON" in program:
            raise RuntimeError("judging broke on \udfff")
        return super().run_tests(program, tests, **kwargs)


def test_a_sample_whose_judging_raises_is_a_sandbox_error_and_the_others_go_on(sandbox: Sandbox,
                                                                               tmp_path: Path) -> None:
    dataset = load_dataset(_dataset(tmp_path))
    judge = Judge(_BrokenJudging(pool=sandbox.pool), dataset, EvaluationSettings(cache_dir=tmp_path / "cache"))
    poisoned = Sample(task_id="add", solution="# POISON\ndef add(a, b):\n    return a + b\n")
    samples = [Sample(**GOOD[0]), poisoned, Sample(**GOOD[1]), Sample(**GOOD[2])]
    results = judge.evaluate_all(samples)
    assert [r.verdict for r in results] == [Verdict.PASSED, Verdict.SANDBOX_ERROR, Verdict.PASSED, Verdict.PASSED]
    assert "RuntimeError" in results[1].message
    results[1].message.encode("utf-8")
