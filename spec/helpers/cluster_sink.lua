-- A cluster node slower than its senders, run as its own process:
--   lua5.4 bin/skynet helpers.cluster_sink <master port> <us per message>
-- Public names: flood.sink (one-way messages counted, sizes summed; each
-- costs `us` microseconds of CPU) and flood.sink.count (-> count, bytes,
-- peak RSS of this process in MiB).
-- Prints "ready" once joined.

local H = require "support.helpers"

function main(port, us)
	us = tonumber(us)
	local count, bytes = 0, 0
	local clock = os.steady_clock
	rpc.create("flood.sink", function(data)
		count, bytes = count + 1, bytes + #data
		local t = clock("us") + us
		while clock("us") < t do end
	end, true)
	rpc.create("flood.sink.count", function() return count, bytes, H.peak_mib() end, true)
	local ok, job = os.pload("cluster.adapter", "127.0.0.1", tonumber(port))
	if not ok then
		io.stderr:write("join failed: ", tostring(job), "\n")
		return
	end
	io.stdout:write("ready\n")
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	job:close()
end
