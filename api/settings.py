"""The API's settings (environment prefix ``SELFDEBUG_``), on top of the ones it shares with the workers.
docs/service.md lists them all with their defaults."""

from __future__ import annotations

import json
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from workers.quota import StorageQuota
from workers.settings import ServiceSettings

__all__ = [
    "DEFAULT_MAX_CODE_CHARS",
    "DEFAULT_MAX_EXECUTION_TESTS",
    "DEFAULT_MAX_GIVEN_TESTS",
    "DEFAULT_MAX_INPUTS",
    "DEFAULT_MAX_IO_CHARS",
    "DEFAULT_MAX_IO_TESTS",
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_MAX_PROBLEM_BYTES",
    "DEFAULT_MAX_PROMPT_CHARS",
    "DEFAULT_MAX_REPR_LIMIT",
    "DEFAULT_MAX_SELF_TESTS",
    "DEFAULT_MAX_STORED_BATCHES",
    "DEFAULT_MAX_STORED_BYTES",
    "DEFAULT_MAX_STORED_JOBS",
    "DEFAULT_MAX_STREAMS",
    "DEFAULT_MAX_STREAMS_PER_KEY",
    "DEFAULT_MAX_TESTS",
    "DEFAULT_MAX_TEST_CHARS",
    "DEFAULT_MAX_TOKEN_BUDGET",
    "DEFAULT_MAX_TRACES",
    "DEFAULT_MAX_TRACE_BLOCKS",
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

# What one problem may hold, whichever route sends it (a job, a batch's problems, a JSONL file): api.limits applies
# these. The datasets' largest problems fit with room to spare (HumanEval+: 1,100 inputs, 200 KB of JSON).
DEFAULT_MAX_PROMPT_CHARS = 50_000
DEFAULT_MAX_GIVEN_TESTS = 50
DEFAULT_MAX_TESTS = 200  # hidden asserts
DEFAULT_MAX_TEST_CHARS = 20_000  # one assert; test_setup
DEFAULT_MAX_CODE_CHARS = 100_000  # a check function, a canonical solution, an execution's code
DEFAULT_MAX_IO_TESTS = 200
DEFAULT_MAX_IO_CHARS = 100_000  # one stdin, one expected stdout
DEFAULT_MAX_INPUTS = 2_000  # evalplus base_inputs + plus_inputs
DEFAULT_MAX_PROBLEM_BYTES = 2 * MiB  # the whole problem as JSON: what its job stores
DEFAULT_MAX_EXECUTION_TESTS = 100  # asserts or stdio cases of one POST /v1/executions
# What a job's options may ask for. The engine's own bounds (DebugOptions) are the most these may be set to.
DEFAULT_MAX_ITERATIONS = 10
DEFAULT_MAX_SELF_TESTS = 50
DEFAULT_MAX_TRACES = 10
# A round's traces grow with traces x blocks x 20 variables x repr length: at these maxima under a megabyte sent to
# the model (1000 blocks of unbounded reprs sent 12 MB and stored 54 MB).
DEFAULT_MAX_TRACE_BLOCKS = 20
DEFAULT_MAX_REPR_LIMIT = 200
DEFAULT_MAX_TOKEN_BUDGET = 1_000_000
# What one key may keep stored (jobs and batches live for `retention` seconds after they end).
DEFAULT_MAX_STORED_JOBS = 10_000
DEFAULT_MAX_STORED_BYTES = 512 * MiB
DEFAULT_MAX_STORED_BATCHES = 100


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
    # ---- sizes: what one problem may hold, on every route that takes problems (api.limits)
    max_prompt_chars: int = Field(DEFAULT_MAX_PROMPT_CHARS, ge=1, description="Most characters in a problem's "
                                  "prompt.")
    max_given_tests: int = Field(DEFAULT_MAX_GIVEN_TESTS, ge=0, description="Most visible asserts (given_tests) "
                                 "in a problem.")
    max_tests: int = Field(DEFAULT_MAX_TESTS, ge=0, description="Most hidden asserts (tests) in a problem.")
    max_test_chars: int = Field(DEFAULT_MAX_TEST_CHARS, ge=1, description="Most characters in one assert (given "
                                "or hidden, or an execution's) and in a problem's test_setup.")
    max_code_chars: int = Field(DEFAULT_MAX_CODE_CHARS, ge=1, description="Most characters in a problem's check "
                                "function (test) or canonical_solution, and in an execution's code or check.")
    max_io_tests: int = Field(DEFAULT_MAX_IO_TESTS, ge=0, description="Most stdin/stdout tests (io_tests) in a "
                              "problem.")
    max_io_chars: int = Field(DEFAULT_MAX_IO_CHARS, ge=1, description="Most characters in one stdin or expected "
                              "stdout (a problem's io_tests, an execution's stdio cases).")
    max_inputs: int = Field(DEFAULT_MAX_INPUTS, ge=0, description="Most evalplus inputs (base_inputs and "
                            "plus_inputs together) in a problem.")
    max_problem_bytes: int = Field(DEFAULT_MAX_PROBLEM_BYTES, ge=1024, description="Most bytes of one problem as "
                                   "JSON, all its fields together.")
    max_execution_tests: int = Field(DEFAULT_MAX_EXECUTION_TESTS, ge=1, description="Most asserts or stdio cases "
                                     "in one execution.")
    # ---- what a job's options may ask for (each at most the engine's own bound)
    max_iterations: int = Field(DEFAULT_MAX_ITERATIONS, ge=0, le=10, description="Most repair rounds "
                                "(options.max_iterations).")
    max_self_tests: int = Field(DEFAULT_MAX_SELF_TESTS, ge=1, le=50, description="Most self-tests asked of the "
                                "model (options.num_tests).")
    max_traces: int = Field(DEFAULT_MAX_TRACES, ge=1, le=10, description="Most self-test inputs traced per round "
                            "(options.max_traces).")
    max_trace_blocks: int = Field(DEFAULT_MAX_TRACE_BLOCKS, ge=2, description="Most blocks shown per trace "
                                  "(options.trace_blocks).")
    max_repr_limit: int = Field(DEFAULT_MAX_REPR_LIMIT, ge=10, description="Most characters of a value shown in "
                                "a trace (options.repr_limit).")
    max_token_budget: int = Field(DEFAULT_MAX_TOKEN_BUDGET, ge=1, description="Largest options.token_budget "
                                  "(options.time_budget is bounded by max_job_time_limit).")
    # ---- storage: what one key may keep (records live for `retention` seconds after they end)
    max_stored_jobs: int = Field(DEFAULT_MAX_STORED_JOBS, ge=1, description="Jobs one key may have stored, "
                                 "ended or not, until they expire or are removed (429 beyond).")
    max_stored_bytes: int = Field(DEFAULT_MAX_STORED_BYTES, ge=MiB, description="Bytes of job records and event "
                                  "streams one key may have stored (429 beyond).")
    max_stored_batches: int = Field(DEFAULT_MAX_STORED_BATCHES, ge=1, description="Batches one key may have "
                                    "stored, running or not, until they expire or are removed (429 beyond).")
    readiness_timeout: float = Field(3.0, gt=0, description="Seconds each /readyz check may take.")
    sweep: bool = Field(True, description="Whether this API process also sweeps for lost jobs.")

    @model_validator(mode="after")
    def _leases_outlive_pings(self) -> Self:
        # A stream renews its slot once per turn of its loop, and a turn waits up to a ping interval.
        if self.stream_lease_seconds is not None and self.stream_lease_seconds <= 2 * self.sse_ping_interval:
            raise ValueError("stream_lease_seconds must be more than twice sse_ping_interval")
        return self

    @property
    def storage_quota(self) -> StorageQuota:
        """What one key may keep stored."""
        return StorageQuota(jobs=self.max_stored_jobs, bytes=self.max_stored_bytes, batches=self.max_stored_batches)

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
