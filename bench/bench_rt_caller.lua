-- rpc_roundtrip caller: WARMUP then N sequential sync pcall("bench.echo", i),
-- reply checked == i -> calls/s
local B = require "bench_util"

function main(n, warmup)
	os.wait(0)	-- ready: lets the main script's os.pload return
	for i = 1, warmup do
		local ok, r = pcall("bench.echo", i)
		assert(ok and r == i, "bad echo in warm-up: " .. tostring(r))
	end
	local t0 = B.now()
	for i = 1, n do
		local ok, r = pcall("bench.echo", i)
		if not ok or r ~= i then error("bad echo: " .. tostring(r)) end
	end
	local dt = B.now() - t0
	B.info("rpc_roundtrip calls=%d elapsed=%.3fs mean_rtt=%.2fus", n, dt, dt / n * 1e6)
	B.result("rpc_roundtrip", n / dt, "calls/s")
	B.done()
	while not os.stopped() do os.wait() end
end
