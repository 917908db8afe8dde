"""What one API key may keep stored: jobs, bytes and batches, counted in Redis so that every API process sees the
same numbers.

A key's stored jobs are a sorted set (``Keys.owner_stored``) scored by when each record expires: +inf until the
job ends, then the moment its record's TTL (``retention``) runs out. Each job's size (its record and event stream,
as Redis measures them) is kept by id, and their sum beside it. Creating a job or a batch first trims the entries
whose time has passed (their records are gone: Redis expired them), then checks the quota and counts the new jobs,
all in one Lua script; FINISH moves a job's expiry from +inf to its record's and measures its final size; removing a
job or a batch takes it out at once. So the counters follow creation, ending, expiry and removal, whatever process
does each. Batches are counted the same way (``Keys.owner_stored_batches``), by number only: their jobs count as
jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QUOTA_LUA", "StorageQuota"]


@dataclass(frozen=True)
class StorageQuota:
    """The most one key may keep stored; 0: no limit."""

    jobs: int = 0
    bytes: int = 0
    batches: int = 0


# Lua functions the scripts that create, end and remove jobs share. Keys are derived from the owner inside the
# scripts (as FINISH already does for the active set): the service expects one Redis server, not a Cluster.
QUOTA_LUA = """
local function usage(key)
  return redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') or 0
end
local function owner_keys(prefix, owner)
  local o = prefix .. ':owner:' .. owner
  return o .. ':stored', o .. ':sizes', o .. ':bytes', o .. ':stored_batches'
end
local function account(stored, sizes, total, id, expiry, size)
  redis.call('ZADD', stored, expiry, id)
  local old = tonumber(redis.call('HGET', sizes, id) or '0')
  redis.call('HSET', sizes, id, size)
  redis.call('INCRBY', total, size - old)
end
local function unaccount(stored, sizes, total, id)
  redis.call('ZREM', stored, id)
  local size = tonumber(redis.call('HGET', sizes, id) or '0')
  redis.call('HDEL', sizes, id)
  redis.call('DECRBY', total, size)
end
local function trim(stored, sizes, total, batches, now)
  while true do
    local gone = redis.call('ZRANGEBYSCORE', stored, '-inf', now, 'LIMIT', 0, 500)
    if #gone == 0 then break end
    for _, id in ipairs(gone) do unaccount(stored, sizes, total, id) end
  end
  redis.call('ZREMRANGEBYSCORE', batches, '-inf', now)
end
-- Seconds until the first stored entry expires (60 when none has ended yet).
local function retry(zset, now)
  local first = redis.call('ZRANGE', zset, 0, 0, 'WITHSCORES')
  local at = tonumber(first[2] or 'inf')
  if at == nil or at == math.huge then return '60' end
  return tostring(math.max(1, at - now))
end
-- nil when n more jobs of `bytes` bytes fit the quota, else {what is full, seconds to retry after}.
local function full(stored, total, batches, n, bytes, new_batches, max_jobs, max_bytes, max_batches, now)
  if max_jobs > 0 and redis.call('ZCARD', stored) + n > max_jobs then return {'jobs', retry(stored, now)} end
  if max_bytes > 0 and tonumber(redis.call('GET', total) or '0') + bytes > max_bytes then
    return {'bytes', retry(stored, now)}
  end
  if max_batches > 0 and new_batches > 0 and redis.call('ZCARD', batches) + new_batches > max_batches then
    return {'batches', retry(batches, now)}
  end
  return nil
end
"""
