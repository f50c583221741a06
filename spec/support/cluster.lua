-- The process harness of the multi-process cluster specs (cluster_spec,
-- cluster_trust_spec, nats_spec): a temp directory for logs, background
-- processes (skynet nodes, nats-server) whose output goes there, and
-- waiting for lines in it.
local net = require "support.net"
local H = require "support.helpers"
local M = {}

local launcher = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"

--- A free loopback TCP port (support.net's).
M.free_port = require("support.net").free_port

--- Sends signal `sig` (default TERM) to process `pid`, if any.
function M.kill(pid, sig)
	if pid then os.execute(("kill -%s %d 2>/dev/null"):format(sig or "TERM", pid)) end
end

--- A call made by node `tag` (the spec nodes serve `node.<tag>.call`; "t"
--- is the spec's own process): returns what its pcall returned.
function M.call_from(tag, name, ...)
	if tag == "t" then return pcall(name, ...) end
	local ok, r = pcall("node." .. tag .. ".call", name, ...)
	assert(ok, r)
	return table.unpack(r, 1, r.n)
end

--- A fresh harness: `h.tmp` (its directory), `h.started` (pids of the
--- `timeout` wrappers, in start order) and the functions below.
function M.harness()
	local h = { tmp = os.tmpname(), started = {} }
	os.remove(h.tmp)
	assert(os.execute("mkdir -p " .. h.tmp))

	--- Starts shell command `cmd` in the background (for 120 s at most),
	--- output to tmp/<log>. Returns the pid of its `timeout` wrapper.
	function h.run(log, cmd)
		local pidfile = h.tmp .. "/" .. log .. ".pid"
		os.execute(("(timeout 120 %s) >%s/%s 2>&1 & echo $! > %s"):format(cmd, h.tmp, log, pidfile))
		local pid = tonumber((net.read_file(pidfile) or ""):match("%d+"))
		h.started[#h.started + 1] = pid
		return pid
	end

	--- Starts `lua5.4 <launcher> args...` as `h.run` does; `env`: NAME=value
	--- words for it (SKYNET_CLUSTER_KEY is unset unless given there).
	function h.start(log, args, env)
		return h.run(log, ("env -u SKYNET_CLUSTER_KEY SKYNET_THREADS=2 %s lua5.4 %s %s"):format(env or "", launcher, args))
	end

	function h.output(log) return net.read_file(h.tmp .. "/" .. log) or "" end

	--- Waits until the output of `log` matches `pattern` (`timeout_ms`,
	--- 10 s by default); the first capture or nil.
	function h.wait_for(log, pattern, timeout_ms)
		local found
		H.wait_until(function()
			found = h.output(log):match(pattern)
			return found ~= nil
		end, timeout_ms or 10000)
		return found
	end

	--- Stops every process started and removes the directory.
	function h.stop_all()
		for _, pid in ipairs(h.started) do
			os.execute(("pkill -P %d 2>/dev/null; kill %d 2>/dev/null"):format(pid, pid))
		end
		os.execute("rm -rf " .. h.tmp)
	end
	return h
end

return M
