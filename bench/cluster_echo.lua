-- The serving side of bench/cluster.lua: public "bench.echo" (returns its
-- argument), "bench.sink" (counts one-way messages) and "bench.count".
-- As a service of the bench process: main(). As its own process joined to a
-- cluster: `skynet cluster_echo <master port>`, or through a NATS server:
-- `skynet cluster_echo nats://127.0.0.1:<port>`.
function main(where)
	local count = 0
	rpc.create("bench.echo", function(i) return i end, true)
	rpc.create("bench.sink", function() count = count + 1 end, true)
	rpc.create("bench.count", function() return count end, true)
	local job
	if where then
		local ok
		if tostring(where):match("^nats://") then
			ok, job = os.pload("cluster.nats", where)
		else
			ok, job = os.pload("cluster.adapter", "127.0.0.1", tonumber(where))
		end
		assert(ok, job)
		io.stdout:write("ready\n")
		io.stdout:flush()
	end
	while not os.stopped() do os.wait() end
	if job then job:close() end
end
