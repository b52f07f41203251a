--[[
  lib/dag.lua: the DAG of a run (included after lib/queue.lua).

  Run hash fields per task t: s:t logical state (waiting|active|succeeded|failed|skipped|cancelled),
  w:t needs not yet ended, k:t ended needs that skip t, n:t / d:t / x:t fan-out items
  total / ended / failed. Run-wide: open (tasks not ended), fc (tasks failed under
  on_failure=fail), failed (the first of them), dlq (units of the run in a dead-letter queue).
  Unit fields ("<unit>|<field>") are described in lib/core.lua.

  `pending` arguments are lists of run-hash {field, value, ...} writes that the caller has
  not made yet; they are written together with the next write to the run hash.
]]
local end_logical

-- How long a finished run is kept; nil = until its dead-letter entries are requeued or purged.
local function run_ttl(m, dlq)
  local meta = bp_meta(m.bp)
  local ttl = meta.ret or RETENTION
  if tonumber(dlq or '0') > 0 then
    if meta.dlr < 0 then return nil end
    if meta.dlr > ttl then ttl = meta.dlr end
  end
  return ttl
end

-- A finished (or cancelled) run leaves the active index and starts to expire.
local function retain_run(rid, m, dlq)
  local ttl = run_ttl(m, dlq)
  if ttl then rcall('PEXPIRE', K.run(rid), ttl) else rcall('PERSIST', K.run(rid)) end
  zset_del(K.runs_active, rid)
  zset_put(K.runs_done, rid, ttl and fmt(NOW + ttl) or '+inf')
  TRIM_DONE = true
end

-- `counters` ({fc, dlq}) may be passed by an ack that read them with its unit: nothing an
-- ack does can change them before its run finishes (a drop_oldest eviction can only happen
-- when a child becomes ready, and then the run is not finishing).
local function finish_run(rid, m, pending, counters)
  local rk = K.run(rid)
  local v = counters or rcall('HMGET', rk, 'fc', 'dlq')
  local state = 'succeeded'
  if tonumber(v[1] or '0') > 0 then state = 'failed' end
  pending[#pending + 1] = 'state'
  pending[#pending + 1] = state
  pending[#pending + 1] = 'finished'
  pending[#pending + 1] = NOW_S
  rcall('HSET', rk, unpack(pending))
  emit('run.' .. state, rid)
  retain_run(rid, m, v[2])
end

local function task_priority(m, t)
  if m.prio == nil then m.prio = rcall('HGET', K.run(m.id), 'prio') or '' end
  if m.prio ~= '' then return tonumber(m.prio) end
  return t.pr or 0
end

-- A task whose needs have all ended gets its unit and enters its queue; `extra` are run
-- fields to write in the same HSET (create_runs passes the whole new run).
local function make_ready(rid, m, tname, input, extra)
  local t = bp_task(m.bp, tname)
  local uid = K.unit_id(rid, tname)
  local prio = task_priority(m, t)
  local fields = {'a', 0, 'pr', prio}
  if input then
    fields[#fields + 1] = 'in'
    fields[#fields + 1] = input
  end
  extra = extra or {}
  extra[#extra + 1] = 's:' .. tname
  extra[#extra + 1] = 'active'
  local st = enqueue(uid, t.q, prio, t.dl or 0, fields, extra)
  emit('task.' .. st, rid, uid, t.q)
end

-- Whether a task's ending makes its children skip.
local function skips_children(t, outcome)
  return outcome == 'skipped' or (outcome == 'failed' and t.of ~= 'continue')
end

-- A task ended (succeeded, failed or skipped): count it down in every child (w: needs not
-- ended, k: ended needs that skip), make ready or skip the waiting children it completes,
-- and finish the run when nothing is left. A unit ends once (its state guards it), so an
-- edge fires once; a DLQ requeue undoes an ending before the task can end again.
end_logical = function(rid, m, tname, outcome, pending, counters)
  local rk = K.run(rid)
  local t = bp_task(m.bp, tname)
  if outcome == 'failed' and t.of == 'fail' then
    rcall('HINCRBY', rk, 'fc', 1)
    rcall('HSETNX', rk, 'failed', tname)
  end
  local skip = skips_children(t, outcome)
  for _, child in ipairs(t.ch) do
    local skips = 0
    if skip then skips = rcall('HINCRBY', rk, 'k:' .. child, 1) end
    local waiting = rcall('HINCRBY', rk, 'w:' .. child, -1)
    if waiting == 0 and rcall('HGET', rk, 's:' .. child) == 'waiting' then
      if not skip then skips = tonumber(rcall('HGET', rk, 'k:' .. child) or '0') end
      if skips > 0 then
        emit('task.skipped', rid, K.unit_id(rid, child))
        end_logical(rid, m, child, 'skipped', {})
      else
        make_ready(rid, m, child, nil, nil)
      end
    end
  end
  -- No child reads this task's state, so it is written last (with the run's end, if this was it).
  pending[#pending + 1] = 's:' .. tname
  pending[#pending + 1] = outcome
  if rcall('HINCRBY', rk, 'open', -1) == 0 then
    finish_run(rid, m, pending, counters)
  else
    rcall('HSET', rk, unpack(pending))
  end
end

-- One item of a fanned-out task ended; the task ends with its last item.
local function item_ended(rid, m, tname, ok, pending, counters)
  local rk = K.run(rid)
  if not ok then rcall('HINCRBY', rk, 'x:' .. tname, 1) end
  local done = rcall('HINCRBY', rk, 'd:' .. tname, 1)
  local v = rcall('HMGET', rk, 'n:' .. tname, 'x:' .. tname)
  if done == tonumber(v[1]) then
    end_logical(rid, m, tname, tonumber(v[2] or '0') > 0 and 'failed' or 'succeeded', pending, counters)
  else
    rcall('HSET', rk, unpack(pending))
  end
end

local function unit_ended(rid, m, us, ok, pending, counters)
  local tname, item = unit_task(us)
  if item ~= '' then
    item_ended(rid, m, tname, ok, pending, counters)
  else
    end_logical(rid, m, tname, ok and 'succeeded' or 'failed', pending, counters)
  end
end

-- The unit is out of its queue and out of the in-flight set already.
unit_dead = function(uid, kind, msg)
  local rid, us = split_unit(uid)
  local v = rcall('HMGET', K.run(rid), us .. '|a', us .. '|h', 'bp')
  local m = run_meta(rid, v[3])
  local q = bp_task(m.bp, unit_task(us)).q
  local h = append_history(v[2], {attempt = tonumber(v[1]), kind = kind, error = msg, at = NOW})
  count(q, 'dead', 1)
  local cfg = qcfg(q)
  if cfg.dlq then
    local dkey = K.queue_dead(q)
    rcall('ZADD', dkey, NOW_S, uid)
    rcall('HINCRBY', K.run(rid), 'dlq', 1)
    if cfg.dlr then rcall('ZREMRANGEBYSCORE', dkey, '-inf', '(' .. fmt(NOW - cfg.dlr)) end
  end
  emit('task.dead', rid, uid, q, '"k":' .. cjson.encode(kind))
  unit_ended(rid, m, us, false, unit_fields(us, {'st', 'dead', 'err', msg, 'ek', kind, 'h', h, 'fin', NOW_S}))
end

local function unit_succeeded(uid, q, output, m, counters)
  local rid, us = split_unit(uid)
  release(uid, q)
  count(q, 'processed', 1)
  emit('task.succeeded', rid, uid, q)
  unit_ended(rid, m, us, true, unit_fields(us, {'st', 'succeeded', 'out', output, 'fin', NOW_S}), counters)
end

-- Back to the queue after a failure (the unit is out of the in-flight set already).
local function retry_unit(uid, q, prio, attempt, kind, msg, delay, history)
  local h = append_history(history, {attempt = attempt, kind = kind, error = msg, at = NOW})
  local st = place(uid, q, prio, delay, {'err', msg, 'ek', kind, 'h', h})
  count(q, 'retried', 1)
  emit('task.retry', string.match(uid, '^[^|]+'), uid, q,
    '"a":' .. attempt .. ',"k":' .. cjson.encode(kind) .. ',"st":"' .. st .. '"')
end

-- The backoff formula of ottermq.store.blueprint.retry_delay_ms; the jitter's randomness
-- comes from the (random) lease token, so the script stays deterministic.
local function backoff_ms(t, attempt, token)
  local b = t.bo
  local base
  if b.k == 'fixed' then base = b.i else base = b.i * 2 ^ math.max(attempt - 1, 0) end
  if base > b.m then base = b.m end
  local r = 0
  if b.j > 0 and token then r = (tonumber(string.sub(token, 1, 6), 16) or 0) / 16777216 end
  return math.floor(base * (1 - b.j * r))
end

-- Expired leases: back to the queue with backoff (attempt already counted) or dead-lettered.
local function reap_expired(limit)
  local due = rcall('ZRANGEBYSCORE', K.inflight, '-inf', NOW_S, 'LIMIT', 0, limit)
  if #due > 0 then rcall('ZREM', K.inflight, unpack(due)) end
  for _, uid in ipairs(due) do
    local rid, us = split_unit(uid)
    local v = rcall('HMGET', K.run(rid), us .. '|st', us .. '|a', us .. '|tok', us .. '|pr', us .. '|h', 'bp')
    if v[1] == 'running' then
      local att = tonumber(v[2])
      local t = bp_task(run_meta(rid, v[6]).bp, unit_task(us))
      local q = t.q
      count(q, 'inflight', -1)
      count(q, 'failed', 1)
      if qcfg(q).conc then wake(q) end
      emit('task.expired', rid, uid, q, '"a":' .. att)
      local msg = 'lease expired on attempt ' .. att .. ' (worker lost, or handler past its lease)'
      if att >= t.ma then
        unit_dead(uid, 'lease_expired', msg)
      else
        retry_unit(uid, q, v[4], att, 'lease_expired', msg, backoff_ms(t, att, v[3]), v[5])
      end
    end
  end
  return #due
end
