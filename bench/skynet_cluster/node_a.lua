-- Start service of node A (the caller) of the cloudwu/skynet cluster bench:
-- the workloads of bench/cluster.lua, with cluster.call/cluster.send to node B,
-- printed as RESULT cluster_<workload>_cloudwu <calls/s> calls/s; then it stops
-- this process (bench/cluster.sh stops node B).
--   roundtrip: sequential cluster.call of the echo with one integer, reply checked
--   concurrent: the same with 64 calls in flight (64 coroutines of skynet.fork)
--   oneway: cluster.send to the sink N times, timed until its count says all were handled
local skynet = require "skynet"
local cluster = require "skynet.cluster"
require "skynet.manager"	-- skynet.abort

local N_RT, N_CONC, N_ONEWAY, IN_FLIGHT = 20000, 50000, 200000, 64
local NODE = "bench_b"
local echo, sink	-- numeric addresses on node B, looked up once (no name lookup per call)

local function call_echo(i)
	local v = cluster.call(NODE, echo, i)
	if v ~= i then error("bad answer: " .. tostring(v)) end
end

local function roundtrip(n)
	for i = 1, n do call_echo(i) end
end

local function concurrent(n)
	local sent, done, failure = 0, 0, nil
	local main = coroutine.running()
	local function worker()
		local ok, err = pcall(function()
			while sent < n and not failure do
				sent = sent + 1
				call_echo(sent)
				done = done + 1
			end
		end)
		if not ok then failure = failure or err end
		-- the worker that answers the last call (or fails first) wakes the measure up
		if done == n or not ok then skynet.wakeup(main) end
	end
	for _ = 1, IN_FLIGHT do skynet.fork(worker) end
	skynet.wait(main)
	if failure then error(failure) end
end

local function oneway(n)
	local before = cluster.call(NODE, sink)
	for i = 1, n do cluster.send(NODE, sink, i) end
	while cluster.call(NODE, sink) < before + n do skynet.sleep(1) end
end

local function measure()
	echo = cluster.query(NODE, "echo")
	sink = cluster.query(NODE, "sink")
	roundtrip(1000)	-- warm-up (connection, sender service)
	for _, w in ipairs {
		{ "roundtrip", roundtrip, N_RT },
		{ "concurrent", concurrent, N_CONC },
		{ "oneway", oneway, N_ONEWAY },
	} do
		local t0 = skynet.hpc()
		w[2](w[3])
		local seconds = (skynet.hpc() - t0) / 1e9
		io.write(("RESULT cluster_%s_cloudwu %.2f calls/s\n"):format(w[1], w[3] / seconds))
		io.stdout:flush()
	end
end

skynet.start(function()
	local ok, err = pcall(measure)
	if not ok then io.stderr:write("ERROR ", tostring(err), "\n") end
	skynet.abort()
end)
