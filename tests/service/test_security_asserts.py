"""/v1/executions judges assert-style tests on the host: each wrong program of ``tests/sandbox/
test_security_asserts.py`` (an always-equal object, an int/str/list subclass, a tracer jumping over asserts, a
reader of the assert's source, patches of the runner's objects) passed there before; now each is judged failed."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.test_security_asserts import ASSERTS, ATTACKS, CHECK, RIGHT

pytestmark = [pytest.mark.security, pytest.mark.timeout(120)]


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_asserts_judge_the_attack_failed(alice: httpx.Client, attack: str) -> None:
    reply = alice.post("/v1/executions", json={"code": ATTACKS[attack], "tests": ASSERTS})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert [test["verdict"] for test in result["tests"]] == ["failed", "failed"], result
    assert [test["judged"] for test in result["tests"]] == ["host", "host"]


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_check_judges_the_attack_failed(alice: httpx.Client, attack: str) -> None:
    reply = alice.post("/v1/executions", json={"code": ATTACKS[attack], "check": CHECK, "entry_point": "add"})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["verdict"] == "failed" and not result["passed"], result
    assert result["tests"][0]["judged"] == "host"


def test_the_right_program_passes_and_in_process_tests_say_so(alice: httpx.Client) -> None:
    reply = alice.post("/v1/executions", json={"code": RIGHT, "tests": [*ASSERTS, "x = add(1, 1)\nassert x == 2"]})
    result = reply.json()
    assert result["passed"], result
    assert [test["judged"] for test in result["tests"]] == ["host", "host", "in_process"]
