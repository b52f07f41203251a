--[[
  lib/queue.lua: queue partitions of one shard (included after lib/core.lua).

  ready   ZSET unit -> order score: FIFO/delayed = sequence, LIFO = -sequence,
          priority = (levels-1-priority) * 2^40 + sequence (ties in arrival order)
  delayed ZSET unit -> due time (ms)
  state   HASH seq, inflight, rate window (rw) and count (rc), counters
]]
local PRIO_BAND = 1099511627776 -- 2^40: sequences stay below it, scores below 2^53

-- Defined in lib/dag.lua; the overflow policy drop_oldest needs them.
local unit_dead

local function order_score(cfg, prio, seq)
  local kind = cfg.kind
  if kind == 'lifo' then return -seq end
  if kind == 'priority' then
    local top = (cfg.levels or 10) - 1
    local p = tonumber(prio) or 0
    if p < 0 then p = 0 elseif p > top then p = top end
    return (top - p) * PRIO_BAND + seq
  end
  return seq
end

local function queue_size(q)
  return rcall('ZCARD', K.queue_ready(q)) + rcall('ZCARD', K.queue_delayed(q))
end

-- Put a unit in its queue without any size check (new work goes through enqueue()).
-- `fields` (optional) are more unit fields to write in the same HSET; `extra` (optional)
-- are run fields written with them.
local function place(uid, q, prio, delay, fields, extra)
  local cfg = qcfg(q)
  fields = fields or {}
  local st = 'ready'
  if delay and delay > 0 then
    local due = NOW + delay
    rcall('ZADD', K.queue_delayed(q), fmt(due), uid)
    st = 'delayed'
    fields[#fields + 1] = 'due'
    fields[#fields + 1] = fmt(due)
  else
    rcall('ZADD', K.queue_ready(q), fmt(order_score(cfg, prio, next_seq(q))), uid)
  end
  fields[#fields + 1] = 'st'
  fields[#fields + 1] = st
  local rid, us = split_unit(uid)
  unit_fields(us, fields)
  if extra then
    for _, v in ipairs(extra) do fields[#fields + 1] = v end
  end
  rcall('HSET', K.run(rid), unpack(fields))
  wake(q) -- new work, or a new due time for idle consumers to sleep until
  return st
end

-- The unit drop_oldest evicts: the earliest arrival (priority queues: the earliest
-- arrival of the lowest priority waiting); a delayed unit only when nothing is ready.
local function overflow_victim(q, cfg)
  local ready = K.queue_ready(q)
  local r
  if cfg.kind == 'lifo' then
    r = rcall('ZRANGE', ready, -1, -1)
  elseif cfg.kind == 'priority' then
    local last = rcall('ZRANGE', ready, -1, -1, 'WITHSCORES')
    if last[1] then
      local band = math.floor(tonumber(last[2]) / PRIO_BAND)
      r = rcall('ZRANGEBYSCORE', ready, fmt(band * PRIO_BAND), '(' .. fmt((band + 1) * PRIO_BAND), 'LIMIT', 0, 1)
    end
  else
    r = rcall('ZRANGE', ready, 0, 0)
  end
  if r and r[1] then
    rcall('ZREM', ready, r[1])
    return r[1]
  end
  r = rcall('ZRANGE', K.queue_delayed(q), 0, 0)
  if r[1] then
    rcall('ZREM', K.queue_delayed(q), r[1])
    return r[1]
  end
  return nil
end

-- New work: apply the drop_oldest overflow policy, then place. (The reject policy is
-- checked by the callers before they write anything: see has_room.)
local function enqueue(uid, q, prio, delay, fields, extra)
  local cfg = qcfg(q)
  if cfg.max and cfg.full == 'drop_oldest' then
    while queue_size(q) >= cfg.max do
      local victim = overflow_victim(q, cfg)
      if not victim then break end
      count(q, 'dropped', 1)
      emit('task.dropped', string.match(victim, '^[^|]+'), victim, q)
      unit_dead(victim, 'dropped', 'dropped: queue ' .. q .. ' is full (max_size ' .. cfg.max .. ' in this shard)')
    end
  end
  return place(uid, q, prio, delay, fields, extra)
end

-- Whether `extra` more units fit in q under a reject policy.
local function has_room(q, extra)
  local cfg = qcfg(q)
  if not cfg.max or cfg.full ~= 'reject' then return true end
  return queue_size(q) + extra <= cfg.max
end

local PROMOTED = {}
local promoted_total = 0
-- Move due units of q from delayed to ready, in due order. Returns the next due time or nil.
local function promote(q, limit)
  if PROMOTED[q] ~= nil then return PROMOTED[q] end
  local cfg = qcfg(q)
  local dkey = K.queue_delayed(q)
  local due = rcall('ZRANGEBYSCORE', dkey, '-inf', NOW_S, 'LIMIT', 0, limit)
  if #due > 0 then
    local ready = K.queue_ready(q)
    for _, uid in ipairs(due) do
      local rid, us = split_unit(uid)
      local rk = K.run(rid)
      local prio = rcall('HGET', rk, us .. '|pr')
      rcall('ZADD', ready, fmt(order_score(cfg, prio, next_seq(q))), uid)
      rcall('HSET', rk, us .. '|st', 'ready')
    end
    rcall('ZREM', dkey, unpack(due))
    promoted_total = promoted_total + #due
    emit('task.promoted', nil, nil, q, '"n":' .. #due)
    wake(q)
  end
  local nxt = rcall('ZRANGE', dkey, 0, 0, 'WITHSCORES')
  local hint = nxt[2] and tonumber(nxt[2]) or false
  PROMOTED[q] = hint
  return hint
end

-- A leased unit stops counting against its queue's concurrency limit.
local function release(uid, q)
  zset_del(K.inflight, uid)
  count(q, 'inflight', -1)
  local cfg = qcfg(q)
  if cfg and cfg.conc then wake(q) end
end
