-- spawn: N sequential os.pload("bench_idle") (each returns once the new service
-- is ready, i.e. waits for the first time) -> services/s, plus RSS growth per
-- service (process-wide VmRSS; all services are alive at the end)
local B = require "bench_util"

function main(n)
	os.wait(0)	-- ready
	local jobs = {}
	assert(os.pload("bench_idle"))	-- warm-up
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
	B.info("spawn services=%d elapsed=%.3fs rss_before=%dKiB rss_after=%dKiB", n, dt, rss0, rss1)
	B.result("spawn", n / dt, "services/s")
	B.result("spawn_rss", (rss1 - rss0) / n, "KiB/service")
	B.done()
	while not os.stopped() do os.wait() end
end
