--[[
  dlq_requeue: put dead-lettered units back in their queues (attempts start again), optionally
  with a new input. The task's ending is undone: tasks skipped because of it wait again,
  and a run that had finished (failed) because of it is running again.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   number of units N, then N triples: unit id, '1' to replace the input else '0', input

  Returns   an array of N codes: 0 requeued, -2 run cancelled, -3 not found, -4 not dead-lettered
  Emits     task.requeued, run.reopened
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

-- Undo the ending of a task: it is open again (new_state active or waiting), its children
-- count it as not ended, and children it had skipped wait again (recursively).
local function unend(rid, m, tname, new_state)
  local rk = K.run(rid)
  local t = bp_task(m.bp, tname)
  local prev = rcall('HGET', rk, 's:' .. tname)
  rcall('HSET', rk, 's:' .. tname, new_state)
  rcall('HINCRBY', rk, 'open', 1)
  if prev == 'failed' and t.of == 'fail' and rcall('HINCRBY', rk, 'fc', -1) == 0 then
    rcall('HDEL', rk, 'failed')
  end
  local skipped = skips_children(t, prev)
  for _, child in ipairs(t.ch) do
    if skipped then rcall('HINCRBY', rk, 'k:' .. child, -1) end
    rcall('HINCRBY', rk, 'w:' .. child, 1)
    if rcall('HGET', rk, 's:' .. child) == 'skipped' then
      emit('task.unskipped', rid, K.unit_id(rid, child))
      unend(rid, m, child, 'waiting')
    end
  end
end

local function reopen_run(rid, m)
  local rk = K.run(rid)
  local state = rcall('HGET', rk, 'state')
  if state == 'succeeded' or state == 'failed' then
    rcall('PERSIST', rk)
    rcall('ZREM', K.runs_done, rid)
    rcall('ZADD', K.runs_active, rcall('HGET', rk, 'created'), rid)
    rcall('HSET', rk, 'state', 'running')
    rcall('HDEL', rk, 'finished')
    emit('run.reopened', rid)
  end
end

local out = {}
local n = tonumber(ARGV[8])
for j = 0, n - 1 do
  local uid, replace, input = ARGV[9 + 3 * j], ARGV[10 + 3 * j], ARGV[11 + 3 * j]
  local rid, us = split_unit(uid)
  local v = rid and rcall('HMGET', K.run(rid), us .. '|st', us .. '|pr', 'state') or {}
  if not v[1] then
    out[j + 1] = -3
  elseif v[1] ~= 'dead' then
    out[j + 1] = -4
  elseif v[3] == 'cancelled' then
    out[j + 1] = -2
  else
    local m = run_meta(rid)
    local rk = K.run(rid)
    local tname, item = unit_task(us)
    local q = bp_task(m.bp, tname).q
    reopen_run(rid, m)
    if rcall('ZREM', K.queue_dead(q), uid) == 1 then rcall('HINCRBY', rk, 'dlq', -1) end
    if item ~= '' then
      rcall('HINCRBY', rk, 'x:' .. tname, -1)
      rcall('HINCRBY', rk, 'd:' .. tname, -1)
    end
    if rcall('HGET', rk, 's:' .. tname) ~= 'active' then unend(rid, m, tname, 'active') end
    rcall('HDEL', rk, us .. '|fin')
    local fields = {'a', 0}
    if replace == '1' then
      fields[3] = 'in'
      fields[4] = input
    end
    place(uid, q, v[2], 0, fields)
    emit('task.requeued', rid, uid, q)
    out[j + 1] = 0
  end
end
commit()
return out
