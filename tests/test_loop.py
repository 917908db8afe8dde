"""The repair loop with a scripted model and the real sandbox: each strategy, the guard, budgets and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from sandbox import AsyncSandbox, Sandbox
from selfdebug.errors import ProblemError
from selfdebug.events import Event, EventKind
from selfdebug.llm import LLMUnavailable, ScriptedModel
from selfdebug.loop import Debugger, parse_block_verdicts
from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord, StopReason
from tests.judges import in_process_judge

PROBLEM = Problem(
    task_id="demo/add",
    prompt='def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
    entry_point="add",
    given_tests=["assert add(1, 2) == 3"],
    tests=["assert add(2, 2) == 4", "assert add(-1, 1) == 0"],
)
WRONG = "```python\ndef add(a: int, b: int) -> int:\n    return a - b\n```"
RIGHT = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
TESTS = "```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(2, 5) == 7\n```"


@pytest.fixture
def async_sandbox(sandbox: Sandbox) -> Iterator[AsyncSandbox]:
    yield AsyncSandbox(sandbox=sandbox)


def run(model: ScriptedModel, sandbox: AsyncSandbox, problem: Problem = PROBLEM,
        **options: object) -> tuple[DebugRecord, list[Event]]:
    events: list[Event] = []
    debugger = Debugger(model, sandbox, DebugOptions.model_validate(options), evaluator=in_process_judge,
                        on_event=events.append)
    return asyncio.run(debugger.run(problem)), events


def test_none_keeps_the_first_program(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(WRONG)
    record, events = run(model, async_sandbox, strategy=Strategy.NONE)
    assert record.stop_reason == StopReason.NO_REPAIR
    assert "a - b" in record.final_program and len(model.history) == 1
    assert record.hidden_by_iteration == [False]
    assert [e.kind for e in events] == [EventKind.PROGRAM_GENERATED, EventKind.EVALUATED, EventKind.FINISHED]


def test_post_execution_detail_repairs_from_failures(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(WRONG, TESTS, RIGHT)
    record, events = run(model, async_sandbox, strategy=Strategy.POST_EXECUTION, feedback=Feedback.DETAIL)
    assert record.self_tests.usable == 3
    feedback = model.history[2].prompt
    assert "assert add(1, 2) == 3" in feedback and "expected: 3" in feedback and "actual: -1" in feedback
    assert record.stop_reason == StopReason.TESTS_PASS
    assert record.hidden_by_iteration == [False, True, True]
    assert record.usage.calls == 3 and record.usage.total > 0
    kinds = [e.kind for e in events]
    for kind in (EventKind.TESTS_GENERATED, EventKind.EXECUTED, EventKind.FEEDBACK_SENT, EventKind.PROGRAM_REPAIRED):
        assert kind in kinds
    assert kinds[-1] is EventKind.FINISHED


def test_the_feedback_shows_passed_tests_as_written(async_sandbox: AsyncSandbox) -> None:
    # add(0, 0) == 0 passes for a - b: judged on the host, it must still be shown as the assert the model wrote.
    model = ScriptedModel(WRONG, TESTS, RIGHT)
    run(model, async_sandbox, strategy=Strategy.POST_EXECUTION, feedback=Feedback.DETAIL)
    passed = model.history[2].prompt.split("It passes these tests:", 1)[1]
    assert "- assert add(0, 0) == 0" in passed and "test_1" not in passed


def test_label_feedback_names_failures_without_values(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(WRONG, TESTS, RIGHT)
    run(model, async_sandbox, strategy=Strategy.POST_EXECUTION, feedback=Feedback.LABEL)
    feedback = model.history[2].prompt
    assert "assert add(1, 2) == 3" in feedback
    assert "expected:" not in feedback and "actual:" not in feedback


def test_wrong_self_tests_break_a_correct_program_without_the_guard(async_sandbox: AsyncSandbox) -> None:
    bad_tests = "```python\nassert add(1, 2) == 3\nassert add(2, 2) == 5\n```"
    broken = "```python\ndef add(a, b):\n    return a + b + (a == b)\n```"
    record, _ = run(ScriptedModel(RIGHT, bad_tests, broken), async_sandbox, max_iterations=1)
    assert record.hidden_by_iteration == [True, False]  # the paper's false negative


def test_the_guard_rejects_a_repair_that_loses_a_passing_test(async_sandbox: AsyncSandbox) -> None:
    bad_tests = "```python\nassert add(1, 2) == 3\nassert add(2, 2) == 5\n```"
    # Passes the wrong test, but now fails the right one it used to pass: the guard must keep the old program.
    worse = "```python\ndef add(a, b):\n    return 5\n```"
    record, events = run(ScriptedModel(RIGHT, bad_tests, worse), async_sandbox, max_iterations=1, guard=True)
    assert record.attempts[1].kept is False and "fails 1 self-test" in record.attempts[1].guard_reason
    assert record.hidden_by_iteration == [True, True]
    assert any(e.kind is EventKind.GUARD and e.data["kept"] is False for e in events)


def test_the_guard_keeps_a_repair_that_passes_more(async_sandbox: AsyncSandbox) -> None:
    record, _ = run(ScriptedModel(WRONG, TESTS, RIGHT), async_sandbox, max_iterations=1, guard=True)
    assert record.attempts[1].kept and record.hidden_by_iteration == [False, True]


def test_in_execution_shows_traces_and_no_expected_outputs(async_sandbox: AsyncSandbox) -> None:
    judged = "[block 0] wrong: it subtracts instead of adding\n" + RIGHT
    model = ScriptedModel(WRONG, TESTS, judged, "[block 0] correct: adds\n" + RIGHT)
    record, events = run(model, async_sandbox, strategy=Strategy.IN_EXECUTION)
    prompt = model.history[2].prompt
    assert "Execution trace 1" in prompt
    assert "== 3" not in prompt  # the self-tests' expected values never reach the model
    assert record.attempts[0].traces and record.attempts[0].block_verdicts[0].correct is False
    assert record.stop_reason == StopReason.ALL_BLOCKS_CORRECT
    assert record.hidden_by_iteration == [False, True, True]
    assert any(e.kind is EventKind.TRACE_RECORDED for e in events)


def test_oracle_uses_the_visible_tests(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(WRONG, RIGHT)
    record, _ = run(model, async_sandbox, strategy=Strategy.ORACLE)
    assert record.self_tests.source == "visible" and record.self_tests.asserts == PROBLEM.given_tests
    assert len(model.history) == 2 and record.stop_reason == StopReason.TESTS_PASS


def test_no_code_is_a_recorded_failure(async_sandbox: AsyncSandbox) -> None:
    record, _ = run(ScriptedModel("I cannot help with that."), async_sandbox)
    assert record.stop_reason == StopReason.NO_CODE and record.error
    assert record.hidden_by_iteration == [False, False, False]


def test_an_llm_failure_mid_loop_keeps_the_program_so_far(async_sandbox: AsyncSandbox) -> None:
    failure = LLMUnavailable("down", endpoint="http://127.0.0.1:9", model="m", attempts=3)
    record, _ = run(ScriptedModel(WRONG, TESTS, failure), async_sandbox)
    assert record.stop_reason == StopReason.LLM_ERROR and "LLMUnavailable" in (record.error or "")
    assert "a - b" in record.final_program


def test_token_budget_stops_the_loop(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(WRONG, TESTS, WRONG, WRONG)
    record, _ = run(model, async_sandbox, token_budget=60)
    assert record.stop_reason == StopReason.TOKEN_BUDGET
    assert len(model.history) < 4


def test_block_verdicts_are_parsed_leniently() -> None:
    text = "[block 0] correct: ok\n[Block 1]: WRONG - off by one\n[block 1] wrong: really\nnoise [block x]"
    verdicts = parse_block_verdicts(text)
    assert [(v.block, v.correct) for v in verdicts] == [(0, True), (1, False)]
    assert verdicts[1].reason == "really"


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="strategy"):
        DebugOptions.model_validate({"strategy": "magic"})


@pytest.mark.parametrize(
    ("problem", "options", "reason"),
    [
        (PROBLEM.model_copy(update={"prompt": "  \n"}), {}, "prompt is empty"),
        (PROBLEM.model_copy(update={"given_tests": []}), {"strategy": "oracle"}, "visible tests"),
        (Problem(task_id="io", prompt="Read two ints, print the sum.", kind="stdio"), {"strategy": "in_execution"},
         "function problem"),
    ],
)
def test_problems_the_loop_cannot_run_are_refused_clearly(problem: Problem, options: dict[str, str], reason: str,
                                                          async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel()
    debugger = Debugger(model, async_sandbox, DebugOptions.model_validate(options))
    with pytest.raises(ProblemError, match=reason):
        asyncio.run(debugger.run(problem))
    assert model.history == []  # refused before any model call


def test_a_seed_replaces_the_first_generation(async_sandbox: AsyncSandbox) -> None:
    model = ScriptedModel(TESTS)  # no generation call: the seed is the first program
    seed = "def add(a: int, b: int) -> int:\n    return a + b\n"
    events: list[Event] = []
    debugger = Debugger(model, async_sandbox, DebugOptions(), evaluator=in_process_judge, on_event=events.append)
    record = asyncio.run(debugger.run(PROBLEM, seed=seed))
    assert record.seeded and record.attempts[0].program == seed and record.attempts[0].tokens == 0
    assert len(model.history) == 1 and record.stop_reason == StopReason.TESTS_PASS
    assert events[0].data["seeded"] is True
