--[[
  catalog_apply: make a compiled plan the latest version of its pipeline, unless the
  latest version already has this exact plan (then nothing changes).

  KEYS[1]   pipeline index (hash: pipeline -> latest version)
  KEYS[2]   the pipeline's versions (hash: version -> plan hash, "latest" -> version)
  KEYS[3]   the pipeline's history (list of JSON entries, oldest first)
  KEYS[4]   the plan (string: plan JSON, content-addressed by its hash)
  KEYS[5]   catalog event stream
  KEYS[6]   plan sources (hash: plan hash -> pipeline file it was applied from)
  ARGV[1]   pipeline name
  ARGV[2]   plan hash
  ARGV[3]   plan JSON
  ARGV[4]   now (ms)
  ARGV[5]   what caused it: "apply" or "rollback to vN"
  ARGV[6]   source file, as shown to users (may be empty)
  ARGV[7]   version notes (may be empty)
  ARGV[8]   event stream cap (XADD MAXLEN ~)
  ARGV[9]   event channel (PUBLISH)

  Returns   {status, old version (0 when new), new version}
            status: "created" | "configured" | "unchanged"
  Emits     pipeline.applied (not when unchanged)
]]
local name, hash = ARGV[1], ARGV[2]
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[6], hash, ARGV[6])
end
local latest = tonumber(redis.call('HGET', KEYS[2], 'latest') or '0')
if latest > 0 and redis.call('HGET', KEYS[2], tostring(latest)) == hash then
  -- Re-applied after a prune: the pipeline is back, at the version it had.
  if redis.call('HEXISTS', KEYS[1], name) == 0 then
    redis.call('HSET', KEYS[1], name, latest)
    return {'created', latest, latest}
  end
  return {'unchanged', latest, latest}
end
local version = latest + 1
redis.call('SET', KEYS[4], ARGV[3], 'NX')
redis.call('HSET', KEYS[2], tostring(version), hash, 'latest', version)
redis.call('HSET', KEYS[1], name, version)
local entry = cjson.encode({version = version, hash = hash, applied_at = tonumber(ARGV[4]),
  cause = ARGV[5], source = ARGV[6], notes = ARGV[7]})
redis.call('RPUSH', KEYS[3], entry)
local status = (latest == 0) and 'created' or 'configured'
local id = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[8], '*', 'type', 'pipeline.applied',
  'pipeline', name, 'version', version, 'previous', latest, 'hash', hash, 'at', ARGV[4])
redis.call('PUBLISH', ARGV[9], cjson.encode({type = 'pipeline.applied', pipeline = name, version = version, id = id}))
return {status, latest, version}
