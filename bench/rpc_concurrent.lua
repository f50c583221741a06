-- Workload b, rpc_concurrent (docs/benchmarks.md): 1 echo service, 10 caller
-- services; each caller gets a "run" request (an async pcall from this script)
-- and does 20,000 sequential sync calls to the one echo; the 10 run concurrently.
-- Warm-up: one run of 100 calls each. Clock: from sending the 10 runs until the
-- 10th reply. Figure: 200,000 / elapsed -> calls/s (total).
--   LUA_PATH="bench/?.lua;;" LUA_CPATH="build/lib/?.so;;" lua5.4 bench/rpc_concurrent.lua
-- make bench/ (this file's directory) and ../build/lib findable (env LUA_PATH/LUA_CPATH win)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local C, N, WARMUP = 10, 20000, 100

local function start(name, ...)
	local ok, job = os.pload(name, ...)
	if not ok then io.stderr:write("ERROR cannot start " .. name .. ": " .. tostring(job) .. "\n"); os.exit(1) end
	return job
end

start("bench_echo")
for k = 1, C do start("bench_caller", k) end

for k = 1, C do	-- warm-up
	local ok, r = pcall("bench.caller." .. k, WARMUP)
	assert(ok and r == WARMUP, "warm-up run failed: " .. tostring(r))
end

local done, failed, t1 = 0, nil, nil
local function on_reply(ok, r)
	if not ok or r ~= N then failed = tostring(r) end
	done = done + 1
	if done == C then t1 = B.now() end
end
local t0 = B.now()
for k = 1, C do
	assert(pcall("bench.caller." .. k, on_reply, N))
end
while done < C and not os.stopped() do os.wait(5) end
if done < C then io.stderr:write("ERROR stopped before all runs replied\n"); os.exit(1) end
if failed then io.stderr:write("ERROR a run failed: " .. failed .. "\n"); os.exit(1) end
local dt = t1 - t0
B.info("rpc_concurrent callers=%d calls_each=%d elapsed=%.3fs", C, N, dt)
B.result("rpc_concurrent", C * N / dt, "calls/s")
os.exit(0)
