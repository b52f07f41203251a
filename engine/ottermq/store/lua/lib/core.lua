--[[
  lib/core.lua: included first by every script.

  The common ARGV preamble (every script):
    ARGV[1]  shard key prefix, e.g. "{ottermq:s0.0}:" (every key is derived from it, same slot)
    ARGV[2]  now, ms since the epoch (from the caller's clock; scripts never call TIME)
    ARGV[3]  shard number (the payload of wake-up and event notifications)
    ARGV[4]  channel prefix (channels: <prefix>:wake:<queue>, <prefix>:events)
    ARGV[5]  event stream cap, in events (kept: between the cap and 1/16 more)
    ARGV[6]  default retention of finished runs, ms
    ARGV[7]  default lease duration, ms
  Script-specific arguments start at ARGV[8].

  The key builders mirror ottermq/keys.py name for name.
]]
local rcall = redis.call
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local NOW_S = ARGV[2]
local SHARD = ARGV[3]
local CHAN = ARGV[4]
local MAXLEN = tonumber(ARGV[5])
local RETENTION = tonumber(ARGV[6])
local LEASE_MS = tonumber(ARGV[7])

local K = {
  events = P .. 'events',
  events_count = P .. 'events:count',
  events_marks = P .. 'events:marks',
  inflight = P .. 'inflight',
  queues = P .. 'queues',
  runs_active = P .. 'runs:active',
  runs_done = P .. 'runs:done',
}
function K.blueprint(d) return P .. 'bp:' .. d end
function K.queue_config(q) return P .. 'qc:' .. q end
function K.queue_ready(q) return P .. 'q:' .. q .. ':ready' end
function K.queue_delayed(q) return P .. 'q:' .. q .. ':delayed' end
function K.queue_dead(q) return P .. 'q:' .. q .. ':dead' end
function K.queue_state(q) return P .. 'q:' .. q .. ':state' end
function K.run(r) return P .. 'run:' .. r end
function K.unit_id(r, t, i)
  if i == nil or i == '' then return r .. '|' .. t end
  return r .. '|' .. t .. '|' .. i
end

-- A unit id is "<run>|<unit>" where <unit> is "<task>" or "<task>|<item>"; the unit's
-- fields live in the run hash as "<unit>|<field>" (fields: st state, a attempt, tok lease
-- token, dl deadline, w worker, pr priority, in input, out output, err/ek last error and
-- kind, h history, due, fin). Names never contain '|', so these never collide.
local function split_unit(uid)
  return string.match(uid, '^([^|]+)|(.+)$')
end

local function unit_task(us)
  local t, i = string.match(us, '^([^|]+)|(.+)$')
  if t then return t, i end
  return us, ''
end

-- {name, value, ...} with every name prefixed by the unit: ready for HSET.
local function unit_fields(us, kv)
  for i = 1, #kv, 2 do kv[i] = us .. '|' .. kv[i] end
  return kv
end

-- Numbers go into commands through this: Lua's default formatting keeps only 14 digits,
-- which is exact below 1e14 (times in ms); larger ones (priority scores) are spelled out.
local function fmt(n)
  if n < 1e14 and n > -1e14 then return n end
  return string.format('%.0f', n)
end

-- Per-call caches of immutable data (blueprints, queue configs, run metadata).
local BP, QC, RUNS = {}, {}, {}

local function bp_meta(d)
  local b = BP[d]
  if b == nil then
    local raw = rcall('HGET', K.blueprint(d), 'meta')
    if not raw then return nil end
    b = {meta = cjson.decode(raw), t = {}}
    BP[d] = b
  end
  return b.meta
end

local function bp_task(d, name)
  bp_meta(d)
  local b = BP[d]
  local t = b.t[name]
  if t == nil then
    t = cjson.decode(rcall('HGET', K.blueprint(d), 't:' .. name))
    b.t[name] = t
  end
  return t
end

local function qcfg(q)
  local c = QC[q]
  if c == nil then
    local raw = rcall('GET', K.queue_config(q))
    c = raw and cjson.decode(raw) or false
    QC[q] = c
  end
  return c
end

-- What the DAG needs of a run: its blueprint digest (callers that read it with a unit's
-- fields pass it as `bp`) and its priority override (read when first needed).
local function run_meta(rid, bp)
  local m = RUNS[rid]
  if m == nil then
    if bp then
      m = {id = rid, bp = bp}
    else
      local v = rcall('HMGET', K.run(rid), 'bp', 'prio')
      m = v[1] and {id = rid, bp = v[1], prio = v[2] or ''} or false
    end
    RUNS[rid] = m
  end
  return m
end

-- Events are collected during the call and written as one stream entry (field e: a
-- JSON array of events) plus one notification, so a batch costs one XADD. An event is a
-- positional array [type, run, unit, queue] or [type, run, unit, queue, {extra}], built in
-- one concatenation (names are validated JSON-safe by the Python side; free text goes
-- through cjson.encode); `extra` is the inside of an object, such as '"a":2'.
local EVENTS = {}
local function emit(kind, rid, uid, q, extra)
  local tail = '"]'
  if extra then tail = '",{' .. extra .. '}]' end
  EVENTS[#EVENTS + 1] = '["' .. kind .. '","' .. (rid or '') .. '","' .. (uid or '') .. '","' .. (q or '') .. tail
end

-- Queue counters are summed during the call and written once per queue and field.
local COUNTS = {}
local function count(q, field, delta)
  local c = COUNTS[q]
  if c == nil then c = {}; COUNTS[q] = c end
  c[field] = (c[field] or 0) + delta
end

local function pending_count(q, field)
  local c = COUNTS[q]
  return c and c[field] or 0
end

-- Queue sequence numbers are read once per call and written back by commit().
local SEQ = {}
local function next_seq(q)
  local s = SEQ[q]
  if s == nil then s = tonumber(rcall('HGET', K.queue_state(q), 'seq') or '0') end
  s = s + 1
  SEQ[q] = s
  return s
end

-- Writes to index sorted sets (in-flight set, run indexes) are collected per key and
-- member, last write wins, and applied by commit() in a few variadic calls. Only keys
-- that no script reads after writing them in the same call go through here.
local ZSETS = {}
local function zset_put(key, member, score)
  local z = ZSETS[key]
  if z == nil then z = {}; ZSETS[key] = z end
  z[member] = score
end

local function zset_del(key, member) zset_put(key, member, false) end

local TRIM_DONE = false

local WAKE = {}
local function wake(q) WAKE[q] = true end

-- Append the call's events (entries of at most 200) and trim the stream by event count:
-- a mark "<entry id> <running total>" is kept every MAXLEN/16 events; entries older than
-- the newest mark with at least MAXLEN events after it are trimmed away.
local function append_events()
  local n, id = #EVENTS, nil
  for i = 1, n, 200 do
    local chunk = '[' .. table.concat(EVENTS, ',', i, math.min(i + 199, n)) .. ']'
    id = rcall('XADD', K.events, '*', 'ts', NOW_S, 'e', chunk)
  end
  local step = math.max(1, math.floor(MAXLEN / 16))
  local total = rcall('HINCRBY', K.events_count, 'total', n)
  if math.floor(total / step) ~= math.floor((total - n) / step) then
    rcall('RPUSH', K.events_marks, id .. ' ' .. total)
    local cut = nil
    while true do
      local head = rcall('LINDEX', K.events_marks, 0)
      local sep = head and string.find(head, ' ', 1, true)
      if not sep or total - tonumber(string.sub(head, sep + 1)) < MAXLEN then break end
      cut = string.sub(head, 1, sep - 1)
      rcall('LPOP', K.events_marks)
    end
    if cut then rcall('XTRIM', K.events, 'MINID', cut) end
  end
  rcall('PUBLISH', CHAN .. ':events', SHARD)
end

-- Write what the call accumulated; every script calls this once, before returning.
local function commit()
  for q, s in pairs(SEQ) do rcall('HSET', K.queue_state(q), 'seq', fmt(s)) end
  for key, z in pairs(ZSETS) do
    local adds, dels = {}, {}
    for member, score in pairs(z) do
      if score then
        adds[#adds + 1] = score
        adds[#adds + 1] = member
      else
        dels[#dels + 1] = member
      end
    end
    for i = 1, #dels, 500 do rcall('ZREM', key, unpack(dels, i, math.min(i + 499, #dels))) end
    for i = 1, #adds, 1000 do rcall('ZADD', key, unpack(adds, i, math.min(i + 999, #adds))) end
  end
  if TRIM_DONE then rcall('ZREMRANGEBYSCORE', K.runs_done, '-inf', '(' .. NOW_S) end
  for q, fields in pairs(COUNTS) do
    local key = K.queue_state(q)
    for field, delta in pairs(fields) do
      if delta ~= 0 then rcall('HINCRBY', key, field, delta) end
    end
  end
  if #EVENTS > 0 then append_events() end
  for q in pairs(WAKE) do rcall('PUBLISH', CHAN .. ':wake:' .. q, SHARD) end
end

local function append_history(h, entry)
  local e = cjson.encode(entry)
  if not h or h == '' then return '[' .. e .. ']' end
  return string.sub(h, 1, -2) .. ',' .. e .. ']'
end
