--[[
  reap: take back expired leases of a shard. Each goes back to its queue after the task's
  backoff (its attempt was counted when it was leased) or, with no attempts left, to the
  dead-letter queue with kind lease_expired. Safe to run from many processes at once.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   max leases to take back in this call

  Returns   {reaped, next deadline ms ('' if nothing is leased)}
  Emits     task.expired, then task.retry or task.dead (and what a dead task causes downstream)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local reaped = reap_expired(tonumber(ARGV[8]))
local nxt = rcall('ZRANGE', K.inflight, 0, 0, 'WITHSCORES')
commit()
return {reaped, nxt[2] or ''}
