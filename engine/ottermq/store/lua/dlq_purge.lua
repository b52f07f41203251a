--[[
  dlq_purge: remove units from their dead-letter queue for good. They stay dead in their
  run; a finished run whose last entry is purged starts its normal retention countdown.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   number of units N, then N unit ids

  Returns   the number of entries removed
  Emits     dlq.purged (one event for the call)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local removed = 0
local n = tonumber(ARGV[8])
for j = 1, n do
  local uid = ARGV[8 + j]
  local rid, us = split_unit(uid)
  local rk = rid and K.run(rid)
  local v = rid and rcall('HMGET', rk, us .. '|st', 'bp') or {}
  local m = v[1] == 'dead' and run_meta(rid, v[2])
  if m and rcall('ZREM', K.queue_dead(bp_task(m.bp, unit_task(us)).q), uid) == 1 then
    removed = removed + 1
    local left = rcall('HINCRBY', rk, 'dlq', -1)
    local state = rcall('HGET', rk, 'state')
    if left == 0 and state ~= 'pending' and state ~= 'running' then retain_run(rid, m, 0) end
  end
end
if removed > 0 then emit('dlq.purged', nil, nil, nil, '"n":' .. removed) end
commit()
return removed
