--[[
  install_blueprint: write a shard's copy of a run blueprint and of its queue configs.

  KEYS[1]   shard event stream (routes the call to the shard's slot)
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   blueprint digest
  ARGV[9]   blueprint meta (JSON: pipeline, ver, hash, order, roots, fanouts, ret, dlr)
  ARGV[10]  number of tasks T, then T pairs: task name, task JSON
  then      number of queues Q, then Q pairs: queue name, queue config JSON (this shard's share)

  Returns   0
  Emits     nothing (configuration, not a transition)
]]
-- @include "lib/core.lua"

local d = ARGV[8]
local bkey = K.blueprint(d)
local fields = {'meta', ARGV[9]}
local i = 10
local ntasks = tonumber(ARGV[i])
for _ = 1, ntasks do
  fields[#fields + 1] = 't:' .. ARGV[i + 1]
  fields[#fields + 1] = ARGV[i + 2]
  i = i + 2
end
rcall('DEL', bkey)
rcall('HSET', bkey, unpack(fields))
i = i + 1
local nqueues = tonumber(ARGV[i])
for _ = 1, nqueues do
  rcall('SET', K.queue_config(ARGV[i + 1]), ARGV[i + 2])
  rcall('SADD', K.queues, ARGV[i + 1])
  i = i + 2
end
return 0
