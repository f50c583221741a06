-- Cluster over NATS: nodes meet through a NATS server instead of a master.
-- Starts a nats-server on a free loopback port unless a URL is given, then
-- two nodes (examples/nats_node.lua) as separate processes that call each
-- other, and calls them from here (this script is a node too).
-- Run from the repo root:
--   lua5.4 examples/nats_cluster.lua [nats://host:port]
local here = arg[0]:match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. here .. "/../lua/?.lua;" .. package.path
require "skynet"

local launcher = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"

local procs = {}
local function start(cmd)
	local log = os.tmpname()
	os.execute(("(LUA_PATH='%s' LUA_CPATH='%s' timeout 60 %s) >%s 2>&1 & echo $! >%s.pid")
		:format(package.path, package.cpath, cmd, log, log))
	local f = assert(io.open(log .. ".pid"))
	procs[#procs + 1] = { pid = f:read("n"), log = log }
	f:close()
	os.remove(log .. ".pid")
	return log
end
local function wait_line(log, text)
	for _ = 1, 500 do
		local f = io.open(log)
		local s = f and f:read("a") or ""
		if f then f:close() end
		if s:find(text, 1, true) then return end
		os.wait(20)
	end
	error("no '" .. text .. "' from " .. log)
end

local function run(url)
	if not url then
		local probe = io.server("tcp")
		assert(probe:listen("127.0.0.1", 0, function() end))
		local port = probe:endpoint().port
		probe:close()
		wait_line(start(("nats-server -a 127.0.0.1 -p %d"):format(port)), "Server is ready")
		url = ("nats://127.0.0.1:%d"):format(port)
		print("nats-server on " .. url)
	end
	wait_line(start(("lua5.4 %s nats_node %s alpha"):format(launcher, url)), "alpha ready")
	wait_line(start(("lua5.4 %s nats_node %s beta"):format(launcher, url)), "beta ready")

	local ok, node = os.pload("cluster.nats", url)
	assert(ok, node)
	print(pcall("alpha.hello", "main"))   -- true  alpha greets main
	print(pcall("alpha.ask", "beta"))     -- true  true  beta greets alpha
	print(pcall("beta.ask", "alpha"))     -- true  true  alpha greets beta
	print(pcall("gamma.hello", "main"))   -- false gamma.hello not found
	node:close()
end

local ok, err = pcall(run, arg[1])
for _, p in ipairs(procs) do
	os.execute(("pkill -P %d 2>/dev/null; kill %d 2>/dev/null"):format(p.pid, p.pid))
	os.remove(p.log)
end
if not ok then error(err, 0) end
