"""Tenants never share expected outputs or hidden tests: two API keys sending problems with one task_id (inline,
or in JSONL batches with canonical solutions and inputs) each get the verdict their own problem deserves, though
one worker judges both with one judge."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.service.harness import wait_for
from tests.service.scripted import problem

pytestmark = [pytest.mark.security, pytest.mark.timeout(240)]

TASK = "shared/add"  # both keys use it
NONE = {"strategy": "none"}  # the model's first program is the final one: right is a + b, "(wrong first)" a - b


def _verdict(client: httpx.Client, job_id: str) -> dict[str, Any]:
    reply = client.get(f"/v1/jobs/{job_id}", params={"wait": 60})
    job: dict[str, Any] = reply.json()
    assert reply.status_code == 200 and job["status"] == "succeeded", job
    verdict: dict[str, Any] = job["verdict"]
    assert verdict["source"] == "hidden_tests", job
    return verdict


def _batch_verdicts(client: httpx.Client, lines: list[dict[str, Any]]) -> dict[str, bool]:
    """Run a JSONL batch (its text) to the end; each problem's hidden-test verdict by task_id."""
    body = {"jsonl": "".join(json.dumps(line) + "\n" for line in lines), "options": NONE, "concurrency": 2}
    reply = client.post("/v1/batches", json=body)
    assert reply.status_code == 202, reply.text
    batch_id = reply.json()["id"]

    def ended() -> bool:
        return bool(client.get(f"/v1/batches/{batch_id}").json()["status"] != "running")

    wait_for(ended, 120, f"batch {batch_id} to end", interval=0.3)
    results = [json.loads(line) for line in client.get(f"/v1/batches/{batch_id}/results").text.splitlines()]
    verdicts = {}
    for result in results:
        verdict = _verdict(client, result["job_id"])
        verdicts[result["task_id"]] = bool(verdict["passed"])
    return verdicts


def _plus_problem(task_id: str, canonical: str, inputs: list[list[int]], *, wrong_first: bool = False
                  ) -> dict[str, Any]:
    """A JSONL line judged evalplus-style: the program's outputs against ``canonical``'s on ``inputs``."""
    body = problem(task_id, wrong_first=wrong_first, hidden=False)
    del body["given_tests"]  # the repair loop is off: only the hidden inputs judge
    return {**body, "canonical_solution": canonical, "base_inputs": inputs}


def test_inline_jobs_with_one_task_id_are_judged_on_their_own_hidden_tests(alice: httpx.Client,
                                                                           bob: httpx.Client) -> None:
    mine = {**problem(TASK), "tests": ["assert add(2, 5) == 7"]}
    # Bob's "add" subtracts: the model's a + b is wrong for him, right for Alice.
    his = {**problem(TASK), "tests": ["assert add(2, 5) == -3"]}
    his_right = {**problem(TASK, wrong_first=True), "tests": ["assert add(2, 5) == -3"]}
    jobs = []
    for client, body in ((alice, mine), (bob, his), (bob, his_right), (alice, mine)):
        reply = client.post("/v1/jobs", json={"problem": body, "options": NONE})
        assert reply.status_code == 202, reply.text
        jobs.append((client, reply.json()["id"]))
    passed = [_verdict(client, job_id)["passed"] for client, job_id in jobs]
    assert passed == [True, False, True, True]


def test_jsonl_batches_with_one_task_id_get_their_own_expected_outputs(alice: httpx.Client,
                                                                       bob: httpx.Client) -> None:
    adds = "def add(a, b):\n    return a + b\n"
    subtracts = "def add(a, b):\n    return a - b\n"
    inputs = [[1, 2], [3, 4], [10, -7]]
    # Alice first: the worker computes (and caches) the expected outputs of her canonical solution.
    assert _batch_verdicts(alice, [_plus_problem(TASK, adds, inputs)]) == {TASK: True}
    # Bob's problem has the same task_id, inputs and prompt, but his canonical solution subtracts: the model's
    # a + b must fail and its a - b pass, by his expected outputs, not Alice's.
    assert _batch_verdicts(bob, [_plus_problem(TASK, subtracts, inputs)]) == {TASK: False}
    assert _batch_verdicts(bob, [_plus_problem(TASK, subtracts, inputs, wrong_first=True)]) == {TASK: True}
    # Other inputs under the same task_id are judged on those inputs (a program right only on Alice's fails).
    more = [*inputs, [0, 5]]
    only_hers = "def add(a, b):\n    return a + b if a != 0 else 0\n"
    assert _batch_verdicts(bob, [_plus_problem(TASK, only_hers, more)]) == {TASK: False}
    # And Alice's verdicts are still hers.
    assert _batch_verdicts(alice, [_plus_problem(TASK, adds, inputs)]) == {TASK: True}
    assert _batch_verdicts(alice, [_plus_problem(TASK, adds, inputs, wrong_first=True)]) == {TASK: False}
