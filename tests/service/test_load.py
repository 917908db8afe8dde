"""Load: 100 jobs submitted at once by 20 concurrent clients, with the instant scripted model; all finish."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.service.conftest import KEYS
from tests.service.harness import ApiServer
from tests.service.scripted import problem

pytestmark = [pytest.mark.timeout(300), pytest.mark.docker]

JOBS = 100
CLIENTS = 20


async def _client_run(base_url: str, index: int) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {KEYS['alice']}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        ids = []
        for n in range(JOBS // CLIENTS):
            body = {"problem": problem(f"load/{index}/{n}", wrong_first=n % 2 == 0)}
            reply = await client.post("/v1/jobs", json=body)
            assert reply.status_code == 202, reply.text
            ids.append(reply.json()["id"])
        jobs = []
        for job_id in ids:
            while True:
                job: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}", params={"wait": 30})).json()
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    jobs.append(job)
                    break
        return jobs


def test_a_hundred_jobs_at_once_all_finish(service: ApiServer) -> None:
    async def main() -> list[dict[str, Any]]:
        results = await asyncio.gather(*(_client_run(service.url, i) for i in range(CLIENTS)))
        return [job for jobs in results for job in jobs]

    started = time.monotonic()
    jobs = asyncio.run(main())
    seconds = time.monotonic() - started
    assert len(jobs) == JOBS and len({job["id"] for job in jobs}) == JOBS
    assert all(job["status"] == "succeeded" and job["verdict"]["passed"] for job in jobs), [
        (job["status"], job["reason"]) for job in jobs if job["status"] != "succeeded"]
    print(f"{JOBS} jobs from {CLIENTS} clients in {seconds:.1f}s ({JOBS / seconds * 60:.0f} jobs/min)")
