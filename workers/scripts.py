"""The Lua scripts behind every job and batch transition, so each is atomic whoever runs it (API, worker or a
sweeper in any process).

A job's life: ``queued`` -> (CLAIM) ``running`` -> (FINISH) ``succeeded | failed | cancelled``; a sweeper may
send a running job whose heartbeat stopped back to ``queued`` (REQUEUE). Every transition appends a ``status``
event to the job's stream, so a client following the stream sees all of them.
"""

from __future__ import annotations

__all__ = ["ADVANCE", "CANCEL", "CLAIM", "CREATE_JOB", "FINISH", "HEARTBEAT", "RATE", "REQUEUE", "RESEND"]

# KEYS: job, events, queued, owner_active, stats. ARGV: id, owner, spec, now, cap (0: none), maxlen.
# Returns the id of the "queued" event, or nil when the owner's cap is reached.
CREATE_JOB = """
local cap = tonumber(ARGV[5])
if cap > 0 and redis.call('SCARD', KEYS[4]) >= cap then return false end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'status', 'queued', 'spec', ARGV[3],
           'created', ARGV[4], 'queued_at', ARGV[4], 'runs', 0)
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'jobs_submitted', 1)
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'kind', 'status',
                  'data', cjson.encode({kind='status', status='queued', at=tonumber(ARGV[4])}))
"""

# KEYS: job, events, queued, running. ARGV: id, worker, now, maxlen.
# Returns the run number (1 for the first run), or 0 when the job is not queued (a duplicate message).
CLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local run = redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2], 'heartbeat', ARGV[3])
redis.call('HSETNX', KEYS[1], 'started', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'kind', 'status',
           'data', cjson.encode({kind='status', status='running', run=run, worker=ARGV[2], at=tonumber(ARGV[3])}))
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
FINISH = """
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
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'kind', 'status', 'data', cjson.encode(d))
redis.call('EXPIRE', KEYS[1], ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[10])
local batch = h[4] or ''
if batch ~= '' then
  local bk = p .. ':batch:' .. batch
  redis.call('LREM', bk .. ':pending', 0, ARGV[1])
  if enqueued then redis.call('HINCRBY', bk, 'inflight', -1) end
  local done = redis.call('HINCRBY', bk, 'done', 1)
  return {batch, done, tonumber(redis.call('HGET', bk, 'total') or '0')}
end
return {'', 0, 0}
"""

# KEYS: job, events, queued, running, stats. ARGV: id, run, stale_before, now, maxlen, reason.
# A running job whose heartbeat is older than stale_before goes back to the queue. Returns 1 if it did.
REQUEUE = """
local h = redis.call('HMGET', KEYS[1], 'status', 'runs', 'heartbeat')
if h[1] ~= 'running' or h[2] ~= ARGV[2] or tonumber(h[3] or '0') > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'status', 'queued', 'queued_at', ARGV[4], 'worker', '')
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HINCRBY', KEYS[5], 'jobs_requeued', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'kind', 'status',
           'data', cjson.encode({kind='status', status='queued', reason=ARGV[6], at=tonumber(ARGV[4])}))
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
