-- cluster.master: the member directory of a cluster (docs/API.md §18, docs/cluster.md).
--
--   skynet cluster.master [port] [host]        (defaults 80, 0.0.0.0)
--
-- Every node's adapter connects here once, over WebSocket, with header
-- `xforword-port` (and `xforword-host`): where it listens for links. With a
-- cluster key (SKYNET_CLUSTER_KEY) the connection first proves the key both
-- ways (challenge-response, src/cluster/handshake.rs); a peer that fails
-- learns nothing. Without a key the master listens on and accepts loopback
-- only. Then the master answers with one {what="forword", id, ip, port} per
-- member it knows, then {what="ready", id} (the newcomer's member id), and
-- remembers the newcomer until its connection drops. That is all: rpc
-- traffic never goes through here, the nodes link to each other
-- (lua/cluster/adapter.lua, src/cluster/).

local trust = require "skynet.cluster"

local HANDSHAKE_MS = 5000	-- a peer that has not proved the key by then is dropped

local members = {}	-- id -> {ip =, port =}
local next_id = 0
local keyed	-- set in main

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

--- The next message of `peer`, unwrapped, if it is a table.
local function next_message(peer)
	local data = peer:read()
	if not data then return nil end
	local ok, msg = pcall(unwrap, data)
	return ok and type(msg) == "table" and msg or nil
end

--- The acceptor's side of the key handshake: true once the peer has proved
--- the key (and we have answered with our proof).
local function proven(peer)
	local mine = trust.nonce()
	peer:send(wrap { what = "challenge", nonce = mine })
	local timer = os.timer()
	timer:expires(HANDSHAKE_MS, function() peer:close() end)
	local msg = next_message(peer)
	timer:cancel()
	if not msg or msg.what ~= "proof" or type(msg.nonce) ~= "string" or type(msg.proof) ~= "string"
		or not trust.check("connector", mine, msg.nonce, msg.proof) then
		return false
	end
	peer:send(wrap { what = "proof", proof = trust.prove("acceptor", mine, msg.nonce) })
	return true
end

local function on_peer(peer)
	if keyed then
		if not proven(peer) then
			io.stderr:write(("cluster: refused %s: bad key\n"):format(where(peer)))
			return peer:close()
		end
	else
		local remote = peer:endpoint("remote")
		if not (remote and trust.loopback(remote.address)) then
			log("refused %s: not a loopback peer and no SKYNET_CLUSTER_KEY", where(peer))
			return peer:close()
		end
	end
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
	peer:send(wrap { what = "ready", id = id })
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
	local tls
	keyed, tls = trust.configure()
	if keyed == nil then error("cluster.master: " .. tls, 0) end
	if not keyed and not trust.loopback(host) then
		error(("cluster.master: set SKYNET_CLUSTER_KEY to listen on %s"):format(host), 0)
	end
	local server = tls and io.server("wss", trust.context()) or io.server("ws")
	local ok, err = server:listen(host, port, on_peer)
	if not ok then error(("cluster.master: cannot listen on %s:%s: %s"):format(host, port, err), 0) end
	io.stdout:write(("cluster.master works on port %d\n"):format(server:endpoint().port))
	io.stdout:flush()
	while not os.stopped() do os.wait() end
	server:close()
end
