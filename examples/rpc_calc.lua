-- rpc_calc: the service used by examples/rpc.lua.
-- Handlers run in their own coroutine: they may block (here: on a timer).

function main()
	rpc.create("calc.add", function(a, b) return a + b end)

	-- several results, tables included (arguments and results are copied)
	rpc.create("calc.divmod", function(a, b)
		if b == 0 then error("division by zero") end	-- caller gets false, msg
		return a // b, a % b, { caller = rpc.caller() }
	end)

	-- a slow answer: the handler sleeps without blocking the other handlers
	rpc.create("calc.slow_square", function(x, ms)
		local t = os.timer()
		local respond = rpc.responser()	-- answer later, from the timer
		t:expires(ms, function() respond(x * x) end)
	end)

	while not os.stopped() do os.wait() end
end
