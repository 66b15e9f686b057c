//! The Lua scripts that make each state transition atomic.
//!
//! Redis runs a script to the end before it serves another command, so a
//! transition written as one script is all-or-nothing and never interleaves
//! with another worker's. Every key a script touches carries the queue's hash
//! tag (the pending list is the bare tag text), so on Redis Cluster they all
//! live in one slot. Keys known in advance are passed in `KEYS`; keys that
//! depend on data found inside the script (a dead worker's processing list, an
//! evicted result) are built from a prefix that starts with the same tag.
//! `docs/PROTOCOL.md` explains each script; the comments here say only why
//! the code has its shape.

use std::sync::LazyLock;

use redis::Script;

/// Stores a result record with its TTL and keeps the index within the cap.
/// Prepended to the scripts that finish tasks.
const STORE_RESULT: &str = r"
local function store_result(index, prefix, id, record, ttl, cap)
  if ttl <= 0 or cap <= 0 or id == '' then return end
  redis.call('SET', prefix .. id, record, 'PX', ttl)
  redis.call('LPUSH', index, id)
  -- The index outlives no result: once every record has expired it goes too.
  redis.call('PEXPIRE', index, ttl)
  local excess = redis.call('LLEN', index) - cap
  for _ = 1, excess do
    redis.call('DEL', prefix .. redis.call('RPOP', index))
  end
end
";

/// Pushes a dead-letter entry, trims the list to its cap, and counts what
/// the trim dropped in the stats hash. Returns how many entries went.
/// Prepended to the scripts that dead-letter.
const PUSH_DEAD: &str = r"
local function push_dead(dead, stats, entries, cap)
  for _, entry in ipairs(entries) do redis.call('LPUSH', dead, entry) end
  local over = redis.call('LLEN', dead) - cap
  if over <= 0 then return 0 end
  redis.call('LTRIM', dead, 0, cap - 1)
  redis.call('HINCRBY', stats, 'dead_trimmed', over)
  return over
end
";

/// KEYS: heartbeat, workers, worker info. ARGV: worker, now, ttl in ms, the
/// queues it serves ('' if not said), its concurrency (0 if not said).
/// Returns {whether the heartbeat key was there, when a reaper took this
/// worker for dead (ms) or nil}.
pub(crate) static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'ttl', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'serves', ARGV[4], 'concurrency', ARGV[5]) end
redis.call('HDEL', KEYS[3], 'missing_since')
-- A reaped worker's record expires; a live one's must not.
redis.call('PERSIST', KEYS[3])
return {existed, redis.call('HGET', KEYS[3], 'reaped')}
",
    )
});

/// KEYS: pending, processing, workers. ARGV: worker, max, byte budget.
/// Registers the worker before it can own anything, then moves up to `max`
/// tasks from the right (oldest) end of pending to the left of processing,
/// stopping early once the payloads moved reach the byte budget.
pub(crate) static FETCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SADD', KEYS[3], ARGV[1])
local out, bytes, budget = {}, 0, tonumber(ARGV[3])
for i = 1, tonumber(ARGV[2]) do
  local task = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not task then break end
  out[i] = task
  bytes = bytes + #task
  if bytes >= budget then break end
end
return out
",
    )
});

/// KEYS: processing, results, stats, reaped, worker info.
/// ARGV: result prefix, ttl in ms, cap, done prefix, then (payload, id, record)…
/// Returns one flag per task: 1 acknowledged; 0 not held, and a reaper took
/// this worker for dead; 2 not held, and no reaper did.
pub(crate) static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{STORE_RESULT}{}",
        r"
local prefix, ttl, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local check_reaped = redis.call('EXISTS', KEYS[4]) == 1
local flags, done, not_held = {}, 0, nil
for i = 5, #ARGV, 3 do
  -- Scan from the tail: the oldest tasks, the ones most likely done, are there.
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    done = done + 1
    flags[#flags + 1] = 1
    if check_reaped then redis.call('HDEL', KEYS[4], redis.sha1hex(ARGV[i])) end
    store_result(KEYS[2], prefix, ARGV[i + 1], ARGV[i + 2], ttl, cap)
  else
    if not not_held then
      not_held = redis.call('HEXISTS', KEYS[5], 'reaped') == 1 and 0 or 2
    end
    flags[#flags + 1] = not_held
  end
end
if done > 0 then
  redis.call('HINCRBY', KEYS[3], 'done', done)
  local second = ARGV[4] .. redis.call('TIME')[1]
  redis.call('INCRBY', second, done)
  redis.call('EXPIRE', second, 120)
end
return flags
"
    ))
});

/// KEYS: processing, delayed, dead, stats, reaped, results, worker info.
/// ARGV: payload, 'retry' | 'dead', due, new envelope | dead entry, dead cap,
/// result prefix, id ('' for no record), record, ttl in ms, cap.
/// Returns {0, 1 if a reaper took this worker for dead} when the worker no
/// longer held the task, {1, 0} retried, {2, dead-letter entries trimmed}.
pub(crate) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{STORE_RESULT}{PUSH_DEAD}{}",
        r"
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return {0, redis.call('HEXISTS', KEYS[7], 'reaped')}
end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HDEL', KEYS[5], redis.sha1hex(ARGV[1])) end
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  redis.call('HINCRBY', KEYS[4], 'retried', 1)
  return {1, 0}
end
local trimmed = push_dead(KEYS[3], KEYS[4], {ARGV[4]}, tonumber(ARGV[5]))
redis.call('HINCRBY', KEYS[4], 'dead', 1)
store_result(KEYS[6], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]))
return {2, trimmed}
"
    ))
});

/// KEYS: delayed, pending. ARGV: now, limit.
/// Returns {moved, score of the next due task or nil}.
pub(crate) static PROMOTE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then
  -- LPUSH of a, b, c leaves a nearest the right end, so the earliest due runs first.
  redis.call('LPUSH', KEYS[2], unpack(due))
  redis.call('ZREM', KEYS[1], unpack(due))
end
local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, next_due[2]}
",
    )
});

/// KEYS: workers, pending, reaped, dead, stats.
/// ARGV: processing prefix, heartbeat prefix, max reaps (0 = no limit), now,
/// dead cap, worker info prefix, the caller's heartbeat TTL in ms (for a
/// worker whose own is not known). Returns {returned, dead, trimmed}.
pub(crate) static REAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{PUSH_DEAD}{}",
        r"
local limit = tonumber(ARGV[3])
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local returned, buried, poison = 0, 0, {}
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local info = ARGV[6] .. worker
  local dead = false
  if redis.call('EXISTS', ARGV[2] .. worker) == 1 then
    redis.call('HDEL', info, 'missing_since')
  else
    -- One missing heartbeat is not death: the key may have been flushed or
    -- evicted under a live worker, whose next beat puts it back. Dead is
    -- still missing a whole heartbeat TTL after the first look.
    local since = tonumber(redis.call('HGET', info, 'missing_since'))
    if not since then
      redis.call('HSET', info, 'missing_since', now_ms)
    else
      local ttl = tonumber(redis.call('HGET', info, 'ttl')) or tonumber(ARGV[7])
      dead = now_ms - since >= ttl
    end
  end
  if dead then
    local processing = ARGV[1] .. worker
    while true do
      -- Newest first, each pushed to the right end: the oldest ends rightmost
      -- and is taken next, ahead of tasks that were never started.
      local task = redis.call('LPOP', processing)
      if not task then break end
      local digest = redis.sha1hex(task)
      local times = redis.call('HINCRBY', KEYS[3], digest, 1)
      if limit > 0 and times > limit then
        redis.call('HDEL', KEYS[3], digest)
        local entry = {id = digest, kind = 'poison', worker = worker, died_at = tonumber(ARGV[4]),
          payload_size = #task,
          error = 'the task was in flight on ' .. times .. ' workers that stopped without finishing it; ' ..
                  'it is held here as the likely cause'}
        -- The payload may not be UTF-8, which JSON cannot hold as text.
        entry.payload_hex = (task:gsub('.', function(c) return string.format('%02x', string.byte(c)) end))
        local ok, decoded = pcall(cjson.decode, task)
        if ok and type(decoded) == 'table' then
          if type(decoded.id) == 'string' then entry.id = decoded.id end
          if type(decoded.task) == 'string' then entry.task = decoded.task end
          if type(decoded.attempts) == 'number' then entry.attempts = decoded.attempts end
        end
        poison[#poison + 1] = cjson.encode(entry)
        buried = buried + 1
      else
        redis.call('RPUSH', KEYS[2], task)
        returned = returned + 1
      end
    end
    redis.call('SREM', KEYS[1], worker)
    -- Kept a day, so a worker that was only silent learns what happened.
    redis.call('HDEL', info, 'missing_since')
    redis.call('HSET', info, 'reaped', now_ms)
    redis.call('PEXPIRE', info, 86400000)
  end
end
local trimmed = 0
if buried > 0 then
  trimmed = push_dead(KEYS[4], KEYS[5], poison, tonumber(ARGV[5]))
  redis.call('HINCRBY', KEYS[5], 'dead', buried)
end
if returned > 0 then redis.call('HINCRBY', KEYS[5], 'reaped', returned) end
return {returned, buried, trimmed}
"
    ))
});

/// KEYS: processing, pending. ARGV: payloads, oldest first.
/// Puts back at the front of pending those this worker still holds.
pub(crate) static RETURN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
-- Newest first onto the right end, so the oldest is taken first again.
for i = #ARGV, 1, -1 do
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
",
    )
});

/// KEYS: processing, pending. ARGV: the payloads the worker knows it holds.
/// Returns the rest of its processing list to pending.
pub(crate) static RECOVER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = {}
for _, task in ipairs(ARGV) do held[task] = (held[task] or 0) + 1 end
local n = 0
for _, task in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if (held[task] or 0) > 0 then
    held[task] = held[task] - 1
  else
    redis.call('LREM', KEYS[1], 1, task)
    redis.call('RPUSH', KEYS[2], task)
    n = n + 1
  end
end
return n
",
    )
});

/// KEYS: processing, pending, heartbeat, workers, worker info. ARGV: worker.
/// A worker's last act: everything it still holds goes back, then it leaves.
pub(crate) static RETIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
redis.call('DEL', KEYS[3], KEYS[5])
redis.call('SREM', KEYS[4], ARGV[1])
return n
",
    )
});

/// KEYS: dead, pending. ARGV: (entry, payload)…
/// Each entry still in the list is removed and its payload queued again.
pub(crate) static DEAD_RETRY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[i + 1])
    n = n + 1
  end
end
return n
",
    )
});

/// KEYS: dead. Returns how many entries were dropped.
pub(crate) static DEAD_PURGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
",
    )
});

/// KEYS: pending, delayed, dead, workers, stats, results.
/// ARGV: processing prefix, heartbeat prefix, done prefix, window in seconds,
/// worker info prefix.
/// One snapshot, so the counts add up.
pub(crate) static STATUS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local names, lengths, ttls, serves, sizes = {}, {}, {}, {}, {}
for i, worker in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  names[i] = worker
  lengths[i] = redis.call('LLEN', ARGV[1] .. worker)
  ttls[i] = redis.call('PTTL', ARGV[2] .. worker)
  serves[i] = redis.call('HGET', ARGV[5] .. worker, 'serves') or ''
  sizes[i] = tonumber(redis.call('HGET', ARGV[5] .. worker, 'concurrency')) or 0
end
local now = tonumber(redis.call('TIME')[1])
local recent = 0
for second = now - tonumber(ARGV[4]) + 1, now do
  recent = recent + (tonumber(redis.call('GET', ARGV[3] .. second)) or 0)
end
return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3]),
        redis.call('LLEN', KEYS[6]), redis.call('HGETALL', KEYS[5]), names, lengths, ttls, recent, serves, sizes}
",
    )
});

/// KEYS: schedules, pending. ARGV: name, tick (ms), 'on-time' | 'late',
/// 'run-once' | 'skip', envelope, next tick (ms, or ''), spec, task.
/// Returns 0 if the tick (or a later one) was claimed before, 1 if this
/// call claimed it and enqueued, 2 if it claimed it and only recorded it.
pub(crate) static CLAIM_TICK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local state = raw and cjson.decode(raw) or nil
local tick = tonumber(ARGV[2])
if state and tonumber(state.last) and tonumber(state.last) >= tick then return 0 end
-- A late tick of a schedule never claimed before missed nothing: record it.
local enqueue = ARGV[3] == 'on-time' or (state ~= nil and ARGV[4] == 'run-once')
if enqueue then redis.call('LPUSH', KEYS[2], ARGV[5]) end
local enqueued = cjson.null
if enqueue then enqueued = tick elseif state and state.enqueued then enqueued = state.enqueued end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({last = tick, next = tonumber(ARGV[6]) or cjson.null,
  enqueued = enqueued, spec = ARGV[7], task = ARGV[8]}))
if enqueue then return 1 end
return 2
",
    )
});
