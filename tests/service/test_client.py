"""The Python client against the real service (the API in a thread, a worker process, the scripted model): every
method of ``Client``, its typed errors and retries, and an event stream cut for real and resumed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from selfdebug_client import (
    Client,
    Conflict,
    Forbidden,
    InvalidRequest,
    JobStatus,
    NotFound,
    Options,
    Problem,
    RateLimited,
    StdioCase,
    Strategy,
    Unauthorized,
    Unavailable,
    WaitTimeout,
)
from tests.service.conftest import KEYS, api_settings, queue
from tests.service.harness import ApiServer
from tests.service.proxy import CuttingProxy
from tests.service.scripted import problem, stdio_problem

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def client(service: ApiServer) -> Iterator[Client]:
    with Client(service.url, KEYS["alice"]) as alice:
        yield alice


def test_a_job_from_submission_to_its_final_program(client: Client) -> None:
    job = client.jobs.submit(Problem(**problem("sdk/add", wrong_first=True)),
                             Options(strategy=Strategy.IN_EXECUTION, max_iterations=1))
    assert not job.terminal and job.links.events == f"/v1/jobs/{job.id}/events"  # a worker may have it already
    events = list(client.jobs.events(job))
    kinds = [e.kind for e in events]
    assert kinds[0] == "status" and events[0].status is JobStatus.QUEUED
    assert "trace_recorded" in kinds and "program_repaired" in kinds
    assert events[-1].terminal and events[-1].status is JobStatus.SUCCEEDED
    assert events[-1].final_program is not None and "a + b" in events[-1].final_program
    assert len({e.id for e in events}) == len(events)
    done = client.jobs.wait(job, timeout=30)
    assert done.status is JobStatus.SUCCEEDED and done.verdict is not None and done.verdict.passed
    assert done.record is not None and done.record.hidden_by_iteration == [False, True]
    assert done.usage is not None and done.usage.calls == 3 and done.options.strategy is Strategy.IN_EXECUTION
    assert client.jobs.get(job.id) == done
    # Resumed after an event: only the ones after it.
    assert [e.id for e in client.jobs.events(job, after=events[2].id)] == [e.id for e in events[3:]]
    # Submitted with ?wait=: it comes back ended; plain dicts work as well as the models.
    quick = client.jobs.submit(problem("sdk/quick"), {"strategy": "none"}, wait=30)
    assert quick.terminal and quick.final_program
    stdio = client.jobs.submit(stdio_problem(), {"feedback": "label"}, time_limit=30, wait=30)
    assert stdio.status is JobStatus.SUCCEEDED and stdio.verdict is not None and stdio.verdict.passed


def test_listing_cancelling_and_removing_jobs(client: Client, service: ApiServer) -> None:
    slow = client.jobs.submit(problem("sdk/slow", slow=3))
    with pytest.raises(WaitTimeout, match=slow.id):
        client.jobs.wait(slow, timeout=0.5)
    cancelled = client.jobs.cancel(slow)
    assert cancelled.status in (JobStatus.CANCELLED, JobStatus.RUNNING)
    assert client.jobs.wait(slow, timeout=20).status is JobStatus.CANCELLED
    assert client.jobs.cancel(slow).status is JobStatus.CANCELLED  # again: nothing to do, no error
    ended = client.jobs.submit(problem("sdk/ended"), {"strategy": "none"}, wait=30)
    with pytest.raises(Conflict, match="already succeeded") as conflict:
        client.jobs.cancel(ended)
    assert conflict.value.status == 409
    ids = [j.id for j in client.jobs.list()]
    assert ids == [ended.id, slow.id]
    assert [j.id for j in client.jobs.list(status=JobStatus.CANCELLED)] == [slow.id]
    page = client.jobs.page(limit=1)
    assert [j.id for j in page.items] == [ended.id] and page.next_cursor
    assert [j.id for j in client.jobs.page(limit=1, cursor=page.next_cursor).items] == [slow.id]
    assert [j.id for j in client.jobs.list(page_size=1)] == ids  # page after page
    client.jobs.remove(slow)
    with pytest.raises(NotFound):
        client.jobs.get(slow)
    with Client(service.url, KEYS["bob"]) as bob:
        assert list(bob.jobs.list()) == []
        with pytest.raises(Forbidden) as denied:
            bob.jobs.get(ended)
        assert denied.value.status == 403 and denied.value.code == "forbidden"


def test_batches_by_name_inline_jsonl_and_upload(client: Client, tmp_path: Path) -> None:
    inline = client.batches.submit(problems=[problem("bi/0"), Problem(**problem("bi/1", wrong_first=True))],
                                   options={"max_iterations": 1}, concurrency=2)
    assert inline.total == 2 and inline.links.events == f"/v1/batches/{inline.id}/events"
    events = list(client.batches.events(inline))
    assert events[0].kind == "status" and events[0].total == 2
    assert [e.done for e in events if e.kind == "job" and e.status != "running"] == [1, 2]
    assert events[-1].terminal and events[-1].report is not None and events[-1].report.problems == 2
    assert [e.id for e in client.batches.events(inline, after=events[1].id)] == [e.id for e in events[2:]]
    report = client.batches.report(inline, timeout=30)
    assert report.pass_at_1 == [0.5, 1.0] and report.fixed == 1
    done = client.batches.wait(inline)
    assert done.status.value == "succeeded" and done.jobs["succeeded"] == 2 and done.report_markdown
    results = list(client.batches.results(inline))
    assert [r.task_id for r in results] == ["bi/0", "bi/1"] and {r.status for r in results} == {JobStatus.SUCCEEDED}
    assert results[1].hidden_by_iteration == [False, True] and len(results[1].job_id) == 32
    text = "".join(json.dumps(problem(f"bj/{i}")) + "\n" for i in range(3))
    jsonl = client.batches.submit(jsonl=text, limit=2, options={"strategy": "none"})
    assert jsonl.total == 2
    path = tmp_path / "mine.jsonl"
    path.write_text(text)
    uploaded = client.batches.upload(path, task_ids=["bj/2"], options=Options(strategy=Strategy.NONE))
    assert uploaded.total == 1 and uploaded.source == "inline"
    assert client.batches.wait(uploaded, timeout=30).done == 1
    named = client.batches.submit(dataset="humaneval", limit=1, options={"strategy": "none"})
    assert named.source == "humaneval" and named.total == 1
    assert [r.task_id for r in client.batches.results(client.batches.wait(named, timeout=60))] == ["HumanEval/0"]
    assert [b.id for b in client.batches.list()] == [named.id, uploaded.id, jsonl.id, inline.id]
    page = client.batches.page(limit=3)
    assert len(page.items) == 3 and [b.id for b in client.batches.page(cursor=page.next_cursor).items] == [inline.id]
    client.batches.wait(jsonl, timeout=30)
    client.batches.remove(jsonl)
    with pytest.raises(NotFound):
        client.batches.get(jsonl)


def test_cancelling_a_batch(client: Client) -> None:
    batch = client.batches.submit(problems=[problem(f"bc/{i}", slow=2) for i in range(3)], concurrency=1)
    with pytest.raises(WaitTimeout, match="0/3"):
        client.batches.wait(batch, timeout=0.3)
    client.batches.cancel(batch)
    ended = client.batches.wait(batch, timeout=30)
    assert ended.status.value == "cancelled" and ended.report is not None
    assert [b.status.value for b in client.batches.list(status="cancelled")] == ["cancelled"]
    with pytest.raises(InvalidRequest, match="unknown task ids: nope"):
        client.batches.submit(problems=[problem("x")], task_ids=["nope"])


def test_executions_and_health(client: Client) -> None:
    failing = client.execute("def add(a, b):\n    return a - b\n",
                             tests=["assert add(1, 2) == 3", "assert add(0, 0) == 0"])
    assert (failing.verdict, failing.passed, failing.passed_count, failing.total) == ("failed", False, 1, 2)
    assert failing.tests[0].expected == "3" and failing.tests[0].actual == "-1" and failing.tests[0].judged == "host"
    checked = client.execute("def f(x):\n    return x * 2\n", check="def check(c):\n    assert c(2) == 4\n",
                             entry_point="f")
    assert checked.passed
    stdio = client.execute("print(sum(map(int, input().split())))",
                           stdio=[StdioCase(stdin="1 2", expected="3"), {"stdin": "2 2", "expected": "5"}], timeout=5)
    assert [t.verdict for t in stdio.tests] == ["passed", "failed"]
    with pytest.raises(InvalidRequest, match="entry_point"):
        client.execute("x = 1", check="def check(c): ...")
    assert client.healthy()
    readiness = client.readiness()
    assert readiness.ready and readiness.checks["redis"].ok


def test_a_wrong_key_and_invalid_requests_are_typed_errors(service: ApiServer, client: Client) -> None:
    with Client(service.url, "not-a-real-key") as stranger, pytest.raises(Unauthorized) as refused:
        next(stranger.jobs.list())
    assert refused.value.status == 401 and "unknown API key" in refused.value.detail
    with Client(service.url) as nobody, pytest.raises(Unauthorized):
        nobody.jobs.get("0" * 32)
    with pytest.raises(InvalidRequest, match="entry_point") as invalid:
        client.jobs.submit({"prompt": "def f(): ..."})
    assert invalid.value.code == "invalid_request" and invalid.value.body is not None
    with pytest.raises(NotFound):
        client.batches.get("f" * 32)
    with pytest.raises(ValueError, match="job id"):
        client.jobs.get("../../healthz")


def test_a_stream_cut_mid_job_resumes_with_no_event_twice_and_none_missed(service: ApiServer) -> None:
    with CuttingProxy(service.port) as proxy, Client(proxy.url, KEYS["alice"]) as client:
        job = client.jobs.submit(problem("sdk/cut", wrong_first=True, slow=0.4), {"max_iterations": 1})
        seen, cuts = [], 0
        for event in client.jobs.events(job):
            seen.append(event)
            if len(seen) in (2, 4) and not event.terminal:
                cuts += 1
                assert proxy.cut() >= 2  # the stream's connection, both sides
        assert cuts == 2 and seen[-1].terminal
        full = list(client.jobs.events(job))  # the whole stream, read again after the job ended
        assert [e.id for e in seen] == [e.id for e in full]
        assert [e.kind for e in seen] == [e.kind for e in full]
        resumed = [r for r in proxy.requests if b"/events" in r and b"last-event-id:" in r.lower()]
        assert len(resumed) >= 2, proxy.requests
        assert seen[1].id.encode() in resumed[0] and seen[3].id.encode() in resumed[1]


def test_rate_limits_are_waited_out_within_the_retries(service_env: dict[str, str], redis_db: redis.Redis) -> None:
    # One request every 2 s per key (GCRA): the second of two quick calls is answered 429 with Retry-After.
    with ApiServer(api_settings(queue=queue("client-rate"), rate_limit=1, rate_window=2)) as api:
        with Client(api.url, KEYS["alice"], max_retries=3) as patient:
            patient.jobs.page()
            started = time.monotonic()
            assert patient.jobs.page().items == []
            assert time.monotonic() - started >= 1.0  # it waited the Retry-After, then got through
        with Client(api.url, KEYS["bob"], max_retries=0) as hasty:
            hasty.jobs.page()
            with pytest.raises(RateLimited) as limited:
                hasty.jobs.page()
            assert limited.value.status == 429 and limited.value.retry_after is not None
            assert 0 < limited.value.retry_after <= 2


def test_a_refusal_longer_than_the_caller_waits_is_raised_at_once(service_env: dict[str, str],
                                                                   redis_db: redis.Redis) -> None:
    # The API process serves one stream: a second is refused 503 with Retry-After 5, more than this caller waits.
    with ApiServer(api_settings(queue=queue("client-busy"), max_streams=1)) as api, \
            Client(api.url, KEYS["alice"], max_retry_wait=1) as client:
        job = client.jobs.submit(problem("sdk/busy"))
        with api.client(KEYS["alice"]).stream("GET", f"/v1/jobs/{job.id}/events") as held:
            assert held.status_code == 200
            started = time.monotonic()
            with pytest.raises(Unavailable) as busy:
                next(iter(client.jobs.events(job)))
            assert busy.value.retry_after == 5 and time.monotonic() - started < 2


def test_the_readme_s_example_runs(service: ApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Clients"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n", 10)]
    assert len(code.strip().splitlines()) <= 10  # the SDK in ten lines, as promised
    code = code.replace('"http://127.0.0.1:8000", "demo-token-123"', f'"{service.url}", "{KEYS["alice"]}"')
    exec(compile(code, "README.md", "exec"), {})  # our own README, with the test service in place
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "status queued" and printed[-3] == "status succeeded", printed
    assert any(line.startswith("program_generated {") for line in printed), printed
    assert printed[-2].startswith("succeeded source='hidden_tests' passed=True") and "return a + b" in printed[-2]
    assert len(json.loads(printed[-1])) == 3  # pass@1 of the ten problems, by iteration
