"""Faults: a worker killed mid-job, Redis restarted during a batch, the LLM endpoint failing or hanging, Docker
refusing containers. Every submitted job ends accounted for: finished, or failed with a reason; none stuck."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest
import redis

from sandbox import reap_orphans
from tests.llm.scripted_server import ScriptedOpenAIServer
from tests.service.conftest import KEYS, PREFIX, api_settings, queue
from tests.service.harness import ApiServer, RedisServer, WorkerProcess, iter_sse, wait_for
from tests.service.scripted import problem

pytestmark = pytest.mark.timeout(240)
TERMINAL = ("succeeded", "failed", "cancelled")


def ended(client: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    def poll() -> dict[str, Any] | None:
        with contextlib.suppress(httpx.HTTPError):
            job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", params={"wait": 5}).json()
            return job if job["status"] in TERMINAL else None
        return None

    result: dict[str, Any] = wait_for(poll, timeout, f"job {job_id} to end", interval=0.2)
    return result


@contextlib.contextmanager
def stack(env: dict[str, str], *, workers: int = 1, queue: str, warm: bool = True, redis_url: str | None = None,
          supervised: bool = False, **worker_env: str) -> Iterator[tuple[ApiServer, list[WorkerProcess]]]:
    """An API and its own workers on a queue of their own."""
    env = {**env, "SELFDEBUG_QUEUE": queue, **worker_env}
    if redis_url:
        env["SELFDEBUG_REDIS_URL"] = redis_url
    procs = [WorkerProcess(env, concurrency=2, name=f"{queue}-{i}", supervised=supervised).start()
             for i in range(workers)]
    try:
        for proc in procs:
            proc.ready(warm=warm)
        settings = api_settings(queue=queue, **({"redis_url": redis_url} if redis_url else {}))
        with ApiServer(settings) as server:
            yield server, procs
    finally:
        for proc in procs:
            proc.stop()
        with contextlib.suppress(Exception):
            reap_orphans(docker.from_env(), "selfdebug.sandbox")


@pytest.mark.docker
def test_a_worker_killed_mid_job_loses_nothing(service_env: dict[str, str], redis_db: redis.Redis) -> None:
    with stack(service_env, workers=2, queue=queue("selfdebug-kill")) as (api, procs), \
            api.client(KEYS["alice"]) as client:
        ids = [client.post("/v1/jobs", json={"problem": problem(f"k/{i}", wrong_first=True, slow=0.8)}).json()["id"]
               for i in range(3)]
        wait_for(lambda: client.get(f"/v1/jobs/{ids[0]}").json()["status"] == "running", 20, "the job to start")
        owner = client.get(f"/v1/jobs/{ids[0]}").json()
        victim = next(p for p in procs if p.pid == int(redis_db.hget(f"{PREFIX}:job:{ids[0]}", "worker").split(":")[1]))
        victim.kill()  # kill -9, mid-job
        survivor = next(p for p in procs if p is not victim)
        assert owner["status"] == "running"
        jobs = [ended(client, job_id, timeout=90) for job_id in ids]
        assert all(job["status"] == "succeeded" for job in jobs), [(j["status"], j["reason"]) for j in jobs]
        assert jobs[0]["runs"] == 2  # it ran again elsewhere
        # Its stream holds both runs, each engine event tagged with its run, a status event between them.
        with client.stream("GET", f"/v1/jobs/{ids[0]}/events") as response:
            events = [(e["event"], json.loads(e["data"])) for e in iter_sse(response)]
        runs = [data["run"] for kind, data in events if kind != "status"]
        assert runs == sorted(runs) and runs[-1] == 2
        requeued = [data for kind, data in events if kind == "status" and data["status"] == "queued"][1:]
        assert requeued and "runs again" in requeued[0]["reason"]
        assert survivor.process is not None and survivor.process.poll() is None
        after = client.post("/v1/jobs", json={"problem": problem()}, params={"wait": 30}).json()
        assert after["status"] == "succeeded"
        assert redis_db.zcard(f"{PREFIX}:jobs:running") == 0 and redis_db.zcard(f"{PREFIX}:jobs:queued") == 0


@pytest.mark.docker
def test_redis_restarted_during_a_batch(service_env: dict[str, str], redis_db: redis.Redis) -> None:
    # Supervised as in production: kombu's Redis transport sometimes dies of the lost connection ("Unrecoverable
    # error"); the worker then exits (workers.app's watchdog) and is started again, and its jobs still all end.
    with RedisServer() as own_redis, stack(service_env, queue=queue("selfdebug-restart"), redis_url=own_redis.url,
                                           supervised=True, SELFDEBUG_FAILED_EXIT_AFTER="3") as (
            api, procs), api.client(KEYS["alice"]) as client:
        problems = [problem(f"r/{i}", wrong_first=True, slow=0.3) for i in range(6)]
        batch_id = client.post("/v1/batches", json={"problems": problems, "concurrency": 2}).json()["id"]
        wait_for(lambda: client.get(f"/v1/batches/{batch_id}").json()["done"] >= 2, 60, "two jobs done")
        own_redis.kill()
        time.sleep(1.5)
        own_redis.start()

        def batch_done() -> dict[str, Any] | None:
            with contextlib.suppress(httpx.HTTPError):
                batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
                return batch if batch["status"] != "running" else None
            return None

        try:
            batch = wait_for(batch_done, 120, "the batch to end after the restart", interval=0.5)
        except AssertionError as exc:
            jobs = {line["task_id"]: line["status"] for line in map(json.loads, client.get(
                f"/v1/batches/{batch_id}/results").text.splitlines())}
            queued = redis.Redis.from_url(own_redis.url).llen(queue("selfdebug-restart"))
            raise AssertionError(f"{exc}\njobs: {jobs}\nmessages waiting: {queued}\nrestarts: {procs[0].restarts}\n"
                                 f"{procs[0].log_tail(80)}") from None
        assert batch["status"] == "succeeded" and batch["done"] == 6 and batch["report"]["problems"] == 6
        lines = client.get(f"/v1/batches/{batch_id}/results").text.splitlines()
        statuses = [json.loads(line)["status"] for line in lines]
        assert len(statuses) == 6 and all(status in TERMINAL for status in statuses)
        assert statuses.count("succeeded") >= 5, statuses


@pytest.mark.parametrize("script, fragment", [
    (lambda s: s.fail(500).fail(500), "LLMUnavailable"),
    (lambda s: s.fail(429, retry_after=0).fail(429, retry_after=0), "LLMRateLimited"),
    (lambda s: s.hang().hang(), "LLMTimeout"),
], ids=["500", "429", "hang"])
def test_llm_endpoint_failures_fail_the_job_with_the_reason(alice: httpx.Client, llm: ScriptedOpenAIServer,
                                                            script: Any, fragment: str) -> None:
    script(llm)
    job = alice.post("/v1/jobs", json={"problem": problem()}, params={"wait": 30}).json()
    assert job["status"] == "failed", job
    assert fragment in job["reason"] and "LLM endpoint" in job["reason"]
    assert job["record"]["stop_reason"] == "llm_error"


def test_a_transient_llm_error_is_retried(alice: httpx.Client, llm: ScriptedOpenAIServer) -> None:
    llm.fail(500)
    job = alice.post("/v1/jobs", json={"problem": problem()}, params={"wait": 30}).json()
    assert job["status"] == "succeeded", job


@pytest.mark.docker
def test_docker_refusing_containers_fails_the_job_with_the_reason(service_env: dict[str, str],
                                                                   redis_db: redis.Redis) -> None:
    # More CPUs than this machine has: Docker refuses to create the container.
    with stack(service_env, queue=queue("selfdebug-nodocker"), warm=False, SANDBOX_CPUS="512") as (api, _), \
            api.client(KEYS["alice"]) as client:
        ids = [client.post("/v1/jobs", json={"problem": problem(f"d/{i}")}).json()["id"] for i in range(2)]
        jobs = [ended(client, job_id, timeout=90) for job_id in ids]
        for job in jobs:
            assert job["status"] == "failed" and "sandbox is unavailable" in job["reason"], job
            assert "CPU" in job["reason"] or "cpu" in job["reason"]


def test_a_worker_whose_celery_failed_exits_even_if_its_stop_hangs() -> None:
    # Celery gave up (exit code 1) and its stop hangs (the main thread waits forever): the watchdog ends the process
    # with that code once the grace period is over, so a supervisor can start a fresh worker.
    script = ("import threading, time, types\n"
              "from workers.app import _exit_when_failed\n"
              "worker = types.SimpleNamespace(exitcode=None)\n"
              "threading.Thread(target=_exit_when_failed, args=(worker, 0.5), daemon=True).start()\n"
              "time.sleep(0.6)\n"
              "worker.exitcode = 0\n"  # a requested shutdown is not a failure: nothing happens yet
              "time.sleep(1.0)\n"
              "print('still here', flush=True)\n"
              "worker.exitcode = 1\n"
              "threading.Event().wait()\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout == "still here\n"
    assert "did not stop within 0.5s" in done.stderr
    assert time.monotonic() - started < 15
