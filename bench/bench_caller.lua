-- rpc_concurrent caller k: "bench.caller.<k>"(n) does n sequential sync
-- pcall("bench.echo", i) (reply checked == i) and returns n
function main(k)
	rpc.create("bench.caller." .. k, function(n)
		for i = 1, n do
			local ok, r = pcall("bench.echo", i)
			if not ok or r ~= i then error("bad echo: " .. tostring(r)) end
		end
		return n
	end)
	while not os.stopped() do os.wait() end
end
