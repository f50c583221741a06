-- A node of examples/nats_cluster.lua, run as its own process:
--   skynet nats_node <nats url> <name>
-- Serves "<name>.hello" and "<name>.ask" (which calls a name of another node).
function main(url, name)
	rpc.create(name .. ".hello", function(who) return ("%s greets %s"):format(name, who) end, true)
	rpc.create(name .. ".ask", function(other) return pcall(other .. ".hello", name) end, true)
	local ok, job = os.pload("cluster.nats", url, { name = name })
	if not ok then error(job, 0) end
	print(name .. " ready")
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	job:close()
end
