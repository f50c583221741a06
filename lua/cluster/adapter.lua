-- cluster.adapter: joins this process to a cluster (docs/API.md §18).
--
--   local ok, job = os.pload("cluster.adapter", host, port)  -- the master
--   ...
--   job:close()                                              -- leave
--
-- The adapter only sets things up; the links themselves (framing, remote
-- handlers, calls and replies) are Rust tasks of this service
-- (src/cluster/), started through the internal `skynet.cluster` table:
-- 1. listen for links on an ephemeral port of the address that reaches the master;
-- 2. join the master with that address (headers xforword-port/-host);
-- 3. link to every member it lists (each link exchanges public names);
-- 4. on the master's "ready", become ready (os.pload returns).
-- If the master goes away later, existing links stay; new nodes cannot join
-- until it is back. Stopping the adapter closes every link.

local link = require "skynet.cluster"

local function log(fmt, ...)
	io.stderr:write(("[cluster.adapter] " .. fmt .. "\n"):format(...))
end

--- The next message from the master, unwrapped; raises if there is none.
local function next_message(master)
	local data, err = master:read()
	if not data then error("cluster.adapter: master closed the connection before ready: " .. tostring(err), 0) end
	local ok, msg = pcall(unwrap, data)
	if not ok or type(msg) ~= "table" then error("cluster.adapter: bad message from the master", 0) end
	return msg
end

function main(host, port)
	host, port = host or "127.0.0.1", port or 80
	local ip, listening = link.listen(host, port)
	if not ip then error(("cluster.adapter: cannot listen: %s"):format(listening), 0) end
	local master = io.socket("ws")
	master:setheader("xforword-port", listening)
	master:setheader("xforword-host", ip)
	local ok, err = master:connect(host, port)
	if not ok then error(("cluster.adapter: cannot reach the master %s:%s: %s"):format(host, port, err), 0) end
	while true do
		local msg = next_message(master)
		if msg.what == "ready" then break end
		if msg.what ~= "forword" or type(msg.ip) ~= "string" or math.type(msg.port) ~= "integer"
			or msg.port < 1 or msg.port > 65535 then
			error("cluster.adapter: unexpected message from the master: " .. tostring(msg.what), 0)
		end
		local linked, why = link.connect(msg.ip, msg.port)
		if not linked then log("member %s at %s:%d unreachable: %s", tostring(msg.id), msg.ip, msg.port, why) end
	end
	master:receive(function(data, err)
		if not data then log("master %s:%s gone (%s); links stay up", host, port, err) end
	end)
	while not os.stopped() do os.wait() end
	master:close()
end
