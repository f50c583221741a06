-- json.encode/decode throughput against lua-cjson, in the same run.
-- Run: LUA_CPATH="build/lib/?.so;;" lua5.4 bench/json.lua
-- Prints `RESULT <name> <value> <unit>` lines (MB/s of JSON text, and the
-- ratio ours/cjson; above 1 means we are faster).
require "skynet"
local clock = os.steady_clock or os.clock
local ok, cjson = pcall(require, "cjson")
if not ok then cjson = nil; print("# lua-cjson not installed: no comparison") end

-- A realistic ~100 KB document: records of mixed strings, numbers, nested objects and arrays.
local function document()
  local users = {}
  for i = 1, 270 do
    users[i] = {
      id = i, guid = string.format("%08x-4b1d-4c8e-9f00-%012d", i * 7919, i),
      active = i % 3 ~= 0, balance = i * 13.37 + 0.25, age = 20 + i % 50,
      name = "User Number " .. i, email = "user" .. i .. "@example.com",
      about = "Lorem ipsum dolor sit amet, consectetur \"adipiscing\" elit.\n",
      tags = { "alpha", "beta", "gamma" .. i % 7 },
      location = { lat = -33.5 + i / 100, lon = 151.25 - i / 1000 },
      friends = { { id = i + 1, name = "Friend A" }, { id = i + 2, name = "Friend B" } },
    }
  end
  return { users = users, total = #users, page = 1, generated = "2024-01-01T00:00:00Z" }
end

local function time(f, n)
  f() -- warm up
  local t0 = clock()
  for _ = 1, n do f() end
  return (clock() - t0) / n
end

local doc = document()
local text = json.encode(doc)
assert(#text > 90000 and #text < 120000, #text)
print(string.format("# document: %d bytes", #text))
local mb = #text / 1e6

local function report(name, ours, theirs, unit_value, unit)
  print(string.format("RESULT json_%s %.1f %s", name, unit_value(ours), unit))
  if theirs then
    print(string.format("RESULT cjson_%s %.1f %s", name, unit_value(theirs), unit))
    print(string.format("RESULT json_%s_vs_cjson %.2f x", name, theirs / ours))
  end
end

local rounds = 200
local per_mb = function(t) return mb / t end
report("encode_doc", time(function() json.encode(doc) end, rounds),
  cjson and time(function() cjson.encode(doc) end, rounds), per_mb, "MB/s")
report("decode_doc", time(function() json.decode(text) end, rounds),
  cjson and time(function() cjson.decode(text) end, rounds), per_mb, "MB/s")

-- Many small objects: one call per object, so per-call overhead counts.
local small = { id = 12345, name = "alice", ok = true, score = 9.5, tags = { "a", "b" } }
local small_text = json.encode(small)
local n = 100000
local per_call = function(t) return 1 / t / 1e3 end
report("encode_small", time(function() for _ = 1, n do json.encode(small) end end, 1) / n,
  cjson and time(function() for _ = 1, n do cjson.encode(small) end end, 1) / n, per_call, "kcalls/s")
report("decode_small", time(function() for _ = 1, n do json.decode(small_text) end end, 1) / n,
  cjson and time(function() for _ = 1, n do cjson.decode(small_text) end end, 1) / n, per_call, "kcalls/s")
