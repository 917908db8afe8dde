"""/v1/batches: fan-out with bounded concurrency, a report at the end even when jobs fail, results as JSONL."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest

from api.routes.batches import _file_name
from tests.service.conftest import KEYS, api_settings
from tests.service.harness import ApiServer, wait_for
from tests.service.scripted import problem

pytestmark = pytest.mark.timeout(180)


def done_batch(client: httpx.Client, batch_id: str, timeout: float = 90) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        return batch if batch["status"] != "running" else None

    result: dict[str, Any] = wait_for(ended, timeout, f"batch {batch_id} to end", interval=0.3)
    return result


def results(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    reply = client.get(f"/v1/batches/{batch_id}/results")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in reply.text.splitlines()]


def test_a_batch_runs_at_most_its_concurrency_and_reports_even_with_failures(alice: httpx.Client) -> None:
    problems = [problem(f"b/add{i}", wrong_first=i % 2 == 0, slow=0.2) for i in range(5)]
    problems.append(problem("b/broken", llm_error=True))  # the LLM endpoint fails for this one
    reply = alice.post("/v1/batches", json={"problems": problems, "concurrency": 2,
                                            "options": {"strategy": "post_execution", "max_iterations": 1}})
    assert reply.status_code == 202, reply.text
    batch = reply.json()
    assert batch["total"] == 6 and batch["concurrency"] == 2 and batch["status"] == "running"
    batch = done_batch(alice, batch["id"])
    assert batch["status"] == "succeeded" and batch["done"] == 6
    assert batch["jobs"]["succeeded"] == 5 and batch["jobs"]["failed"] == 1, batch
    report = batch["report"]
    # The failed job counts as a wrong program (the engine evaluates its empty program), and as an error.
    assert report["problems"] == 6 and report["evaluated"] == 6 and report["errors"] == 1
    assert report["pass_at_1"] == [pytest.approx(2 / 6), pytest.approx(5 / 6)]  # first: 2 right; repaired: 5
    assert report["fixed"] == 3 and report["broken"] == 0
    assert "| strategy |" in batch["report_markdown"] and "broken" in batch["report_markdown"]
    lines = results(alice, batch["id"])
    assert [line["task_id"] for line in lines] == [p["task_id"] for p in problems]
    assert {line["status"] for line in lines} == {"succeeded", "failed"}
    broken = lines[-1]
    assert broken["stop_reason"] == "llm_error" and "LLM endpoint" in broken["reason"]
    # Never more than 2 jobs of the batch at once.
    spans = []
    for line in lines:
        job = alice.get(f"/v1/jobs/{line['job_id']}").json()
        assert job["batch_id"] == batch["id"]
        spans.append((job["started_at"], job["finished_at"]))
    for start, _ in spans:
        overlapping = sum(1 for s, f in spans if s <= start < f)
        assert overlapping <= 2, spans


def test_a_dataset_batch_is_judged_on_hidden_tests(alice: httpx.Client) -> None:
    reply = alice.post("/v1/batches", json={"dataset": "humaneval", "limit": 2, "options": {"strategy": "none"}})
    assert reply.status_code == 202, reply.text
    batch = done_batch(alice, reply.json()["id"])
    assert batch["source"] == "humaneval" and batch["total"] == 2 and batch["report"]["evaluated"] == 2
    lines = results(alice, batch["id"])
    assert [line["task_id"] for line in lines] == ["HumanEval/0", "HumanEval/1"]
    job = alice.get(f"/v1/jobs/{lines[0]['job_id']}").json()
    assert job["dataset"] == "humaneval" and job["verdict"]["source"] == "hidden_tests"
    assert job["verdict"]["passed"] is False  # the scripted model knows nothing of HumanEval


def test_an_uploaded_jsonl_batch_and_its_errors(alice: httpx.Client) -> None:
    text = "\n".join(json.dumps({"task_id": f"j{i}", "prompt": problem()["prompt"], "entry_point": "add",
                                 "tests": ["assert add(2, 2) == 4"]}) for i in range(2))
    reply = alice.post("/v1/batches", json={"jsonl": text, "options": {"strategy": "none"}})
    assert reply.status_code == 202, reply.text
    batch = done_batch(alice, reply.json()["id"])
    assert batch["report"]["pass_at_1"] == [1.0]
    bad = alice.post("/v1/batches", json={"jsonl": text + '\n{"task_id": "x"}', "options": {"strategy": "none"}})
    assert bad.status_code == 422 and "jsonl line 3" in bad.json()["detail"], bad.text
    for body in ({}, {"dataset": "humaneval", "problems": [problem()]}, {"dataset": "humaneval", "task_ids": ["no"]},
                 {"problems": [problem(), problem()]}):
        reply = alice.post("/v1/batches", json=body)
        assert reply.status_code == 422 and reply.json()["code"] == "invalid_request", (body, reply.text)


def jsonl(*task_ids: str) -> bytes:
    return "".join(json.dumps({"task_id": t, "prompt": problem()["prompt"], "entry_point": "add",
                               "tests": ["assert add(2, 2) == 4"]}) + "\n" for t in task_ids).encode()


def upload(client: httpx.Client, data: bytes, options: str | None = None,
           name: str = "problems.jsonl") -> httpx.Response:
    form = {"options": options} if options is not None else {}
    return client.post("/v1/batches/upload", files={"file": (name, data, "application/x-ndjson")}, data=form)


def test_an_uploaded_jsonl_file_runs_with_its_options(alice: httpx.Client) -> None:
    options = json.dumps({"options": {"strategy": "none"}, "limit": 2, "concurrency": 1})
    reply = upload(alice, jsonl("u0", "u1", "u2"), options)
    assert reply.status_code == 202, reply.text
    batch = reply.json()
    assert batch["total"] == 2 and batch["concurrency"] == 1 and batch["source"] == "inline"
    batch = done_batch(alice, batch["id"])
    assert batch["status"] == "succeeded" and batch["report"]["pass_at_1"] == [1.0]
    assert [line["task_id"] for line in results(alice, batch["id"])] == ["u0", "u1"]
    plain = upload(alice, jsonl("d0"))  # options may be left out
    assert plain.status_code == 202, plain.text
    assert done_batch(alice, plain.json()["id"])["options"]["strategy"] == "post_execution"  # the default


def test_an_uploaded_file_that_cannot_be_used_is_422_naming_what(alice: httpx.Client) -> None:
    good = jsonl("e0", "e1")
    refusals = {
        "problems.jsonl line 3: field 'prompt'": upload(alice, good + b'{"task_id": "x"}\n'),
        "problems.jsonl line 3: is not valid UTF-8": upload(alice, good + b'{"task_id": "caf\xe9"}\n'),
        "p.jsonl.gz is gzip-compressed": upload(alice, gzip.compress(good), name="dir/p.jsonl.gz"),
        "problems.jsonl: holds no problems": upload(alice, b"\n"),
        "options: Invalid JSON": upload(alice, good, "{not json"),
        "options.limit: Input should be greater than or equal to 1": upload(alice, good, '{"limit": 0}'),
        "options.dataset: Extra inputs are not permitted": upload(alice, good, '{"dataset": "humaneval"}'),
        "file: Field required": alice.post("/v1/batches/upload", data={"options": "{}"}),
    }
    for expected, reply in refusals.items():
        assert reply.status_code == 422 and reply.json()["code"] == "invalid_request", (expected, reply.text)
        assert expected in reply.json()["detail"], (expected, reply.text)


def test_errors_quote_only_the_base_name_of_an_uploaded_file() -> None:
    assert _file_name("../../etc/problems.jsonl") == "problems.jsonl"
    assert _file_name("C:\\data\\p.jsonl") == "p.jsonl"
    assert _file_name("a\nb\x1b[31m.jsonl") == "ab[31m.jsonl"
    assert _file_name(None) == _file_name("") == _file_name("/") == "upload"
    assert len(_file_name("x" * 1000)) == 100


def test_an_upload_over_the_size_limit_is_413(service_env: dict[str, str], redis_db: Any) -> None:
    # Both limits, so the test holds whichever one the upload's path falls under.
    settings = api_settings(max_body_bytes=2048, max_batch_body_bytes=2048)
    with ApiServer(settings) as small, small.client(KEYS["alice"]) as client:
        big = jsonl(*(f"big{i}" for i in range(40)))
        assert len(big) > 4096
        reply = upload(client, big)
        assert reply.status_code == 413 and reply.json()["code"] == "payload_too_large", reply.text
        request = client.build_request("POST", "/v1/batches/upload", files={"file": ("problems.jsonl", big)})

        def chunks() -> Any:  # no Content-Length: counted as it streams
            yield request.read()

        streamed = client.post("/v1/batches/upload", content=chunks(),
                               headers={"content-type": request.headers["content-type"]})
        assert streamed.status_code == 413, streamed.text
        assert upload(client, b"{}\n").status_code == 422  # under the limit, the file itself is judged
    # An upload is a batch: the batch limit applies to it, not the (smaller) limit of every other body.
    roomy = api_settings(max_body_bytes=2048, max_batch_body_bytes=1 << 16)
    with ApiServer(roomy) as server, server.client(KEYS["alice"]) as client:
        reply = upload(client, big, json.dumps({"options": {"strategy": "none"}, "limit": 1}))
        assert reply.status_code == 202, reply.text


def test_cancelling_a_batch_stops_it_and_still_reports(alice: httpx.Client, bob: httpx.Client) -> None:
    problems = [problem(f"c/{i}", slow=0.5) for i in range(6)]
    batch_id = alice.post("/v1/batches", json={"problems": problems, "concurrency": 1}).json()["id"]
    assert bob.get(f"/v1/batches/{batch_id}").status_code == 403
    assert alice.get(f"/v1/batches/{'f' * 32}").status_code == 404
    wait_for(lambda: alice.get(f"/v1/batches/{batch_id}").json()["jobs"]["running"] == 1, 20, "a running job")
    started = time.monotonic()
    reply = alice.delete(f"/v1/batches/{batch_id}")
    assert reply.status_code == 202 and reply.json()["cancel_requested"] is True
    batch = done_batch(alice, batch_id, timeout=20)
    assert time.monotonic() - started < 10
    assert batch["status"] == "cancelled" and batch["done"] == 6 and batch["jobs"]["cancelled"] >= 5
    assert batch["report"]["problems"] == 6
