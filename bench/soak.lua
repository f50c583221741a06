-- Soak (run by hand; see README "Benchmarks"): mixed load for a while, RSS
-- sampled every 10 s. The curve should be flat: nothing grows with time.
--   lua5.4 bench/soak.lua [seconds=600] [sample_every=10]
-- Load, all at once: 4 services called sync and async, one-way 1 KB
-- messages, a stream of short-lived services, and TCP connections that open,
-- echo a few lines and close (an echo server in this script).
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
require "skynet"
local U = require "bench_util"

local seconds = tonumber(arg[1]) or 600
local every = tonumber(arg[2]) or 10
local jobs = {}
for i = 1, 4 do
  local ok, job = os.pload("soak_worker")
  assert(ok, job)
  jobs[i] = job
end

-- An echo server here; clients in coroutines of os.coroutine queues.
local srv = io.server("tcp")
assert(srv:listen("127.0.0.1", 0, function(peer)
  while true do
    local data = peer:read()
    if not data then break end
    peer:write(data)
  end
  peer:close()
end))
local port = srv:endpoint().port

local counts = { calls = 0, async = 0, msgs = 0, spawns = 0, conns = 0 }
local stop = false
local payload = string.rep("x", 1024)

local function loop(body)
  local q = os.coroutine()
  q:dispatch(function()
    while not stop do body() end
  end)
end

loop(function()
  for i = 1, 200 do
    if pcall("soak.call", i) then counts.calls = counts.calls + 1 end
  end
  os.wait(1)
end)
loop(function()
  for _ = 1, 200 do
    pcall("soak.call", function(ok) if ok then counts.async = counts.async + 1 end end, "a")
  end
  os.wait(2)
end)
loop(function()
  for _ = 1, 500 do counts.msgs = counts.msgs + rpc.deliver("soak.msg", 1, 0, payload) end
  os.wait(1)
end)
loop(function()
  local ok, child = os.pload("soak_child", 5)
  if ok then counts.spawns = counts.spawns + 1 child:close() end
end)
loop(function()
  local s = io.socket("tcp")
  if s:connect("127.0.0.1", port) then
    for i = 1, 3 do
      s:write("line " .. i .. "\n")
      s:read()
    end
    counts.conns = counts.conns + 1
  end
  s:close()
end)

U.info("soak: %d s, RSS every %d s (KiB)", seconds, every)
local t0 = U.now("s")
local samples = {}
while U.now("s") - t0 < seconds do
  os.wait(every * 1000)
  local rss = U.vmrss_kib()
  samples[#samples + 1] = rss
  U.info("t=%4ds rss=%d KiB calls=%d async=%d msgs=%d spawns=%d conns=%d", math.floor(U.now("s") - t0), rss,
    counts.calls, counts.async, counts.msgs, counts.spawns, counts.conns)
end
stop = true
-- Flatness: the last third against the first third (after warm-up).
local n = #samples
local function avg(a, b)
  local s = 0
  for i = a, b do s = s + samples[i] end
  return s / (b - a + 1)
end
if n >= 6 then
  local early, late = avg(2, n // 3), avg(n - n // 3 + 1, n)
  U.result("soak_rss_early", early / 1024, "MiB")
  U.result("soak_rss_late", late / 1024, "MiB")
  U.result("soak_rss_growth", (late - early) / early * 100, "%")
end
srv:close()
for _, job in ipairs(jobs) do job:close() end
