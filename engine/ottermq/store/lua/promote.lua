--[[
  promote: move due delayed units to their ready queues and wake idle consumers.
  (lease promotes the queues it reads by itself; this serves queues nobody is leasing
  from right now, and returns how long the promoter may sleep.)

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   max units per queue in this call
  ARGV[9]   number of queues Q (0 = every queue configured in the shard), then Q names

  Returns   {promoted, next due time ms ('' if nothing is delayed)}
  Emits     task.promoted (one event per queue)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"

local limit = tonumber(ARGV[8])
local nq = tonumber(ARGV[9])
local queues = {}
if nq == 0 then
  queues = rcall('SMEMBERS', K.queues)
else
  for j = 1, nq do queues[j] = ARGV[9 + j] end
end
local hint = nil
for _, q in ipairs(queues) do
  local cfg = qcfg(q)
  if cfg and cfg.kind ~= 'composite' then
    local h = promote(q, limit)
    if h and (not hint or h < hint) then hint = h end
  end
end
commit()
return {promoted_total, hint and fmt(hint) or ''}
