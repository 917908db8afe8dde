"""Celery workers on Redis: they run the engine on queued jobs, stream its events, fan out batches and sweep up
after workers that died. ``selfdebug worker`` starts one; ``workers.app`` holds the Celery app."""

from workers.app import RUN_JOB, celery_app, make_celery, run_worker
from workers.batch_store import BatchStore
from workers.connection import async_redis, sync_redis
from workers.errors import CapReached, JobTimeLimit, ModelNotAllowed, QuotaReached, SandboxFault, ServiceError
from workers.keys import Keys
from workers.models import (
    TERMINAL,
    Batch,
    BatchSpec,
    BatchStatus,
    Job,
    JobResult,
    JobSpec,
    JobStatus,
    JobVerdict,
    ProblemRef,
    StoredEvent,
)
from workers.settings import ServiceSettings
from workers.store import Finished, JobStore

__all__ = [
    "RUN_JOB",
    "TERMINAL",
    "Batch",
    "BatchSpec",
    "BatchStatus",
    "BatchStore",
    "CapReached",
    "Finished",
    "Job",
    "JobResult",
    "JobSpec",
    "JobStatus",
    "JobStore",
    "JobTimeLimit",
    "JobVerdict",
    "Keys",
    "ModelNotAllowed",
    "ProblemRef",
    "QuotaReached",
    "SandboxFault",
    "ServiceError",
    "ServiceSettings",
    "StoredEvent",
    "async_redis",
    "celery_app",
    "make_celery",
    "run_worker",
    "sync_redis",
]
