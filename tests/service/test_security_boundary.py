"""Strange values from the sandbox through the service: ``/v1/executions`` answers 200 with the coerced text (not 500),
and a job whose program raises them is repaired, stored in Redis and shown like any other."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.hostile import ODD_MESSAGE, ODD_NAME, REPLACEMENT, SURROGATE
from tests.llm.scripted_server import ScriptedOpenAIServer, Step

pytestmark = [pytest.mark.security, pytest.mark.timeout(120)]

POISONED = {  # program -> (exception type, message) as the API shows them
    # The child reports the exact str behind a str subclass and the class's real name past a metaclass (the host
    # coerces anything else: tests/sandbox/test_reply.py).
    "str-subclass": (ODD_MESSAGE, "Boom", "boom"),
    "name": (ODD_NAME, "Weird", "x"),
    "surrogate": (SURROGATE, "ValueError", f"bad {REPLACEMENT}"),
}


@pytest.mark.parametrize("case", POISONED)
def test_executions_show_strange_exceptions_as_plain_text(alice: httpx.Client, case: str) -> None:
    program, kind, message = POISONED[case]
    reply = alice.post("/v1/executions", json={"code": program, "tests": ["add(1, 2)", "assert 1 + 1 == 2"]})
    assert reply.status_code == 200, reply.text
    bad, good = reply.json()["tests"]
    assert bad["verdict"] == "error" and bad["exception"]["type"] == kind and bad["exception"]["message"] == message
    assert good["verdict"] == "passed"


def test_executions_show_surrogates_in_output_asserts_and_stdio_as_replacements(alice: httpx.Client) -> None:
    reply = alice.post("/v1/executions", json={"code": SURROGATE, "tests": ["add(1, 2)", "assert 0, 'no \\udfff'"]})
    assert reply.status_code == 200, reply.text
    raised, failed = reply.json()["tests"]
    assert raised["stdout"] == f"out {REPLACEMENT}\n" and raised["stderr"] == f"err {REPLACEMENT}\n"
    assert failed["exception"]["message"] == f"no {REPLACEMENT}"
    stdio = alice.post("/v1/executions", json={"code": "raise ValueError('\\udfff')", "stdio": [{"stdin": "1"}]})
    assert stdio.status_code == 200, stdio.text
    assert stdio.json()["tests"][0]["exception"]["message"] == REPLACEMENT


def _fenced(code: str) -> str:
    return f"```python\n{code}```"


@pytest.mark.parametrize("case", POISONED)
def test_a_job_repairs_a_program_that_raises_strange_exceptions(alice: httpx.Client, llm: ScriptedOpenAIServer,
                                                                case: str) -> None:
    program, kind, message = POISONED[case]
    llm.step(Step(text=_fenced(program)), Step(text=_fenced("assert add(1, 2) == 3\nassert add(0, 0) == 0\n")),
             Step(text=_fenced("def add(a, b):\n    return a + b\n")))
    problem = {"task_id": f"boundary/{case}", "prompt": 'def add(a, b):\n    """Sum."""\n', "entry_point": "add",
               "tests": ["assert add(2, 2) == 4"]}
    body: dict[str, Any] = {"problem": problem}
    reply = alice.post("/v1/jobs", json=body, params={"wait": 60})
    assert reply.status_code == 200, reply.text
    job = reply.json()
    assert job["status"] == "succeeded", job["reason"]
    assert job["verdict"]["passed"] is True and "a + b" in job["final_program"]
    first = job["record"]["attempts"][0]
    assert f"raised: {kind}: {message}" in first["feedback"]
    assert first["self_test_results"][0]["exception"]["type"] == kind
    stored = alice.get(f"/v1/jobs/{job['id']}")  # read back from Redis
    assert stored.status_code == 200 and stored.json()["record"]["attempts"][0]["feedback"] == first["feedback"]
