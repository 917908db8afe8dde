"""The sandbox's four kinds of run, their per-test evidence, the async face, retries and recycling."""

from __future__ import annotations

import asyncio
import math

import docker
import pytest

from sandbox import AsyncSandbox, Limits, Sandbox, SandboxSettings, StdioCase, Verdict

ADD = "def add(a, b):\n    return a + b\n"


def test_assert_tests_report_each_test_with_evidence(sandbox: Sandbox) -> None:
    result = sandbox.run_tests(ADD, ["assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert sub(1, 1) == 0"])
    passed, failed, error = result.tests
    assert passed.verdict is Verdict.PASSED
    assert failed.verdict is Verdict.FAILED
    assert (failed.input, failed.expected, failed.actual) == ("2, 2", "5", "4")
    assert failed.assertion == "assert add(2, 2) == 5"
    assert error.verdict is Verdict.ERROR
    assert error.exception is not None and error.exception.type == "NameError"
    assert any("<test 2>" in line for line in error.exception.traceback)
    assert result.verdict is Verdict.FAILED and result.pass_count == 1


def test_traceback_lines_point_into_the_users_code(sandbox: Sandbox) -> None:
    program = "def f(x):\n    return 1 // x\n"
    result = sandbox.run_tests(program, ["assert f(0) == 1"])
    exc = result.tests[0].exception
    assert exc is not None and exc.type == "ZeroDivisionError"
    assert any('"<solution>", line 2' in line for line in exc.traceback)
    assert not any("runner.py" in line for line in exc.traceback)


def test_check_function_style(sandbox: Sandbox) -> None:
    check = "def check(candidate):\n    assert candidate(1, 1) == 2\n    assert candidate(-1, 1) == 0\n"
    assert sandbox.run_check(ADD, check, "add").passed
    wrong = sandbox.run_check("def add(a, b):\n    return a - b\n", check, "add")
    assert wrong.verdict is Verdict.FAILED and wrong.tests[0].actual == "0" and wrong.tests[0].expected == "2"


def test_program_that_fails_to_load_fails_every_test(sandbox: Sandbox) -> None:
    result = sandbox.run_tests("def broken(:\n", ["assert True", "assert True"])
    assert [t.verdict for t in result.tests] == [Verdict.ERROR, Verdict.ERROR]
    assert result.tests[0].exception is not None and result.tests[0].exception.type == "SyntaxError"


def test_stdio_cases_compare_whitespace_tolerantly(sandbox: Sandbox) -> None:
    program = "a, b = map(int, input().split())\nprint(a + b, end='  \\n\\n')\n"
    cases = [StdioCase(stdin="1 2\n", expected="3"), StdioCase(stdin="5 5", expected="11"),
             StdioCase(stdin="x y", expected="0")]
    result = sandbox.run_stdio(program, cases)
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.FAILED, Verdict.ERROR]
    assert result.tests[1].actual is not None and result.tests[1].actual.strip() == "10"
    assert result.tests[2].exception is not None and result.tests[2].exception.type == "ValueError"


def test_stdio_programs_run_as_main(sandbox: Sandbox) -> None:
    program = "import sys\nif __name__ == '__main__':\n    print(sys.stdin.read().upper())\n"
    result = sandbox.run_stdio(program, [StdioCase(stdin="abc", expected="ABC")])
    assert result.passed


def test_calls_return_typed_outputs_without_expectations(sandbox: Sandbox) -> None:
    program = "def f(x):\n    if x == 0:\n        raise ValueError('zero')\n    return (x, {x: [x / 2]}, {x})\n"
    result = sandbox.run_calls(program, "f", [[2], [0], [float("inf")]])
    first, second, third = result.tests
    assert first.output == (2, {2: [1.0]}, {2}) and isinstance(first.output, tuple)
    assert second.verdict is Verdict.ERROR and second.exception is not None
    assert second.exception.message == "zero"
    assert math.isinf(third.output[0])


def test_calls_on_a_missing_entry_point_are_errors(sandbox: Sandbox) -> None:
    result = sandbox.run_calls(ADD, "nope", [[1, 2]])
    assert result.tests[0].verdict is Verdict.ERROR
    assert result.tests[0].exception is not None and "nope" in result.tests[0].exception.message


def test_calls_get_fresh_inputs_each_time(sandbox: Sandbox) -> None:
    program = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    result = sandbox.run_calls(program, "f", [[[]], [[]]])
    assert [t.output for t in result.tests] == [1, 1]


def test_a_timeout_is_per_test_and_later_tests_still_run(sandbox: Sandbox) -> None:
    program = "def f(x):\n    while x:\n        pass\n    return 0\n"
    result = sandbox.run_tests(program, ["assert f(0) == 0", "assert f(1) == 0", "assert f(0) == 0"],
                               limits=Limits(test_timeout=1.0))
    assert [t.verdict for t in result.tests] == [Verdict.PASSED, Verdict.TIMEOUT, Verdict.PASSED]


# Calls that return at once are reported together (sandbox/runner/child.py, HOLD_FOR): these check that every
# verdict still goes to its own input when a slow or fatal input follows fast ones.
HARD_DEATHS = {
    "os._exit": "import os\n        os._exit(3)",
    "SIGKILL": "import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)",
    "segfault": "import ctypes\n        ctypes.string_at(0)",
}


@pytest.mark.parametrize("death", list(HARD_DEATHS), ids=list(HARD_DEATHS))
def test_a_hard_death_after_fast_calls_goes_to_its_own_input(sandbox: Sandbox, death: str) -> None:
    program = f"def f(x):\n    if x == 7:\n        {HARD_DEATHS[death]}\n    return x * 2\n"
    result = sandbox.run_calls(program, "f", [[x] for x in range(12)])
    verdicts = [t.verdict for t in result.tests]
    assert verdicts == [Verdict.PASSED] * 7 + [Verdict.ERROR] + [Verdict.PASSED] * 4, result.tests[7]
    assert [t.output for t in result.tests if t.passed] == [x * 2 for x in range(12) if x != 7]


@pytest.mark.parametrize("slow", ["time.sleep(5)", "sum(range(10**10))"], ids=["interruptible", "in-c"])
def test_a_slow_call_after_fast_ones_times_out_alone(sandbox: Sandbox, slow: str) -> None:
    """``time.sleep`` lets the child's timer fire (the early tick sends the held reports first); a long ``sum`` in C
    does not, so the runner kills the child and runs the rest again unit by unit."""
    program = f"import time\ndef f(x):\n    if x == 5:\n        {slow}\n    return -x\n"
    result = sandbox.run_calls(program, "f", [[x] for x in range(9)], limits=Limits(test_timeout=1.0))
    verdicts = [t.verdict for t in result.tests]
    assert verdicts == [Verdict.PASSED] * 5 + [Verdict.TIMEOUT] + [Verdict.PASSED] * 3, result.tests[5]
    assert [t.output for t in result.tests if t.passed] == [-x for x in range(9) if x != 5]


def test_fast_calls_are_each_timed(sandbox: Sandbox) -> None:
    program = "import time\ndef f(x):\n    time.sleep(x)\n    return x\n"
    result = sandbox.run_calls(program, "f", [[0]] * 5 + [[0.05]] + [[0]] * 5)
    assert result.passed
    durations = [t.duration for t in result.tests]
    assert 0.05 <= durations[5] < 1.0 and max(durations[:5] + durations[6:]) < 0.05, durations


def test_harness_returns_what_it_emits(sandbox: Sandbox) -> None:
    harness = "ns = {}\nexec(PROGRAM, ns)\nemit({'out': ns['add'](*PAYLOAD), 'n': len(PROGRAM)})\n"
    result = sandbox.run_harness(harness, program=ADD, payload=[2, 3])
    assert result.passed and result.tests[0].output == {"out": 5, "n": len(ADD)}


def test_harness_that_never_emits_is_an_error(sandbox: Sandbox) -> None:
    result = sandbox.run_harness("x = 1\n")
    assert result.tests[0].verdict is Verdict.ERROR


def test_prints_are_captured_per_test(sandbox: Sandbox) -> None:
    result = sandbox.run_tests("print('loading')\n", ["print('one')", "import sys; print('two', file=sys.stderr)"])
    assert result.tests[0].stdout == "one\n"
    assert result.tests[1].stderr == "two\n"


def test_no_tests_is_an_explicit_empty_result(sandbox: Sandbox) -> None:
    result = sandbox.run_tests(ADD, [])
    assert result.tests == [] and result.message


def test_async_face_runs_concurrently(sandbox: Sandbox) -> None:
    async def main() -> list[bool]:
        box = AsyncSandbox(sandbox=sandbox)
        runs = [box.run_tests(ADD, [f"assert add({i}, 1) == {i + 1}"]) for i in range(6)]
        return [r.passed for r in await asyncio.gather(*runs)]

    assert asyncio.run(main()) == [True] * 6


def test_a_dead_container_is_retried_once_on_a_fresh_one(sandbox_settings: SandboxSettings) -> None:
    settings = sandbox_settings.model_copy(update={"pool_size": 1})
    with Sandbox(settings) as box:
        with box.pool.acquire() as container:
            docker.from_env().containers.get(container.id).kill()
        # The killed container went back to the pool looking healthy; the run finds out and retries.
        result = box.run_tests(ADD, ["assert add(1, 1) == 2"])
        assert result.passed and result.attempts == 2


def test_containers_are_recycled_after_their_job_budget(sandbox_settings: SandboxSettings) -> None:
    settings = sandbox_settings.model_copy(update={"pool_size": 1, "recycle_after": 2})
    with Sandbox(settings) as box:
        for _ in range(5):
            assert box.run_tests(ADD, ["assert add(1, 1) == 2"]).passed
        usage = box.pool.usage()
        assert usage["recycled"] >= 2 and usage["started"] >= 3


def test_a_killed_run_recycles_its_container(sandbox_settings: SandboxSettings) -> None:
    settings = sandbox_settings.model_copy(update={"pool_size": 1})
    with Sandbox(settings) as box:
        # The program ignores the in-process timers, so the runner has to kill it from outside.
        stubborn = "import signal\nfor s in (signal.SIGALRM, signal.SIGPROF):\n    signal.signal(s, signal.SIG_IGN)\n" \
                   "while True: pass\n"
        result = box.run_tests("", [stubborn], limits=Limits(test_timeout=0.5, cpu_time=5))
        assert result.tests[0].verdict is Verdict.TIMEOUT
        assert box.pool.usage()["recycled"] == 1
        assert box.run_tests(ADD, ["assert add(1, 1) == 2"]).passed


def test_limits_can_only_be_lowered(sandbox: Sandbox) -> None:
    effective = sandbox.effective_limits(Limits(test_timeout=10_000, output_bytes=10))
    assert effective["test_timeout"] == sandbox.settings.test_timeout
    assert effective["output_bytes"] == 10


def test_unknown_limit_fields_are_rejected() -> None:
    with pytest.raises(ValueError, match="extra"):
        Limits.model_validate({"test_timeout": 1, "memory": 5})


def test_programs_do_not_inherit_the_runners_future_imports(sandbox: Sandbox) -> None:
    # Plain CPython evaluates annotations at definition time: an unimported name is a NameError.
    result = sandbox.run_tests("def f(x: List[int]):\n    return x\n", ["assert f([1]) == [1]"])
    assert result.tests[0].verdict is Verdict.ERROR
    assert result.tests[0].exception is not None and result.tests[0].exception.type == "NameError"


def test_huge_int_outputs_come_back_whole(sandbox: Sandbox) -> None:
    result = sandbox.run_calls("def f(n):\n    return 7 ** n\n", "f", [[20_000]])
    assert result.passed and result.tests[0].output == 7**20_000


def test_abort_ends_a_running_request_from_another_thread(sandbox_settings: SandboxSettings) -> None:
    import threading
    import time

    from sandbox import ContainerError

    with Sandbox(sandbox_settings.model_copy(update={"pool_size": 1})) as box, box.pool.acquire() as container:
        timer = threading.Timer(0.5, container.abort)
        timer.start()
        started = time.monotonic()
        request = {"op": "run", "kind": "tests", "program": "import time", "tests": [{"code": "time.sleep(20)"}],
                   "limits": box.effective_limits(None)}
        # Whichever the waiting thread meets first — the abort flag, the shut-down socket or the closed one — the
        # request ends at once with a ContainerError.
        with pytest.raises(ContainerError, match="broke off"):
            container.request(request, timeout=30)
        assert time.monotonic() - started < 3
        timer.join()
