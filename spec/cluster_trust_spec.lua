-- Cluster trust (docs/cluster.md, "Trust") with real OS processes: a master
-- and nodes a, b, c (spec/helpers/cluster_node.lua) holding the key from
-- SKYNET_CLUSTER_KEY, this process as a node holding it as the adapter's
-- third argument, and an attacker process without it
-- (spec/helpers/cluster_attacker.lua). The whole suite runs a second time
-- over mutual TLS, with certificates made here by openssl: then this file
-- is run again by a child busted that has the SKYNET_CLUSTER_CA/CERT/CERTKEY
-- environment (the adapter of this process reads it from there).
require "skynet"
package.path = "spec/?.lua;lua/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"
local link = require "skynet.cluster"

local launcher = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"
local TLS = os.getenv("SKYNET_CLUSTER_CA") ~= nil
local KEY = "a cluster key of the trust spec"
local function clock() return os.steady_clock("ms") end

local cluster_support = require "support.cluster"
local h = cluster_support.harness()
local tmp, start, output, wait_for = h.tmp, h.start, h.output, h.wait_for
local free_port = cluster_support.free_port
local pids = {}	-- tag -> pid of the node's lua process

local function two(a, b) return { a, b } end

local kill = cluster_support.kill

local master_port
local keyed = "SKYNET_CLUSTER_KEY='" .. KEY .. "'"
local runs = {}	-- tag -> how many times started (log names)

local function start_node(tag, env)
	runs[tag] = (runs[tag] or 0) + 1
	local log = ("node_%s_%d.log"):format(tag, runs[tag])
	start(log, ("helpers.cluster_node %d %s"):format(master_port, tag), env or keyed)
	return log
end

-- Starts a keyed node and waits until it has joined; returns its log.
local function join_node(tag)
	local log = start_node(tag)
	local pid = wait_for(log, "ready (%d+)")
	assert(pid, "node " .. tag .. " did not join: " .. output(log))
	pids[tag] = tonumber(pid)
	return log
end

local call_from = cluster_support.call_from

local events = {}	-- {what, node, address} heard by this node's cluster.event handler
local function event_of(what, pred)
	for _, e in ipairs(events) do
		if e[1] == what and pred(e) then return e end
	end
end
local node_of = {}	-- tag -> {node, address} as its "up" event said

local adapter

describe("cluster trust" .. (TLS and " over mutual TLS" or ""), function()
	setup(function()
		master_port = free_port()
		start("master.log", ("cluster.master %d 127.0.0.1"):format(master_port), keyed)
		assert(wait_for("master.log", "cluster.master works on port (%d+)"), output("master.log"))
		rpc.create("cluster.event", function(what, node, address)
			events[#events + 1] = { what, node, address, at = clock() }
		end)
		-- a private handler of a name the other nodes publish
		rpc.create("shared.name", function() return "t" end)
		rpc.create("node.t.echo", function() return "t" end, true)
		local ok, job = os.pload("cluster.adapter", "127.0.0.1", master_port, KEY)
		assert(ok, job)
		adapter = job
		-- each node joins alone, so the "up" this process hears next is its
		for _, tag in ipairs { "a", "b", "c" } do
			local before = #events
			join_node(tag)
			assert(H.wait_until(function() return #events > before end, 10000))
			node_of[tag] = { events[#events][2], events[#events][3] }
		end
	end)

	teardown(function()
		if adapter then adapter:close() end
		rpc.remove("cluster.event")
		rpc.remove("shared.name")
		rpc.remove("node.t.echo")
		for _, pid in pairs(pids) do kill(pid, "CONT") kill(pid) end
		h.stop_all()
	end)

	local function healthy()
		for _, tag in ipairs { "a", "b", "c" } do
			assert.are.same({ true, tag }, two(pcall("node." .. tag .. ".echo")), tag)
			assert.are.same({ true, "t" }, { call_from(tag, "node.t.echo") }, tag)
		end
	end

	it("a keyed master and three keyed nodes serve each other", function()
		healthy()
		assert.are.same({ true, "b" }, two(call_from("a", "node.b.echo")))
		-- every node was reported up once, with an integer id and its link address
		for _, tag in ipairs { "a", "b", "c" } do
			local id, address = node_of[tag][1], node_of[tag][2]
			assert.are.equal("integer", math.type(id))
			assert.truthy(address:match("^127%.0%.0%.1:%d+$"), address)
		end
	end)

	it("a private name stays local while other nodes publish it", function()
		for _ = 1, 8 do assert.are.same({ true, "t" }, { pcall("shared.name") }) end
		assert.are.equal(1, rpc.deliver("shared.name", 0, 0))
		-- the other nodes share their public handlers and never reach ours
		local seen = {}
		for _ = 1, 12 do
			local ok, who = call_from("a", "shared.name")
			assert.is_true(ok)
			seen[who] = true
		end
		assert.are.same({ a = true, b = true, c = true }, seen)
	end)

	it("an attacker without the key learns nothing and achieves nothing", function()
		-- bytes a keyed member really sent on other connections, for the attacker to replay
		local function keyed_proof(ws, host, port, headers)
			for k, v in pairs(headers) do ws:setheader(k, v) end
			assert(ws:connect(host, port))
			local challenge = unwrap(assert(ws:read()))
			assert.are.equal("challenge", challenge.what)
			local mine = link.nonce()
			local bytes = wrap { what = "proof", nonce = mine, proof = link.prove("connector", challenge.nonce, mine) }
			ws:send(bytes)
			-- the control: on its own connection that proof is accepted
			local answer = unwrap(assert(ws:read()))
			assert.are.equal("proof", answer.what)
			assert.is_true(link.check("acceptor", challenge.nonce, mine, answer.proof))
			ws:close()
			return bytes
		end
		local ip, port = node_of.a[2]:match("^(.*):(%d+)$")
		local replay = tmp .. "/replay"
		os.execute("mkdir -p " .. replay)
		local kind, ctx = TLS and "wss" or "ws", TLS and link.context() or nil
		net.write_file(replay .. "/master.bin",
			keyed_proof(io.socket(kind, ctx), "127.0.0.1", master_port, { ["xforword-port"] = 9 }))
		net.write_file(replay .. "/link.bin",
			keyed_proof(io.socket(kind, ctx), ip, tonumber(port), { ["xforword-join"] = "skynet-lua" }))
		local before = #events
		local attacker = "attacker.log"
		if TLS then
			-- without a certificate of the cluster's CA the attacker does not even get a challenge
			local s = io.socket("ws")
			s:setheader("xforword-port", 9)
			local ok = s:connect("127.0.0.1", master_port)
			assert.is_true(not ok or s:read() == nil)
			s:close()
			local w = io.socket("wss")
			assert.is_true(not w:connect("127.0.0.1", master_port) or w:read() == nil)
			w:close()
			return
		end
		start(attacker, ("helpers.cluster_attacker %d %s %s %s"):format(master_port, ip, port, replay))
		assert(wait_for(attacker, "attacks done", 20000), output(attacker))
		local out = output(attacker)
		local n = 0
		for name, learned in out:gmatch("attack (%S+) learned: ([^\n]*)") do
			n = n + 1
			assert.are.equal("challenge", learned, name)	-- a random nonce: nothing about the cluster
		end
		assert.are.equal(6, n, out)
		-- each try was refused and logged so, by the master and by the node
		local _, refusals = output("master.log"):gsub("cluster: refused 127%.0%.0%.1:%d+: bad key", "")
		assert.is_true(refusals >= 3, output("master.log"))
		local _, link_refusals = output("node_a_1.log"):gsub("cluster: refused 127%.0%.0%.1:%d+: bad key", "")
		assert.are.equal(3, link_refusals, output("node_a_1.log"))
		-- it never became a member, never bound a name, nobody heard of it
		assert.falsy(output("master.log"):find("127.0.0.9", 1, true))
		assert.are.same({ false, "evil.echo not found" }, { pcall("evil.echo") })
		assert.are.equal(before, #events)
		healthy()
	end)

	it("a node with a wrong key, a short key or no key is refused within 5 s", function()
		for i, env in ipairs { "SKYNET_CLUSTER_KEY='another key, 20 bytes+'", "SKYNET_CLUSTER_KEY=short", "" } do
			local t0 = clock()
			local log = start_node("x" .. i, env)
			local why = wait_for(log, "join failed: ([^\n]*)")
			assert(why, output(log))
			assert.is_true(clock() - t0 < 5000 + 1000)	-- the process start included
			if i == 1 then
				assert.truthy(why:find("refused our cluster key", 1, true), why)
			else
				assert.truthy(why:find("wants a cluster key", 1, true), why)
			end
		end
		assert(wait_for("master.log", "cluster: refused 127%.0%.0%.1:%d+: bad key"))
		healthy()
	end)

	it("a join with a stopped member takes under 4 s and the cluster keeps serving", function()
		kill(pids.c, "STOP")
		local log = join_node("d")
		local took = tonumber(output(log):match("ready %d+ (%d+)"))
		kill(pids.c, "CONT")
		assert.is_true(took < 4000, "join took " .. took .. " ms")
		assert.truthy(output(log):find("skipped: no answer within 3 s", 1, true), output(log))
		assert.are.same({ true, "d" }, two(pcall("node.d.echo")))
		assert.are.same({ true, "a" }, two(call_from("d", "node.a.echo")))
		healthy()
	end)

	it("a call that timed out forgets its answer, which does not break the link", function()
		local saved = rpc.timeout()
		rpc.timeout(100)
		assert.are.same({ false, "timeout" }, { pcall("node.a.sleep", 400) })
		rpc.timeout(saved)
		os.wait(600)	-- the late answer has come and gone
		assert.are.same({ true, "a" }, two(pcall("node.a.echo")))
		assert.is_nil(event_of("down", function(e) return e[2] == node_of.a[1] end))
	end)

	it("kill -9 of a node: down within 3 s, up again after it restarts", function()
		local t0 = clock()
		kill(pids.b, "KILL")
		pids.b = nil
		local id, address = node_of.b[1], node_of.b[2]
		assert.is_true(H.wait_until(function()
			return event_of("down", function(e) return e[2] == id end) ~= nil
		end, 3000))
		local down = event_of("down", function(e) return e[2] == id end)
		assert.is_true(down.at - t0 < 3000)
		assert.are.same({ "down", id, address }, { down[1], down[2], down[3] })
		local before = #events
		join_node("b")
		assert.is_true(H.wait_until(function() return #events > before end, 10000))
		local up = events[#events]
		assert.are.equal("up", up[1])
		assert.are_not.equal(id, up[2], "a restarted node is a new member")
		node_of.b = { up[2], up[3] }
		assert.are.same({ true, "b" }, two(pcall("node.b.echo")))
	end)

	it("a node that leaves is logged as left by its peers, not as a reset", function()
		local id = node_of.c[1]
		kill(pids.c)	-- its main sees os.stopped() and closes the adapter
		pids.c = nil
		assert.is_true(H.wait_until(function()
			return event_of("down", function(e) return e[2] == id end) ~= nil
		end, 5000))
		assert(wait_for("node_a_1.log", "cluster: node " .. id .. " left"), output("node_a_1.log"))
		local a_log = output("node_a_1.log")
		assert.falsy(a_log:find("node " .. id .. " %(.-%) closed"), a_log)
		assert.are.same({ false, "node.c.echo not found" }, { pcall("node.c.echo") })
		assert.are.same({ true, "a" }, two(call_from("b", "node.a.echo")))
	end)

	if not TLS then
		it("the same suite passes over mutual TLS with certificates made now", function()
			local dir = tmp .. "/pki"
			os.execute("mkdir -p " .. dir)
			-- one certificate for every process: for 127.0.0.1, as server and as client
			net.write_file(dir .. "/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
				.. "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
			for _, c in ipairs {
				'openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=skynet test CA" '
					.. '-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"',
				'openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj "/CN=node"',
				"openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2 -extfile ext.cnf",
			} do
				assert(os.execute("cd " .. dir .. " && " .. c .. " >/dev/null 2>&1"), c)
			end
			local p = io.popen(("cd %s && SKYNET_CLUSTER_CA=%s/ca.pem SKYNET_CLUSTER_CERT=%s/node.pem "
				.. "SKYNET_CLUSTER_CERTKEY=%s/node.key busted --lua=lua5.4 spec/cluster_trust_spec.lua 2>&1")
				:format(os.getenv("PWD") or ".", dir, dir, dir))
			local out = p:read("a")
			local ok = p:close()
			assert(ok, out)
			assert.truthy(out:find("0 failures / 0 errors", 1, true), out)
		end)
	end
end)

-- Protected mode: no key, loopback only.
describe("cluster without a key", function()
	it("a master on a non-loopback host refuses to start", function()
		local out = io.popen(("env -u SKYNET_CLUSTER_KEY timeout 20 lua5.4 %s cluster.master %d 0.0.0.0 2>&1; echo \"status $?\"")
			:format(launcher, free_port()))
		local text = out:read("a")
		out:close()
		assert.truthy(text:find("cluster.master: set SKYNET_CLUSTER_KEY to listen on 0.0.0.0", 1, true), text)
		assert.truthy(text:find("status 1", 1, true), text)
	end)

	it("a node refuses to join a non-loopback master, and a short key argument is an error", function()
		local ok, msg = os.pload("cluster.adapter", "10.255.255.1", 7000, nil)
		assert.is_false(ok)
		assert.truthy(msg:find("set SKYNET_CLUSTER_KEY to join 10.255.255.1", 1, true), msg)
		local ok2, msg2 = os.pload("cluster.adapter", "127.0.0.1", 7000, "short")
		assert.is_false(ok2)
		assert.truthy(msg2:find("at least 16 bytes", 1, true), msg2)
	end)
end)
