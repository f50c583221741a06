-- cluster.master: the member directory of a cluster (docs/API.md §18).
--
--   skynet cluster.master [port] [host]        (defaults 80, 0.0.0.0)
--
-- Every node's adapter connects here once, over WebSocket, with header
-- `xforword-port` (and `xforword-host`): where it listens for links. The
-- master answers with one {what="forword", id, ip, port} per member it
-- knows, then {what="ready"}, and remembers the newcomer until its
-- connection drops. That is all: rpc traffic never goes through here, the
-- nodes link to each other (lua/cluster/adapter.lua, src/cluster/).

local members = {}	-- id -> {ip =, port =}
local next_id = 0

local function log(fmt, ...)
	io.stderr:write(("[cluster.master] " .. fmt .. "\n"):format(...))
end

local function where(peer)
	local remote = peer:endpoint("remote")
	return remote and (remote.address .. ":" .. remote.port) or "?"
end

--- A member's advertised address, or nil and why not.
local function advertised(peer)
	local port = math.tointeger(tonumber(peer:getheader("xforword-port") or ""))
	if not port or port < 1 or port > 65535 then return nil, "no valid xforword-port header" end
	local ip = peer:getheader("xforword-host")
	if not ip or ip == "" then
		local remote = peer:endpoint("remote")
		ip = remote and remote.address
	end
	if not ip then return nil, "no address" end
	return ip, port
end

local function on_peer(peer)
	local ip, port = advertised(peer)
	if not ip then
		log("refused %s: %s", where(peer), port)
		return peer:close()
	end
	next_id = next_id + 1
	local id = next_id
	for mid, m in pairs(members) do
		peer:send(wrap { what = "forword", id = mid, ip = m.ip, port = m.port })
	end
	peer:send(wrap { what = "ready" })
	members[id] = { ip = ip, port = port }
	log("member %d joined (%s:%d)", id, ip, port)
	peer:receive(function(data, err)
		-- Members send nothing after joining: anything else is a broken peer.
		if data then
			log("member %d sent data after joining: closing it", id)
			peer:close()
		elseif members[id] then
			members[id] = nil
			log("member %d left (%s)", id, err)
		end
	end)
end

function main(port, host)
	port, host = port or 80, host or "0.0.0.0"
	local server = io.server("ws")
	local ok, err = server:listen(host, port, on_peer)
	if not ok then error(("cluster.master: cannot listen on %s:%s: %s"):format(host, port, err), 0) end
	io.stdout:write(("cluster.master works on port %d\n"):format(server:endpoint().port))
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	server:close()
end
