"""The Lua scripts behind every job and batch transition, so each is atomic whoever runs it (API, worker or a
sweeper in any process).

A job's life: ``queued`` -> (CLAIM) ``running`` -> (FINISH) ``succeeded | failed | cancelled``; a sweeper may
send a running job whose heartbeat stopped back to ``queued`` (REQUEUE). Every transition appends a ``status``
event to the job's stream, so a client following the stream sees all of them; a batch's job also appends one to
its batch's stream (workers.batch_events). Creating files a job or batch in its owner's index, under the next
number of the owner's sequence (workers.listing). An ended job may be removed
(REMOVE_JOB), a finished batch with its jobs (REMOVE_BATCH). Creating, ending and removing keep the owner's storage
quota counted (workers.quota).
"""

from __future__ import annotations

from workers.batch_events import BATCH_EVENT_LUA
from workers.quota import QUOTA_LUA

__all__ = ["ADVANCE", "CANCEL", "CLAIM", "CREATE_BATCH", "CREATE_JOB", "FINISH", "HEARTBEAT", "RATE", "REMOVE_BATCH",
           "REMOVE_JOB", "REQUEUE", "RESEND"]

# KEYS: job, events, queued, owner_active, stats.
# ARGV: id, owner, spec, now, cap (0: none), maxlen, key prefix, max stored jobs, max stored bytes (0: none).
# Returns {'ok', id of the "queued" event}, {'cap', ''} when the owner's cap on active jobs is reached, or
# {'jobs' | 'bytes', seconds until one of its stored jobs expires} when its storage quota is.
CREATE_JOB = QUOTA_LUA + """
local now = tonumber(ARGV[4])
local stored, sizes, total, batches = owner_keys(ARGV[7], ARGV[2])
trim(stored, sizes, total, batches, now)
local cap = tonumber(ARGV[5])
if cap > 0 and redis.call('SCARD', KEYS[4]) >= cap then return {'cap', ''} end
local over = full(stored, total, batches, 1, #ARGV[3], 0, tonumber(ARGV[8]), tonumber(ARGV[9]), 0, now)
if over then return over end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'status', 'queued', 'spec', ARGV[3],
           'created', ARGV[4], 'queued_at', ARGV[4], 'runs', 0)
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'jobs_submitted', 1)
local owner_key = ARGV[7] .. ':owner:' .. ARGV[2]
redis.call('ZADD', owner_key .. ':job_index', redis.call('INCR', owner_key .. ':seq'), ARGV[1])
local event = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'kind', 'status',
                         'data', cjson.encode({kind='status', status='queued', at=now}))
account(stored, sizes, total, ARGV[1], 'inf', usage(KEYS[1]) + usage(KEYS[2]))
return {'ok', event}
"""

# KEYS: batch, batch jobs, batch pending, batches active, owner's batches, stats.
# ARGV: batch id, owner, batch spec, now, concurrency, cap on running batches (0: none), max stored jobs, bytes and
#       batches (0: none), key prefix, then each job's id and spec.
# Stores the batch and its jobs (queued, not sent: ADVANCE sends them). Returns {'ok', ''}, {'cap', ''}, or
# {'jobs' | 'bytes' | 'batches', seconds until a stored one expires} when the owner's storage quota is reached.
CREATE_BATCH = QUOTA_LUA + """
local now = tonumber(ARGV[4])
local owner, prefix = ARGV[2], ARGV[10]
local stored, sizes, total, batches = owner_keys(prefix, owner)
trim(stored, sizes, total, batches, now)
local cap = tonumber(ARGV[6])
if cap > 0 and redis.call('SCARD', KEYS[5]) >= cap then return {'cap', ''} end
local n, bytes = 0, 0
for i = 11, #ARGV, 2 do
  n = n + 1
  bytes = bytes + #ARGV[i + 1]
end
local over = full(stored, total, batches, n, bytes, 1, tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), now)
if over then return over end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', owner, 'status', 'running', 'spec', ARGV[3], 'total', n,
           'done', 0, 'inflight', 0, 'concurrency', ARGV[5], 'created', ARGV[4])
local queued = cjson.encode({kind='status', status='queued', at=now})
for i = 11, #ARGV, 2 do
  local id = ARGV[i]
  local job, events = prefix .. ':job:' .. id, prefix .. ':job:' .. id .. ':events'
  redis.call('HSET', job, 'id', id, 'owner', owner, 'status', 'queued', 'spec', ARGV[i + 1], 'batch', ARGV[1],
             'created', ARGV[4], 'runs', 0)
  redis.call('XADD', events, '*', 'kind', 'status', 'data', queued)
  redis.call('RPUSH', KEYS[2], id)
  redis.call('RPUSH', KEYS[3], id)
  account(stored, sizes, total, id, 'inf', usage(job) + usage(events))
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('ZADD', batches, 'inf', ARGV[1])
redis.call('HINCRBY', KEYS[6], 'jobs_submitted', n)
redis.call('HINCRBY', KEYS[6], 'batches_submitted', 1)
-- The batch takes the next number, its jobs the ones after, in problem order (workers.listing).
local owner_key = prefix .. ':owner:' .. owner
local last = redis.call('INCRBY', owner_key .. ':seq', n + 1)
local first = last - n
redis.call('ZADD', owner_key .. ':batch_index', first, ARGV[1])
for i = 11, #ARGV, 2 do
  redis.call('ZADD', owner_key .. ':job_index', first + (i - 9) / 2, ARGV[i])
end
redis.call('HSET', KEYS[1], 'seq', last)
redis.call('XADD', KEYS[1] .. ':events', '*', 'kind', 'status',
           'data', cjson.encode({kind='status', status='running', done=0, total=n, at=now}))
return {'ok', ''}
"""

# KEYS: job, events. ARGV: id, key prefix. Removes an ended job that belongs to no batch, and its events.
# Returns 'removed', 'missing', 'active' (queued or running) or the id of the batch it belongs to.
REMOVE_JOB = QUOTA_LUA + """
local h = redis.call('HMGET', KEYS[1], 'status', 'owner', 'batch')
if not h[1] then return 'missing' end
if h[1] == 'queued' or h[1] == 'running' then return 'active' end
if h[3] and h[3] ~= '' then return h[3] end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', ARGV[2] .. ':owner:' .. (h[2] or '') .. ':job_index', ARGV[1])
local stored, sizes, total = owner_keys(ARGV[2], h[2] or '')
unaccount(stored, sizes, total, ARGV[1])
return 'removed'
"""

# KEYS: batch, batch jobs, batch pending, batch lock. ARGV: batch id, key prefix. Removes a batch that is no longer
# running, with its jobs and their events. Returns 'removed', 'missing' or 'active'.
REMOVE_BATCH = QUOTA_LUA + """
local b = redis.call('HMGET', KEYS[1], 'status', 'owner')
if not b[1] then return 'missing' end
if b[1] == 'running' then return 'active' end
local stored, sizes, total, batches = owner_keys(ARGV[2], b[2] or '')
local owner_key = ARGV[2] .. ':owner:' .. (b[2] or '')
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  redis.call('DEL', ARGV[2] .. ':job:' .. id, ARGV[2] .. ':job:' .. id .. ':events')
  redis.call('ZREM', owner_key .. ':job_index', id)
  unaccount(stored, sizes, total, id)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[1] .. ':events')
redis.call('ZREM', batches, ARGV[1])
redis.call('ZREM', owner_key .. ':batch_index', ARGV[1])
return 'removed'
"""

# KEYS: job, events, queued, running. ARGV: id, worker, now, maxlen.
# Returns the run number (1 for the first run), or 0 when the job is not queued (a duplicate message).
CLAIM = BATCH_EVENT_LUA + """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local run = redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2], 'heartbeat', ARGV[3])
redis.call('HSETNX', KEYS[1], 'started', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'kind', 'status',
           'data', cjson.encode({kind='status', status='running', run=run, worker=ARGV[2], at=tonumber(ARGV[3])}))
local batch = redis.call('HGET', KEYS[1], 'batch')
if batch and batch ~= '' then
  job_event(prefix_of(KEYS[1], ARGV[1]), batch, KEYS[1], ARGV[1], {status='running', run=run, at=tonumber(ARGV[3])})
end
return run
"""

# KEYS: job, running. ARGV: id, run, now. Returns 'ok', 'cancel' (stop: cancellation asked) or 'lost' (stop:
# the job is no longer this run's, e.g. a sweeper gave it to another worker).
HEARTBEAT = """
local h = redis.call('HMGET', KEYS[1], 'status', 'runs', 'cancel')
if h[1] ~= 'running' or h[2] ~= ARGV[2] then return 'lost' end
redis.call('HSET', KEYS[1], 'heartbeat', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if h[3] == '1' then return 'cancel' end
return 'ok'
"""

# KEYS: job, events, queued, running, stats.
# ARGV: id, expect_status ('' = queued or running), expect_run (''), stale_before ('' = no heartbeat check),
#       status, reason, result JSON (''), now, maxlen, retention seconds, extra event JSON, key prefix.
# Returns nil when the condition does not hold, else {batch id or '', batch jobs done, batch total}.
FINISH = QUOTA_LUA + BATCH_EVENT_LUA + """
local h = redis.call('HMGET', KEYS[1], 'status', 'runs', 'heartbeat', 'batch', 'owner')
local status = h[1]
if status ~= 'queued' and status ~= 'running' then return false end
if ARGV[2] ~= '' and status ~= ARGV[2] then return false end
if ARGV[3] ~= '' and h[2] ~= ARGV[3] then return false end
if ARGV[4] ~= '' and tonumber(h[3] or '0') > tonumber(ARGV[4]) then return false end
local enqueued = status == 'running' or redis.call('ZSCORE', KEYS[3], ARGV[1]) ~= false
redis.call('HSET', KEYS[1], 'status', ARGV[5], 'reason', ARGV[6], 'finished', ARGV[8])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[7]) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local p = ARGV[12]
if h[5] then redis.call('SREM', p .. ':owner:' .. h[5] .. ':active', ARGV[1]) end
redis.call('HINCRBY', KEYS[5], 'jobs_' .. ARGV[5], 1)
local d = cjson.decode(ARGV[11])
d.kind = 'status'
d.status = ARGV[5]
if ARGV[6] ~= '' then d.reason = ARGV[6] end
d.at = tonumber(ARGV[8])
if type(d.verdict) == 'table' then redis.call('HSET', KEYS[1], 'verdict', cjson.encode(d.verdict)) end  -- listings
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'kind', 'status', 'data', cjson.encode(d))
redis.call('EXPIRE', KEYS[1], ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[10])
if h[5] then  -- the owner's quota: the record now expires, at its final size
  local stored, sizes, total = owner_keys(p, h[5])
  if redis.call('ZSCORE', stored, ARGV[1]) then
    account(stored, sizes, total, ARGV[1], tonumber(ARGV[8]) + tonumber(ARGV[10]), usage(KEYS[1]) + usage(KEYS[2]))
  end
end
local batch = h[4] or ''
if batch ~= '' then
  local bk = p .. ':batch:' .. batch
  redis.call('LREM', bk .. ':pending', 0, ARGV[1])
  if enqueued then redis.call('HINCRBY', bk, 'inflight', -1) end
  local done = redis.call('HINCRBY', bk, 'done', 1)
  job_event(p, batch, KEYS[1], ARGV[1], {status=ARGV[5], reason=d.reason, verdict=d.verdict, at=d.at})
  return {batch, done, tonumber(redis.call('HGET', bk, 'total') or '0')}
end
return {'', 0, 0}
"""

# KEYS: job, events, queued, running, stats. ARGV: id, run, stale_before, now, maxlen, reason.
# A running job whose heartbeat is older than stale_before goes back to the queue. Returns 1 if it did.
REQUEUE = BATCH_EVENT_LUA + """
local h = redis.call('HMGET', KEYS[1], 'status', 'runs', 'heartbeat', 'batch')
if h[1] ~= 'running' or h[2] ~= ARGV[2] or tonumber(h[3] or '0') > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'queued_at', ARGV[4], 'worker', '')
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'jobs_requeued', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'kind', 'status',
           'data', cjson.encode({kind='status', status='queued', reason=ARGV[6], at=tonumber(ARGV[4])}))
if h[4] and h[4] ~= '' then
  job_event(prefix_of(KEYS[1], ARGV[1]), h[4], KEYS[1], ARGV[1],
            {status='queued', reason=ARGV[6], at=tonumber(ARGV[4])})
end
return 1
"""

# KEYS: job, queued. ARGV: id, sent_before, now. A queued job whose message was sent before sent_before is
# marked as sent again now. Returns 1 if the caller must send it.
RESEND = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local sent = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not sent or tonumber(sent) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'resends', 1)
return 1
"""

# KEYS: job, events. ARGV: now, maxlen. Marks cancellation as asked; returns the job's status (nil: no job).
CANCEL = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if (status == 'running' or status == 'queued') and redis.call('HGET', KEYS[1], 'cancel') ~= '1' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  if status == 'running' then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'kind', 'status', 'data',
               cjson.encode({kind='status', status='running', cancel_requested=true, at=tonumber(ARGV[1])}))
  end
end
return status
"""

# KEYS: batch, pending, queued. ARGV: now, key prefix. Sends pending jobs to the queue while fewer than the
# batch's concurrency are in flight; returns the ids the caller must send.
ADVANCE = """
local b = redis.call('HMGET', KEYS[1], 'status', 'concurrency', 'inflight', 'cancel')
if b[1] ~= 'running' or b[4] == '1' then return {} end
local free = tonumber(b[2]) - tonumber(b[3] or '0')
local out = {}
while free > 0 do
  local id = redis.call('LPOP', KEYS[2])
  if not id then break end
  local jk = ARGV[2] .. ':job:' .. id
  if redis.call('HGET', jk, 'status') == 'queued' then
    redis.call('HSET', jk, 'queued_at', ARGV[1])
    redis.call('ZADD', KEYS[3], ARGV[1], id)
    redis.call('HINCRBY', KEYS[1], 'inflight', 1)
    free = free - 1
    table.insert(out, id)
  end
end
return out
"""

# KEYS: the key's theoretical arrival time. ARGV: limit, window seconds. GCRA (a token bucket kept as one
# timestamp): a burst of `limit` requests, then one every window/limit seconds; a fixed window would let
# 2 x limit through around each boundary. Redis's clock, so every API process judges alike. Returns nil when the
# request may go, else the seconds to wait (a string: Lua numbers come back to Redis clients as integers).
RATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local window = tonumber(ARGV[2])
local interval = window / tonumber(ARGV[1])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local allowed_at = tat + interval - window
if now < allowed_at then return tostring(allowed_at - now) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil((tat + interval - now) * 1000) + 1)
return false
"""
