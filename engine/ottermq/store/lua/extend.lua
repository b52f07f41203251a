--[[
  extend: extend the leases of many units at once.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   lease duration ms ('' = each task's timeout_ms, else the default lease)
  ARGV[9]   number of leases N, then N pairs: unit id, lease token

  Returns   an array of N values: the new deadline (ms, > 0), or
             -1 lease lost (another token owns it, or it is no longer running)
             -2 cancelled (the run was cancelled: stop the handler, do not ack)
             -3 not found
  Emits     nothing
]]
-- @include "lib/core.lua"

local lease = tonumber(ARGV[8])
local out = {}
local n = tonumber(ARGV[9])
for j = 0, n - 1 do
  local uid, token = ARGV[10 + 2 * j], ARGV[11 + 2 * j]
  local rid, us = split_unit(uid)
  local rk = rid and K.run(rid)
  local v = rid and rcall('HMGET', rk, us .. '|st', us .. '|tok', 'bp') or {}
  if not v[1] then
    out[j + 1] = -3
  elseif v[2] ~= token then
    out[j + 1] = -1
  elseif v[1] == 'cancelled' then
    out[j + 1] = -2
  elseif v[1] ~= 'running' then
    out[j + 1] = -1
  else
    local m = run_meta(rid, v[3])
    local deadline = NOW + (lease or bp_task(m.bp, unit_task(us)).to or LEASE_MS)
    rcall('HSET', rk, us .. '|dl', fmt(deadline))
    rcall('ZADD', K.inflight, 'XX', fmt(deadline), uid)
    out[j + 1] = deadline
  end
end
return out
