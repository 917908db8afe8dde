"""Every sandbox limit and knob, each a named setting with a default (environment prefix ``SANDBOX_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SandboxSettings"]

MiB = 1 << 20
MAX_HASH_SEED = (1 << 32) - 1  # the largest PYTHONHASHSEED Python accepts


class SandboxSettings(BaseSettings):
    """How sandbox containers are built, pooled and limited.

    Time limits can also be lowered per run (see ``Limits``); the container-level ones (memory, processes,
    disk, CPU share, runtime) hold for every run in the pool.
    """

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    image: str | None = Field(None, description="Image to run; default: the content-addressed tag of sandbox/image.")
    base_image: str = Field("auto", description="Base for the build: 'auto' finds or makes one with no registry.")
    runtime: Literal["runc", "runsc"] = Field("runc", description="OCI runtime; 'runsc' is gVisor.")
    pool_size: int = Field(2, ge=1, le=64, description="Warm containers kept ready.")
    recycle_after: int = Field(500, ge=1, description="Jobs a container serves before it is replaced.")
    start_timeout: float = Field(30.0, gt=0, description="Seconds for a new container's runner to answer.")
    acquire_timeout: float = Field(120.0, gt=0, description="Seconds to wait for a free container.")
    reply_margin: float = Field(10.0, gt=0, description="Seconds the host waits past a job's limit for a reply.")

    test_timeout: float = Field(10.0, gt=0, description="Wall seconds per test (or per input, stdin case).")
    cpu_time: float = Field(10.0, gt=0, description="CPU seconds per test.")
    job_timeout: float = Field(120.0, gt=0, description="Wall seconds for one whole run.")
    output_bytes: int = Field(1 * MiB, gt=0, description="Bytes of stdout+stderr a run may write.")
    memory_bytes: int = Field(512 * MiB, ge=32 * MiB, description="Memory (cgroup) for a container.")
    pids: int = Field(64, ge=8, description="Processes and threads a container may hold.")
    disk_bytes: int = Field(64 * MiB, gt=0, description="Size of the tmpfs work dir (and of /tmp).")
    disk_inodes: int = Field(4096, gt=16, description="Files the work dir (and /tmp) may hold.")
    open_files: int = Field(256, ge=16, description="Open file descriptors per process.")
    cpus: float = Field(1.0, gt=0, description="CPU share of one container.")
    hash_seed: int = Field(0, ge=0, le=MAX_HASH_SEED, description=(
        "PYTHONHASHSEED of every sandboxed run (0: no hash randomisation), so that the order of a set or of a "
        "str-keyed dict's hash table, and any verdict that depends on it, is the same in every container."))
    label: str = Field("selfdebug.sandbox", description="Docker label that marks our containers for the reaper.")
