"""schemathesis against the running API's own OpenAPI schema: on every generated request (valid and invalid),
no 5xx, and every response matches the schema (status code, content type, headers, body)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import APISettings, create_app
from tests.service.conftest import KEYS, api_settings, queue
from tests.service.harness import ApiServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_api(service_env: dict[str, str]) -> Iterator[ApiServer]:
    # No worker reads this queue: fuzzed jobs and batches are stored and answered for, never run. Waits and
    # executions are kept short so the fuzzing stays quick.
    settings_ = api_settings(queue=queue("selfdebug-fuzz"), max_wait=0.5, execution_max_timeout=2.0,
                             execution_job_timeout=10.0, max_active_jobs=50, max_active_batches=3,
                             max_batch_problems=200)
    with ApiServer(settings_) as server:
        yield server


def _cases() -> list[tuple[str, str, GenerationMode]]:
    """Every operation, with valid and with invalid requests (those that take no input: valid ones only)."""
    paths = create_app(APISettings(api_keys=KEYS)).openapi()["paths"]
    cases = []
    for path, item in paths.items():
        for method, operation in item.items():
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            for mode in GenerationMode if takes_input else [GenerationMode.POSITIVE]:
                cases.append((path, method.upper(), mode))
    return cases


@pytest.mark.timeout(240)
@pytest.mark.docker
# schemathesis's own strategies use the random module, which Hypothesis now warns about: not our code.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize("path, method, mode", _cases(), ids=str)
def test_the_api_keeps_its_schema(fuzzed_api: ApiServer, redis_db: Any, path: str, method: str,
                                  mode: GenerationMode) -> None:
    operation = schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")[path][method]
    headers = {"Authorization": f"Bearer {KEYS['alice']}"}
    statuses: Counter[int] = Counter()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
        statuses[response.status_code] += 1

    check()
    print(f"{method} {path} {mode.value}: {dict(sorted(statuses.items()))}")
    assert statuses and max(statuses) < 500


@pytest.mark.docker
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_listings_and_a_batch_s_events_keep_the_schema_with_items_in_them(fuzzed_api: ApiServer,
                                                                          redis_db: Any) -> None:
    """Generated requests rarely name a real batch or find a page with items: these do, and are checked alike."""
    schema = schemathesis.openapi.from_url(f"{fuzzed_api.url}/openapi.json")
    headers = {"Authorization": f"Bearer {KEYS['alice']}"}
    with fuzzed_api.client(KEYS["alice"]) as alice:
        job = alice.post("/v1/jobs", json={"problem": {"prompt": "def f():\n    ...\n", "entry_point": "f"}}).json()
        batch = alice.post("/v1/batches", json={"problems": [{"task_id": f"s/{i}", "prompt": "def f():\n    ...\n",
                                                              "entry_point": "f"} for i in range(3)]}).json()
        alice.delete(f"/v1/jobs/{job['id']}")
        alice.delete(f"/v1/batches/{batch['id']}")  # no worker: its jobs are cancelled at once, its report written
    cases = [
        ("/v1/jobs", {"limit": 2}, {}), ("/v1/jobs", {"status": "cancelled"}, {}),
        ("/v1/jobs", {"batch": batch["id"], "limit": 1, "cursor": "999"}, {}), ("/v1/batches", {}, {}),
        ("/v1/batches", {"status": "cancelled", "limit": 1}, {}),
        ("/v1/batches/{batch_id}/events", {}, {"batch_id": batch["id"]}),
        ("/v1/jobs/{job_id}/events", {}, {"job_id": job["id"]}),
    ]
    for path, query, path_parameters in cases:
        case = schema[path]["GET"].Case(query=query, path_parameters=path_parameters)
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
        assert response.status_code == 200, (path, query, response.text)
        if path.startswith("/v1/batches/"):
            assert response.text.count("event: job") == 3 and '"report"' in response.text
        elif path.endswith("/events"):
            assert response.text.count("event: status") == 2
        else:
            assert response.json()["items"], (path, query)
