-- A NATS cluster node for spec/nats_spec.lua, run as its own process:
--   lua5.4 bin/skynet helpers.nats_node <url> <tag> [option=value ...] [group ...]
-- (arguments with '=' are options of cluster.nats, others broadcast groups).
-- Public names: node.<tag>.echo / .call / .deliver / .seen / .sleep /
-- .events, all.echo, each group (records what it gets). secret.<tag> is
-- private. Prints "ready <pid>" once connected (or "join failed: <msg>").

local function pid()
	local f = io.open("/proc/self/stat")
	local s = f and f:read("l") or ""
	if f then f:close() end
	return s:match("^(%d+)") or "?"
end

function main(url, tag, ...)
	local seen, events, options = {}, {}, {}
	local prefix = "node." .. tag .. "."
	rpc.create(prefix .. "echo", function(...) return tag, ... end, true)
	rpc.create(prefix .. "fail", function(msg) error(msg, 0) end, true)
	rpc.create(prefix .. "call", function(name, ...) return table.pack(pcall(name, ...)) end, true)
	rpc.create(prefix .. "deliver", function(...) return rpc.deliver(...) end, true)
	rpc.create(prefix .. "seen", function() return seen end, true)
	rpc.create(prefix .. "events", function() return events end, true)
	rpc.create(prefix .. "sleep", function(ms) os.wait(ms) return tag end, true)
	rpc.create(prefix .. "big", function(n) return string.rep("b", n) end, true)
	rpc.create("all.echo", function() return tag end, true)
	rpc.create("secret." .. tag, function() return "secret of " .. tag end)
	rpc.create("cluster.event", function(what, node, address) events[#events + 1] = { what, node, address } end)
	for _, arg in ipairs { ... } do
		local k, v = arg:match("^(%w+)=(.*)$")
		if k then
			options[k] = v
		else
			rpc.create(arg, function(...) seen[#seen + 1] = { arg, ... } end, true)
		end
	end
	local ok, job = os.pload("cluster.nats", url, options)
	if not ok then
		io.stdout:write("join failed: ", tostring(job), "\n")
		return
	end
	io.stdout:write("ready ", pid(), "\n")
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	job:close()
end
