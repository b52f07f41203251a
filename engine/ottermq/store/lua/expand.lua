--[[
  expand: turn a leased fan-out task into N item units, atomically. Downstream tasks that
  need it wait for all N items (fan-in) and see the JSON array of item outputs, in item order.
  Zero items end the task at once with output [].

  KEYS[1]   shard event stream
  ARGV[1..7] common preamble (lib/core.lua)
  ARGV[8]   unit id of the fan-out task
  ARGV[9]   lease token
  ARGV[10]  number of items N, then N inputs (JSON)

  Returns   {code, detail}
              0  expanded           detail: N
             -1  lease lost, -2 cancelled, -3 not found
             -4  not a fan-out task
             -5  queue full (overflow policy reject; the unit stays leased)  detail: the queue
  Emits     task.expanded (one event for all items); children / run events when N = 0;
            task.dropped, task.dead (drop_oldest)
]]
-- @include "lib/core.lua"
-- @include "lib/queue.lua"
-- @include "lib/dag.lua"

local uid, token = ARGV[8], ARGV[9]
local n = tonumber(ARGV[10])
local rid, us = split_unit(uid)
local rk = rid and K.run(rid)
local v = rid and rcall('HMGET', rk, us .. '|st', us .. '|tok', us .. '|pr', 'bp') or {}
local function done(code, detail)
  commit()
  return {code, detail}
end
if not v[1] then return done(-3, '') end
if v[2] ~= token then return done(-1, '') end
if v[1] == 'cancelled' then return done(-2, '') end
if v[1] ~= 'running' then return done(-1, '') end
local m = run_meta(rid, v[4])
local tname, item = unit_task(us)
local t = bp_task(m.bp, tname)
local q = t.q
if item ~= '' or not t.fo then return done(-4, '') end
if not has_room(q, n) then return done(-5, q) end

release(uid, q)
count(q, 'processed', 1)
rcall('HSET', rk, us .. '|st', 'expanded', us .. '|fin', NOW_S, 'n:' .. tname, n, 'd:' .. tname, 0, 'x:' .. tname, 0)
emit('task.expanded', rid, uid, q, '"n":' .. n)
for i = 0, n - 1 do
  enqueue(K.unit_id(rid, tname, i), q, v[3], 0, {'a', 0, 'pr', v[3], 'in', ARGV[11 + i]})
end
if n == 0 then end_logical(rid, m, tname, 'succeeded', {}) end
return done(0, n)
