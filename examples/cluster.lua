-- cluster: three processes sharing rpc names. This script starts a master and
-- two nodes (examples/cluster_node.lua) as separate processes, joins the
-- cluster itself, calls across, then stops them all.
-- Run from the repo root:
--   lua5.4 examples/cluster.lua
-- The node module lives next to this file; cluster.master/adapter come from
-- the installed rock, or from this checkout's lua/ when run from the repo.
local here = arg[0]:match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. here .. "/../lua/?.lua;" .. package.path
require "skynet"

local launcher = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"

-- a free port for the master
local probe = io.server("tcp")
assert(probe:listen("127.0.0.1", 0, function() end))
local port = probe:endpoint().port
probe:close()

-- background processes: their pids, and their output in temp files
local procs = {}
local function start(args)
	local log = os.tmpname()
	os.execute(("(LUA_PATH='%s' LUA_CPATH='%s' timeout 60 lua5.4 %s %s) >%s 2>&1 & echo $! >%s.pid")
		:format(package.path, package.cpath, launcher, args, log, log))
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

local function run()
	wait_line(start(("cluster.master %d 127.0.0.1"):format(port)), "works on port")
	print("master on port " .. port)
	wait_line(start(("cluster_node %d alpha"):format(port)), "alpha ready")
	wait_line(start(("cluster_node %d beta"):format(port)), "beta ready")

	-- join: from now on the public names of alpha and beta are ours to call
	local ok, adapter = os.pload("cluster.adapter", "127.0.0.1", port)
	assert(ok, adapter)
	print(pcall("alpha.hello", "main script"))
	print(pcall("beta.hello", "main script"))
	print(pcall("alpha.ask", "beta"))	-- alpha calls beta for us
	for _, word in ipairs { "one", "two", "three", "four" } do
		print(pcall("shout", word))	-- round robin over alpha and beta
	end
	print(pcall("alpha.secret"))	--> false  alpha.secret not found (not public)
	adapter:close()	-- leave the cluster
end

local ok, err = pcall(run)
-- stop every process we started, also after an error
for _, p in ipairs(procs) do
	os.execute(("pkill -P %d 2>/dev/null; kill %d 2>/dev/null"):format(p.pid, p.pid))
	os.remove(p.log)
end
if not ok then error(err, 0) end
print("done")
