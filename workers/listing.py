"""An API key's jobs and batches, newest first, a page at a time.

Creating a job or a batch (``workers.scripts``) gives it the next number of its key's sequence
(``Keys.owner_seq``) and files it under that number in the key's index (``Keys.owner_job_index``,
``Keys.owner_batch_index``): a batch's jobs get consecutive numbers, in problem order. A page is read newest
first from the index, and its cursor is the number of its last item, so pages neither repeat nor skip items
however many are created meanwhile. Items whose record expired or was removed are dropped from the index as a
page meets them. Filters (status, batch) are applied while reading: a page holds at most ``limit`` items, and at
most ``SCAN_LIMIT`` index entries are read for one; a short page with a cursor means there may be more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio

from workers.keys import Keys
from workers.models import Batch, BatchSpec, BatchStatus, Job, JobSpec, JobStatus, JobVerdict
from workers.replies import text
from workers.settings import ServiceSettings

__all__ = ["SCAN_LIMIT", "BatchPage", "JobPage", "Listed", "Listing", "parse_cursor"]

SCAN_LIMIT = 1000  # index entries one page may read (a status filter that matches few still answers in time)
CHUNK = 100
_JOB_FIELDS = ("id", "owner", "status", "spec", "batch", "created", "started", "finished", "reason", "cancel",
               "verdict", "runs")
_BATCH_FIELDS = ("id", "owner", "status", "spec", "total", "done", "created", "finished", "cancel")


@dataclass(frozen=True)
class Listed:
    """A job as a listing shows it: its record without its result, and its verdict."""

    job: Job
    verdict: JobVerdict | None


@dataclass(frozen=True)
class JobPage:
    items: list[Listed]
    next_cursor: str | None


@dataclass(frozen=True)
class BatchPage:
    items: list[Batch]
    next_cursor: str | None


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _job(raw: dict[str, str]) -> Listed:
    verdict = raw.get("verdict")
    job = Job(id=raw["id"], owner=raw.get("owner", ""), status=JobStatus(raw["status"]),
              spec=JobSpec.model_validate_json(raw["spec"]), batch_id=raw.get("batch") or None,
              created_at=float(raw.get("created") or 0), started_at=_float(raw.get("started")),
              finished_at=_float(raw.get("finished")), runs=int(raw.get("runs") or 0),
              reason=raw.get("reason") or None, cancel_requested=raw.get("cancel") == "1")
    return Listed(job, JobVerdict.model_validate_json(verdict) if verdict else None)


def _batch(raw: dict[str, str]) -> Batch:
    return Batch(id=raw["id"], owner=raw.get("owner", ""), status=BatchStatus(raw["status"]),
                 spec=BatchSpec.model_validate_json(raw["spec"]), total=int(raw.get("total") or 0),
                 done=int(raw.get("done") or 0), created_at=float(raw.get("created") or 0),
                 finished_at=_float(raw.get("finished")), cancel_requested=raw.get("cancel") == "1")


def parse_cursor(cursor: str | None) -> int | None:
    """A page's cursor: the sequence number of the last item it showed. ValueError if it is not one."""
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValueError("cursor is not one this service gave")
    return int(cursor)


class Listing:
    def __init__(self, client: redis.asyncio.Redis, settings: ServiceSettings) -> None:
        self.redis = client
        self.keys = Keys(settings.key_prefix)

    async def jobs(self, owner: str, *, limit: int, cursor: str | None = None, status: JobStatus | None = None,
                   batch: Batch | None = None) -> JobPage:
        """A page of ``owner``'s jobs, newest first; of one of its batches, if given (that batch's own range of
        numbers: its jobs from the last problem to the first)."""
        low, high = "-inf", None
        if batch is not None:
            span = await self.redis.hmget(self.keys.batch(batch.id), ["seq"])
            if not span[0]:
                return JobPage([], None)  # a batch from before the index: reachable by id, not listed
            last = int(text(span[0]))
            low, high = str(last - batch.total + 1), last

        def keep(raw: dict[str, str]) -> bool:
            return status is None or raw.get("status") == status.value

        found, next_cursor = await self._page(self.keys.owner_job_index(owner), self.keys.job, _JOB_FIELDS,
                                              keep=keep, limit=limit, cursor=cursor, low=low, high=high)
        return JobPage([_job(raw) for raw in found], next_cursor)

    async def batches(self, owner: str, *, limit: int, cursor: str | None = None,
                      status: BatchStatus | None = None) -> BatchPage:
        """A page of ``owner``'s batches, newest first."""

        def keep(raw: dict[str, str]) -> bool:
            return status is None or raw.get("status") == status.value

        found, next_cursor = await self._page(self.keys.owner_batch_index(owner), self.keys.batch, _BATCH_FIELDS,
                                              keep=keep, limit=limit, cursor=cursor)
        return BatchPage([_batch(raw) for raw in found], next_cursor)

    async def _page(self, index: str, record_key: Callable[[str], str], fields: Sequence[str], *,
                    keep: Callable[[dict[str, str]], bool], limit: int, cursor: str | None, low: str = "-inf",
                    high: int | None = None) -> tuple[list[dict[str, str]], str | None]:
        """Records (``fields`` of each) from ``index`` below the cursor (and at most ``high``), newest first, that
        ``keep`` keeps; and the next page's cursor."""
        after = parse_cursor(cursor)
        top = f"({after}" if after is not None and (high is None or after <= high) else (
            str(high) if high is not None else "+inf")
        found: list[dict[str, str]] = []
        gone: list[str] = []
        scanned, last = 0, None
        while len(found) < limit and scanned < SCAN_LIMIT:
            entries: Any = await self.redis.zrevrangebyscore(index, top, low, start=0, num=CHUNK, withscores=True)
            if not entries:
                last = None
                break
            async with self.redis.pipeline(transaction=False) as pipe:
                for member, _ in entries:
                    pipe.hmget(record_key(text(member)), list(fields))
                rows = await pipe.execute()
            for (member, score), row in zip(entries, rows, strict=True):
                scanned += 1
                last = int(score)
                raw = {name: text(value) for name, value in zip(fields, row, strict=True) if value is not None}
                if not raw.get("status") or not raw.get("spec"):
                    gone.append(text(member))
                elif keep(raw):
                    found.append(raw)
                if len(found) >= limit or scanned >= SCAN_LIMIT:
                    break
            top = f"({last}"
        if gone:
            await self.redis.zrem(index, *gone)
        if last is None:
            return found, None
        more = await self.redis.zrevrangebyscore(index, f"({last}", low, start=0, num=1)
        return found, (str(last) if more else None)

