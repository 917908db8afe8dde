"""Benchmark the service's own overhead per job, with an instant scripted model (issue 4, section 5).

One run, on this machine, of the same problem (a wrong first program, repaired once; 3 LLM calls, self-tests
run twice, the first and final programs judged on hidden tests) through:

* the engine directly, in this process: ``Debugger.run`` with the same HTTP model and a warm sandbox pool;
* the service: ``selfdebug serve`` and two ``selfdebug worker`` processes (Redis, Celery), over REST.

Latency: ``--jobs`` jobs one after another, each ``POST /v1/jobs?wait=`` until it ends. The overhead of a job is
its end-to-end time as the client saw it minus the engine's own time for it (``timing.engine``, the wall time of
``Debugger.run`` inside the worker). Throughput: ``--jobs`` jobs submitted at once by ``--clients`` clients,
jobs per minute with 2 worker processes, against the engine run with the same total concurrency in one process.
Target: p50 overhead under 50 ms.

    .venv/bin/python benchmarks/bench_service.py [--jobs 200] [--clients 16] [--worker-concurrency 4]
    .venv/bin/python benchmarks/bench_service.py --smoke    # 4 jobs, 2 clients (CI: it must finish, not hit the target)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis
from common.service_processes import free_port, selfdebug_processes

from sandbox import AsyncSandbox, SandboxSettings
from selfdebug.llm import LLMSettings, open_chat_model
from selfdebug.llm.instant import problem
from selfdebug.loop import Debugger
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem

TOKEN = "bench-token-0001"
TARGET_P50 = 0.050


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


_LLM_SERVER = """
import sys
from selfdebug.llm.instant import scripted_model_server
with scripted_model_server() as server:
    print(server.base_url, server.model, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


@contextlib.contextmanager
def _scripted_llm() -> Iterator[tuple[str, str]]:
    """The instant scripted model in a process of its own, so that it competes with neither the engine run
    in this process nor the workers for one interpreter's lock: both sides are measured against the same server."""
    with subprocess.Popen([sys.executable, "-c", _LLM_SERVER], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None and server.stdin is not None
        url, model = server.stdout.readline().split()
        try:
            yield url, model
        finally:
            server.stdin.close()
            server.wait(timeout=10)


@contextlib.contextmanager
def _redis_url() -> Iterator[str]:
    """The local Redis (a database of its own, flushed), or a redis-server started here if none answers."""
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
        client.flushdb()
        yield url
        client.flushdb()
        return
    except redis.ConnectionError:
        pass
    finally:
        client.close()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder, subprocess.Popen(
            ["redis-server", "--port", str(port), "--dir", folder, "--save", ""], stdout=subprocess.DEVNULL) as server:
        time.sleep(0.5)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()


@contextlib.contextmanager
def _service(env: dict[str, str], port: int, worker_concurrency: int, logs: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    commands = [["serve", "--port", str(port), "--log-level", "warning"]]
    commands += [["worker", "--concurrency", str(worker_concurrency), "--loglevel", "WARNING", "--hostname",
                  f"bench{i}@%h"] for i in range(2)]
    client = redis.Redis.from_url(env["SELFDEBUG_REDIS_URL"], decode_responses=True)

    def ready() -> bool:  # both workers warm (their pools started), the API answering
        reports = [client.get(k) for k in client.scan_iter(f"{env['SELFDEBUG_KEY_PREFIX']}:worker:*")]
        warm = sum(1 for r in reports if r and '"pool": {' in r)
        with contextlib.suppress(httpx.HTTPError):
            return warm == 2 and httpx.get(f"{base}/healthz").status_code == 200
        return False

    try:
        with selfdebug_processes(commands, env, logs, ready=ready, timeout=120, stop_timeout=20):
            yield base
    finally:
        client.close()


# ---------------------------------------------------------------- the engine alone


async def _direct(llm_url: str, model: str, jobs: int, concurrency: int) -> tuple[list[float], float]:
    """Per-job engine times run one at a time, then the wall time of ``jobs`` jobs at ``concurrency``."""
    from selfdebug.datasets import Dataset
    from selfdebug.evaluation import Judge

    settings = LLMSettings(base_url=llm_url, model=model)
    async with open_chat_model(settings) as chat, AsyncSandbox(SandboxSettings(pool_size=4)) as sandbox:
        judge = Judge(sandbox.sandbox, Dataset(name="inline", source="bench", digest="bench", problems={}))

        async def hidden(problem_: Problem, program: str) -> tuple[bool, str]:
            result = await asyncio.to_thread(judge.evaluate_program, problem_, program)
            return result.passed, result.verdict.value

        debugger = Debugger(chat, sandbox, DebugOptions(), evaluator=hidden)
        one = Problem.model_validate(problem("bench/direct", wrong_first=True))
        await debugger.run(one)  # warm-up
        times = []
        for _ in range(jobs):
            started = time.perf_counter()
            record = await debugger.run(one)
            times.append(time.perf_counter() - started)
            assert record.final_passed, record
        gate = asyncio.Semaphore(concurrency)

        async def bounded() -> None:
            async with gate:
                await debugger.run(one)

        started = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(jobs)))
        return times, time.perf_counter() - started


# ---------------------------------------------------------------- through the service


def _latency(base: str, jobs: int) -> tuple[list[float], list[float]]:
    body = {"problem": problem("bench/service", wrong_first=True)}
    totals, engines = [], []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        client.post("/v1/jobs", json=body, params={"wait": 30})  # warm-up
        for _ in range(jobs):
            started = time.perf_counter()
            reply = client.post("/v1/jobs", json=body, params={"wait": 30})
            total = time.perf_counter() - started
            job = reply.json()
            assert reply.status_code == 200 and job["status"] == "succeeded" and job["verdict"]["passed"], job
            totals.append(total)
            engines.append(job["timing"]["engine"])
    return totals, engines


async def _throughput(base: str, jobs: int, clients: int) -> float:
    body = {"problem": problem("bench/throughput", wrong_first=True)}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(jobs):
        queue.put_nowait(n)

    async def client_loop() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                                     timeout=120) as client:
            while not queue.empty():
                queue.get_nowait()
                reply = await client.post("/v1/jobs", json=body, params={"wait": 60})
                job: dict[str, Any] = reply.json()
                while job["status"] not in ("succeeded", "failed", "cancelled"):
                    job = (await client.get(f"/v1/jobs/{job['id']}", params={"wait": 60})).json()
                assert job["status"] == "succeeded", job

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients in the throughput phase")
    parser.add_argument("--worker-concurrency", type=int, default=4, help="jobs at once per worker process")
    parser.add_argument("--smoke", action="store_true", help="4 jobs, 2 clients, 1 job a worker; exit 0 if it ran")
    args = parser.parse_args(argv)
    if args.smoke:
        args.jobs, args.clients, args.worker_concurrency = 4, 2, 1
    total_concurrency = 2 * args.worker_concurrency

    with _scripted_llm() as (llm_url, llm_model), _redis_url() as redis_url, tempfile.TemporaryDirectory() as logs:
        print(f"engine directly: {args.jobs} jobs one at a time, then at concurrency {total_concurrency} ...")
        direct_times, direct_wall = asyncio.run(_direct(llm_url, llm_model, args.jobs, total_concurrency))
        env = {"SELFDEBUG_REDIS_URL": redis_url, "SELFDEBUG_KEY_PREFIX": "sdbench", "SELFDEBUG_QUEUE": "sdbench",
               "SELFDEBUG_API_KEYS": f"bench:{TOKEN}", "SELFDEBUG_RATE_LIMIT": "1000000",
               "SELFDEBUG_MAX_ACTIVE_JOBS": "10000", "SELFDEBUG_LLM_BASE_URL": llm_url,
               "SELFDEBUG_LLM_MODEL": llm_model, "SANDBOX_POOL_SIZE": "2"}
        with _service(env, free_port(), args.worker_concurrency, Path(logs)) as base:
            print(f"service: {args.jobs} jobs one at a time over REST ...")
            totals, engines = _latency(base, args.jobs)
            print(f"service: {args.jobs} jobs from {args.clients} clients at once, 2 workers x "
                  f"{args.worker_concurrency} ...")
            service_wall = asyncio.run(_throughput(base, args.jobs, args.clients))

    overheads = [total - engine for total, engine in zip(totals, engines, strict=True)]
    p50, p95 = _percentile(overheads, 0.5), _percentile(overheads, 0.95)
    rows = [
        ("engine alone, per job (p50 / p95)", f"{1000 * _percentile(direct_times, 0.5):.1f} ms",
         f"{1000 * _percentile(direct_times, 0.95):.1f} ms"),
        ("service end to end, per job (p50 / p95)", f"{1000 * _percentile(totals, 0.5):.1f} ms",
         f"{1000 * _percentile(totals, 0.95):.1f} ms"),
        ("engine inside the worker (p50 / p95)", f"{1000 * _percentile(engines, 0.5):.1f} ms",
         f"{1000 * _percentile(engines, 0.95):.1f} ms"),
        ("service overhead = end to end - engine (p50 / p95)", f"{1000 * p50:.1f} ms", f"{1000 * p95:.1f} ms"),
        (f"throughput, engine alone at concurrency {total_concurrency}",
         f"{args.jobs / direct_wall * 60:.0f} jobs/min", f"{direct_wall:.1f} s"),
        (f"throughput, service with 2 workers x {args.worker_concurrency}",
         f"{args.jobs / service_wall * 60:.0f} jobs/min", f"{service_wall:.1f} s"),
    ]
    print()
    print("| measure | value | |")
    print("|---|---|---|")
    for name, first, second in rows:
        print(f"| {name} | {first} | {second} |")
    print(f"\noverhead p50 {1000 * p50:.1f} ms (target < {1000 * TARGET_P50:.0f} ms, mean "
          f"{1000 * statistics.mean(overheads):.1f} ms): {'OK' if p50 < TARGET_P50 else 'MISSED'}")
    return 0 if p50 < TARGET_P50 or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
