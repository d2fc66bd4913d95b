-- Append events to one stream atomically (modelled on Centrifugo's
-- broker_history_add_stream.lua, without its MAXLEN/EXPIRE: our log is the
-- source of truth and is never trimmed).
--
-- KEYS[1] meta hash {epoch, seq}    KEYS[2] log stream    KEYS[3] commands hash
-- ARGV[1] expected seq              ARGV[2] epoch to use if the stream is new
-- ARGV[3] '' or the commands, msgpack: [[command id or '', number of its events], ...] in event order
-- ARGV[4] pub/sub channel           ARGV[5..] the events
--
-- Returns {'ok', last_seq} | {'dup', 'first:last', command id} | {'conflict', epoch, seq}.
--
-- Redis does not roll a script back when it fails half-way, so every check
-- comes before the first write. The epoch candidate comes from the caller
-- because a script must not generate randomness.

local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local epoch = meta[1]
local seq = tonumber(meta[2]) or 0
local commands = {}
if ARGV[3] ~= '' then
  commands = cmsgpack.unpack(ARGV[3])
end

-- The command check comes first: a retry whose reply was lost must be
-- recognised as done even if the stream has moved on since.
for _, command in ipairs(commands) do
  if command[1] ~= '' then
    local done = redis.call('HGET', KEYS[3], command[1])
    if done then
      return {'dup', done, command[1]}
    end
  end
end

if seq ~= tonumber(ARGV[1]) then
  return {'conflict', epoch or '', seq}
end

if not epoch then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    return redis.error_reply('vcc: ' .. KEYS[2] .. ' exists without its meta hash ' .. KEYS[1] ..
      '; restore both from the same backup')
  end
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
end

local first = seq + 1
local events = {}
for i = 5, #ARGV do
  seq = seq + 1
  -- An explicit ID makes the stream ID equal the seq; XADD would also refuse
  -- an ID at or below the top one, a second guard against a lost check.
  redis.call('XADD', KEYS[2], string.format('%d-1', seq), 'd', ARGV[i])
  events[#events + 1] = ARGV[i]
end

redis.call('HSET', KEYS[1], 'seq', seq)
local at = first
for _, command in ipairs(commands) do
  if command[1] ~= '' then
    redis.call('HSET', KEYS[3], command[1], string.format('%d:%d', at, at + command[2] - 1))
  end
  at = at + command[2]
end
-- Inside the script, so publish order equals log order across all writers.
redis.call('PUBLISH', ARGV[4], cmsgpack.pack({first, events}))
return {'ok', seq}
