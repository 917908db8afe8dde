"""Health, readiness, metrics; and the limits every key lives within: rate, jobs in flight, request size."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api import APISettings
from tests.service.conftest import KEYS, PREFIX, api_settings, queue
from tests.service.harness import ApiServer, free_port, wait_for
from tests.service.scripted import problem
from workers.keys import Keys

pytestmark = pytest.mark.timeout(120)


def test_healthz_readyz_and_metrics(alice: httpx.Client, service: ApiServer) -> None:
    alice.post("/v1/jobs", json={"problem": problem(), "options": {"strategy": "none"}}, params={"wait": 30})
    with service.client() as probe:
        assert probe.get("/healthz").json() == {"status": "ok"}
        ready = probe.get("/readyz")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {name for name, check in checks.items() if check["ok"]} >= {"redis", "docker", "sandbox_image", "llm"}
        # The worker reports itself every few seconds (the test's Redis was just cleaned).
        wait_for(lambda: probe.get("/readyz").json()["checks"]["workers"]["detail"] == "1 live", 15, "a live worker")
        metrics = probe.get("/metrics")
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
    for name in ('selfdebug_jobs{state="queued"}', 'selfdebug_jobs_finished_total{status="succeeded"} 1.0',
                 "selfdebug_queue_depth", "selfdebug_sandbox_containers{", "selfdebug_llm_tokens_total{",
                 "selfdebug_llm_latency_seconds_bucket{", "selfdebug_job_duration_seconds_count 1.0",
                 'selfdebug_http_requests_total{method="POST",route="/v1/jobs",status="200"}', "selfdebug_workers 1.0"):
        assert name in text, name


def test_readyz_says_what_is_down(service_env: dict[str, str], redis_db: Any) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = api_settings(redis_url=dead, readiness_timeout=1.0, sweep=False, redis_retry_seconds=1)
    with ApiServer(settings) as broken, broken.client(KEYS["alice"]) as client:
        reply = client.get("/readyz")
        assert reply.status_code == 503
        body = reply.json()
        assert body["status"] == "not_ready" and body["checks"]["redis"]["ok"] is False
        assert body["checks"]["docker"]["ok"] is True
        down = client.get("/v1/jobs/" + "0" * 32)  # the rate limit needs Redis too: 503, not a 500
        assert down.status_code == 503 and down.json()["code"] == "unavailable" and "retry-after" in down.headers


def test_readyz_reports_a_dead_embedded_model(service_env: dict[str, str], redis_db: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SELFDEBUG_LLM_BASE_URL")  # the embedded model: workers run it and report on it
    crash = "the embedded model server (pid 7) was killed by signal 11 (SIGSEGV); restarting it failed too"
    with ApiServer(api_settings(sweep=False)) as api, api.client(KEYS["alice"]) as client:
        healthy = {"embedded": True, "running": True, "restarts": 0, "last_crash": None}
        redis_db.set(Keys(PREFIX).worker("host:1"), json.dumps({"worker": "host:1", "llm": healthy}), ex=30)
        assert client.get("/readyz").json()["checks"]["llm"]["ok"] is True
        dead = {**healthy, "running": False, "restarts": 1, "last_crash": crash}
        redis_db.set(Keys(PREFIX).worker("host:2"), json.dumps({"worker": "host:2", "llm": dead}), ex=30)
        reply = wait_for(lambda: (r := client.get("/readyz")).status_code == 503 and r, 10, "not ready")
        check = reply.json()["checks"]["llm"]
        assert check["ok"] is False and "host:2" in check["detail"] and "SIGSEGV" in check["detail"]
        assert "host:1" not in check["detail"]


def test_rate_limit_answers_429_with_retry_after(service_env: dict[str, str], redis_db: Any) -> None:
    with ApiServer(api_settings(rate_limit=3, rate_window=60)) as limited, limited.client(KEYS["alice"]) as client:
        codes = [client.get("/v1/jobs/" + "0" * 32).status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        reply = client.get("/v1/jobs/" + "0" * 32)
        assert reply.json()["code"] == "rate_limited" and 0 < int(reply.headers["retry-after"]) <= 60
        with limited.client(KEYS["bob"]) as other:  # per key
            assert other.get("/v1/jobs/" + "0" * 32).status_code == 404


def test_jobs_in_flight_are_capped_per_key(service_env: dict[str, str], redis_db: Any) -> None:
    settings = api_settings(queue=queue("selfdebug-nobody"), max_active_jobs=2)
    with ApiServer(settings) as capped, capped.client(KEYS["alice"]) as client:
        body = {"problem": problem()}
        ids = [client.post("/v1/jobs", json=body).json()["id"] for _ in range(2)]
        refused = client.post("/v1/jobs", json=body)
        assert refused.status_code == 429 and "retry-after" in refused.headers
        client.delete(f"/v1/jobs/{ids[0]}")  # a finished (here: cancelled) job frees a slot
        assert client.post("/v1/jobs", json=body).status_code == 202


def test_request_size_limit(service_env: dict[str, str], redis_db: Any) -> None:
    with ApiServer(api_settings(max_body_bytes=2048)) as small, small.client(KEYS["alice"]) as client:
        big = {"problem": {**problem(), "prompt": "x" * 4096}}
        reply = client.post("/v1/jobs", json=big)
        assert reply.status_code == 413 and reply.json()["code"] == "payload_too_large"

        def chunks() -> Any:  # no Content-Length: counted as it streams
            yield json.dumps(big).encode()

        streamed = client.post("/v1/jobs", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413


def test_settings_read_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_API_KEYS", "ci:ci-token-123,dev:dev-token-456")
    keys = APISettings().api_keys
    assert {name: token.get_secret_value() for name, token in keys.items()} == {"ci": "ci-token-123",
                                                                                 "dev": "dev-token-456"}
    monkeypatch.setenv("SELFDEBUG_API_KEYS", '{"ci": "ci-token-123"}')
    assert list(APISettings().api_keys) == ["ci"]
    monkeypatch.setenv("SELFDEBUG_API_KEYS", "ci:short")
    with pytest.raises(ValueError, match="shorter than 8"):
        APISettings()


def test_anonymous_mode(service_env: dict[str, str], redis_db: Any) -> None:
    with ApiServer(api_settings(api_keys={}, allow_anonymous=True)) as open_api, open_api.client() as client:
        assert client.get("/v1/jobs/" + "0" * 32).status_code == 404


def test_a_job_and_a_batch_may_ask_only_for_allowed_models_and_time(service_env: dict[str, str],
                                                                      redis_db: Any) -> None:
    # An API whose queue no worker reads: what is accepted stays queued, nothing runs.
    settings = api_settings(queue=queue("selfdebug-nobody"), allowed_models=["small"], max_job_time_limit=100)
    with ApiServer(settings) as server, server.client(KEYS["alice"]) as client:
        for path, body in (("/v1/jobs", {"problem": problem()}), ("/v1/batches", {"problems": [problem()]})):
            reply = client.post(path, json={**body, "model": "huge"})
            assert reply.status_code == 422 and "model 'huge' is not one of small" in reply.json()["detail"]
            reply = client.post(path, json={**body, "time_limit": 101})
            assert reply.status_code == 422 and "time_limit may be at most 100 seconds" in reply.json()["detail"]
            accepted = client.post(path, json={**body, "model": "small", "time_limit": 100})
            assert accepted.status_code == 202, accepted.text
