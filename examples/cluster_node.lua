-- cluster_node: one node of examples/cluster.lua, run as its own process:
--   skynet cluster_node <master port> <name>
-- It publishes "<name>.hello" and the shared name "shout" (public: callable
-- from every node), keeps "<name>.secret" private, and joins the cluster.

local function pid()
	local f = io.open("/proc/self/stat")
	local s = f and f:read("l") or ""
	if f then f:close() end
	return s:match("^(%d+)") or "?"
end

function main(port, name)
	rpc.create(name .. ".hello", function(who)
		return ("hello %s, this is %s (pid %s), you are service %#x to me"):format(who, name, pid(), rpc.caller())
	end, true)
	-- several nodes host "shout": calls are spread over them, like local handlers
	rpc.create("shout", function(text) return name .. ": " .. text:upper() end, true)
	-- a node may call other nodes from its handlers
	rpc.create(name .. ".ask", function(other) return select(2, pcall(other .. ".hello", name)) end, true)
	rpc.create(name .. ".secret", function() return 42 end)	-- local only
	local ok, job = os.pload("cluster.adapter", "127.0.0.1", port)
	assert(ok, job)
	print(name .. " ready")
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	job:close()
end
