-- spawn: N sequential os.pload("bench_idle") (each returns once the new service
-- is ready, i.e. waits for the first time) -> services/s, plus RSS growth per
-- service (process-wide VmRSS; all services are alive at the end)
local B = require "bench_util"

function main(n)
	os.wait(0)	-- ready
	local jobs = B.spawn_many("spawn", n)
	B.done()
	while not os.stopped() do os.wait() end
	return jobs
end
