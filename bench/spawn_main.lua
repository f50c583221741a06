-- Workload d from the main script: the script itself (not a service) starts
-- 10,000 trivial services sequentially with os.pload("bench_idle"), one
-- warm-up first. cloudwu/skynet has no main script: its figure to beat is
-- its spawn from a service (bench/run.sh sets them side by side).
-- Figures: services/s and KiB/service (VmRSS growth / 10,000).
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/spawn_main.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local n = 10000
local jobs = { assert(os.pload("bench_idle")) } -- warm-up
collectgarbage("collect")
local rss0 = B.vmrss_kib()
local t0 = B.now()
for i = 1, n do
	local ok, job = os.pload("bench_idle")
	if not ok then error("pload failed: " .. tostring(job)) end
	jobs[i] = job
end
local dt = B.now() - t0
local rss1 = B.vmrss_kib()
B.info("spawn_main services=%d elapsed=%.3fs rss_before=%dKiB rss_after=%dKiB", n, dt, rss0, rss1)
B.result("spawn_main", n / dt, "services/s")
B.result("spawn_main_rss", (rss1 - rss0) / n, "KiB/service")
os.exit(0)
