-- compress/uncompress throughput, against lua-zlib (`require "zlib"`) in the
-- same run when it is installed (Debian: apt-get install lua-zlib).
-- Run: LUA_CPATH="build/lib/?.so;;" lua5.4 bench/compress.lua
-- Prints `RESULT <name> <value> <unit>` lines; MB/s of uncompressed data.
require "skynet"
local clock = os.steady_clock or os.clock
local ok, zlib = pcall(require, "zlib")
if not ok then zlib = nil; print("# lua-zlib not installed: no comparison") end

-- ~1.2 MB of JSON-lines text (compresses about 7:1 at level 6).
local parts = {}
for i = 1, 20000 do
  parts[i] = string.format('{"id":%d,"name":"user%d","score":%d.%d,"tags":["a","b%d"]}\n', i, i * 7 % 1000, i % 97, i % 10, i % 13)
end
local data = table.concat(parts)
local mb = #data / 1e6
print(string.format("# input: %d bytes", #data))

local function time(f, n)
  f()
  local t0 = clock()
  for _ = 1, n do f() end
  return (clock() - t0) / n
end

local function report(name, ours, theirs)
  print(string.format("RESULT %s %.1f MB/s", name, mb / ours))
  if theirs then
    print(string.format("RESULT zlib_%s %.1f MB/s", name, mb / theirs))
    print(string.format("RESULT %s_vs_lua_zlib %.2f x", name, theirs / ours))
  end
end

local rounds = 20
for _, method in ipairs { "deflate", "gzip" } do
  local wbits = method == "gzip" and 31 or -15
  local packed = compress(data, method)
  assert(uncompress(packed, method) == data)
  print(string.format("RESULT %s_ratio %.2f x", method, #data / #packed))
  report("compress_" .. method, time(function() compress(data, method) end, rounds),
    zlib and time(function() zlib.deflate(6, wbits)(data, "finish") end, rounds))
  report("uncompress_" .. method, time(function() uncompress(packed, method) end, rounds),
    zlib and time(function() zlib.inflate(wbits)(packed) end, rounds))
end
