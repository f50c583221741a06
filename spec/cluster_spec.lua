-- Cluster mode (docs/API.md §18) with real OS processes: a master, nodes a, b, c
-- (spec/helpers/cluster_node.lua) and this process as a node of its own
-- that drives the others. Every process started here is stopped at the end,
-- also when a test fails (teardown).
require "skynet"
package.path = "spec/?.lua;lua/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"

local function clock() return os.steady_clock("ms") end

local cluster_support = require "support.cluster"
local h = cluster_support.harness()
local started, start, output, wait_for = h.started, h.start, h.output, h.wait_for
local free_port = cluster_support.free_port
local pids = {}	-- tag -> pid of the node's lua process

local master_port
local runs = {}	-- tag -> how many times started (log names)

local function start_node(tag, ...)
	runs[tag] = (runs[tag] or 0) + 1
	local log = ("node_%s_%d.log"):format(tag, runs[tag])
	start(log, ("helpers.cluster_node %d %s %s"):format(master_port, tag, table.concat({ ... }, " ")))
	local pid = wait_for(log, "ready (%d+)")
	assert(pid, "node " .. tag .. " did not join: " .. output(log))
	pids[tag] = tonumber(pid)
	return log
end

local kill = cluster_support.kill

local adapter	-- this process's adapter job

local function call(name, ...) return pcall(name, ...) end

local call_from = cluster_support.call_from

-- rpc.deliver(name, 0, 0, ...) made by node `tag`: how many handlers it reached.
local function broadcast_from(tag, name, ...)
	if tag == "t" then return rpc.deliver(name, 0, 0, ...) end
	local ok, n = pcall("node." .. tag .. ".deliver", name, 0, 0, ...)
	assert(ok, n)
	return n
end

local function two(a, b) return { a, b } end

describe("cluster", function()
	setup(function()
		master_port = free_port()
		start("master.log", ("cluster.master %d 127.0.0.1"):format(master_port))
		assert(wait_for("master.log", "cluster.master works on port (%d+)"), output("master.log"))
		rpc.create("node.t.echo", function(...) return "t", rpc.caller(), ... end, true)
		rpc.create("all.echo", function() return "t" end, true)
		local ok, job = os.pload("cluster.adapter", "127.0.0.1", master_port)
		assert(ok, job)
		adapter = job
		start_node("a")
		start_node("b", "bcast")
		start_node("c", "bcast")
	end)

	teardown(function()
		if adapter then adapter:close() end
		rpc.remove("node.t.echo")
		rpc.remove("all.echo")
		for _, pid in pairs(pids) do kill(pid) end
		h.stop_all()
	end)

	it("the master prints its port and logs members", function()
		assert.truthy(output("master.log"):find("cluster.master works on port " .. master_port, 1, true))
		assert.truthy(output("master.log"):find("member 4 joined", 1, true))
	end)

	it("calls go in every direction between four processes", function()
		local tags = { "t", "a", "b", "c" }
		for _, from in ipairs(tags) do
			for _, to in ipairs(tags) do
				local name = "node." .. to .. ".echo"
				local ok, who, caller, x
				if from == "t" then
					ok, who, caller, x = call(name, 42)
				else
					ok, who, caller, x = call_from(from, name, 42)
				end
				assert.are.same({ true, to, 42 }, { ok, who, x }, from .. " -> " .. to)
				-- a remote caller's id is above 0xFFFF, a local one is not
				assert.are.equal(from ~= to, caller > 0xFFFF, from .. " -> " .. to)
			end
		end
	end)

	it("nested tables and binary strings round-trip", function()
		local bin = {}
		for i = 0, 255 do bin[#bin + 1] = string.char(i) end
		bin = table.concat(bin):rep(300)	-- 76 800 bytes, every byte value
		local arg = { list = { 1, 2.5, "x", { deep = { deeper = { true, false } } } }, [7] = bin, ["\0k"] = "\255" }
		local ok, who, _, back, back_bin, n = call("node.b.echo", arg, bin, math.mininteger)
		assert.is_true(ok)
		assert.are.equal("b", who)
		assert.are.same(arg, back)
		assert.are.equal(bin, back_bin)
		assert.are.equal(math.mininteger, n)
		assert.are.equal("integer", math.type(n))
		-- and between two other nodes
		local ok2, _, _, back2 = call_from("a", "node.c.echo", arg)
		assert.is_true(ok2)
		assert.are.same(arg, back2)
	end)

	it("a name hosted on several nodes is load balanced across them", function()
		local seen = {}
		for _ = 1, 12 do
			local ok, tag = call("all.echo")
			assert.is_true(ok)
			seen[tag] = true
		end
		assert.are.same({ t = true, a = true, b = true, c = true }, seen)
	end)

	it("a broadcast from one node reaches handlers on two others", function()
		local sent = broadcast_from("a", "bcast", "hello", { n = 1 })
		assert.are.equal(2, sent)
		local got = {}
		H.wait_until(function()
			for _, tag in ipairs { "b", "c" } do
				local ok, seen = call("node." .. tag .. ".seen")
				got[tag] = ok and seen[1]
			end
			return got.b and got.c
		end, 10000)
		assert.are.same({ "bcast", "hello", { n = 1 } }, got.b)
		assert.are.same({ "bcast", "hello", { n = 1 } }, got.c)
		-- a one-way message to a name nobody hosts goes nowhere
		assert.are.equal(0, broadcast_from("a", "nobody"))
	end)

	it("async calls to another node get their answer", function()
		local got
		local ok = pcall("node.c.sleep", function(...) got = table.pack(...) end, 50)
		assert.is_true(ok)
		assert.is_true(H.wait_until(function() return got ~= nil end, 10000))
		assert.are.same({ true, "c", n = 2 }, got)
	end)

	it("a non-public name is refused to other nodes", function()
		assert.are.same({ false, "secret.a not found" }, { call("secret.a") })
		-- even to a peer that names it in a hand-made deliver (see the bad peer test)
		assert.are.same({ false, "secret.b not found" }, { call_from("a", "secret.b") })
		assert.are.same({ true, "secret of a" }, { call_from("a", "secret.a") })
	end)

	it("a node killed with SIGKILL: pending and new calls fail at once, local names still work", function()
		-- a call in flight to c (c sleeps 30 s before answering)
		local got
		pcall("node.c.sleep", function(...) got = table.pack(...) end, 30000)
		local from_a	-- the same from node a, in flight while c dies
		pcall("node.a.call", function(ok, r) from_a = r end, "node.c.sleep", 30000)
		os.wait(200)
		local t0 = clock()
		kill(pids.c, "KILL")
		pids.c = nil
		assert.is_true(H.wait_until(function() return got ~= nil and from_a ~= nil end, 5000))
		local elapsed = clock() - t0
		assert.are.same({ false, "disconnected", n = 2 }, got)
		assert.are.same({ false, "disconnected", n = 2 }, from_a)
		assert.is_true(elapsed < 3000, "answered after " .. elapsed .. " ms")
		-- its names are gone everywhere, at once
		H.wait_until(function() return not call("node.c.echo") end, 3000)
		assert.are.same({ false, "node.c.echo not found" }, { call("node.c.echo") })
		assert.are.same({ false, "node.c.echo not found" }, { call_from("b", "node.c.echo") })
		-- the others keep serving, locally and remotely
		assert.are.same({ true, "secret of b" }, { call_from("b", "secret.b") })
		assert.is_true((call("node.a.echo")))
		assert.is_true((call_from("a", "node.b.echo")))
		assert.are.equal(1, broadcast_from("a", "bcast", "after"))
	end)

	it("the killed node restarts, rejoins and is callable again", function()
		start_node("c", "bcast")
		assert.are.same({ true, "c" }, two(call("node.c.echo")))
		assert.are.same({ true, "c" }, two(call_from("a", "node.c.echo")))
		assert.are.same({ true, "b" }, two(call_from("c", "node.b.echo")))
	end)

	it("a node joining late sees every existing name at once", function()
		start_node("d")
		for _, tag in ipairs { "t", "a", "b", "c" } do
			local ok, who = call_from("d", "node." .. tag .. ".echo")
			assert.is_true(ok, tag)
			assert.are.equal(tag, who)
		end
		-- and the others see d's names as soon as it is ready
		assert.is_true((call_from("b", "node.d.echo")))
		assert.is_true((call("node.d.echo")))
	end)

	describe("bad peers close only their own connection", function()
		-- The members' link addresses, as the master tells a joiner.
		local function members()
			local s = io.socket("ws")
			s:setheader("xforword-port", 1)	-- a member nobody can reach; forgotten when we close
			assert(s:connect("127.0.0.1", master_port))
			local list = {}
			while true do
				local msg = unwrap(assert(s:read()))
				if msg.what == "ready" then break end
				assert.are.equal("forword", msg.what)
				list[#list + 1] = msg
			end
			s:close()
			return list
		end

		local function link_to(member, join)
			local s = io.socket("ws")
			if join ~= false then s:setheader("xforword-join", "skynet-lua") end
			assert(s:connect(member.ip, member.port))
			return s
		end

		local function healthy()
			for _, tag in ipairs { "a", "b", "c", "d" } do
				assert.is_true((call("node." .. tag .. ".echo")), tag)
				assert.is_true((call_from(tag, "node.a.echo")), tag)
			end
		end

		it("a connection to the master without the join header is closed", function()
			local s = io.socket("ws")
			assert(s:connect("127.0.0.1", master_port))
			assert.are.same({ nil, "eof" }, { s:read() })
			assert.truthy(wait_for("master.log", "refused [^\n]*xforword%-port"))
			local list = members()
			assert.are.equal(5, #list)	-- t, a, b, c (restarted), d
			healthy()
		end)

		it("a link without xforword-join is refused", function()
			for _, m in ipairs(members()) do
				local s = link_to(m, false)
				local data, err = s:read()
				assert.is_nil(data)
				assert.truthy(err)
			end
			healthy()
		end)

		for i, case in ipairs {
			{ "garbage", "this is not messagepack" },
			{ "an unknown message", wrap { what = "hello" } },
			{ "a truncated frame", wrap { what = "bind", name = "x", caller = 1 }:sub(1, -3) },
			{ "an oversized frame", ("x"):rep(17 * 1024 * 1024) },
			{ "a caller id out of range", wrap { what = "deliver", name = "all.echo", argv = "", who = 1, caller = 0x10000, rcf = 1, sn = 1 } },
		} do
			it("after joining, " .. case[1] .. " closes that link only", function()
				local list = members()
				local m = list[i % #list + 1]	-- a different member each time
				local s = link_to(m)
				-- join like a node: bind a name, then ready; the member answers with its names
				s:send(wrap { what = "bind", name = "evil.echo", caller = 1 })
				s:send(wrap { what = "ready", node = 99, addr = "127.0.0.1:1" })
				local names = {}
				while true do
					local msg = unwrap(assert(s:read()))
					if msg.what == "ready" then break end
					names[msg.name] = true
				end
				assert.is_true(names["all.echo"])
				assert.is_nil(names["secret.a"], "private names are not announced")
				-- what the member does for a well-behaved peer: only public names, answered
				s:send(wrap { what = "deliver", name = "all.echo", argv = "", who = 1, caller = 1, rcf = 1, sn = 7 })
				local answer = unwrap(assert(s:read()))
				assert.are.same({ "response", 1, 7 }, { answer.what, answer.caller, answer.sn })
				local ok, tag = unwrap(answer.data)	-- which node this member is
				assert.is_true(ok)
				s:send(wrap { what = "deliver", name = "secret." .. tag, argv = "", who = 1, caller = 1, rcf = 1, sn = 8 })
				answer = unwrap(assert(s:read()))
				assert.are.same({ false, "secret." .. tag .. " not found" }, { unwrap(answer.data) })
				-- the bogus name is now known to that member (and only to it)...
				assert.are.equal(1, broadcast_from(tag, "evil.echo"))
				-- ...until the peer misbehaves
				s:send(case[2])
				local data, err
				repeat data, err = s:read() until data == nil
				assert.truthy(err)
				assert.are.same({ false, "evil.echo not found" }, { call_from(tag, "evil.echo") })
				healthy()
			end)
		end
	end)

	it("a node that leaves (job:close) is forgotten by the others", function()
		kill(pids.d, "TERM")
		pids.d = nil
		H.wait_until(function() return not call("node.d.echo") end, 5000)
		assert.are.same({ false, "node.d.echo not found" }, { call("node.d.echo") })
		assert.is_true((call_from("a", "node.b.echo")))
	end)

	it("the master going away does not break existing links", function()
		kill(started[1])
		os.wait(300)
		assert.is_true((call("node.a.echo")))
		assert.is_true((call_from("a", "node.b.echo")))
		assert.is_true((call_from("c", "node.t.echo")))
	end)
end)

-- The internal table the adapter uses (docs/cluster.md): argument checks and
-- a link to nobody.
describe("skynet.cluster (internal)", function()
	local link = require "skynet.cluster"

	it("checks its arguments like stock functions", function()
		assert.has_error(function() link.listen() end, "bad argument #1 to 'listen' (string expected, got no value)")
		assert.has_error(function() link.listen("127.0.0.1", "x") end,
			"bad argument #2 to 'listen' (number expected, got string)")
		assert.has_error(function() link.listen("127.0.0.1", 0) end, "bad argument #2 to 'listen' (invalid port)")
		assert.has_error(function() link.connect("127.0.0.1", 70000) end, "bad argument #2 to 'connect' (invalid port)")
		assert.has_error(function() link.connect({}, 1) end, "bad argument #1 to 'connect' (string expected, got table)")
	end)

	it("a link to a port nobody listens on fails with a message", function()
		local ok, err = link.connect("127.0.0.1", free_port())
		assert.is_false(ok)
		assert.is_string(err)
		assert.are.equal("integer", math.type(link.links()))
	end)

	it("a link to something that is not a node fails", function()
		-- a plain ws server that never answers the link handshake ('ready'): the link closes
		local srv = io.server("ws")
		assert(srv:listen("127.0.0.1", 0, function(peer) peer:send(wrap { what = "nonsense" }) end))
		local ok, err = link.connect("127.0.0.1", srv:endpoint().port)
		srv:close()
		assert.are.same({ false, "link closed before it was ready" }, { ok, err })
	end)
end)

