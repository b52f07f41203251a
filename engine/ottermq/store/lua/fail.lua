--[[
  fail: record failed attempts of leased units. A unit is retried after the given delay
  while it has attempts left and its failure kind is in the task's retry_on; otherwise it
  is dead-lettered and the task's on_failure applies (fail: the run fails and downstream
  tasks are skipped; skip: downstream skipped, the run may still succeed; continue:
  downstream runs and sees null).

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   number of failures N, then N 5-tuples:
              unit id, lease token, failure kind (error, timeout, trap, out_of_memory, ...),
              message, retry delay ms ('' = permanent: dead-letter now)

  Returns   an array of 2N values, per failure: code, detail
              0  retried            detail: due time ms
              1  dead-lettered      detail: the reason ('exhausted', 'permanent', 'not retried: <kind>')
             -1  lease lost, -2 cancelled, -3 not found (detail '')
  Emits     task.retry or task.dead; task.skipped, task.ready, run.failed / run.succeeded downstream
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local function retries(t, kind)
  for _, k in ipairs(t.ro) do
    if k == kind then return true end
  end
  return false
end

local out = {}
local n = tonumber(ARGV[8])
for j = 0, n - 1 do
  local b = 9 + 5 * j
  local uid, token, kind, msg, delay = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local rid, us = split_unit(uid)
  local v = rid and rcall('HMGET', K.run(rid), us .. '|st', us .. '|tok', us .. '|a', us .. '|pr', us .. '|h', 'bp')
    or {}
  local code, detail = 0, ''
  if not v[1] then
    code = -3
  elseif v[2] ~= token then
    code = -1
  elseif v[1] == 'cancelled' then
    code = -2
  elseif v[1] ~= 'running' then
    code = -1
  else
    local att = tonumber(v[3])
    local t = bp_task(run_meta(rid, v[6]).bp, unit_task(us))
    local q = t.q
    release(uid, q)
    count(q, 'failed', 1)
    if delay == '' then
      detail = 'permanent'
    elseif att >= t.ma then
      detail = 'exhausted'
    elseif not retries(t, kind) then
      detail = 'not retried: ' .. kind
    end
    if detail == '' then
      local d = tonumber(delay)
      retry_unit(uid, q, v[4], att, kind, msg, d, v[5])
      detail = fmt(NOW + math.max(d, 0))
    else
      code = 1
      unit_dead(uid, kind, msg)
    end
  end
  out[#out + 1] = code
  out[#out + 1] = detail
end
commit()
return out
