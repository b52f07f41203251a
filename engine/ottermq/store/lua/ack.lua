--[[
  ack: complete leased units with their outputs; in the same call make ready every task
  whose needs have all ended, end fanned-out tasks with their last item, finish runs.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   number of acks N, then N triples: unit id, lease token, output (JSON)

  Returns   an array of N codes:
              0  done
              1  duplicate (this token acked it already; nothing fired again)
             -1  lease lost (another token owns the unit, or it is no longer running)
             -2  cancelled (the run was cancelled; the output is dropped)
             -3  not found (no such unit, or it expired)
             -4  wrong kind (a fan-out task must be expanded, not acked)
  Emits     task.succeeded; task.ready / task.delayed / task.skipped for children;
            run.succeeded / run.failed when the run ends
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local out = {}
local n = tonumber(ARGV[8])
for j = 0, n - 1 do
  local uid, token, output = ARGV[9 + 3 * j], ARGV[10 + 3 * j], ARGV[11 + 3 * j]
  local rid, us = split_unit(uid)
  local v = rid and rcall('HMGET', K.run(rid), us .. '|st', us .. '|tok', 'bp', 'fc', 'dlq') or {}
  local st = v[1]
  local code
  if not st then
    code = -3
  elseif v[2] ~= token then
    code = -1
  elseif st == 'succeeded' or st == 'expanded' then
    code = 1
  elseif st == 'cancelled' then
    code = -2
  elseif st ~= 'running' then
    code = -1
  else
    local m = run_meta(rid, v[3])
    local tname, item = unit_task(us)
    local t = bp_task(m.bp, tname)
    if item == '' and t.fo then
      code = -4
    else
      unit_succeeded(uid, t.q, output, m, {v[4], v[5]})
      code = 0
    end
  end
  out[j + 1] = code
end
commit()
return out
