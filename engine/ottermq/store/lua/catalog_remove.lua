--[[
  catalog_remove: take a pipeline out of the index (apply --prune). Its versions and
  plans stay, so runs that use them finish; `apply` brings it back.

  KEYS[1]   pipeline index (hash: pipeline -> latest version)
  KEYS[2]   the pipeline's history (list of JSON entries)
  KEYS[3]   catalog event stream
  ARGV[1]   pipeline name
  ARGV[2]   now (ms)
  ARGV[3]   event stream cap (XADD MAXLEN ~)
  ARGV[4]   event channel (PUBLISH)

  Returns   the version it had, or 0 when it was not in the index
  Emits     pipeline.removed
]]
local version = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if version == 0 then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], cjson.encode({version = version, removed_at = tonumber(ARGV[2]), cause = 'prune'}))
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'pipeline.removed',
  'pipeline', ARGV[1], 'version', version, 'at', ARGV[2])
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'pipeline.removed', pipeline = ARGV[1], version = version, id = id}))
return version
