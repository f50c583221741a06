-- timers: N one-shot os.timer() objects armed with t:expires(d, cb),
-- d = 10 * math.random(1, 100) ms (10 ms .. 1 s) after math.randomseed(42); each
-- callback increments a counter. Clock: before the first registration -> when
-- the N-th callback ran -> timers/s, timers_elapsed (ms), timers_register (ms).
-- Then sleep precision: S sequential os.wait(10), lateness = measured - 10 ms,
-- once alone and once with N more timers armed (due after the run).
local B = require "bench_util"

function main(n, s)
	os.wait(0)	-- ready
	math.randomseed(42)
	local fired, t_last = 0, nil
	local now = B.now
	local function cb()
		fired = fired + 1
		if fired == n then t_last = now() end
	end
	local timers = {}	-- kept for symmetry; armed timers live on anyway (docs/API.md §10)
	local t0 = now()
	for i = 1, n do
		local t = os.timer()
		t:expires(10 * math.random(1, 100), cb)
		timers[i] = t
	end
	local t_reg = now()
	local deadline = t0 + 30
	while fired < n and now() < deadline and not os.stopped() do os.wait(50) end
	assert(fired == n, "only " .. fired .. " of " .. n .. " timers fired")
	local dt = t_last - t0
	B.info("timers n=%d register=%.3fms elapsed=%.3fs (max delay 1.00s)", n, (t_reg - t0) * 1e3, dt)
	B.result("timers", n / dt, "timers/s")
	B.result("timers_elapsed", dt * 1000, "ms")
	B.result("timers_register", (t_reg - t0) * 1000, "ms")
	timers = nil

	-- S sequential os.wait(10): sorted lateness in ms, and its mean
	local function lateness()
		local late = {}
		for i = 1, s do
			local a = now()
			os.wait(10)
			late[i] = (now() - a) * 1000 - 10.0
		end
		table.sort(late)
		local sum = 0
		for i = 1, s do sum = sum + late[i] end
		return late, sum / s
	end
	local late, mean = lateness()
	B.info("os.wait(10) lateness ms: min=%.3f p50=%.3f max=%.3f", late[1], late[s // 2], late[s])
	B.result("sleep_late_mean", mean, "ms")
	B.result("sleep_late_p99", late[math.ceil(s * 0.99)], "ms")

	-- The same while N timers of this service wait (due in 100 s, after the
	-- run): a sleep must not pay for the timers armed beside it.
	local armed = {}
	for i = 1, n do
		local t = os.timer()
		t:expires(100000 + i, cb)
		armed[i] = t
	end
	late, mean = lateness()
	B.info("os.wait(10) lateness with %d timers armed, ms: min=%.3f p50=%.3f max=%.3f", n, late[1], late[s // 2], late[s])
	B.result("sleep_armed_late_mean", mean, "ms")
	B.result("sleep_armed_late_p99", late[math.ceil(s * 0.99)], "ms")
	for i = 1, n do armed[i]:cancel() end
	B.done()
	while not os.stopped() do os.wait() end
end
