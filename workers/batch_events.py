"""A batch's own event stream (``<prefix>:batch:<id>:events``), written by the same scripts that move its jobs, so
no transition is missed whoever makes it (API, worker, sweeper) and each is written once:

* ``status``: the batch's own, ``running`` when it is created (``total``), then ``succeeded`` or ``cancelled``
  with the counts of its jobs by status (``jobs``) and its ``report``, the stream's last event;
* ``job``: one of its jobs started (``running``, with its ``run``), ended (``succeeded``, ``failed``,
  ``cancelled``, with ``reason`` and ``verdict``), or was sent back to the queue after its worker was lost
  (``queued``, with ``reason``): ``job_id`` and ``task_id``.

Every event carries the batch's ``done`` and ``total`` as they were when it was written. Stream ids are SSE ids,
so ``GET /v1/batches/{id}/events`` resumes with ``Last-Event-ID`` as a job's stream does. A batch's stream holds
at most ``total`` x (2 x runs + 1) + 2 events, so it is never trimmed; it expires with the batch.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio

from workers.keys import Keys
from workers.models import BatchStatus, StoredEvent
from workers.replies import read_events, text
from workers.settings import ServiceSettings

__all__ = ["BATCH_EVENT_LUA", "BatchEvents", "final_event", "is_last"]

# Lua helpers for the scripts that move a batch's jobs (workers.scripts prepends them). prefix_of: a job key is
# '<prefix>:job:<id>' (workers.keys), so scripts that are handed only job keys still find the batch's keys.
BATCH_EVENT_LUA = """
local function prefix_of(job_key, job_id)
  return string.sub(job_key, 1, #job_key - #(':job:' .. job_id))
end
local function task_of(job_key)
  local spec = redis.call('HGET', job_key, 'spec')
  if not spec then return nil end
  local ok, s = pcall(cjson.decode, spec)
  if not ok or type(s) ~= 'table' then return nil end
  for _, part in ipairs({'problem', 'ref'}) do
    if type(s[part]) == 'table' and type(s[part].task_id) == 'string' then return s[part].task_id end
  end
  return nil
end
local function batch_event(prefix, batch, event)
  local bk = prefix .. ':batch:' .. batch
  local b = redis.call('HMGET', bk, 'done', 'total')
  event.done = tonumber(b[1] or '0')
  event.total = tonumber(b[2] or '0')
  return redis.call('XADD', bk .. ':events', '*', 'kind', event.kind, 'data', cjson.encode(event))
end
local function job_event(prefix, batch, job_key, job_id, fields)
  fields.kind = 'job'
  fields.job_id = job_id
  fields.task_id = task_of(job_key)
  return batch_event(prefix, batch, fields)
end
"""


def final_event(status: str, done: int, total: int, jobs: dict[str, int], report: dict[str, Any]) -> str:
    """The data of a batch's last event (kind ``status``), written with its report."""
    return json.dumps({"kind": "status", "status": status, "done": done, "total": total, "jobs": jobs,
                       "report": report, "at": time.time()})


def is_last(event: StoredEvent) -> bool:
    """True for a batch's last event: its final status."""
    if event.kind != "status":
        return False
    try:
        status = json.loads(event.data).get("status")
    except (ValueError, AttributeError):
        return False
    return status in (BatchStatus.SUCCEEDED.value, BatchStatus.CANCELLED.value)


class BatchEvents:
    """Reads batches' streams (on the client given: the API's event streams read through a pool of their own)."""

    def __init__(self, client: redis.asyncio.Redis, settings: ServiceSettings) -> None:
        self.redis = client
        self.keys = Keys(settings.key_prefix)

    async def read(self, batch_id: str, after: str, *, count: int = 100, block: float | None = None
                   ) -> list[StoredEvent]:
        """Events after the stream id ``after`` ('0-0' for all); with ``block`` wait up to that many seconds."""
        return await read_events(self.redis, self.keys.batch_events(batch_id), after, count=count, block=block)

    async def ended(self, batch_id: str) -> bool:
        """True when the batch is no longer running (or is gone): its stream will not grow."""
        status = await self.redis.hget(self.keys.batch(batch_id), "status")
        return status is None or text(status) != BatchStatus.RUNNING.value

