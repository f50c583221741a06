-- send_oneway counter: "bench.count"(i) counts; "bench.count"("wait") (a call)
-- answers with the count. Messages from one sender are handled in order, so a
-- "wait" call sent after the N messages is answered after all N were counted.
local count = 0

function main()
	rpc.create("bench.count", function(v)
		if v == "wait" then return count end
		count = count + 1
	end)
	while not os.stopped() do os.wait() end
end
