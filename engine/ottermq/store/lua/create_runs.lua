--[[
  create_runs: create one or many runs of one blueprint in a shard and make their root
  tasks ready. Each run is all-or-nothing; a run id that exists already is left alone.

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   blueprint digest
  ARGV[9]   number of runs R, then per run:
              run id, params (JSON), priority ('' = each task's own), labels (JSON),
              number of root inputs N, then N pairs: root task name, input (JSON)

  Returns   -10 when the blueprint is not installed in this shard (nothing written), else
            an array of 2R values, per run: code, detail
              0  created            detail ''
              1  existed already    detail: its state
             -5  queue full         detail: the queue (overflow policy reject)
  Emits     run.created; task.ready / task.delayed per root; task.dropped, task.dead (drop_oldest)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local d = ARGV[8]
local meta = bp_meta(d)
if not meta then return -10 end

-- Run hash fields shared by every run of this blueprint: the initial DAG state. (Pipeline,
-- version and plan hash are read from the blueprint; absent counters mean 0.)
local template = {'bp', d, 'state', 'pending', 'created', NOW_S, 'open', tostring(#meta.order)}
local root_need = {}
for _, name in ipairs(meta.order) do
  local t = bp_task(d, name)
  template[#template + 1] = 's:' .. name
  if #t.nd == 0 then
    template[#template + 1] = 'active'
  else
    template[#template + 1] = 'waiting'
    template[#template + 1] = 'w:' .. name
    template[#template + 1] = tostring(#t.nd)
  end
end
for _, name in ipairs(meta.roots) do
  local q = bp_task(d, name).q
  root_need[q] = (root_need[q] or 0) + 1
end

local out = {}
local i = 10
local nruns = tonumber(ARGV[9])
for _ = 1, nruns do
  local rid, params, prio, labels = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local ninputs = tonumber(ARGV[i + 4])
  local inputs = {}
  for j = 1, ninputs do inputs[ARGV[i + 3 + 2 * j]] = ARGV[i + 4 + 2 * j] end
  i = i + 5 + 2 * ninputs
  local rk = K.run(rid)
  local existing = rcall('HGET', rk, 'state')
  local full = nil
  if not existing then
    for q, n in pairs(root_need) do
      if not has_room(q, n) then full = q; break end
    end
  end
  if existing then
    out[#out + 1] = 1
    out[#out + 1] = existing
  elseif full then
    out[#out + 1] = -5
    out[#out + 1] = full
  else
    -- The run hash is written with its first root unit, in one HSET.
    local fields = {'params', params}
    if prio ~= '' then
      fields[3] = 'prio'
      fields[4] = prio
    end
    if labels ~= '{}' then
      fields[#fields + 1] = 'labels'
      fields[#fields + 1] = labels
    end
    for _, x in ipairs(template) do fields[#fields + 1] = x end
    zset_put(K.runs_active, rid, NOW_S)
    emit('run.created', rid)
    local m = {id = rid, bp = d, prio = prio}
    RUNS[rid] = m
    for k, name in ipairs(meta.roots) do make_ready(rid, m, name, inputs[name], k == 1 and fields or nil) end
    out[#out + 1] = 0
    out[#out + 1] = ''
  end
end
commit()
return out
