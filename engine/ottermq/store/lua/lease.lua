--[[
  lease: lease up to N ready units of one shard from a list of queues, in one call.
  Due delayed units are promoted first and up to 16 expired leases are reaped on the way,
  so a shard that is leased from never depends on a separate loop to make progress.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   max units to lease
  ARGV[9]   lease token (random; fences every later extend/ack/fail of these units)
  ARGV[10]  lease duration, ms ('' = each task's timeout_ms, else the default lease)
  ARGV[11]  worker id
  ARGV[12]  number of queues Q, then Q queue names, in order of preference; a composite
            queue expands to its members (strict: in order; weighted: smooth weighted round robin)

  Returns   {hint, unit, unit, ...}; hint = the earliest time (ms) at which more work may become
            leasable here (next due delayed unit, end of a rate-limit window), '' if none known.
            unit = {unit id, run id, task, item ('' unless a fan-out item), attempt, token,
                    deadline ms, queue, expand (1 = fan-out task to expand), pipeline,
                    plan version, plan hash, input (nil = none stored), run params (JSON),
                    needs: {task, output JSON, ...} (fan-out upstream: the JSON array of item outputs)}
  Emits     task.leased per unit, run.started, task.promoted, and what reaping emits
            (task.expired, task.retry, task.dead, run.failed, ...)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local want = tonumber(ARGV[8])
local token = ARGV[9]
local lease_override = tonumber(ARGV[10])
local worker = ARGV[11]
local out = {''}
local hint = nil
local function note(t)
  if t and (not hint or t < hint) then hint = t end
end

reap_expired(16)

local OUTS = {}
local function task_output(rid, m, name)
  local key = rid .. '|' .. name
  local o = OUTS[key]
  if o == nil then
    local rk = K.run(rid)
    if bp_task(m.bp, name).fo then
      local n = rcall('HGET', rk, 'n:' .. name)
      if n then
        local fields = {}
        for i = 0, tonumber(n) - 1 do fields[i + 1] = name .. '|' .. i .. '|out' end
        local parts = {}
        for i = 1, #fields, 1000 do
          local got = rcall('HMGET', rk, unpack(fields, i, math.min(i + 999, #fields)))
          for j = 1, #got do parts[#parts + 1] = got[j] or 'null' end
        end
        o = '[' .. table.concat(parts, ',') .. ']'
      end
    else
      o = rcall('HGET', rk, name .. '|out')
    end
    o = o or 'null'
    OUTS[key] = o
  end
  return o
end

-- Everything a leased task carries about its run is read with its first unit and kept
-- for the call; the run starts (pending -> running) with its first lease.
local INFO = {}
local function lease_unit(uid, q)
  local rid, us = split_unit(uid)
  local rk = K.run(rid)
  local m = INFO[rid]
  local v
  local started = {}
  if m == nil then
    v = rcall('HMGET', rk, us .. '|a', us .. '|in', 'bp', 'prio', 'params', 'state')
    if not v[3] then return nil end
    local meta = bp_meta(v[3])
    m = {id = rid, bp = v[3], prio = v[4] or '', params = v[5], pipeline = meta.pipeline, ver = meta.ver,
      hash = meta.hash}
    INFO[rid] = m
    RUNS[rid] = m
    if v[6] == 'pending' then
      started = {'state', 'running', 'started', NOW_S}
      emit('run.started', rid)
    end
  else
    v = rcall('HMGET', rk, us .. '|a', us .. '|in')
  end
  local tname, item = unit_task(us)
  local t = bp_task(m.bp, tname)
  local att = tonumber(v[1]) + 1
  local deadline = fmt(NOW + (lease_override or t.to or LEASE_MS))
  local fields = unit_fields(us, {'st', 'running', 'a', att, 'tok', token, 'dl', deadline, 'w', worker})
  for _, x in ipairs(started) do fields[#fields + 1] = x end
  rcall('HSET', rk, unpack(fields))
  zset_put(K.inflight, uid, deadline)
  count(q, 'inflight', 1)
  local needs = {}
  for _, need in ipairs(t.nd) do
    needs[#needs + 1] = need
    needs[#needs + 1] = task_output(rid, m, need)
  end
  emit('task.leased', rid, uid, q, '"a":' .. att)
  local expand = 0
  if t.fo and item == '' then expand = 1 end
  return {uid, rid, tname, item, att, token, deadline, q, expand, m.pipeline, m.ver, m.hash,
    v[2] or false, m.params, needs}
end

local RATE = {}
local function rate_state(q)
  local r = RATE[q]
  if r == nil then
    local v = rcall('HMGET', K.queue_state(q), 'rw', 'rc')
    r = {start = tonumber(v[1] or '0'), used = tonumber(v[2] or '0')}
    RATE[q] = r
  end
  return r
end

-- How many units q's concurrency and rate limits allow now (at most n).
local function room(q, cfg, n)
  if cfg.conc then
    local used = tonumber(rcall('HGET', K.queue_state(q), 'inflight') or '0') + pending_count(q, 'inflight')
    if cfg.conc - used < n then n = cfg.conc - used end
  end
  if cfg.rc and n > 0 then
    local r = rate_state(q)
    if NOW >= r.start + cfg.rw then r.start = NOW; r.used = 0 end
    local free = cfg.rc - r.used
    if free < n then
      n = free
      if free <= 0 and rcall('ZCARD', K.queue_ready(q)) > 0 then note(r.start + cfg.rw) end
    end
  end
  return n
end

local function take(q, n)
  local cfg = qcfg(q)
  if not cfg or cfg.kind == 'composite' or n <= 0 then return 0 end
  note(promote(q, 1000))
  local k = room(q, cfg, n)
  if k <= 0 then return 0 end
  local popped = rcall('ZPOPMIN', K.queue_ready(q), k)
  local got = 0
  for j = 1, #popped, 2 do
    local unit = lease_unit(popped[j], q)
    if unit then
      out[#out + 1] = unit
      got = got + 1
    end
  end
  if cfg.rc and #popped > 0 then
    local r = rate_state(q)
    r.used = r.used + #popped / 2
    rcall('HSET', K.queue_state(q), 'rw', fmt(r.start), 'rc', r.used)
  end
  return got
end

-- Smooth weighted round robin over the members that have work; the current weights
-- persist in the composite's state hash so proportions hold across calls.
local function take_weighted(name, cfg, n)
  local members, weights = cfg.members, cfg.weights
  local skey = K.queue_state(name)
  local raw = rcall('HGET', skey, 'cw')
  local cw = raw and cjson.decode(raw) or {}
  local open = {}
  for j = 1, #members do
    cw[j] = cw[j] or 0
    open[j] = true
  end
  local got = 0
  while got < n do
    local best, total = nil, 0
    for j = 1, #members do
      if open[j] then
        total = total + weights[j]
        if not best or cw[j] + weights[j] > cw[best] + weights[best] then best = j end
      end
    end
    if not best then break end
    if take(members[best], 1) == 0 then
      open[best] = false
    else
      for j = 1, #members do
        if open[j] then cw[j] = cw[j] + weights[j] end
      end
      cw[best] = cw[best] - total
      got = got + 1
    end
  end
  rcall('HSET', skey, 'cw', cjson.encode(cw))
  return got
end

local got = 0
local nqueues = tonumber(ARGV[12])
for j = 1, nqueues do
  if got >= want then break end
  local name = ARGV[12 + j]
  local cfg = qcfg(name)
  if cfg and cfg.kind == 'composite' then
    if cfg.strategy == 'weighted' then
      got = got + take_weighted(name, cfg, want - got)
    else
      for _, member in ipairs(cfg.members) do
        got = got + take(member, want - got)
      end
    end
  else
    got = got + take(name, want - got)
  end
end
if hint then out[1] = fmt(hint) end
commit()
return out
