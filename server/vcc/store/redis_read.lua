-- Read a page of one stream's events as a single msgpack blob.
--
-- KEYS[1] log stream    ARGV[1] first seq wanted    ARGV[2] most events
--
-- Returns msgpack([first_seq, last_seq, [event, ...]]), [0, 0, []] if none.
--
-- Why a script for a read: a plain XRANGE reply of 10,000 entries is
-- 50,000 nested RESP elements, which redis-py's pure-Python parser reads at
-- about 40,000 entries/s; one blob unpacked by msgpack's C code is several
-- times faster, so a 100,000-event consultation loads in well under a
-- second. Only the first and last IDs are parsed: the append script writes
-- seqs contiguously, and the caller checks that the count matches.

local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
local n = #entries
if n == 0 then
  return cmsgpack.pack({0, 0, {}})
end
local events = {}
for i = 1, n do
  events[i] = entries[i][2][2]
end
local first = tonumber(string.match(entries[1][1], '^%d+'))
local last = tonumber(string.match(entries[n][1], '^%d+'))
return cmsgpack.pack({first, last, events})
