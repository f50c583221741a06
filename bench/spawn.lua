-- Workload d, spawn (docs/benchmarks.md): a service starts 10,000 trivial
-- services sequentially with os.pload("bench_idle") (one warm-up first).
-- Figures: services/s and KiB/service (VmRSS growth / 10,000).
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/spawn.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local ok = B.run({ { "bench_spawner", 10000 } })
os.exit(ok and 0 or 1)
