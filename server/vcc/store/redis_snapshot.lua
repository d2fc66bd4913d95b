-- Keep the newest snapshot of one stream.
--
-- KEYS[1] meta hash {epoch, seq}    KEYS[2] snapshot hash {seq, data}
-- ARGV[1] seq the snapshot folds up to    ARGV[2] the snapshot
--
-- Returns {'ok'} (stored, or an older one ignored) | {'beyond', head_seq}.

local head = tonumber(redis.call('HGET', KEYS[1], 'seq')) or 0
local seq = tonumber(ARGV[1])
if seq > head then
  return {'beyond', head}
end
local current = tonumber(redis.call('HGET', KEYS[2], 'seq'))
if current == nil or current <= seq then
  redis.call('HSET', KEYS[2], 'seq', ARGV[1], 'data', ARGV[2])
end
return {'ok'}
