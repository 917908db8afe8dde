"""The Python client of a selfdebug service: ``Client`` (and ``AsyncClient``) over HTTP, with typed models and
errors. It imports nothing of the engine, the sandbox, the workers or the API (httpx and pydantic only), so it
could ship as a distribution of its own.

    from selfdebug_client import Client

    with Client() as client:  # SELFDEBUG_URL, SELFDEBUG_API_KEY
        job = client.jobs.submit({"prompt": "def add(a, b):\\n    \\"\\"\\"Return a + b.\\"\\"\\"\\n",
                                  "entry_point": "add"}, {"strategy": "in_execution"})
        for event in client.jobs.events(job):
            print(event.kind, event.iteration)
        print(client.jobs.wait(job).final_program)

docs/client.md has the rest.
"""

from selfdebug_client._batches import AsyncBatches, Batches
from selfdebug_client._client import AsyncClient, Client
from selfdebug_client._config import ENV_API_KEY, ENV_URL, ClientSettings
from selfdebug_client._jobs import AsyncJobs, Jobs
from selfdebug_client.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
    SelfDebugClientError,
    ServerError,
    StreamError,
    TransportError,
    Unauthorized,
    Unavailable,
    WaitTimeout,
)
from selfdebug_client.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    BatchSummary,
    ExecutionResult,
    Feedback,
    Job,
    JobEvent,
    JobStatus,
    JobSummary,
    JobVerdict,
    Options,
    Page,
    Problem,
    ProblemKind,
    Readiness,
    Report,
    Result,
    StdioCase,
    Strategy,
    TestOutcome,
)

__all__ = [
    "ENV_API_KEY",
    "ENV_URL",
    "APIError",
    "AsyncBatches",
    "AsyncClient",
    "AsyncJobs",
    "BadRequest",
    "Batch",
    "BatchEvent",
    "BatchStatus",
    "BatchSummary",
    "Batches",
    "Client",
    "ClientSettings",
    "Conflict",
    "ExecutionResult",
    "Feedback",
    "Forbidden",
    "InvalidRequest",
    "Job",
    "JobEvent",
    "JobStatus",
    "JobSummary",
    "JobVerdict",
    "Jobs",
    "NotFound",
    "Options",
    "Page",
    "PayloadTooLarge",
    "Problem",
    "ProblemKind",
    "RateLimited",
    "Readiness",
    "Report",
    "RequestTimeout",
    "Result",
    "SelfDebugClientError",
    "ServerError",
    "StdioCase",
    "Strategy",
    "StreamError",
    "TestOutcome",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "WaitTimeout",
]
