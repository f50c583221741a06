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

B.spawn_many("spawn_main", 10000)
os.exit(0)
