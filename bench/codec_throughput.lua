-- base64 encode/decode throughput (MB/s of raw bytes).
-- Run: LUA_CPATH="build/lib/?.so;;" lua5.4 bench/codec_throughput.lua
-- Prints `RESULT <name> <value> <unit>` lines.
require "skynet"
local clock = os.steady_clock or os.clock

local function time(f, n)
  f()
  local t0 = clock()
  for _ = 1, n do f() end
  return (clock() - t0) / n
end

local chunks = {}
for i = 1, 4096 do chunks[i] = string.pack("<I8I8I8I8", i * 2654435761, i * 40503, i ~ 0x5bd1e995, i * i) end
local big = table.concat(chunks) -- 128 KiB of binary data
local coded = base64.encode(big)
assert(base64.decode(coded) == big)

local t = time(function() base64.encode(big) end, 500)
print(string.format("RESULT base64_encode_128k %.1f MB/s", #big / t / 1e6))
t = time(function() base64.decode(coded) end, 500)
print(string.format("RESULT base64_decode_128k %.1f MB/s", #big / t / 1e6))

-- Small strings: per-call cost dominates.
local small, small_coded = big:sub(1, 32), base64.encode(big:sub(1, 32))
local n = 200000
t = time(function() for _ = 1, n do base64.encode(small) end end, 1) / n
print(string.format("RESULT base64_encode_32b %.0f kcalls/s", 1 / t / 1e3))
t = time(function() for _ = 1, n do base64.decode(small_coded) end end, 1) / n
print(string.format("RESULT base64_decode_32b %.0f kcalls/s", 1 / t / 1e3))
