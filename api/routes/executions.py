"""``/v1/executions``: run code against tests in the sandbox now (an IDE's "run my tests")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from api.errors import error_responses
from api.limits import check_execution
from api.schemas import ExecutionRequest, ExecutionResult
from api.security import Caller
from api.services import Services, get_services
from api.views import execution_result
from sandbox import Limits, StdioCase

__all__ = ["router"]

router = APIRouter(prefix="/v1/executions", tags=["executions"])

EXAMPLES = {
    "asserts": {"summary": "Assert tests",
                "value": {"code": "def add(a, b):\n    return a - b\n",
                          "tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}},
    "check": {"summary": "A HumanEval-style check function",
              "value": {"code": "def add(a, b):\n    return a + b\n", "entry_point": "add",
                        "check": "def check(candidate):\n    assert candidate(1, 2) == 3\n"}},
    "stdio": {"summary": "stdin/stdout cases",
              "value": {"code": "print(sum(map(int, input().split())))",
                        "stdio": [{"stdin": "1 2", "expected": "3"}], "timeout": 2}},
}


@router.post("", response_model=ExecutionResult, responses=error_responses(400, 401, 413, 422, 429, 503),
             summary="Run code against tests now",
             description="Synchronous and bounded: each test gets at most `timeout` seconds (capped by a setting) "
             "and the whole run at most the execution_job_timeout setting. Verdicts per test: passed, failed, "
             "error, timeout, memory, output_limit, sandbox_error.")
async def run_execution(request: Annotated[ExecutionRequest, Body(openapi_examples=EXAMPLES)], caller: Caller,
                        services: Annotated[Services, Depends(get_services)]) -> ExecutionResult:
    settings = services.settings
    stdio = [(case.stdin, case.expected) for case in request.stdio] if request.stdio is not None else None
    check_execution(settings, request.code, request.tests, request.check, stdio)
    seconds = min(request.timeout or settings.execution_max_timeout, settings.execution_max_timeout)
    limits = Limits(test_timeout=seconds, cpu_time=seconds, job_timeout=settings.execution_job_timeout)
    async with services.execution_slot():
        sandbox = await services.sandbox()
        if request.tests is not None:
            run = await sandbox.run_tests(request.code, request.tests, limits=limits)
        elif request.check is not None:
            run = await sandbox.run_check(request.code, request.check, request.entry_point or "", limits=limits)
        else:
            cases = [StdioCase(stdin=case.stdin, expected=case.expected) for case in request.stdio or []]
            run = await sandbox.run_stdio(request.code, cases, limits=limits)
    return execution_result(run)
