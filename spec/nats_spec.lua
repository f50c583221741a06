-- Cluster over NATS (cluster.nats) with real processes: a nats-server on a
-- free 127.0.0.1 port started here, nodes a and b (spec/helpers/nats_node.lua),
-- and this process as a node of its own that drives them. Every process
-- started here is stopped at the end, also when a test fails (teardown).
require "skynet"
package.path = "spec/?.lua;lua/?.lua;" .. package.path
local net = require "support.net"
local H = require "support.helpers"

local launcher = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"
local function clock() return os.steady_clock("ms") end

local cluster_support = require "support.cluster"
local h = cluster_support.harness()
local output, wait_for = h.output, h.wait_for
local free_port, kill, call_from = cluster_support.free_port, cluster_support.kill, cluster_support.call_from

local servers = 0
-- A nats-server on a free port with extra `flags`; returns {pid, port, log, url}.
local function nats_server(flags, port)
	servers = servers + 1
	port = port or free_port()
	local log = ("nats_%d.log"):format(servers)
	local wrapper = h.run(log, ("nats-server -a 127.0.0.1 -p %d %s"):format(port, flags or ""))
	assert(wait_for(log, "Server is ready"), "nats-server did not start: " .. output(log))
	-- the server itself, the child of `timeout`, for the signals of the tests
	local pid = tonumber((H.sh(("pgrep -P %d"):format(wrapper))):match("%d+"))
	return { pid = pid, port = port, log = log, url = ("nats://127.0.0.1:%d"):format(port) }
end

local runs = 0
-- Starts node `tag` on `url` with extra arguments; returns the pid of its
-- lua process (or nil, its output).
local function start_node(url, tag, ...)
	runs = runs + 1
	local log = ("node_%s_%d.log"):format(tag, runs)
	h.start(log, ("helpers.nats_node %s %s %s"):format(url, tag, table.concat({ ... }, " ")))
	local pid = wait_for(log, "ready (%d+)") or wait_for(log, "join failed", 100)
	if not (pid and output(log):match("ready")) then return nil, output(log) end
	return tonumber(pid)
end

local server, job
local pids = {}
local my_events = {}

setup(function()
	server = nats_server()
	pids.a = assert(start_node(server.url, "a", "group.x"))
	pids.b = assert(start_node(server.url, "b", "group.x"))
	rpc.create("cluster.event", function(what, node, address) my_events[#my_events + 1] = { what, node, address } end)
	local ok
	ok, job = os.pload("cluster.nats", server.url)
	assert(ok, job)
end)

teardown(function()
	if job then job:close() end
	h.stop_all()
end)

describe("cluster.nats", function()
	it("calls names of other nodes with values both ways", function()
		local ok, tag, t, s = pcall("node.a.echo", { 1, { x = "y" } }, "s")
		assert.is_true(ok)
		assert.equals("a", tag)
		assert.same({ 1, { x = "y" } }, t)
		assert.equals("s", s)
		-- from a to b, through the server
		local ok2, tag2, n = call_from("a", "node.b.echo", 42)
		assert.is_true(ok2)
		assert.same({ "b", 42 }, { tag2, n })
		-- from a to this process
		rpc.create("here.echo", function(...) return "t", ... end, true)
		H.wait_until(function() return (call_from("a", "here.echo")) end, 2000)
		assert.same({ true, "t", 7 }, { call_from("a", "here.echo", 7) })
		rpc.remove("here.echo")
	end)

	it("shows its server to operators as one cluster link", function()
		local introspect = require "skynet.debug"
		assert.equals(1, introspect.process().links)
		local rows = introspect.links()
		local last = rows[#rows]
		assert.same({ id = 0, peer = server.url, state = "up", pending = 0, names = 0 }, last)
		assert.is_true(introspect.prometheus():find("\nskynet_cluster_links 1\n", 1, true) ~= nil)
	end)

	it("returns the remote handler's error", function()
		assert.same({ false, "boom" }, { pcall("node.a.fail", "boom") })
	end)

	it("answers 'not found' within 50 ms when nobody serves the name", function()
		local t0 = clock()
		local ok, err = pcall("nobody.serves.this")
		local took = clock() - t0
		assert.same({ false, "nobody.serves.this not found" }, { ok, err })
		assert.is_true(took < 50, "took " .. took .. " ms")
		-- private names of other nodes are not reachable
		assert.same({ false, "secret.a not found" }, { pcall("secret.a") })
		-- odd names are escaped, not wildcards: "*" does not reach "all.echo"
		assert.same({ false, "all.* not found" }, { pcall("all.*") })
	end)

	it("prefers local handlers and spreads remote calls over nodes", function()
		local seen = {}
		for _ = 1, 40 do
			local ok, tag = pcall("all.echo")
			assert.is_true(ok)
			seen[tag] = true
		end
		assert.same({ a = true, b = true }, seen)
		rpc.create("all.echo", function() return "t" end, true)
		for _ = 1, 10 do assert.same({ true, "t" }, { pcall("all.echo") }) end
		rpc.remove("all.echo")
	end)

	it("delivers a broadcast to each handler once, local ones included", function()
		local mine = {}
		rpc.create("group.x", function(v) mine[#mine + 1] = v end, true)
		assert.equals(2, rpc.deliver("group.x", 0, 0, "hello"), "one local handler plus the publish")
		assert.is_true(H.wait_until(function()
			local _, sa = pcall("node.a.seen")
			local _, sb = pcall("node.b.seen")
			return #sa >= 1 and #sb >= 1 and #mine >= 1
		end, 3000))
		os.wait(200) -- a duplicate would have arrived by now
		assert.same({ { "group.x", "hello" } }, select(2, pcall("node.a.seen")))
		assert.same({ { "group.x", "hello" } }, select(2, pcall("node.b.seen")))
		assert.same({ "hello" }, mine, "our own publish is ignored")
		rpc.remove("group.x")
		-- mask ~= 0 without local handlers: one node of the group
		assert.equals(1, rpc.deliver("group.x", 1, 0, "one"))
		assert.is_true(H.wait_until(function()
			return #select(2, pcall("node.a.seen")) + #select(2, pcall("node.b.seen")) == 3
		end, 3000))
		-- a deliver with nobody anywhere is no error
		assert.equals(1, rpc.deliver("nobody.group", 0, 0, "x"))
	end)

	it("refuses messages over the server's max_payload", function()
		local big = string.rep("x", 1024 * 1024 + 1)
		assert.same({ false, "message too large" }, { pcall("node.a.echo", big) })
		assert.same({ false, "message too large" }, { pcall("node.a.big", 1024 * 1024 + 1) })
		local ok, tag, s = pcall("node.a.echo", string.rep("y", 512 * 1024))
		assert.same({ true, "a", 512 * 1024 }, { ok, tag, #s })
	end)

	it("reports other nodes up and down, never itself", function()
		local function ups()
			local found = {}
			for _, e in ipairs(my_events) do
				assert.is_true(math.type(e[2]) == "integer" and type(e[3]) == "string")
				if e[1] == "up" then found[#found + 1] = e end
			end
			return found
		end
		assert.is_true(H.wait_until(function() return #ups() >= 2 end, 5000), "a and b are up")
		local pid_c = assert(start_node(server.url, "c"))
		assert.is_true(H.wait_until(function() return #ups() >= 3 end, 5000), "c is up")
		os.wait(1500) -- a report about this node would have come by now
		assert.equals(3, #ups(), "a, b and c; never this node: " .. json.encode(my_events))
		local up_c = ups()[3]
		local _, ea = pcall("node.a.events")
		local distinct = {}
		for _, e in ipairs(ea) do distinct[e[2]] = true end
		local n = 0
		for _ in pairs(distinct) do n = n + 1 end
		assert.equals(3, n, "a hears b, c and this node, not itself")
		-- kill -9 of c: down after missed heartbeats, with the same id and address as its up
		local before = #my_events
		kill(pid_c, "KILL")
		local t0 = clock()
		local down
		assert.is_true(H.wait_until(function()
			for i = before + 1, #my_events do
				if my_events[i][1] == "down" then down = my_events[i] end
			end
			return down ~= nil
		end, 8000))
		assert.is_true(clock() - t0 < 6000)
		assert.same(up_c, { "up", down[2], down[3] }, "the down of c carries the id and address of its up")
	end)

	it("keeps serving when a node serving the name is killed", function()
		local pid_d = assert(start_node(server.url, "d", "shared.svc"))
		local pid_e = assert(start_node(server.url, "e", "shared.svc"))
		assert.same({ true, "d" }, { pcall("node.d.echo") })
		-- a slow call in flight on d, then kill -9 d
		local inflight
		pcall("node.d.sleep", function(...) inflight = table.pack(...) end, 3000)
		os.wait(100)
		kill(pid_d, "KILL")
		os.wait(50)
		local t0 = clock()
		for _ = 1, 20 do
			local ok, tag = pcall("all.echo")
			assert.is_true(ok)
			assert.is_true(tag ~= "d")
		end
		assert.same({ false, "node.d.echo not found" }, { pcall("node.d.echo") })
		assert.is_true(clock() - t0 < 1000, "calls after the kill are answered at once")
		assert.equals(1, rpc.deliver("shared.svc", 0, 0, "after"))
		assert.is_true(H.wait_until(function() return #select(2, pcall("node.e.seen")) == 1 end, 3000))
		kill(pid_e)
		-- the call in flight to d ends by its timeout, not by a wrong answer
		assert.is_nil(inflight)
	end)

	it("fails calls while the server is away and recovers when it is back", function()
		local port = server.port
		-- a call in flight when the server goes away fails at once
		local pending
		pcall("node.a.sleep", function(...) pending = table.pack(...) end, 3000)
		os.wait(100)
		local t0 = clock()
		kill(server.pid, "KILL")
		assert.is_true(H.wait_until(function() return pending ~= nil end, 2000))
		assert.same({ false, "disconnected" }, { pending[1], pending[2] })
		assert.is_true(clock() - t0 < 1000)
		assert.same({ false, "disconnected" }, { pcall("node.a.echo") })
		-- the same port again: nodes reconnect and resubscribe by themselves
		server = nats_server(nil, port)
		local back = H.wait_until(function() return (pcall("node.a.echo")) end, 8000)
		assert.is_true(back, "calls work again after the server restarted")
		assert.same({ true, "b", 1 }, { pcall("node.b.echo", 1) })
		assert.same({ true, "b", 2 }, { call_from("a", "node.b.echo", 2) })
	end)

	it("runs examples/nats_cluster.lua as documented", function()
		local out = H.sh(("env SKYNET_LAUNCHER=%s timeout 60 lua5.4 examples/nats_cluster.lua %s 2>&1"):format(launcher, server.url))
		assert.matches("true\talpha greets main\n", out)
		assert.matches("true\ttrue\tbeta greets alpha\n", out)
		assert.matches("true\ttrue\talpha greets beta\n", out)
		assert.matches("false\tgamma.hello not found\n", out)
	end)
end)

describe("cluster.nats connecting", function()
	local function reconnect(url, options)
		if job then job:close() end
		job = nil
		local t0 = clock()
		local ok, j = os.pload("cluster.nats", url, options)
		if ok then job = j end
		return ok, j, clock() - t0
	end

	it("checks its arguments and fails within 5 s without a server", function()
		local ok, err = os.pload("cluster.nats", 42)
		assert.is_false(ok)
		assert.matches("url expected", err)
		ok, err = os.pload("cluster.nats", "nats://127.0.0.1:1", { prefix = "a.*" })
		assert.is_false(ok)
		assert.matches("prefix", err)
		local took
		ok, err, took = reconnect(("nats://127.0.0.1:%d"):format(free_port()))
		assert.is_false(ok)
		assert.matches("cannot connect", err)
		assert.is_true(took < 5500)
	end)

	it("authenticates with a token", function()
		local secured = nats_server("--auth s3cret-token")
		local ok, err, took = reconnect(secured.url, { token = "wrong" })
		assert.is_false(ok, "a wrong token is refused")
		assert.is_string(err)
		assert.is_true(took < 5500)
		assert.is_nil((start_node(secured.url, "tok_bad", "token=nope")))
		assert.truthy(start_node(secured.url, "tok", "token=s3cret-token"))
		ok, err = reconnect(secured.url, { token = "s3cret-token" })
		assert.is_true(ok, err)
		assert.same({ true, "tok", 5 }, { pcall("node.tok.echo", 5) })
	end)

	it("talks TLS to the server with certificates checked", function()
		local certs = net.ca_certificates()
		local secured = nats_server(("--tls --tlscert %s/server.pem --tlskey %s/server.key"):format(certs, certs))
		local url = ("tls://127.0.0.1:%d"):format(secured.port)
		local ok, err = reconnect(url, { ca = certs .. "/other_ca.pem" })
		assert.is_false(ok, "a server signed by another CA is refused")
		assert.is_string(err)
		assert.truthy(start_node(url, "sec", "ca=" .. certs .. "/ca.pem"))
		ok, err = reconnect(url, { ca = certs .. "/ca.pem" })
		assert.is_true(ok, err)
		assert.same({ true, "sec", "over tls" }, { pcall("node.sec.echo", "over tls") })
		os.execute("rm -rf " .. certs)
	end)
end)
