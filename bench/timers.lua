-- Workload e, timers (docs/benchmarks.md): one service arms 100,000 one-shot
-- os.timer()s of 10 * math.random(1,100) ms (seed 42) and counts the callbacks;
-- then 200 sequential os.wait(10) measure sleep lateness.
-- Figures: timers/s, timers_elapsed ms, timers_register ms, sleep_late_mean/p99 ms,
-- and sleep_armed_late_mean/p99 ms (the same sleeps with 100,000 more timers armed).
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/timers.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local ok = B.run({ { "bench_timers", 100000, 200 } })
os.exit(ok and 0 or 1)
