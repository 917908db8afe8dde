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
