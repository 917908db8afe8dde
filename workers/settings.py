"""Settings the API and the workers share (environment prefix ``SELFDEBUG_``): where Redis is, the queue, and
every time limit of a job's life. docs/service.md lists them all with their defaults."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_JOB_TIME_LIMIT",
    "DEFAULT_MAX_JOB_TIME_LIMIT",
    "DEFAULT_MAX_MODEL_CLIENTS",
    "DEFAULT_REDIS_URL",
    "ServiceSettings",
]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_JOB_TIME_LIMIT = 600.0  # seconds one job may run, unless it asks for less (or more, up to the max)
DEFAULT_MAX_JOB_TIME_LIMIT = 3600.0
DEFAULT_HEARTBEAT_INTERVAL = 1.0  # seconds between a running job's heartbeats (and cancellation checks)
DEFAULT_MAX_MODEL_CLIENTS = 4  # LLM clients a worker process keeps open (one per model name; the least used closes)


class ServiceSettings(BaseSettings):
    """How jobs are stored, queued, timed, retried and swept. The API's settings extend these."""

    model_config = SettingsConfigDict(env_prefix="SELFDEBUG_", extra="ignore")

    redis_url: str = Field(DEFAULT_REDIS_URL, description="Redis for job records, event streams and the queue.")
    key_prefix: str = Field("sd", pattern=r"^[A-Za-z0-9_.-]+$", description="Prefix of every Redis key we write.")
    queue: str = Field("selfdebug", pattern=r"^[A-Za-z0-9_.-]+$", description="Celery queue the jobs go to.")
    job_time_limit: float = Field(DEFAULT_JOB_TIME_LIMIT, gt=0, description="Default seconds one job may run.")
    max_job_time_limit: float = Field(DEFAULT_MAX_JOB_TIME_LIMIT, gt=0,
                                      description="Most seconds a job may ask for.")
    heartbeat_interval: float = Field(DEFAULT_HEARTBEAT_INTERVAL, gt=0,
                                      description="Seconds between a running job's heartbeats and cancel checks.")
    stale_after: float = Field(15.0, gt=0, description="A running job with no heartbeat for this long lost its "
                                                       "worker: it is run again, or failed after max_runs.")
    max_runs: int = Field(2, ge=1, description="Times a job may start before a lost worker fails it for good.")
    requeue_after: float = Field(120.0, gt=0, description="A queued job waiting this long while the queue is "
                                                          "empty lost its message: it is sent again.")
    sweep_interval: float = Field(5.0, gt=0, description="Seconds between sweeps for lost jobs and stalled "
                                                         "batches (every worker and API process sweeps).")
    visibility_timeout: float | None = Field(None, gt=0, description="Seconds before the broker redelivers an "
                                             "unacknowledged message; default max_job_time_limit + 300.")
    retention: float = Field(7 * 24 * 3600.0, gt=0, description="Seconds a finished job or batch is kept.")
    events_max: int = Field(10_000, ge=100, description="Events kept per job stream (oldest trimmed).")
    redis_retry_seconds: float = Field(30.0, ge=0, description="How long Redis calls keep retrying while the "
                                                               "server is unreachable (a restart).")
    failed_exit_after: float = Field(20.0, gt=0, description="Seconds a worker whose Celery consumer died may "
                                     "take to stop before it exits anyway (its supervisor starts a new one).")
    allowed_models: list[str] = Field(default_factory=list, description="Model names a job may ask for (422 at "
                                      "submission; a worker fails a job naming another); empty: only the "
                                      "configured one (SELFDEBUG_LLM_MODEL).")
    max_model_clients: int = Field(DEFAULT_MAX_MODEL_CLIENTS, ge=1, description="LLM clients a worker process "
                                   "keeps open, one per model name; opening one more closes the least recently "
                                   "used idle one.")

    @model_validator(mode="after")
    def _limits_agree(self) -> ServiceSettings:
        if self.job_time_limit > self.max_job_time_limit:
            raise ValueError("job_time_limit is larger than max_job_time_limit")
        if self.stale_after <= 2 * self.heartbeat_interval:
            raise ValueError("stale_after must be more than twice heartbeat_interval")
        return self

    def model_allowed(self, name: str | None, configured: str | None) -> bool:
        """Whether a job may ask for model ``name`` (None: the configured model, always allowed)."""
        if name is None:
            return True
        return name in self.allowed_models if self.allowed_models else name == configured

    @property
    def broker_visibility_timeout(self) -> float:
        """Redelivery must never overtake a job still running, so it waits past the longest allowed job."""
        return self.visibility_timeout or self.max_job_time_limit + 300.0

    @property
    def task_time_limit(self) -> float:
        """Celery's hard limit for one job task: a backstop well past our own, softer one."""
        return self.max_job_time_limit + 60.0
