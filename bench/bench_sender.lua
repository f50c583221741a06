-- send_oneway sender: N x rpc.deliver("bench.count", 0, 0, i), then one sync
-- pcall("bench.count", "wait") answered with the count (asserted) -> msgs/s
local B = require "bench_util"

function main(n)
	os.wait(0)	-- ready
	local deliver = rpc.deliver
	local t0 = B.now()
	for i = 1, n do
		deliver("bench.count", 0, 0, i)
	end
	local t_sent = B.now()
	local ok, got = pcall("bench.count", "wait")
	local dt = B.now() - t0
	assert(ok and got == n, "counter got " .. tostring(got))
	B.info("send_oneway msgs=%d send_loop=%.3fs total=%.3fs", n, t_sent - t0, dt)
	B.result("send_oneway", n / dt, "msgs/s")
	B.done()
	while not os.stopped() do os.wait() end
end
