"""/v1/jobs end to end: a real worker runs the engine with the real sandbox and the scripted model over HTTP."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import httpx
import pytest

from tests.service.conftest import KEYS, api_settings, queue
from tests.service.harness import ApiServer, iter_sse, wait_for
from tests.service.scripted import problem, stdio_problem

pytestmark = pytest.mark.timeout(120)


def submit(client: httpx.Client, body: dict[str, Any], wait: float = 0) -> httpx.Response:
    return client.post("/v1/jobs", json=body, params={"wait": wait} if wait else None)


def finished(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    reply = client.get(f"/v1/jobs/{job_id}", params={"wait": timeout})
    assert reply.status_code == 200, reply.text
    job: dict[str, Any] = reply.json()
    assert job["status"] in ("succeeded", "failed", "cancelled"), job
    return job


def test_a_job_repairs_its_program_and_reports_everything(alice: httpx.Client) -> None:
    reply = submit(alice, {"problem": problem(wrong_first=True)}, wait=30)
    assert reply.status_code == 200, reply.text
    assert reply.headers["location"].startswith("/v1/jobs/")
    job = reply.json()
    assert job["status"] == "succeeded" and job["runs"] == 1
    assert "a + b" in job["final_program"]
    assert job["verdict"] == {"source": "hidden_tests", "passed": True, "verdict": "passed"}
    record = job["record"]
    assert [a["iteration"] for a in record["attempts"]] == [0, 1]
    first = record["attempts"][0]
    assert "a - b" in first["program"] and first["self_tests_passed"] == 1 and first["feedback"]
    assert first["self_test_results"][0]["verdict"] in ("passed", "failed")
    assert record["self_tests"]["usable"] == 3 and record["hidden_by_iteration"] == [False, True, True]
    assert job["usage"]["calls"] == 3 and job["usage"]["prompt_tokens"] > 0
    timing = job["timing"]
    assert timing["engine"] > 0 and timing["sandbox"] > 0 and timing["queued"] >= 0 and timing["run"] > 0
    assert alice.get(job["links"]["job"]).json()["final_program"] == job["final_program"]


def test_without_wait_the_job_is_accepted_then_followed(alice: httpx.Client) -> None:
    reply = submit(alice, {"problem": problem(), "options": {"strategy": "none"}})
    assert reply.status_code == 202 and reply.json()["status"] in ("queued", "running")
    job = finished(alice, reply.json()["id"])
    assert job["status"] == "succeeded" and job["record"]["stop_reason"] == "no_repair"


def test_in_execution_traces_and_a_stdio_problem(alice: httpx.Client) -> None:
    traced = submit(alice, {"problem": problem(wrong_first=True), "options": {"strategy": "in_execution"}}, wait=30)
    job = traced.json()
    assert job["status"] == "succeeded", job
    assert job["record"]["attempts"][0]["traces"] and job["verdict"]["passed"] is True
    stdio = submit(alice, {"problem": stdio_problem(), "options": {"feedback": "label"}}, wait=30).json()
    assert stdio["status"] == "succeeded" and stdio["verdict"]["passed"] is True, stdio


def test_visible_tests_judge_when_there_are_no_hidden_ones(alice: httpx.Client) -> None:
    job = submit(alice, {"problem": problem(hidden=False), "options": {"strategy": "none"}}, wait=30).json()
    assert job["verdict"] == {"source": "visible_tests", "passed": True, "verdict": "passed"}


def test_keys_own_their_jobs(alice: httpx.Client, bob: httpx.Client, service: ApiServer) -> None:
    job_id = submit(alice, {"problem": problem(), "options": {"strategy": "none"}}).json()["id"]
    for method, path in (("GET", f"/v1/jobs/{job_id}"), ("DELETE", f"/v1/jobs/{job_id}"),
                         ("GET", f"/v1/jobs/{job_id}/events")):
        reply = bob.request(method, path)
        assert reply.status_code == 403 and reply.json()["code"] == "forbidden"
    with service.client() as anonymous:
        reply = anonymous.get(f"/v1/jobs/{job_id}")
        assert reply.status_code == 401 and reply.json() == {"detail": reply.json()["detail"], "code": "unauthorized"}
        assert reply.headers["www-authenticate"] == "Bearer"
    with service.client("not-a-real-key") as stranger:
        assert stranger.get(f"/v1/jobs/{job_id}").status_code == 401
    missing = alice.get("/v1/jobs/" + "0" * 32)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize("body, fragment", [
    ({"problem": {"prompt": "def f(): ..."}}, "entry_point"),
    ({"problem": {"prompt": "   ", "entry_point": "f"}}, "prompt"),
    ({"problem": problem(), "options": {"strategy": "magic"}}, "strategy"),
    ({"problem": {"kind": "stdio", "prompt": "echo"}, "options": {"strategy": "in_execution"}}, "in_execution"),
    ({"problem": problem(), "time_limit": 10_000}, "time_limit"),
    ({"problem": problem(), "surprise": 1}, "surprise"),
])
def test_invalid_jobs_are_refused_with_the_error_shape(alice: httpx.Client, body: dict[str, Any],
                                                      fragment: str) -> None:
    reply = submit(alice, body)
    assert reply.status_code == 422, reply.text
    assert set(reply.json()) == {"detail", "code"} and reply.json()["code"] == "invalid_request"
    assert fragment in reply.json()["detail"]


def test_cancelling_a_running_job_kills_its_sandbox_run(alice: httpx.Client, worker: Any, redis_db: Any) -> None:
    # "nap" sleeps 30 s in the sandbox: cancellation must not wait for it.
    before = wait_for(lambda: worker.report(redis_db), 10, "a worker report")["pool"]
    job_id = submit(alice, {"problem": problem("demo/nap", "nap")}).json()["id"]
    wait_for(lambda: _seen(alice, job_id, "tests_generated"), 20, "the self-tests to start running")
    time.sleep(0.5)  # inside the sandbox now
    started = time.monotonic()
    reply = alice.delete(f"/v1/jobs/{job_id}")
    assert reply.status_code in (200, 202), reply.text
    job = finished(alice, job_id, timeout=10)
    assert job["status"] == "cancelled" and job["reason"] == "cancelled by request"
    assert time.monotonic() - started < 5
    reports: list[Any] = []

    def replaced() -> Any:
        reports.append(report := worker.report(redis_db))
        return report and report["pool"]["recycled"] > before["recycled"] and report

    try:
        after = wait_for(replaced, 20, "the killed container to be replaced", interval=0.5)
    except AssertionError:
        os.kill(worker.pid, signal.SIGUSR1)  # Celery logs every thread's stack
        time.sleep(2)
        raise AssertionError(f"before {before}, then {reports[-3:]}\n{worker.log_tail(300)}") from None
    assert after["pool"]["live"] == after["pool"]["size"]
    assert alice.delete(f"/v1/jobs/{job_id}").status_code == 200  # cancelling again changes nothing
    # The pool still works: the next job runs.
    assert submit(alice, {"problem": problem()}, wait=30).json()["status"] == "succeeded"


def _seen(client: httpx.Client, job_id: str, kind: str) -> bool:
    """Whether the job's stream has shown an event of ``kind`` (reads only as far as that)."""
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        return any(event.get("event") == kind for event in iter_sse(response))


def test_a_finished_job_cannot_be_cancelled(alice: httpx.Client) -> None:
    job = submit(alice, {"problem": problem(), "options": {"strategy": "none"}}, wait=30).json()
    reply = alice.delete(f"/v1/jobs/{job['id']}")
    assert reply.status_code == 409 and reply.json()["code"] == "conflict"


def test_a_queued_job_is_cancelled_at_once(service_env: dict[str, str], redis_db: Any) -> None:
    # An API whose queue no worker reads: the job stays queued.
    with ApiServer(api_settings(queue=queue("selfdebug-nobody"))) as idle, idle.client(KEYS["alice"]) as client:
        job_id = submit(client, {"problem": problem()}).json()["id"]
        reply = client.delete(f"/v1/jobs/{job_id}")
        assert reply.status_code == 200 and reply.json()["status"] == "cancelled"
        kinds = [json.loads(e["data"])["status"] for e in _events(client, job_id)]
        assert kinds == ["queued", "cancelled"]


def _events(client: httpx.Client, job_id: str, last: str | None = None) -> list[dict[str, str]]:
    headers = {"Last-Event-ID": last} if last else {}
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(iter_sse(response))


def test_sse_streams_live_while_the_job_runs(alice: httpx.Client) -> None:
    job_id = submit(alice, {"problem": problem(wrong_first=True, slow=0.4)}).json()["id"]
    seen: list[tuple[str, str]] = []
    with alice.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        for event in iter_sse(response):
            status = None
            if event["event"] == "program_generated":
                # Received while the job is still working: the stream is live, not a replay at the end.
                status = alice.get(f"/v1/jobs/{job_id}").json()["status"]
                assert status == "running"
            seen.append((event["event"], status or ""))
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "status" and kinds[-1] == "status"
    for kind in ("program_generated", "tests_generated", "executed", "feedback_sent", "program_repaired",
                 "evaluated", "finished"):
        assert kind in kinds
    assert alice.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"


def test_sse_resumes_from_last_event_id(alice: httpx.Client) -> None:
    job_id = submit(alice, {"problem": problem(wrong_first=True, slow=0.3)}).json()["id"]
    first: list[dict[str, str]] = []
    with alice.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        for event in iter_sse(response):
            first.append(event)
            if len(first) == 3:
                break  # the client drops the connection mid-job
    assert alice.get(f"/v1/jobs/{job_id}").json()["status"] == "running"
    rest = _events(alice, job_id, last=first[-1]["id"])
    everything = _events(alice, job_id)
    assert [e["id"] for e in first + rest] == [e["id"] for e in everything]
    assert json.loads(rest[-1]["data"])["status"] == "succeeded"
    # Resuming after the end returns nothing more, and ends at once; so does ?after=.
    assert _events(alice, job_id, last=everything[-1]["id"]) == []
    with alice.stream("GET", f"/v1/jobs/{job_id}/events", params={"after": everything[-2]["id"]}) as response:
        assert [e["id"] for e in iter_sse(response)] == [everything[-1]["id"]]
    assert alice.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "nonsense"}).status_code == 422


def test_a_job_past_its_time_limit_is_stopped_and_fails(alice: httpx.Client) -> None:
    started = time.monotonic()
    reply = submit(alice, {"problem": problem("demo/nap", "nap"), "time_limit": 1.5}, wait=20)
    job = reply.json()
    assert job["status"] == "failed" and job["reason"] == "time limit of 1.5s exceeded", job
    assert time.monotonic() - started < 8  # the program in the sandbox sleeps 30 s: it was cut short
    assert submit(alice, {"problem": problem()}, wait=30).json()["status"] == "succeeded"
