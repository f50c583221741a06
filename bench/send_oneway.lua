-- Workload c, send_oneway (docs/benchmarks.md): 1 sender, 1 counter; the
-- sender does 1,000,000 rpc.deliver("bench.count", 0, 0, i) then one sync
-- pcall("bench.count", "wait") answered with the count. Figure: msgs/s.
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/send_oneway.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local ok = B.run({ { "bench_counter" }, { "bench_sender", 1000000 } })
os.exit(ok and 0 or 1)
