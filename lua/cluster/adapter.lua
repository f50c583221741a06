-- cluster.adapter: joins this process to a cluster (docs/API.md §18, docs/cluster.md).
--
--   local ok, job = os.pload("cluster.adapter", host, port [, key])  -- the master
--   ...
--   job:close()                                                      -- leave
--
-- The adapter only sets things up; the links themselves (handshakes,
-- framing, remote handlers, calls and replies) are Rust tasks of this
-- service (src/cluster/), started through the internal `skynet.cluster` table:
-- 1. read the trust settings: `key` (else SKYNET_CLUSTER_KEY), TLS files;
-- 2. listen for links on an ephemeral port of the address that reaches the
--    master (loopback only without a key);
-- 3. join the master with that address (headers xforword-port/-host), prove
--    the key both ways, read the member list and our member id;
-- 4. link to every member at once (3 s each; one that fails is logged and
--    skipped); then become ready (os.pload returns).
-- If the master goes away later, existing links stay; new nodes cannot join
-- until it is back. Stopping the adapter says `leave` on every link.

local link = require "skynet.cluster"

local MASTER_MS = 4000	-- the whole exchange with the master, connection included

local function log(fmt, ...)
	io.stderr:write(("[cluster.adapter] " .. fmt .. "\n"):format(...))
end

local function fail(fmt, ...)
	error(("cluster.adapter: " .. fmt):format(...), 0)
end

--- The next message from the master, unwrapped; raises if there is none.
local function next_message(master, what_failed)
	local data, err = master:read()
	if not data then fail("%s: %s", what_failed, tostring(err)) end
	local ok, msg = pcall(unwrap, data)
	if not ok or type(msg) ~= "table" then fail("bad message from the master") end
	return msg
end

--- The connector's side of the key handshake with the master.
local function prove_key(master, where)
	local challenge = next_message(master, "master closed the connection before the key handshake")
	if challenge.what ~= "challenge" or type(challenge.nonce) ~= "string" then
		io.stderr:write(("cluster: refused %s: bad key\n"):format(where))
		fail("the master at %s does not prove the cluster key", where)
	end
	local mine = link.nonce()
	master:send(wrap { what = "proof", nonce = mine, proof = link.prove("connector", challenge.nonce, mine) })
	local answer = next_message(master, "the master refused our cluster key")
	if answer.what ~= "proof" or type(answer.proof) ~= "string"
		or not link.check("acceptor", challenge.nonce, mine, answer.proof) then
		io.stderr:write(("cluster: refused %s: bad key\n"):format(where))
		fail("the master at %s does not prove the cluster key", where)
	end
end

--- Joins the master: returns the members it lists and our member id.
local function join_master(master, host, port, keyed)
	local where = host .. ":" .. port
	local ok, err = master:connect(host, port)
	if not ok then fail("cannot reach the master %s: %s", where, err) end
	if keyed then prove_key(master, where) end
	local members = {}
	while true do
		local msg = next_message(master, "master closed the connection before ready")
		if msg.what == "ready" then
			if math.type(msg.id) ~= "integer" or msg.id < 1 then fail("the master sent no member id") end
			return members, msg.id
		end
		if msg.what == "challenge" then fail("the master at %s wants a cluster key (SKYNET_CLUSTER_KEY)", where) end
		if msg.what ~= "forword" or type(msg.ip) ~= "string" or math.type(msg.port) ~= "integer"
			or msg.port < 1 or msg.port > 65535 then
			fail("unexpected message from the master: %s", tostring(msg.what))
		end
		members[#members + 1] = msg
	end
end

function main(host, port, key)
	host, port = host or "127.0.0.1", port or 80
	local keyed, tls = link.configure(key)
	if keyed == nil then fail("%s", tls) end
	if not keyed and not link.loopback(host) then fail("set SKYNET_CLUSTER_KEY to join %s", host) end
	local ip, listening = link.listen(host, port)
	if not ip then fail("cannot listen: %s", listening) end
	local master = tls and io.socket("wss", link.context()) or io.socket("ws")
	master:setheader("xforword-port", listening)
	master:setheader("xforword-host", ip)
	-- A master that stalls (or a stranger posing as one) cannot hold the join.
	local timer = os.timer()
	timer:expires(MASTER_MS, function() master:close() end)
	local members, id = join_master(master, host, port, keyed)
	timer:cancel()
	link.identify(id, ip .. ":" .. listening)
	local targets = {}
	for i, m in ipairs(members) do targets[i] = { m.ip, m.port } end
	for i, result in ipairs(link.join(targets)) do
		local m = members[i]
		if result ~= true then log("member %s at %s:%d skipped: %s", tostring(m.id), m.ip, m.port, result) end
	end
	master:receive(function(data, err)
		if not data then log("master %s:%s gone (%s); links stay up", host, port, err) end
	end)
	while not os.stopped() do os.wait() end
	link.leave()
	master:close()
end
