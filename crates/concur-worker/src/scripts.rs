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

/// Stores result records with their TTL and keeps the index within the cap.
/// Prepended to the scripts that finish tasks. `push_results` indexes a
/// batch of stored ids with one `LPUSH` and evicts past the cap with one
/// `LRANGE`, `LTRIM` and `DEL` once the index passes the cap by a sixteenth:
/// a few commands per many tasks instead of several per task, since each
/// `redis.call` costs a script about a microsecond.
const STORE_RESULT: &str = r"
local function push_results(index, prefix, ids, ttl, cap)
  if #ids == 0 then return end
  local n = redis.call('LPUSH', index, unpack(ids))
  -- The index outlives no result: once every record has expired it goes too.
  redis.call('PEXPIRE', index, ttl)
  -- Evict only once past the cap by a sixteenth: one eviction per many
  -- batches rather than one per batch (exact for caps under 16).
  if n <= cap + math.floor(cap / 16) then return end
  local evicted = redis.call('LRANGE', index, cap, -1)
  redis.call('LTRIM', index, 0, cap - 1)
  -- In chunks: unpack has a limit, and a lowered cap can evict many.
  for first = 1, #evicted, 1000 do
    local keys = {}
    for j = first, math.min(first + 999, #evicted) do keys[#keys + 1] = prefix .. evicted[j] end
    redis.call('DEL', unpack(keys))
  end
end
local function store_result(index, prefix, id, record, ttl, cap)
  if ttl <= 0 or cap <= 0 or id == '' then return end
  redis.call('SET', prefix .. id, record, 'PX', ttl)
  push_results(index, prefix, {id}, ttl, cap)
end
";

/// The location index (`{NAME}:where`): a task's id to where it is while
/// it is not pending — `processing:W`, or `delayed:DUE` with the task's
/// score in the delayed set, which finds its member there. Ids are read from the
/// start of an envelope as concur writes it (`{"id":"…"`); a payload
/// written otherwise is not indexed. Prepended to the scripts that move
/// tasks.
const LOCATE: &str = r#"
local function task_id(payload) return string.match(payload, '^{%s*"id"%s*:%s*"([^"\\]+)"') end
local function locate(where, payload, place)
  local id = task_id(payload)
  if id then redis.call('HSET', where, id, place) end
end
local function forget(where, payload)
  local id = task_id(payload)
  if id then redis.call('HDEL', where, id) end
end
"#;

/// Tells the client that enqueued a task that it ended: pushes the task's
/// id onto the reply list named in its envelope (`"reply"`, read only right
/// after `"id"`, where concur writes it, so nothing inside the arguments can
/// pass for it) and renews that list's TTL. A key outside the queue's own
/// hash tag `tag` is ignored: it could be in another slot. `redis.pcall`, so
/// a key of the wrong type never fails the script it is part of. Prepended
/// to the scripts that acknowledge or dead-letter.
fn notify() -> String {
    format!(
        r#"
local function notify(tag, payload, id)
  local key = string.match(payload, '^{{%s*"id"%s*:%s*"[^"\]+"%s*,%s*"reply"%s*:%s*"([^"\]+)"')
  if not key or not id or id == '' or string.sub(key, 1, #tag + 7) ~= tag .. ':reply:' then return end
  redis.pcall('LPUSH', key, id)
  redis.pcall('EXPIRE', key, {})
end
"#,
        crate::keys::REPLY_TTL_SECS
    )
}

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

/// The fetch of a batch, shared by FETCH and ACK_FETCH. Returns {1} when
/// the queue is paused; else registers the worker before it can own
/// anything, then moves up to `max` tasks from the right (oldest) end of
/// pending to the left of processing, stopping early once the payloads
/// moved reach the byte budget, and indexes them: {0, tasks…}.
///
/// The tasks are read in chunks that double from 8 with `LRANGE`, then cut
/// from pending with one `LTRIM` and pushed with one `LPUSH`: a few calls
/// per batch where an `LMOVE` per task cost a call each, and the chunks
/// keep a batch of huge payloads from being read far past the budget.
const FETCH_BATCH: &str = r"
local function fetch_batch(pending, processing, workers, paused, where, worker, max, budget)
  if redis.call('EXISTS', paused) == 1 then return {1} end
  redis.call('SADD', workers, worker)
  local out, bytes, taken, chunk = {0}, 0, 0, 8
  local place = 'processing:' .. worker
  local index = {}
  while taken < max and bytes < budget do
    local want = math.min(chunk, max - taken)
    local got = redis.call('LRANGE', pending, -(taken + want), -(taken + 1))
    for j = #got, 1, -1 do
      taken = taken + 1
      local task = got[j]
      out[taken + 1] = task
      local id = task_id(task)
      if id then
        index[#index + 1] = id
        index[#index + 1] = place
      end
      bytes = bytes + #task
      if bytes >= budget then break end
    end
    if #got < want then break end
    chunk = chunk * 2
  end
  if taken == 0 then return out end
  redis.call('LTRIM', pending, 0, -(taken + 1))
  -- Oldest first: each goes left of the one before, leaving the processing
  -- list in the order one LMOVE RIGHT LEFT per task would.
  redis.call('LPUSH', processing, unpack(out, 2, taken + 1))
  -- One HSET for the batch (at most 1,000 tasks, within unpack's limit).
  if #index > 0 then redis.call('HSET', where, unpack(index)) end
  return out
end
";

/// The acknowledgement of a batch, shared by ACK and ACK_FETCH. `keys`:
/// processing, results, stats, reaped, worker info, where; `args`: result
/// prefix, ttl in ms, cap, done prefix, then (payload, id, record)… from
/// position `first`. Returns one flag per task: 1 acknowledged; 0 not
/// held, and a reaper took this worker for dead; 2 not held, and no reaper
/// did.
const ACK_BATCH: &str = r"
local function bump(key, n, ttl)
  -- A counter is created by its first increment: only then does it need its TTL.
  if redis.call('INCRBY', key, n) == n then redis.call('EXPIRE', key, ttl) end
end
local function ack_batch(keys, args, first)
  local prefix, ttl, cap = args[1], tonumber(args[2]), tonumber(args[3])
  local tag = string.match(keys[1], '^{[^}]*}')
  local keep = ttl > 0 and cap > 0
  local check_reaped = redis.call('EXISTS', keys[4]) == 1
  local flags, done, not_held = {}, 0, nil
  local ids, stored = {}, {}
  -- The oldest tasks, at the right end, are the ones most likely done: the
  -- longest run there made only of acknowledged payloads goes with one
  -- LTRIM; the rest are found with LREM from the tail. Counts, not flags,
  -- since bare payloads such as '5' can be held twice.
  local want = {}
  for i = first, #args, 3 do want[args[i]] = (want[args[i]] or 0) + 1 end
  local tail = redis.call('LRANGE', keys[1], -math.floor((#args - first + 1) / 3), -1)
  local trim, trimmed = 0, {}
  for j = #tail, 1, -1 do
    local left = want[tail[j]]
    if not left or left == 0 then break end
    want[tail[j]] = left - 1
    trimmed[tail[j]] = (trimmed[tail[j]] or 0) + 1
    trim = trim + 1
  end
  if trim > 0 then redis.call('LTRIM', keys[1], 0, -(trim + 1)) end
  for i = first, #args, 3 do
    local held = trimmed[args[i]]
    if held and held > 0 then
      trimmed[args[i]] = held - 1
      held = true
    else
      held = redis.call('LREM', keys[1], -1, args[i]) == 1
    end
    if held then
      done = done + 1
      flags[#flags + 1] = 1
      if check_reaped then redis.call('HDEL', keys[4], redis.sha1hex(args[i])) end
      local id = args[i + 1]
      if id ~= '' then
        ids[#ids + 1] = id
        notify(tag, args[i], id)
        if keep and args[i + 2] ~= '' then
          redis.call('SET', prefix .. id, args[i + 2], 'PX', ttl)
          stored[#stored + 1] = id
        end
      end
    else
      if not not_held then
        not_held = redis.call('HEXISTS', keys[5], 'reaped') == 1 and 0 or 2
      end
      flags[#flags + 1] = not_held
    end
  end
  -- The ids the worker read are the ones the fetch indexed: no parsing here.
  if #ids > 0 then redis.call('HDEL', keys[6], unpack(ids)) end
  push_results(keys[2], prefix, stored, ttl, cap)
  if done > 0 then
    redis.call('HINCRBY', keys[3], 'done', done)
    local now = tonumber(redis.call('TIME')[1])
    -- Per second (two minutes kept), minute (an hour and more) and hour
    -- (thirty days and more): the recent rate and the history.
    bump(args[4] .. now, done, 120)
    bump(args[4] .. 'm:' .. math.floor(now / 60), done, 3900)
    bump(args[4] .. 'h:' .. math.floor(now / 3600), done, 2700000)
  end
  return flags
end
";

/// KEYS: pending, processing, workers, paused, where. ARGV: worker, max,
/// byte budget. See `FETCH_BATCH`.
pub(crate) static FETCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{FETCH_BATCH}{}",
        r"
return fetch_batch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
"
    ))
});

/// KEYS: processing, results, stats, reaped, worker info, where.
/// ARGV: result prefix, ttl in ms, cap, done prefix, then (payload, id, record)….
/// See `ACK_BATCH`.
pub(crate) static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!("{STORE_RESULT}{}{ACK_BATCH}{}", notify(), "\nreturn ack_batch(KEYS, ARGV, 5)\n"))
});

/// An acknowledgement and the next fetch in one round trip: what keeps a
/// worker at concurrency 1 from paying two per task.
/// KEYS: processing, results, stats, reaped, worker info, where, pending,
/// workers, paused. ARGV: worker, most to fetch, byte budget, then ACK's
/// ARGV. Returns {ACK's flags, FETCH's reply}; nothing is fetched (`{0}`)
/// when a task was not held, since the worker must then look before it
/// takes more.
pub(crate) static ACK_FETCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{STORE_RESULT}{LOCATE}{FETCH_BATCH}{}{ACK_BATCH}{}",
        notify(),
        r"
local args = {}
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
local flags = ack_batch(KEYS, args, 5)
for _, flag in ipairs(flags) do
  if flag ~= 1 then return {flags, {0}} end
end
local max = tonumber(ARGV[2])
if max == 0 then return {flags, {0}} end
return {flags, fetch_batch(KEYS[7], KEYS[1], KEYS[8], KEYS[9], KEYS[6], ARGV[1], max, tonumber(ARGV[3]))}
"
    ))
});

/// KEYS: processing, delayed, dead, stats, reaped, results, worker info,
/// where. ARGV: payload, 'retry' | 'dead', due, new envelope | dead entry,
/// dead cap, result prefix, id ('' for no record), record, ttl in ms, cap.
/// Returns {0, 1 if a reaper took this worker for dead} when the worker no
/// longer held the task, {1, 0} retried, {2, dead-letter entries trimmed}.
pub(crate) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{STORE_RESULT}{PUSH_DEAD}{LOCATE}{}{}",
        notify(),
        r"
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  return {0, redis.call('HEXISTS', KEYS[7], 'reaped')}
end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HDEL', KEYS[5], redis.sha1hex(ARGV[1])) end
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  redis.call('HINCRBY', KEYS[4], 'retried', 1)
  locate(KEYS[8], ARGV[4], 'delayed:' .. ARGV[3])
  return {1, 0}
end
forget(KEYS[8], ARGV[1])
local trimmed = push_dead(KEYS[3], KEYS[4], {ARGV[4]}, tonumber(ARGV[5]))
redis.call('HINCRBY', KEYS[4], 'dead', 1)
store_result(KEYS[6], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]))
notify(string.match(KEYS[1], '^{[^}]*}'), ARGV[1], task_id(ARGV[1]))
return {2, trimmed}
"
    ))
});

/// KEYS: delayed, pending, where. ARGV: now, limit.
/// Returns {moved, score of the next due task or nil}.
pub(crate) static PROMOTE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then
  -- LPUSH of a, b, c leaves a nearest the right end, so the earliest due runs first.
  redis.call('LPUSH', KEYS[2], unpack(due))
  redis.call('ZREM', KEYS[1], unpack(due))
  local ids = {}
  for _, task in ipairs(due) do ids[#ids + 1] = task_id(task) end
  if #ids > 0 then redis.call('HDEL', KEYS[3], unpack(ids)) end
end
local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, next_due[2]}
"
    ))
});

/// KEYS: workers, pending, reaped, dead, stats, where.
/// ARGV: processing prefix, heartbeat prefix, max reaps (0 = no limit), now,
/// dead cap, worker info prefix, the caller's heartbeat TTL in ms (for a
/// worker whose own is not known). Returns {returned, dead, trimmed}.
pub(crate) static REAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{PUSH_DEAD}{LOCATE}{}{}",
        notify(),
        r"
local limit = tonumber(ARGV[3])
local tag = string.match(KEYS[1], '^{[^}]*}')
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
      forget(KEYS[6], task)
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
        notify(tag, task, task_id(task))
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

/// KEYS: processing, pending, where. ARGV: payloads, oldest first.
/// Puts back at the front of pending those this worker still holds.
pub(crate) static RETURN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
local n = 0
-- Newest first onto the right end, so the oldest is taken first again.
for i = #ARGV, 1, -1 do
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    forget(KEYS[3], ARGV[i])
    n = n + 1
  end
end
return n
"
    ))
});

/// KEYS: processing, pending, where. ARGV: the payloads the worker knows it
/// holds. Returns the rest of its processing list to pending.
pub(crate) static RECOVER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
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
    forget(KEYS[3], task)
    n = n + 1
  end
end
return n
"
    ))
});

/// KEYS: processing, pending, heartbeat, workers, worker info, where.
/// ARGV: worker. A worker's last act: everything it still holds goes back,
/// then it leaves.
pub(crate) static RETIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
local n = 0
while true do
  local task = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not task then break end
  forget(KEYS[6], task)
  n = n + 1
end
redis.call('DEL', KEYS[3], KEYS[5])
redis.call('SREM', KEYS[4], ARGV[1])
return n
"
    ))
});

/// KEYS: delayed, where. ARGV: due (Unix seconds), then envelopes.
/// Adds the envelopes to the delayed set and indexes them there.
pub(crate) static DELAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  locate(KEYS[2], ARGV[i], 'delayed:' .. ARGV[1])
end
return #ARGV - 1
"
    ))
});

/// KEYS: processing, pending, paused, where. ARGV: worker, task.
/// Run after a blocking fetch moved `task`: when the queue was paused
/// meanwhile it goes back to the oldest end of pending untouched (1);
/// otherwise it is indexed as held (0).
pub(crate) static CLAIMED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
if redis.call('EXISTS', KEYS[3]) == 1 then
  if redis.call('LREM', KEYS[1], 1, ARGV[2]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[2]) end
  return 1
end
locate(KEYS[4], ARGV[2], 'processing:' .. ARGV[1])
return 0
"
    ))
});

/// KEYS: worker info. ARGV: the worker's state (`running`, `quiet`,
/// `stopping`). Records the state of a registered worker and returns what
/// an operator asked of it (`quiet`, `stop`, or nil).
pub(crate) static CONTROL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
return redis.call('HGET', KEYS[1], 'control')
",
    )
});

/// KEYS: workers, worker info. ARGV: worker, 'quiet' | 'stop'.
/// Leaves the request in the record of a registered worker (a stop is
/// never turned back into a quiet); 0 if there is no such worker.
pub(crate) static CONTROL_ASK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[2] == 'quiet' and redis.call('HGET', KEYS[2], 'control') == 'stop' then return 1 end
redis.call('HSET', KEYS[2], 'control', ARGV[2])
return 1
",
    )
});

/// KEYS: the total statistics hash, the names set. ARGV: the prefix of the
/// per-minute hashes, most names, the minute hash's TTL in seconds, then
/// per task name: name, n, then n (field, increment) pairs. A field is
/// stored as `FIELD|NAME`, in the hash of the server's current minute and
/// in the total; a name beyond the cap is counted as `(other)`.
pub(crate) static TASK_STATS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local minute = ARGV[1] .. math.floor(tonumber(redis.call('TIME')[1]) / 60)
local cap, i = tonumber(ARGV[2]), 4
while i <= #ARGV do
  local name, n = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('SISMEMBER', KEYS[2], name) == 0 then
    if redis.call('SCARD', KEYS[2]) < cap then redis.call('SADD', KEYS[2], name) else name = '(other)' end
  end
  for j = i + 2, i + 2 * n, 2 do
    local field = ARGV[j] .. '|' .. name
    redis.call('HINCRBY', minute, field, ARGV[j + 1])
    redis.call('HINCRBY', KEYS[1], field, ARGV[j + 1])
  end
  i = i + 2 + 2 * n
end
redis.call('EXPIRE', minute, ARGV[3])
return 1
",
    )
});

/// ARGV: the prefix of the per-minute statistics hashes, how many minutes.
/// Returns the fields of the last minutes' hashes (by the server's clock)
/// summed, flat: field, count, field, count…
pub(crate) static TASK_STATS_READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local minute = math.floor(tonumber(redis.call('TIME')[1]) / 60)
local sums, order = {}, {}
for m = minute - tonumber(ARGV[2]) + 1, minute do
  local fields = redis.call('HGETALL', ARGV[1] .. m)
  for i = 1, #fields, 2 do
    local f = fields[i]
    if not sums[f] then sums[f] = 0; order[#order + 1] = f end
    sums[f] = sums[f] + tonumber(fields[i + 1])
  end
end
local out = {}
for _, f in ipairs(order) do out[#out + 1] = f; out[#out + 1] = tostring(sums[f]) end
return out
",
    )
});

/// KEYS: delayed, pending, where. ARGV: 'run' | 'delete', then tasks.
/// Each task still delayed is removed; `run` queues it at the oldest end of
/// pending, so it runs next. Returns how many were found.
pub(crate) static DELAYED_TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LOCATE}{}",
        r"
local n = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    if ARGV[1] == 'run' then redis.call('RPUSH', KEYS[2], ARGV[i]) end
    forget(KEYS[3], ARGV[i])
    n = n + 1
  end
end
return n
"
    ))
});

/// KEYS: dead. ARGV: 1 to search from the newest end, -1 from the oldest,
/// then entries. Removes each entry still in the list; returns how many.
pub(crate) static DEAD_DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
for i = 2, #ARGV do n = n + redis.call('LREM', KEYS[1], ARGV[1], ARGV[i]) end
return n
",
    )
});

/// KEYS: dead. ARGV: 1 to read from the newest end, -1 from the oldest; how
/// many entries were already passed from that end; how many to read; then
/// the needles (`"id":"ID"`). Returns how many entries it read, then those
/// of them that contain a needle, raw, from that end on: a sweep for a few
/// ids moves only the candidates over the wire, and the caller checks each
/// (a needle inside a task's own arguments is escaped, so it is rare).
pub(crate) static DEAD_FIND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local passed, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local entries
if ARGV[1] == '1' then
  entries = redis.call('LRANGE', KEYS[1], passed, passed + window - 1)
else
  entries = redis.call('LRANGE', KEYS[1], -(passed + window), -(passed + 1))
end
local found = {#entries}
local first, last, step = 1, #entries, 1
if ARGV[1] ~= '1' then first, last, step = #entries, 1, -1 end
for i = first, last, step do
  local entry = entries[i]
  for n = 4, #ARGV do
    if string.find(entry, ARGV[n], 1, true) then
      found[#found + 1] = entry
      break
    end
  end
end
return found
",
    )
});

/// KEYS: dead, pending. ARGV: 1 to search from the newest end, -1 from
/// the oldest, then (entry, payload)… Each entry still in the list is
/// removed and its payload queued again.
pub(crate) static DEAD_RETRY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], ARGV[1], ARGV[i]) == 1 then
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

/// KEYS: pending, delayed, dead, workers, stats, results, paused.
/// ARGV: processing prefix, heartbeat prefix, done prefix, window in seconds,
/// worker info prefix.
/// One snapshot, so the counts add up. The age of the oldest pending task
/// is read from its envelope's `enqueued_at` (nil when it has none); each
/// worker's heartbeat TTL (0 when its record has none) comes last.
pub(crate) static STATUS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local names, lengths, ttls, serves, sizes, states, beats = {}, {}, {}, {}, {}, {}, {}
for i, worker in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  names[i] = worker
  lengths[i] = redis.call('LLEN', ARGV[1] .. worker)
  ttls[i] = redis.call('PTTL', ARGV[2] .. worker)
  local info = redis.call('HMGET', ARGV[5] .. worker, 'serves', 'concurrency', 'state', 'control', 'ttl')
  serves[i] = info[1] or ''
  sizes[i] = tonumber(info[2]) or 0
  states[i] = (info[3] or '') .. '/' .. (info[4] or '')
  beats[i] = tonumber(info[5]) or 0
end
local time = redis.call('TIME')
local now = tonumber(time[1])
local recent = 0
for second = now - tonumber(ARGV[4]) + 1, now do
  recent = recent + (tonumber(redis.call('GET', ARGV[3] .. second)) or 0)
end
local age = -1
local oldest = redis.call('LINDEX', KEYS[1], -1)
if oldest then
  local at = tonumber(string.match(oldest, '"enqueued_at"%s*:%s*([%d%.eE%+%-]+)'))
  if at then age = math.max(0, math.floor((now + tonumber(time[2]) / 1e6 - at) * 1000)) end
end
return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3]),
        redis.call('LLEN', KEYS[6]), redis.call('HGETALL', KEYS[5]), names, lengths, ttls, recent, serves, sizes,
        states, redis.call('EXISTS', KEYS[7]), age, beats}
"#,
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
