"""The API's settings (environment prefix ``SELFDEBUG_``), on top of the ones it shares with the workers.
docs/service.md lists them all with their defaults."""

from __future__ import annotations

import json
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from workers.settings import ServiceSettings

__all__ = [
    "DEFAULT_MAX_STREAMS",
    "DEFAULT_MAX_STREAMS_PER_KEY",
    "MAX_WAIT_SECONDS",
    "STREAM_LEASE_PINGS",
    "APISettings",
    "MiB",
]

MiB = 1 << 20
MAX_WAIT_SECONDS = 300.0  # the schema's bound on ?wait=; max_wait may lower it
DEFAULT_MAX_STREAMS_PER_KEY = 8  # a few browser tabs or followers per key; a hundred would be an attack
DEFAULT_MAX_STREAMS = 128  # per API process: each holds one Redis connection of the streams' own pool while it waits
STREAM_LEASE_PINGS = 4  # a stream's slot lasts this many ping intervals unless stream_lease_seconds says otherwise


class APISettings(ServiceSettings):
    """Who may call the API, how much, and the bounds of every request."""

    model_config = SettingsConfigDict(env_prefix="SELFDEBUG_", extra="ignore")

    api_keys: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="Bearer tokens by key name: JSON ({\"alice\": \"token\"}) or 'alice:token,bob:token2'.")
    allow_anonymous: bool = Field(False, description="Serve requests without a key (as 'anonymous'). "
                                                     "For a local demo only.")
    host: str = Field("127.0.0.1", description="Address `selfdebug serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `selfdebug serve` listens on.")
    rate_limit: int = Field(600, ge=1, description="Requests one key may make per rate_window: at once, "
                            "then evenly spread.")
    rate_window: int = Field(60, ge=1, description="Seconds the rate limit is counted over.")
    max_active_jobs: int = Field(20, ge=1, description="Jobs one key may have queued or running at once.")
    max_active_batches: int = Field(2, ge=1, description="Batches one key may have running at once.")
    max_body_bytes: int = Field(1 * MiB, ge=1024, description="Largest request body (413 beyond).")
    max_batch_body_bytes: int = Field(16 * MiB, ge=1024, description="Largest body of POST /v1/batches.")
    max_wait: float = Field(60.0, ge=0, le=MAX_WAIT_SECONDS, description="Most seconds ?wait= may hold a request.")
    max_batch_problems: int = Field(2000, ge=1, description="Most problems in one batch.")
    max_batch_concurrency: int = Field(16, ge=1, description="Most jobs of one batch in flight at once.")
    batch_concurrency: int = Field(2, ge=1, description="Jobs of a batch in flight at once, by default.")
    allowed_models: list[str] = Field(default_factory=list,
                                      description="Model names a request may ask for; empty: any.")
    executions_pool_size: int = Field(2, ge=1, le=64, description="Warm containers for POST /v1/executions.")
    executions_concurrency: int = Field(4, ge=1, description="Executions run at once by one API process.")
    executions_queue_timeout: float = Field(10.0, gt=0, description="Seconds an execution waits for a slot "
                                                                    "before 429.")
    execution_max_timeout: float = Field(10.0, gt=0, description="Most seconds per test an execution may ask.")
    execution_job_timeout: float = Field(30.0, gt=0, description="Most seconds one whole execution may take.")
    sse_ping_interval: float = Field(15.0, gt=0, le=60, description="Seconds between keep-alive comments on "
                                                                    "an idle event stream.")
    max_streams_per_key: int = Field(DEFAULT_MAX_STREAMS_PER_KEY, ge=1, description="Event streams one key may "
                                     "have open at once, counted across every API process (429 beyond).")
    max_streams: int = Field(DEFAULT_MAX_STREAMS, ge=1, description="Event streams one API process serves at once "
                             "(503 beyond); they wait on Redis through a pool of this many connections of their own.")
    stream_lease_seconds: float | None = Field(None, gt=0, description="How long an open stream's slot lasts "
                                               "unless renewed (a live stream renews it): the slots of an API "
                                               "process that died are free again after this. Default: "
                                               "4 x sse_ping_interval.")
    readiness_timeout: float = Field(3.0, gt=0, description="Seconds each /readyz check may take.")
    sweep: bool = Field(True, description="Whether this API process also sweeps for lost jobs.")

    @model_validator(mode="after")
    def _leases_outlive_pings(self) -> Self:
        # A stream renews its slot once per turn of its loop, and a turn waits up to a ping interval.
        if self.stream_lease_seconds is not None and self.stream_lease_seconds <= 2 * self.sse_ping_interval:
            raise ValueError("stream_lease_seconds must be more than twice sse_ping_interval")
        return self

    @property
    def stream_lease(self) -> float:
        """Seconds an open stream's slot lasts unless renewed."""
        return self.stream_lease_seconds or STREAM_LEASE_PINGS * self.sse_ping_interval

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return {}
        if value.startswith("{"):
            return json.loads(value)
        keys = {}
        for item in value.split(","):
            name, sep, token = item.strip().partition(":")
            if not sep or not name or not token:
                raise ValueError("api_keys must be JSON or 'name:token,name2:token2'")
            keys[name] = token
        return keys

    @field_validator("api_keys")
    @classmethod
    def _keys_usable(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, token in value.items():
            if len(token.get_secret_value()) < 8:
                raise ValueError(f"the token of key {name!r} is shorter than 8 characters")
        return value
