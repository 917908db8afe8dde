"""``AsyncClient`` against the real service: each of its methods, as ``Client``'s are in test_client.py, and a
stream cut for real under asyncio."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from selfdebug_client import AsyncClient, JobStatus, NotFound, Options, Strategy, WaitTimeout
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer
from tests.service.proxy import CuttingProxy
from tests.service.scripted import problem

pytestmark = pytest.mark.timeout(180)


async def _jobs(client: AsyncClient) -> None:
    job = await client.jobs.submit(problem("async/add", wrong_first=True), Options(max_iterations=1))
    events = [e async for e in client.jobs.events(job)]
    assert events[0].status is JobStatus.QUEUED and events[-1].terminal and "program_repaired" in [
        e.kind for e in events]
    done = await client.jobs.wait(job, timeout=30)
    assert done.status is JobStatus.SUCCEEDED and done.verdict is not None and done.verdict.passed
    assert (await client.jobs.get(job.id)).final_program == done.final_program
    assert [e.id async for e in client.jobs.events(job, after=events[1].id)] == [e.id for e in events[2:]]
    slow = await client.jobs.submit(problem("async/slow", slow=3), wait=0.2)
    assert not slow.terminal
    with pytest.raises(WaitTimeout):
        await client.jobs.wait(slow, timeout=0.3)
    await client.jobs.cancel(slow)
    assert (await client.jobs.wait(slow, timeout=20)).status is JobStatus.CANCELLED
    assert [j.id async for j in client.jobs.list(page_size=1)] == [slow.id, job.id]
    page = await client.jobs.page(status=JobStatus.CANCELLED)
    assert [j.id for j in page.items] == [slow.id] and page.next_cursor is None
    await client.jobs.remove(slow)
    with pytest.raises(NotFound):
        await client.jobs.get(slow)


async def _batches(client: AsyncClient, tmp_path: Path) -> None:
    batch = await client.batches.submit(problems=[problem("ab/0"), problem("ab/1")], options={"strategy": "none"})
    events = [e async for e in client.batches.events(batch)]
    assert events[-1].terminal and events[-1].done == 2
    report = await client.batches.report(batch, timeout=30)
    assert report.problems == 2 and report.pass_at_1 == [1.0]
    assert [r.task_id async for r in client.batches.results(batch)] == ["ab/0", "ab/1"]
    assert (await client.batches.get(batch)).jobs["succeeded"] == 2
    path = tmp_path / "async.jsonl"
    path.write_text(json.dumps(problem("ab/up", slow=2)) + "\n" + json.dumps(problem("ab/up2", slow=2)) + "\n")
    with path.open("rb") as handle:
        uploaded = await client.batches.upload(handle, options=Options(strategy=Strategy.NONE), concurrency=1)
    assert uploaded.total == 2
    await client.batches.cancel(uploaded)
    assert (await client.batches.wait(uploaded, timeout=30)).status.value == "cancelled"
    assert [b.id async for b in client.batches.list()] == [uploaded.id, batch.id]
    assert [b.id for b in (await client.batches.page(status="cancelled")).items] == [uploaded.id]
    await client.batches.remove(uploaded)
    with pytest.raises(NotFound):
        await client.batches.get(uploaded)


async def _executions(client: AsyncClient) -> None:
    result = await client.execute("def f(x):\n    return x\n", tests=["assert f(1) == 1"])
    assert result.passed and result.tests[0].judged == "host"
    assert await client.healthy()
    assert (await client.readiness()).ready


def test_every_method_of_the_async_client(service: ApiServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient(service.url, KEYS["alice"]) as client:
            await _jobs(client)
            await _batches(client, tmp_path)
            await _executions(client)

    asyncio.run(main())


def test_an_async_stream_cut_mid_job_resumes_exactly(service: ApiServer) -> None:
    async def main() -> None:
        with CuttingProxy(service.port) as proxy:
            async with AsyncClient(proxy.url, KEYS["alice"]) as client:
                job = await client.jobs.submit(problem("async/cut", wrong_first=True, slow=0.4),
                                               {"max_iterations": 1})
                seen = []
                async for event in client.jobs.events(job):
                    seen.append(event)
                    if len(seen) == 3 and not event.terminal:
                        assert await asyncio.to_thread(proxy.cut) >= 2
                full = [e async for e in client.jobs.events(job)]
                assert [e.id for e in seen] == [e.id for e in full] and seen[-1].terminal
                assert any(b"last-event-id: " + seen[2].id.encode() in r.lower() for r in proxy.requests)

    asyncio.run(main())
