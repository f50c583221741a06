-- A cluster node for spec/cluster_spec.lua, run as its own process:
--   lua5.4 bin/skynet helpers.cluster_node <master port> <tag> [group...]
-- Public names: node.<tag>.echo / .call / .deliver / .seen / .sleep, all.echo,
-- shared.name (public: the trust spec checks a node's private handler of the
-- same name keeps it local), and each extra argument as a broadcast target
-- that records what it gets. secret.<tag> is private. The cluster key, if
-- any, comes from SKYNET_CLUSTER_KEY. Prints "ready <pid> <ms the join took>"
-- once joined.

local function pid()
	local f = io.open("/proc/self/stat")
	local s = f and f:read("l") or ""
	if f then f:close() end
	return s:match("^(%d+)") or "?"
end

function main(port, tag, ...)
	local seen = {}
	local prefix = "node." .. tag .. "."
	rpc.create(prefix .. "echo", function(...) return tag, rpc.caller(), ... end, true)
	-- calls from this node to another name: how the specs test every direction
	rpc.create(prefix .. "call", function(name, ...) return table.pack(pcall(name, ...)) end, true)
	rpc.create(prefix .. "deliver", function(...) return rpc.deliver(...) end, true)
	rpc.create(prefix .. "seen", function() return seen end, true)
	rpc.create(prefix .. "sleep", function(ms) os.wait(ms) return tag end, true)
	rpc.create("all.echo", function() return tag end, true)
	rpc.create("shared.name", function() return tag end, true)
	rpc.create("secret." .. tag, function() return "secret of " .. tag end)
	for _, group in ipairs { ... } do
		rpc.create(group, function(...) seen[#seen + 1] = { group, ... } end, true)
	end
	local t0 = os.steady_clock("ms")
	local ok, job = os.pload("cluster.adapter", "127.0.0.1", port)
	local took = math.floor(os.steady_clock("ms") - t0)
	if not ok then
		io.stderr:write("join failed: ", tostring(job), "\n")
		return
	end
	io.stdout:write("ready ", pid(), " ", took, "\n")
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	job:close()
end
