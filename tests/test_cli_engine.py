"""``selfdebug run`` / ``solve`` / ``report`` end to end: a scripted OpenAI-compatible server over real HTTP, the
real sandbox, a generic JSONL problem set; resuming, reports and bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfdebug.batch import load_records
from selfdebug_cli import app
from tests.llm.scripted_server import RecordedRequest, ScriptedOpenAIServer, Step

PROBLEMS = [
    {"task_id": f"toy/{name}", "prompt": f'def {name}(a, b):\n    """{doc}"""\n', "entry_point": name,
     "given_tests": [f"assert {name}(2, 3) == {value}"], "tests": [f"assert {name}(2, 3) == {value}",
                                                                 f"assert {name}(0, 0) == 0"]}
    for name, doc, value in [("add", "Sum of a and b.", 5), ("mul", "Product of a and b.", 6),
                             ("sub", "a minus b.", -1)]
]
RIGHT = {"add": "a + b", "mul": "a * b", "sub": "a - b"}


def answer(request: RecordedRequest) -> Step:
    """A model that writes a wrong first program, good self-tests, and the right program when asked to repair."""
    prompt = request.messages[-1]["content"]
    name = re.search(r"def (\w+)\(a, b\)", prompt)
    assert name, prompt
    function = name.group(1)
    body = f"def {function}(a, b):\n    return {RIGHT[function]}\n"
    if "test cases" in prompt:
        value = eval(RIGHT[function], {"a": 2, "b": 3})
        return Step(text=f"```python\nassert {function}(2, 3) == {value}\nassert {function}(1, 1) == "
                         f"{eval(RIGHT[function], {'a': 1, 'b': 1})}\n```")
    if "Your program" in prompt:
        return Step(text=f"```python\n{body}```")
    return Step(text=f"```python\ndef {function}(a, b):\n    return 0\n```")


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(default=answer) as server:
        monkeypatch.setenv("SELFDEBUG_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("SELFDEBUG_LLM_MODEL", server.model)
        monkeypatch.setenv("SANDBOX_POOL_SIZE", "1")
        yield server


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.docker
def test_run_writes_records_and_a_report_then_resumes(llm: ScriptedOpenAIServer, dataset: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = invoke("run", "-d", str(dataset), "-s", "none,post_execution", "-o", str(out))
    assert code == 0, output
    assert "| post_execution/detail | 3 | 0.0 | 100.0 | 100.0 |" in output
    records = load_records(out / "toy" / "post_execution-detail" / "results.jsonl")
    assert sorted(r.task_id for r in records) == ["toy/add", "toy/mul", "toy/sub"]  # in finishing order
    assert all(r.hidden_by_iteration == [False, True, True] for r in records)
    assert (out / "toy" / "report.md").read_text().startswith("# Self-debugging on toy")
    assert (out / "toy" / "pass_at_1.png").read_bytes()[:4] == b"\x89PNG"
    calls = len(llm.chat_requests)

    # Interrupted mid-write: the last record is torn. Running again redoes that problem only.
    results = out / "toy" / "post_execution-detail" / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[:-1]) + lines[-1][:40])
    code, output = invoke("run", "-d", str(dataset), "-s", "none,post_execution", "-o", str(out))
    assert code == 0, output
    assert len(llm.chat_requests) - calls == 3  # generate, self-tests, one repair: one problem, nothing else
    assert len(load_records(results)) == 3


@pytest.mark.docker
def test_resuming_with_other_options_is_refused(llm: ScriptedOpenAIServer, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", "-d", str(dataset), "-s", "none", "-o", str(out), "-n", "1")[0] == 0
    options = out / "toy" / "none" / "options.json"
    options.write_text(options.read_text().replace('"num_tests": 10', '"num_tests": 3'))
    code, output = invoke("run", "-d", str(dataset), "-s", "none", "-o", str(out))
    assert code == 2 and "other options" in output


@pytest.mark.docker
def test_solve_prints_the_final_program(llm: ScriptedOpenAIServer, tmp_path: Path) -> None:
    prompt = tmp_path / "add.py"
    prompt.write_text(PROBLEMS[0]["prompt"])  # type: ignore[arg-type]
    record = tmp_path / "record.json"
    code, output = invoke("solve", str(prompt), "--record", str(record))
    assert code == 0, output
    assert "return a + b" in output
    assert "tests_generated" in output and "program_repaired" in output  # the steps, shown as they happen
    assert json.loads(record.read_text())["stop_reason"] == "tests_pass"


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    code, output = invoke("run", "-d", "no-such-dataset", "-o", str(tmp_path))
    assert code == 2 and "neither a dataset name" in output
    code, output = invoke("run", "-d", "humaneval", "-s", "magic", "-o", str(tmp_path))
    assert code == 2 and "unknown strategy 'magic'" in output
    code, output = invoke("solve", "Write something nice.")
    assert code == 2 and "--entry-point" in output
    code, output = invoke("solve", "-e", "f", "-s", "none,in_execution", "def f(): ...")
    assert code == 2 and "one strategy" in output
    code, output = invoke("report", str(tmp_path / "missing"))
    assert code == 2 and "not a folder" in output


@pytest.mark.docker
def test_run_with_seeds_repairs_given_programs(llm: ScriptedOpenAIServer, dataset: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"task_id": "toy/add", "solution": "def add(a, b):\n    return a * b\n"}) + "\n")
    out = tmp_path / "out"
    code, output = invoke("run", "-d", str(dataset), "-s", "post_execution", "-o", str(out), "--seeds", str(seeds))
    assert code == 0, output
    (record,) = load_records(out / "toy" / "seeded-post_execution-detail" / "results.jsonl")
    assert record.seeded and "a * b" in record.attempts[0].program and record.hidden_by_iteration[-1]
    assert "| seeded post_execution/detail | 1 |" in output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "toy/nope", "solution": "x = 1"}) + "\n")
    code, output = invoke("run", "-d", str(dataset), "-o", str(out), "--seeds", str(bad))
    assert code == 2 and "toy/nope" in output
