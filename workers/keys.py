"""Every Redis key the service writes, in one place. All start with the configured prefix (``sd`` by default).

The service expects one Redis server, not a Cluster: the Lua scripts touch keys they derive from job ids.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys"]


@dataclass(frozen=True)
class Keys:
    prefix: str = "sd"

    def job(self, job_id: str) -> str:
        """Hash: one job's record (status, spec, timestamps, result)."""
        return f"{self.prefix}:job:{job_id}"

    def events(self, job_id: str) -> str:
        """Stream: the job's events in order; stream ids are the SSE event ids."""
        return f"{self.prefix}:job:{job_id}:events"

    @property
    def queued(self) -> str:
        """Sorted set: jobs whose message is in the queue, scored by when it was sent."""
        return f"{self.prefix}:jobs:queued"

    @property
    def running(self) -> str:
        """Sorted set: running jobs, scored by their last heartbeat."""
        return f"{self.prefix}:jobs:running"

    def owner_active(self, owner: str) -> str:
        """Set: an API key's queued and running jobs (its cap counts them)."""
        return f"{self.prefix}:owner:{owner}:active"

    def owner_batches(self, owner: str) -> str:
        """Set: an API key's batches still running."""
        return f"{self.prefix}:owner:{owner}:batches"

    def owner_stored(self, owner: str) -> str:
        """Sorted set: an API key's stored jobs, scored by when their records expire (+inf until they end). Its
        storage quota counts them; expired ones are trimmed lazily, when the key next creates a job."""
        return f"{self.prefix}:owner:{owner}:stored"

    def owner_sizes(self, owner: str) -> str:
        """Hash: bytes of each of an API key's stored jobs (record and event stream), by job id."""
        return f"{self.prefix}:owner:{owner}:sizes"

    def owner_bytes(self, owner: str) -> str:
        """String: the sum of ``owner_sizes``."""
        return f"{self.prefix}:owner:{owner}:bytes"

    def owner_stored_batches(self, owner: str) -> str:
        """Sorted set: an API key's stored batches, scored by when their records expire (+inf while running)."""
        return f"{self.prefix}:owner:{owner}:stored_batches"

    def owner_streams(self, owner: str) -> str:
        """Sorted set: an API key's open event streams (lease ids), scored by when each lease expires."""
        return f"{self.prefix}:owner:{owner}:streams"

    def owner_seq(self, owner: str) -> str:
        """String: an API key's sequence; each job and batch it creates takes the next number (workers.listing)."""
        return f"{self.prefix}:owner:{owner}:seq"

    def owner_job_index(self, owner: str) -> str:
        """Sorted set: an API key's jobs, scored by their sequence number (newest highest); pruned as read."""
        return f"{self.prefix}:owner:{owner}:job_index"

    def owner_batch_index(self, owner: str) -> str:
        """Sorted set: an API key's batches, scored by their sequence number; pruned as read."""
        return f"{self.prefix}:owner:{owner}:batch_index"

    def rate(self, owner: str) -> str:
        """String: an API key's rate-limit state (when its next request is due, if sent at the allowed pace)."""
        return f"{self.prefix}:rate:{owner}"

    @property
    def stats(self) -> str:
        """Hash: counters for /metrics (jobs by outcome, LLM tokens, latency histogram buckets)."""
        return f"{self.prefix}:stats"

    def worker(self, worker_id: str) -> str:
        """String with a TTL: a live worker process's last report (pool use, running jobs)."""
        return f"{self.prefix}:worker:{worker_id}"

    @property
    def worker_pattern(self) -> str:
        return f"{self.prefix}:worker:*"

    def batch(self, batch_id: str) -> str:
        """Hash: one batch (status, spec, counters, report)."""
        return f"{self.prefix}:batch:{batch_id}"

    def batch_jobs(self, batch_id: str) -> str:
        """List: the batch's job ids in problem order."""
        return f"{self.prefix}:batch:{batch_id}:jobs"

    def batch_pending(self, batch_id: str) -> str:
        """List: the batch's jobs not sent to the queue yet (bounded concurrency)."""
        return f"{self.prefix}:batch:{batch_id}:pending"

    def batch_events(self, batch_id: str) -> str:
        """Stream: the batch's progress, its jobs' transitions and its end (workers.batch_events)."""
        return f"{self.prefix}:batch:{batch_id}:events"

    def batch_lock(self, batch_id: str) -> str:
        """String with a TTL: held while one process writes the batch's report."""
        return f"{self.prefix}:batch:{batch_id}:lock"

    @property
    def batches_active(self) -> str:
        """Set: batches not finished yet (the sweeper looks after them)."""
        return f"{self.prefix}:batches:active"
