-- Workload a, rpc_roundtrip (docs/benchmarks.md): 1 caller service, 1 echo
-- service; the caller does 2,000 warm-up calls then 200,000 sequential sync
-- pcall("bench.echo", i), reply checked == i. Figure: calls/s.
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/rpc_roundtrip.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local ok = B.run({ { "bench_echo" }, { "bench_rt_caller", 200000, 2000 } })
os.exit(ok and 0 or 1)
