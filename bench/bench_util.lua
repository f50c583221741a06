-- bench_util: helpers shared by the bench entry scripts and bench services.
-- Output format (the same as cloudwu/skynet's bench services print, docs/benchmarks.md):
--   RESULT <name> <value> <unit>     one figure
--   INFO <text>                      context
local M = {}

-- monotonic clock, float seconds (the clock of our timers)
M.now = os.steady_clock

function M.result(name, value, unit)
	local v
	if math.type(value) == "integer" then
		v = tostring(value)
	else
		v = string.format("%.2f", value)
	end
	io.write(string.format("RESULT %s %s %s\n", name, v, unit))
	io.stdout:flush()
end

function M.info(fmt, ...)
	io.write("INFO " .. string.format(fmt, ...) .. "\n")
	io.stdout:flush()
end

-- process-wide resident set size in KiB
function M.vmrss_kib()
	local f = assert(io.open("/proc/self/status"))
	local s = f:read("a")
	f:close()
	return tonumber(s:match("VmRSS:%s*(%d+)%s*kB"))
end

-- Starts n bench_idle services one after the other (after one warm-up) and
-- prints the spawn figures under `name`: services/s and KiB of RSS per
-- service. Returns the jobs, which keep the services alive.
function M.spawn_many(name, n)
	local jobs = { assert(os.pload("bench_idle")) } -- warm-up
	collectgarbage("collect")
	local rss0 = M.vmrss_kib()
	local t0 = M.now()
	for i = 1, n do
		local ok, job = os.pload("bench_idle")
		if not ok then error("pload failed: " .. tostring(job)) end
		jobs[i + 1] = job
	end
	local dt = M.now() - t0
	local rss1 = M.vmrss_kib()
	M.info("%s services=%d elapsed=%.3fs rss_before=%dKiB rss_after=%dKiB", name, n, dt, rss0, rss1)
	M.result(name, n / dt, "services/s")
	M.result(name .. "_rss", (rss1 - rss0) / n, "KiB/service")
	return jobs
end

-- Main script: start the services given as {module, args...} lists (in order),
-- then pump events until a bench service delivers "bench.done" (or the deadline
-- passes). Returns true when done.
function M.run(services, deadline_s)
	local done = false
	rpc.create("bench.done", function() done = true end)
	local jobs = {}
	for _, s in ipairs(services) do
		local ok, job = os.pload(table.unpack(s))
		if not ok then
			io.stderr:write("ERROR cannot start " .. s[1] .. ": " .. tostring(job) .. "\n")
			return false
		end
		jobs[#jobs + 1] = job
	end
	local t_end = M.now() + (deadline_s or 240)
	while not done and M.now() < t_end and not os.stopped() do
		os.wait(20)
		for _, job in ipairs(jobs) do
			if job:state() == "error" then
				io.stderr:write("ERROR a bench service failed (see its log above)\n")
				return false
			end
		end
	end
	if not done then io.stderr:write("ERROR bench did not finish in time\n") end
	return done
end

-- Bench services call this when they have printed their results.
function M.done()
	io.stdout:flush()
	rpc.deliver("bench.done", 0, 0)
end

return M
