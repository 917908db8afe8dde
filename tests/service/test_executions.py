"""/v1/executions: code against tests in the real sandbox, now, bounded."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


def test_asserts_report_per_test_verdicts(alice: httpx.Client) -> None:
    reply = alice.post("/v1/executions", json={"code": "def add(a, b):\n    return a - b\n",
                                               "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["verdict"] == "failed" and not result["passed"]
    assert (result["passed_count"], result["total"]) == (1, 2)
    first = result["tests"][0]
    assert first["verdict"] == "failed" and first["expected"] == "3" and first["actual"] == "-1"


def test_check_function_and_stdio(alice: httpx.Client) -> None:
    check = alice.post("/v1/executions", json={"code": "def add(a, b):\n    return a + b\n", "entry_point": "add",
                                               "check": "def check(candidate):\n    assert candidate(1, 2) == 3\n"})
    assert check.json()["verdict"] == "passed"
    stdio = alice.post("/v1/executions", json={"code": "print(sum(map(int, input().split())))",
                                               "stdio": [{"stdin": "1 2", "expected": "3"},
                                                         {"stdin": "2 2", "expected": "5"}]})
    assert [t["verdict"] for t in stdio.json()["tests"]] == ["passed", "failed"]


def test_a_run_is_bounded_by_its_timeout(alice: httpx.Client) -> None:
    started = time.monotonic()
    reply = alice.post("/v1/executions", json={"code": "while True:\n    pass\n", "tests": ["assert True"],
                                               "timeout": 1})
    assert reply.json()["verdict"] == "timeout"
    assert time.monotonic() - started < 15
    crash = alice.post("/v1/executions", json={"code": "raise ValueError('boom')", "tests": ["assert True"]})
    test = crash.json()["tests"][0]
    assert test["verdict"] == "error" and test["exception"]["type"] == "ValueError"


@pytest.mark.parametrize("body", [
    {"code": "x = 1"},
    {"code": "x = 1", "tests": ["assert x"], "stdio": [{"stdin": ""}]},
    {"code": "x = 1", "check": "def check(c): pass"},
    {"code": "x = 1", "tests": ["assert x"], "timeout": 1000},
    {"code": "", "tests": ["assert True"]},
])
def test_invalid_executions(alice: httpx.Client, body: dict[str, object]) -> None:
    reply = alice.post("/v1/executions", json=body)
    assert reply.status_code == 422 and reply.json()["code"] == "invalid_request", reply.text
