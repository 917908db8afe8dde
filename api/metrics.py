"""``/metrics`` in Prometheus' text format.

Service-wide figures come from Redis at scrape time, so any API process shows the same numbers: jobs by state,
finished jobs by outcome, queue depth, batches, live workers and their sandbox pools, LLM tokens and latency
(histogram), job durations (histogram). This process adds its own HTTP request counts and latencies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.services import Services
from workers.metrics import JOB_BUCKETS, LLM_BUCKETS, bucket_field
from workers.replies import text

__all__ = ["CONTENT_TYPE", "HttpMetrics", "HttpMetricsMiddleware", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Label values never come from a client: a method outside this set counts as "other", a path no route matches as
# UNMATCHED (a client inventing methods or paths must not add series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
UNMATCHED = "unmatched"


@dataclass
class _Snapshot:
    counters: dict[str, float]
    jobs: dict[str, int]
    queue_depth: int
    batches_running: int
    workers: list[dict[str, Any]]
    api_pool: dict[str, int] | None


def _histogram(name: str, doc: str, counters: Mapping[str, float], metric: str,
               buckets: tuple[float, ...]) -> HistogramMetricFamily:
    pairs = [(f"{le:g}", counters.get(bucket_field(metric, le), 0.0)) for le in buckets]
    pairs.append(("+Inf", counters.get(f"{metric}_count", 0.0)))
    return HistogramMetricFamily(name, doc, buckets=pairs, sum_value=counters.get(f"{metric}_sum", 0.0))


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: _Snapshot) -> None:
        self.s = snapshot

    def collect(self) -> Iterator[Metric]:
        s, c = self.s, self.s.counters
        jobs = GaugeMetricFamily("selfdebug_jobs", "Jobs in the queue or running now.", labels=["state"])
        for state, count in s.jobs.items():
            jobs.add_metric([state], count)
        yield jobs
        finished = CounterMetricFamily("selfdebug_jobs_finished", "Jobs that ended, by outcome.", labels=["status"])
        for status in ("succeeded", "failed", "cancelled"):
            finished.add_metric([status], c.get(f"jobs_{status}", 0.0))
        yield finished
        yield CounterMetricFamily("selfdebug_jobs_submitted", "Jobs submitted.", value=c.get("jobs_submitted", 0.0))
        yield CounterMetricFamily("selfdebug_jobs_requeued", "Jobs run again after their worker was lost.",
                                  value=c.get("jobs_requeued", 0.0))
        yield GaugeMetricFamily("selfdebug_queue_depth", "Messages waiting in the job queue.", value=s.queue_depth)
        yield GaugeMetricFamily("selfdebug_batches_running", "Batches not finished.", value=s.batches_running)
        yield GaugeMetricFamily("selfdebug_workers", "Live worker processes.", value=len(s.workers))
        yield from self._pools()
        tokens = CounterMetricFamily("selfdebug_llm_tokens", "LLM tokens used by jobs.", labels=["kind"])
        tokens.add_metric(["prompt"], c.get("llm_prompt_tokens", 0.0))
        tokens.add_metric(["completion"], c.get("llm_completion_tokens", 0.0))
        yield tokens
        yield _histogram("selfdebug_llm_latency_seconds", "LLM call latency, as jobs saw it.", c, "llm_latency",
                         LLM_BUCKETS)
        yield _histogram("selfdebug_job_duration_seconds", "Engine time per job.", c, "job_duration", JOB_BUCKETS)

    def _pools(self) -> Iterator[Metric]:
        containers = GaugeMetricFamily("selfdebug_sandbox_containers", "Sandbox containers per process: pool "
                                       "size, live (idle + busy + starting) and idle.", labels=["process", "state"])
        runs = CounterMetricFamily("selfdebug_sandbox_runs", "Sandbox runs per process.", labels=["process"])
        pools: dict[str, dict[str, int]] = {}
        for report in self.s.workers:
            if report.get("pool"):
                pools[str(report.get("worker"))] = report["pool"]
        if self.s.api_pool is not None:
            pools["api"] = self.s.api_pool
        for process, usage in sorted(pools.items()):
            for state in ("size", "live", "idle"):
                containers.add_metric([process, state], usage.get(state, 0))
            runs.add_metric([process], usage.get("jobs", 0))
        yield containers
        yield runs


async def _snapshot(services: Services) -> _Snapshot:
    store = services.store
    workers = []
    async for key in services.redis.scan_iter(match=store.keys.worker_pattern, count=100):
        raw = await services.redis.get(key)
        if raw:
            workers.append(json.loads(text(raw)))
    return _Snapshot(counters=await store.counters(), jobs=await store.job_counts(),
                     queue_depth=await store.queue_depth(), batches_running=len(await services.batches.active()),
                     workers=workers, api_pool=services.pool_usage())


async def render_metrics(services: Services, http: HttpMetrics) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(await _snapshot(services)))
    return generate_latest(registry) + generate_latest(http.registry)


class HttpMetrics:
    """This process's own request counts and latencies (each app gets its own registry)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("selfdebug_http_requests", "HTTP requests served.", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("selfdebug_http_request_duration_seconds", "Time to the response's start.",
                                 ["route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


def _method(scope: Scope) -> str:
    method = str(scope.get("method", ""))
    return method if method in METHODS else OTHER_METHOD


def _route(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    """ASGI middleware feeding ``HttpMetrics``, labelled by route template (never by raw path) and by method from
    a fixed set."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.latency.labels(_route(scope)).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.requests.labels(_method(scope), _route(scope), str(status)).inc()
