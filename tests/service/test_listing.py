"""GET /v1/jobs and GET /v1/batches: the caller's own, newest first, page by page (no item twice, none skipped
while others are created), filtered by status and batch; and GET /v1/batches/{id}/events: a batch's progress as
SSE, resumable with Last-Event-ID, bounded as every stream is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.service.conftest import KEYS, api_settings, queue
from tests.service.harness import ApiServer, iter_sse
from tests.service.scripted import problem

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def idle_api(service_env: dict[str, str], redis_db: redis.Redis) -> Iterator[ApiServer]:
    """The API with its jobs sent to a queue nobody reads: they stay queued until cancelled."""
    with ApiServer(api_settings(queue=queue("listing-idle"), max_streams_per_key=2)) as api:
        yield api


def _client(api: ApiServer, name: str) -> httpx.Client:
    return api.client(KEYS[name])


def _submit(client: httpx.Client, task_id: str) -> str:
    reply = client.post("/v1/jobs", json={"problem": problem(task_id)})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


def _all_pages(client: httpx.Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        reply = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_jobs_are_the_callers_newest_first_a_page_at_a_time(idle_api: ApiServer) -> None:
    with _client(idle_api, "alice") as alice, _client(idle_api, "bob") as bob:
        mine = [_submit(alice, f"list/{i}") for i in range(5)]
        theirs = [_submit(bob, "list/bob")]
        first = alice.get("/v1/jobs", params={"limit": 2}).json()
        assert [j["id"] for j in first["items"]] == mine[:-3:-1] and first["next_cursor"]
        assert first["items"][0]["task_id"] == "list/4" and "record" not in first["items"][0]
        newer = _submit(alice, "list/new")  # created between two pages: the next pages neither repeat nor skip
        rest = _all_pages(alice, "/v1/jobs", limit=2, cursor=first["next_cursor"])
        assert [j["id"] for page in rest for j in page] == mine[2::-1]
        everything = [j["id"] for page in _all_pages(alice, "/v1/jobs", limit=100) for j in page]
        assert everything == [newer, *mine[::-1]]
        assert not set(theirs) & set(everything)
        assert [j["id"] for j in bob.get("/v1/jobs").json()["items"]] == theirs
        # Filtered by status: a cancelled one, then a removed one that is no longer listed.
        assert alice.delete(f"/v1/jobs/{mine[1]}").json()["status"] == "cancelled"
        cancelled = alice.get("/v1/jobs", params={"status": "cancelled"}).json()
        assert [j["id"] for j in cancelled["items"]] == [mine[1]] and cancelled["next_cursor"] is None
        assert alice.delete(f"/v1/jobs/{mine[1]}", params={"remove": "true"}).status_code == 204
        assert mine[1] not in [j["id"] for j in alice.get("/v1/jobs").json()["items"]]
        # A cursor that is not one: refused, in the one error shape.
        bad = alice.get("/v1/jobs", params={"cursor": "abc"})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
        assert alice.get("/v1/jobs", params={"limit": 101}).status_code == 422


def test_a_batch_s_jobs_and_the_batches_are_listed_for_their_key_only(idle_api: ApiServer) -> None:
    with _client(idle_api, "alice") as alice, _client(idle_api, "bob") as bob:
        solo = _submit(alice, "solo")
        first = alice.post("/v1/batches", json={"problems": [problem(f"b1/{i}") for i in range(3)]}).json()
        second = alice.post("/v1/batches", json={"problems": [problem("b2/0")]}).json()
        assert bob.post("/v1/batches", json={"problems": [problem("bob/0")]}).status_code == 202
        jobs = alice.get("/v1/jobs", params={"batch": first["id"]}).json()
        assert [j["task_id"] for j in jobs["items"]] == ["b1/2", "b1/1", "b1/0"]  # newest first: last problem first
        assert {j["batch_id"] for j in jobs["items"]} == {first["id"]}
        paged = _all_pages(alice, "/v1/jobs", batch=first["id"], limit=1)
        assert [j["task_id"] for page in paged for j in page] == ["b1/2", "b1/1", "b1/0"]
        assert [j["id"] for j in alice.get("/v1/jobs").json()["items"]][-1] == solo
        denied = bob.get("/v1/jobs", params={"batch": first["id"]})
        assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
        assert alice.get("/v1/jobs", params={"batch": "0" * 32}).status_code == 404
        listed = alice.get("/v1/batches").json()
        assert [b["id"] for b in listed["items"]] == [second["id"], first["id"]] and listed["next_cursor"] is None
        assert listed["items"][1]["total"] == 3 and listed["items"][1]["links"]["events"].endswith("/events")
        assert [b["id"] for b in alice.get("/v1/batches", params={"limit": 1}).json()["items"]] == [second["id"]]
        alice.delete(f"/v1/batches/{first['id']}")
        cancelled = alice.get("/v1/batches", params={"status": "cancelled"}).json()["items"]
        assert [b["id"] for b in cancelled] == [first["id"]]
        assert alice.get("/v1/batches", params={"status": "running"}).json()["items"][0]["id"] == second["id"]
        assert alice.delete(f"/v1/batches/{first['id']}", params={"remove": "true"}).status_code == 204
        assert first["id"] not in [b["id"] for b in alice.get("/v1/batches").json()["items"]]
        assert all(j["batch_id"] != first["id"] for j in alice.get("/v1/jobs").json()["items"])
        assert len(bob.get("/v1/batches").json()["items"]) == 1


def _events(client: httpx.Client, batch_id: str, after: str | None = None) -> list[dict[str, Any]]:
    headers = {"Last-Event-ID": after} if after else {}
    with client.stream("GET", f"/v1/batches/{batch_id}/events", headers=headers, timeout=90) as reply:
        assert reply.status_code == 200
        return [{**json.loads(e["data"]), "id": e["id"], "event": e["event"]} for e in iter_sse(reply)]


def test_a_batch_s_events_tell_its_progress_to_its_report_and_resume(alice: httpx.Client) -> None:
    problems = [problem("ev/0"), problem("ev/1", wrong_first=True), problem("ev/2", llm_error=True)]
    batch = alice.post("/v1/batches", json={"problems": problems, "concurrency": 1,
                                            "options": {"max_iterations": 1}}).json()
    events = _events(alice, batch["id"])
    first, *middle, last = events
    assert (first["event"], first["status"], first["done"], first["total"]) == ("status", "running", 0, 3)
    assert {e["event"] for e in middle} == {"job"}
    for task in ("ev/0", "ev/1", "ev/2"):
        mine = [e["status"] for e in middle if e["task_id"] == task]
        assert mine == ["running", "failed" if task == "ev/2" else "succeeded"], (task, middle)
    ended = {e["task_id"]: e for e in middle if e["status"] != "running"}
    assert ended["ev/1"]["verdict"] == {"source": "hidden_tests", "passed": True, "verdict": "passed"}
    assert "LLM endpoint" in ended["ev/2"]["reason"]
    assert [e["done"] for e in middle if e["status"] != "running"] == [1, 2, 3]  # concurrency 1: one by one
    assert (last["event"], last["status"], last["done"]) == ("status", "succeeded", 3)
    assert last["jobs"]["succeeded"] == 2 and last["jobs"]["failed"] == 1
    assert last["report"]["problems"] == 3 and last["report"]["fixed"] == 1
    # Resumed from any event: exactly the ones after it; after the last: nothing, and the stream ends.
    ids = [e["id"] for e in events]
    assert [e["id"] for e in _events(alice, batch["id"], after=ids[2])] == ids[3:]
    assert _events(alice, batch["id"], after=ids[-1]) == []
    with_query = alice.get(f"/v1/batches/{batch['id']}/events", params={"after": ids[-2]})
    assert [e["id"] for e in iter_sse(with_query)] == ids[-1:]


def test_batch_streams_count_among_the_key_s_streams(idle_api: ApiServer) -> None:
    with _client(idle_api, "alice") as alice, _client(idle_api, "bob") as bob:
        batch = alice.post("/v1/batches", json={"problems": [problem("cap/0")]}).json()
        job = _submit(alice, "cap/job")
        with alice.stream("GET", f"/v1/batches/{batch['id']}/events") as one, \
                alice.stream("GET", f"/v1/jobs/{job}/events") as two:
            assert one.status_code == two.status_code == 200
            refused = alice.get(f"/v1/batches/{batch['id']}/events")
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
            assert bob.get(f"/v1/batches/{batch['id']}/events").status_code == 403
