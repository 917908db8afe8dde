"""Wrong programs that try to pass assert-style tests from inside the interpreter the asserts run in.

Each attack below is a program for ``add(a, b)`` that never adds: it returns an object that equals anything, an
int/str/list subclass whose ``__eq__`` is always true, jumps over the assert lines with ``sys.settrace``, reads
the expected value from the calling assert's source, or patches the runner's own objects so that a failed assert
reports as passed. Before asserts were judged on the host, every one of them passed; now each must be judged
failed wherever asserts judge a program: the sandbox's ``run_tests``/``run_check``, the hidden-test judge, and the
repair loop's self-tests and visible tests. (``/v1/executions``: ``tests/service/test_security_asserts.py``.)
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from sandbox import AsyncSandbox, Sandbox, Verdict
from selfdebug.datasets import Dataset
from selfdebug.evaluation import Judge
from selfdebug.llm import ScriptedModel
from selfdebug.loop import Debugger
from selfdebug.options import DebugOptions, Strategy
from selfdebug.problems import Problem

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.timeout(120)]

ASSERTS = ["assert add(1, 2) == 3", "assert add(2, 5) == 7\nassert True"]
CHECK = textwrap.dedent("""\
    def check(candidate):
        assert candidate(1, 2) == 3
        assert candidate(2, 5) == 7
        assert True, "This prints if this assert fails (good for debugging!)"
    """)


def _subclass(base: str, value: str) -> str:
    return textwrap.dedent(f"""\
        class Sly({base}):
            def __eq__(self, other):
                return True

            def __ne__(self, other):
                return False

            __hash__ = {base}.__hash__


        def add(a, b):
            return Sly({value})
        """)


ATTACKS = {
    "always_equal_object": textwrap.dedent("""\
        class Anything:
            def __eq__(self, other):
                return True

            def __ne__(self, other):
                return False


        def add(a, b):
            return Anything()
        """),
    "int_subclass": _subclass("int", "0"),
    "str_subclass": _subclass("str", "'0'"),
    "list_subclass": _subclass("list", "[0]"),
    # Jump from each assert line to the last line of its test or check (HumanEval's checks end with
    # "assert True"). Installed by a default argument, which a sanitizer keeps with the function.
    "settrace_skips_asserts": textwrap.dedent("""\
        import linecache
        import sys


        def skip(frame, event, arg):
            code = frame.f_code
            if event == "line" and (code.co_name == "check" or code.co_filename.startswith("<test")):
                last = max(line for _, _, line in code.co_lines() if line is not None)
                here = linecache.getline(code.co_filename, frame.f_lineno).strip()
                if frame.f_lineno < last and here.startswith("assert "):
                    try:
                        frame.f_lineno = last
                    except ValueError:
                        pass
            return skip


        def add(a, b, _=sys.settrace(skip)):
            return 0
        """),
    # Read the calling assert's line and return what it compares with.
    "reads_the_assert_source": textwrap.dedent("""\
        import ast
        import inspect
        import linecache


        def add(a, b):
            for info in inspect.stack()[1:]:
                line = linecache.getline(info.filename, info.lineno).strip()
                try:
                    tree = ast.parse(line)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.Eq):
                        try:
                            return ast.literal_eval(node.comparators[0])
                        except ValueError:
                            pass
            return 0
        """),
    # Find the runner's Child through the garbage collector; a failed assert then reports as passed.
    "patches_child_outcome": textwrap.dedent("""\
        import gc


        def patch():
            for obj in gc.get_objects():
                if type(obj).__name__ == "Child" and hasattr(obj, "outcome"):
                    cls = type(obj)
                    original = cls.outcome

                    def outcome(self, exc, original=original):
                        if isinstance(exc, AssertionError):
                            return "ok", {}
                        return original(self, exc)

                    cls.outcome = outcome


        def add(a, b):
            patch()
            return 0
        """),
    # Find the runner's Child in the frames above the call, and rewrite its reports (token and all) to "ok".
    "patches_child_report": textwrap.dedent("""\
        import sys


        def patch():
            frame = sys._getframe()
            while frame is not None:
                child = frame.f_locals.get("self")
                if type(child).__name__ == "Child" and not getattr(child, "patched", False):
                    original = child.report

                    def report(event, original=original):
                        if event.get("status") in ("failed", "error"):
                            event = {"e": event["e"], "i": event.get("i"), "status": "ok", "duration": 0.0}
                        original(event)

                    child.report = report
                    child.patched = True
                frame = frame.f_back


        def add(a, b):
            patch()
            return 0
        """),
}
RIGHT = "def add(a, b):\n    return a + b\n"
PROBLEM = Problem(task_id="demo/add", prompt='def add(a, b):\n    """Return a + b."""\n', entry_point="add",
                  given_tests=list(ASSERTS), test=CHECK)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_assert_snippets_judge_the_attack_failed(sandbox: Sandbox, attack: str) -> None:
    result = sandbox.run_tests(ATTACKS[attack], ASSERTS)
    assert [test.verdict for test in result.tests] == [Verdict.FAILED, Verdict.FAILED], result.tests
    assert [test.judged for test in result.tests] == ["host", "host"]


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_check_function_judges_the_attack_failed(sandbox: Sandbox, attack: str) -> None:
    result = sandbox.run_check(ATTACKS[attack], CHECK, "add")
    assert result.verdict is Verdict.FAILED, result.tests
    assert result.tests[0].judged == "host" and result.tests[0].asserts == 2


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_hidden_test_judge_judges_the_attack_failed(sandbox: Sandbox, attack: str) -> None:
    as_asserts = PROBLEM.model_copy(update={"task_id": "demo/asserts", "test": None, "tests": list(ASSERTS)})
    judge = Judge(sandbox, Dataset(name="inline", source="test", digest="inline",
                                   problems={PROBLEM.task_id: PROBLEM, as_asserts.task_id: as_asserts}))
    for problem in (PROBLEM, as_asserts):
        result = judge.evaluate_program(problem, ATTACKS[attack])
        assert not result.passed and result.verdict is Verdict.FAILED, (problem.task_id, result)
        assert {test.judged for test in result.tests} == {"host"}
    assert judge.evaluate_program(PROBLEM, RIGHT).passed


# The model's self-tests are one assert per test, and a tracer cannot jump past the last line of a test: that one
# attack needs the visible tests' two-line snippet (oracle).
LOOP_ATTACKS = [(strategy, attack) for strategy in (Strategy.POST_EXECUTION, Strategy.ORACLE) for attack in ATTACKS
                if (strategy, attack) != (Strategy.POST_EXECUTION, "settrace_skips_asserts")]


@pytest.mark.parametrize(("strategy", "attack"), LOOP_ATTACKS)
def test_self_tests_and_visible_tests_judge_the_attack_failed(sandbox: Sandbox, strategy: Strategy,
                                                               attack: str) -> None:
    # The model's first program is the attack; its self-tests (or, for oracle, the visible tests) must fail it,
    # so the loop goes on to repair instead of stopping with "tests pass".
    self_tests = "```python\n" + "\n".join(ASSERTS) + "\n```"
    replies = [f"```python\n{ATTACKS[attack]}```", *([] if strategy is Strategy.ORACLE else [self_tests]),
               f"```python\n{RIGHT}```"]
    debugger = Debugger(ScriptedModel(*replies), AsyncSandbox(sandbox=sandbox),
                        DebugOptions(strategy=strategy, max_iterations=1))
    record = asyncio.run(debugger.run(PROBLEM))
    first = record.attempts[0].self_test_results
    assert first and all(result["verdict"] == "failed" for result in first), first
    assert all(result["judged"] == "host" for result in first)
    assert record.stop_reason != "tests_pass" and "a + b" in record.final_program
