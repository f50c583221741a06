-- timers: one-shot, repeating and cancelled timers (os.timer()).
-- Run from the repo root:
--   lua5.4 examples/timers.lua
require "skynet"

local t0 = os.steady_clock("ms")
local function say(fmt, ...)
	print(("[%4d ms] " .. fmt):format(os.steady_clock("ms") - t0, ...))
end

-- One-shot: the callback runs once, after 50 ms.
local once = os.timer()
once:expires(50, function() say("one-shot fired") end)

-- Repeating at a fixed period: returning true re-arms with the same 100 ms.
local ticks = 0
local tick = os.timer()
tick:expires(100, function()
	ticks = ticks + 1
	say("tick %d", ticks)
	return ticks < 3	-- true twice (keep going), then false (stop)
end)

-- Repeating with a new delay each time: returning a number re-arms for that
-- many ms (here a doubling back-off: 20, 40, 80, 160 ms), nil stops.
local delay = 20
local backoff = os.timer()
backoff:expires(delay, function()
	say("back-off after %d ms", delay)
	delay = delay * 2
	if delay <= 160 then return delay end
end)

-- Cancel: armed for 300 ms, cancelled after 150 ms by another timer.
local doomed = os.timer()
doomed:expires(300, function() say("this never prints") end)
local killer = os.timer()
killer:expires(150, function()
	doomed:cancel()
	say("cancelled the 300 ms timer")
end)

-- Timer callbacks of the main script run while it waits: wait 400 ms in all.
-- (os.wait(ms) waits up to ms; a negative ms would mean "until stopped".)
local deadline = t0 + 400
while os.steady_clock("ms") < deadline and not os.stopped() do
	os.wait(math.max(1, deadline - os.steady_clock("ms")))
end
say("done")
