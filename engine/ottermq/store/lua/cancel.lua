--[[
  cancel: cancel a run. Waiting units leave their queues; leased units are released at once
  and marked cancelled, so their next extend answers "cancelled" and their ack is refused;
  the run starts to expire like a finished run.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   run id

  Returns   {code, state}
              0  cancelled              state 'cancelled'
              1  already finished       state: succeeded | failed | cancelled
             -3  not found              state ''
  Emits     task.cancelled per unit that was waiting or leased, run.cancelled
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local rid = ARGV[8]
local rk = K.run(rid)
local state = rcall('HGET', rk, 'state')
if not state then return {-3, ''} end
if state ~= 'pending' and state ~= 'running' then return {1, state} end
local m = run_meta(rid)

local function cancel_unit(us, q)
  local uid = rid .. '|' .. us
  local st = rcall('HGET', rk, us .. '|st')
  if st == 'ready' then
    rcall('ZREM', K.queue_ready(q), uid)
  elseif st == 'delayed' then
    rcall('ZREM', K.queue_delayed(q), uid)
  elseif st == 'running' then
    release(uid, q)
  else
    return
  end
  rcall('HSET', rk, us .. '|st', 'cancelled', us .. '|fin', NOW_S)
  emit('task.cancelled', rid, uid, q, '"was":"' .. st .. '"')
end

for _, t in ipairs(bp_meta(m.bp).order) do
  local s = rcall('HGET', rk, 's:' .. t)
  if s == 'active' then
    local q = bp_task(m.bp, t).q
    cancel_unit(t, q)
    local n = tonumber(rcall('HGET', rk, 'n:' .. t) or '0')
    for i = 0, n - 1 do cancel_unit(t .. '|' .. i, q) end
  end
  if s == 'active' or s == 'waiting' then rcall('HSET', rk, 's:' .. t, 'cancelled') end
end
rcall('HSET', rk, 'state', 'cancelled', 'finished', NOW_S)
emit('run.cancelled', rid)
retain_run(rid, m, rcall('HGET', rk, 'dlq'))
commit()
return {0, 'cancelled'}
