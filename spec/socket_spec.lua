-- io.socket (docs/API.md §9.2), tcp kind; peers: a python3 echo server (not ours) and our own server.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"

local PY_ECHO = [[
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d: break
    c.sendall(d)
c.close()
]]

local function python_echo()
  local portfile = os.tmpname()
  os.remove(portfile)
  net.spawn("python3 " .. net.python_script(PY_ECHO) .. " " .. portfile)
  assert(H.wait_until(function() return net.read_file(portfile) end, 10000))
  return tonumber(net.read_file(portfile))
end

-- A tcp server that keeps what it receives (got.chunks, got.total), and a
-- socket connected to it.
local function collecting_pair()
  local srv, got = io.server("tcp"), { chunks = {}, total = 0 }
  assert(srv:listen("127.0.0.1", 0, function(peer)
    peer:receive(function(d)
      if d then got.chunks[#got.chunks + 1] = d; got.total = got.total + #d end
    end)
  end))
  local s = io.socket("tcp")
  assert.is_true(s:connect("127.0.0.1", srv:endpoint().port))
  return srv, s, got
end

describe("io.socket", function()
  after_each(net.stop_all)

  it("creates sockets of the four kinds and refuses others", function()
    for _, k in ipairs { "tcp", "ssl", "ws", "wss" } do
      assert.are.equal("userdata", type(io.socket(k)))
    end
    local s, msg = io.socket("udp")
    assert.is_nil(s)
    assert.are.equal("unknown type: udp", msg)
    H.raises(function() io.socket() end, "bad argument #1 to 'socket' (string expected, got no value)")
    H.raises(function() io.socket("ssl", {}) end, "bad argument #2 to 'socket' (context expected, got table)")
  end)

  it("ids are distinct integers", function()
    local a, b = io.socket("tcp"), io.socket("tcp")
    assert.are.equal("number", math.type(a:id()) and "number")
    assert.are_not.equal(a:id(), b:id())
  end)

  it("talks to a python echo server: 1 MiB byte for byte", function()
    local port = python_echo()
    local s = io.socket("tcp")
    assert.is_true(s:connect("127.0.0.1", port))
    local data = H.random_bytes(1 << 20)
    assert.are.equal(#data, s:write(data))
    local got = {}
    local n = 0
    while n < #data do
      local chunk = assert(s:read())
      assert.truthy(#chunk >= 1 and #chunk <= 65536)
      got[#got + 1] = chunk
      n = n + #chunk
    end
    assert.are.equal(data, table.concat(got))
    local ep = s:endpoint()
    assert.are.equal("127.0.0.1", ep.address)
    assert.are.equal(port, ep.port)
    assert.are.equal("127.0.0.1", s:endpoint("local").address)
    assert.are_not.equal(port, s:endpoint("local").port)
    s:close()
  end)

  it("reads eof when the peer closes, closed after a local close", function()
    local port = python_echo()
    local s = io.socket("tcp")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal(2, s:write("hi"))
    assert.are.equal("hi", s:read())
    local t = io.socket("tcp")
    local srv = io.server("tcp")
    assert(srv:listen("127.0.0.1", 0, function(peer) peer:close() end))
    assert.is_true(t:connect("127.0.0.1", srv:endpoint().port))
    local d, err = t:read()
    assert.is_nil(d)
    assert.are.equal("eof", err)
    s:close()
    s:close()
    d, err = s:read()
    assert.is_nil(d)
    assert.are.equal("closed", err)
    assert.are.same({ nil, "closed" }, { s:write("x") })
    assert.are.same({ false, "closed" }, { s:send("x") })
    assert.are.same({ false, "closed" }, { s:connect("127.0.0.1", port) })
    srv:close()
  end)

  it("connect: blocking failure and callback forms", function()
    local srv, port = net.echo_server()
    srv:close()
    local ok, msg = io.socket("tcp"):connect("127.0.0.1", port)
    assert.is_false(ok)
    assert.are.equal("string", type(msg))
    local srv2, port2 = net.echo_server()
    local results = {}
    local good, bad = io.socket("tcp"), io.socket("tcp")
    assert.is_true(good:connect("127.0.0.1", port2, function(err) results.good = err or "ok" end))
    assert.is_true(bad:connect("127.0.0.1", port, function(err) results.bad = err end))
    assert.is_true(H.wait_until(function() return results.good and results.bad end, 10000))
    assert.are.equal("ok", results.good)
    assert.are.equal("string", type(results.bad))
    assert.are.same({ false, "already connected" }, { good:connect("127.0.0.1", port2) })
    assert.are.equal(3, good:write("abc"))
    assert.are.equal("abc", good:read())
    good:close()
    srv2:close()
  end)

  it("checks its arguments", function()
    local s = io.socket("tcp")
    H.raises(function() s:connect("127.0.0.1") end, "bad argument #2 to 'connect' (number expected, got no value)")
    H.raises(function() s:connect({}, 1) end, "bad argument #1 to 'connect' (string expected, got table)")
    H.raises(function() s:connect("127.0.0.1", 1, 5) end, "bad argument #3 to 'connect' (function expected, got number)")
    assert.are.same({ false, "invalid port" }, { s:connect("127.0.0.1", 70000) })
    assert.are.same({ false, "invalid port" }, { s:connect("127.0.0.1", 0) })
    H.raises(function() s:write({}) end, "bad argument #1 to 'write' (string expected, got table)")
    H.raises(function() s:send() end, "bad argument #1 to 'send' (string expected, got no value)")
    H.raises(function() s:send("x", 1) end, "bad argument #2 to 'send' (function expected, got number)")
    H.raises(function() s:receive() end, "bad argument #1 to 'receive' (function expected, got no value)")
    H.raises(function() s.read(nil) end, "bad argument #1 to 'read' (socket expected, got nil)")
    H.raises(function() s:seturi() end, "bad argument #1 to 'seturi' (string expected, got no value)")
    H.raises(function() s:setheader() end, "bad argument #1 to 'setheader' (string expected, got no value)")
    H.raises(function() s:getheader("x", "nope") end, "invalid type: nope")
    H.raises(function() s:getheader() end, "bad argument #1 to 'getheader'")
    assert.are.same({ nil, "unknown type" }, { s:endpoint("middle") })
    assert.are.same({ nil, "not connected" }, { s:endpoint() })
    assert.are.same({ nil, "not connected" }, { s:read() })
    assert.are.same({ nil, "not connected" }, { s:write("x") })
    assert.are.same({ false, "not connected" }, { s:send("x") })
    assert.are.same({ nil, "not connected" }, { s:receive(function() end) })
    local ok, msg = s:connect("no-such-host.invalid", 80)
    assert.is_false(ok)
    assert.are.equal("string", type(msg))
  end)

  it("uri and headers are stored (case-insensitive names)", function()
    local s = io.socket("ws")
    assert.are.equal("/", s:geturi())
    s:seturi("/chat")
    assert.are.equal("/chat", s:geturi())
    s:setheader("X-Token", 42)
    assert.are.equal("42", s:getheader("x-token"))
    assert.are.equal("42", s:getheader("X-TOKEN", "request"))
    assert.is_nil(s:getheader("x-token", "response"))
  end)

  it("send keeps order and calls back with the size", function()
    local srv, port = net.echo_server()
    local s = io.socket("tcp")
    assert.is_true(s:connect("127.0.0.1", port))
    local parts, sizes = {}, {}
    for i = 1, 200 do
      parts[i] = ("<%d>"):format(i)
      assert.is_true(s:send(parts[i], function(size, err)
        assert.is_nil(err)
        sizes[#sizes + 1] = size
      end))
    end
    local want = table.concat(parts)
    local got = ""
    while #got < #want do got = got .. assert(s:read()) end
    assert.are.equal(want, got)
    assert.is_true(H.wait_until(function() return #sizes == 200 end, 10000))
    for i = 1, 200 do assert.are.equal(#parts[i], sizes[i]) end
    s:close()
    srv:close()
  end)

  it("send keeps order when the connection cannot take a write at once", function()
    -- the first send is more than the system's buffers take at once: the
    -- small sends after it must wait their turn behind its rest
    local srv, s, got = collecting_pair()
    local big = ("0123456789abcdef"):rep(1 << 20) -- 16 MiB: more than the system buffers hold
    local parts, sizes = { big }, {}
    local function sent(size, err)
      assert.is_nil(err)
      sizes[#sizes + 1] = size
    end
    assert.is_true(s:send(big, sent))
    for i = 2, 101 do
      parts[i] = ("<%d>"):format(i)
      assert.is_true(s:send(parts[i], sent))
    end
    local want = table.concat(parts)
    assert.is_true(H.wait_until(function() return got.total >= #want end, 20000))
    assert.is_true(table.concat(got.chunks) == want, "bytes out of order")
    assert.is_true(H.wait_until(function() return #sizes == 101 end, 10000))
    for i = 1, 101 do assert.are.equal(#parts[i], sizes[i]) end
    s:close()
    srv:close()
  end)

  it("send without a callback (its fast path): order, waits for room, same answers", function()
    local srv, s, got = collecting_pair()
    -- 16 MiB takes the whole write budget: the sends after it wait for room
    local parts = { ("0123456789abcdef"):rep(1 << 20) }
    assert.are.same({ true }, { s:send(parts[1]) })
    for i = 2, 51 do
      parts[i] = ("<%d>"):format(i)
      assert.are.same({ true }, { s:send(parts[i]) })
    end
    -- a number is converted as tostring does, by the same method
    parts[52] = "52"
    assert.are.same({ true }, { s:send(52) })
    -- a user value the method does not know sends it the long way, unharmed
    debug.setuservalue(s, "not an id", 1)
    parts[53] = "<53>"
    assert.are.same({ true }, { s:send(parts[53]) })
    local want = table.concat(parts)
    assert.is_true(H.wait_until(function() return got.total >= #want end, 20000))
    assert.is_true(table.concat(got.chunks) == want, "bytes out of order")
    H.raises(function() s.send(srv, "x") end, "bad argument #1 to 'send' (socket expected, got userdata)")
    H.raises(function() s.send({}, "x") end, "bad argument #1 to 'send' (socket expected, got table)")
    s:close()
    assert.are.same({ false, "closed" }, { s:send("x") })
    srv:close()
  end)

  it("batched sends keep their order among callbacks, writes and sends over the batch's 64 KiB", function()
    -- On plain TCP, sends without a callback wait in a per-socket batch
    -- while nothing is queued; anything else must queue behind that batch.
    local srv, s, got = collecting_pair()
    local parts = {}
    local function send(data, callback)
      parts[#parts + 1] = data
      assert.is_true(s:send(data, callback))
    end
    local called = 0
    for round = 1, 3 do
      for i = 1, 30 do send(("<%d.%d>"):format(round, i)) end
      send("") -- nothing, in a batch or before one
      send("[callback]", function(size) called = called + size end)
      for i = 31, 60 do send(("<%d.%d>"):format(round, i)) end
      parts[#parts + 1] = "[write]"
      assert.are.equal(7, s:write("[write]"))
      for i = 61, 90 do send(("<%d.%d>"):format(round, i)) end
      -- 40 KiB each: the second is over the batch's limit
      for i = 1, 3 do send(("%d"):format(i):rep(40 * 1024)) end
      os.wait(5) -- all written; then a fresh batch
      send(("|%d|"):format(round))
    end
    local want = table.concat(parts)
    assert.is_true(H.wait_until(function() return got.total >= #want end, 20000))
    assert.are.equal(#want, got.total)
    assert.is_true(table.concat(got.chunks) == want, "bytes out of order")
    assert.is_true(H.wait_until(function() return called == 3 * #"[callback]" end, 10000))
    s:close()
    assert.are.same({ false, "closed" }, { s:send("x") })
    srv:close()
  end)

  it("receive: chunks, busy read, replaced handler, eof once", function()
    local srv = io.server("tcp")
    local peers = {}
    assert(srv:listen("127.0.0.1", 0, function(peer) peers[#peers + 1] = peer end))
    local s = io.socket("tcp")
    assert.is_true(s:connect("127.0.0.1", srv:endpoint().port))
    assert.is_true(H.wait_until(function() return #peers == 1 end, 10000))
    local first, second, ends = {}, {}, {}
    assert.is_true(s:receive(function(d, e) if d then first[#first + 1] = d else ends[#ends + 1] = e end end))
    assert.are.same({ nil, "busy" }, { s:read() })
    peers[1]:write("one")
    assert.is_true(H.wait_until(function() return #first == 1 end, 10000))
    assert.is_true(s:receive(function(d, e) if d then second[#second + 1] = d else ends[#ends + 1] = e end end))
    peers[1]:write("two")
    assert.is_true(H.wait_until(function() return #second == 1 end, 10000))
    peers[1]:close()
    assert.is_true(H.wait_until(function() return #ends == 1 end, 10000))
    os.wait(50)
    assert.are.same({ "eof" }, ends)
    assert.are.same({ "one" }, first)
    assert.are.same({ "two" }, second)
    assert.are.same({ nil, "eof" }, { s:read() })
    srv:close()
  end)

  it("close wakes a pending read and an active receive with 'closed'", function()
    local srv, port = net.echo_server()
    local a, b = io.socket("tcp"), io.socket("tcp")
    assert.is_true(a:connect("127.0.0.1", port))
    assert.is_true(b:connect("127.0.0.1", port))
    local read_result, recv_end
    os.post(function() read_result = { a:read() } end)
    b:receive(function(d, e) if not d then recv_end = e end end)
    os.wait(50)
    a:close()
    b:close()
    assert.is_true(H.wait_until(function() return read_result and recv_end end, 10000))
    assert.are.same({ nil, "closed" }, read_result)
    assert.are.equal("closed", recv_end)
    srv:close()
  end)

  it("a slow reader makes send callbacks come late; memory stays bounded", function()
    local srv, s, peer = net.connected_pair("tcp")
    local chunk = H.random_bytes(1 << 16):rep(16) -- 1 MiB
    local done, queued = 0, 0
    os.post(function()
      for _ = 1, 64 do
        s:send(chunk, function(size) if size == #chunk then done = done + 1 end end)
        queued = queued + 1
      end
    end)
    os.wait(300)
    -- 64 MiB cannot fit in the kernel buffers plus our 1 MiB budget.
    assert.truthy(done < 64)
    assert.truthy(queued < 64)
    local total = 0
    peer:receive(function(d) if d then total = total + #d end end)
    assert.is_true(H.wait_until(function() return done == 64 and total == 64 * #chunk end, 30000))
    s:close()
    srv:close()
  end)

  it("batched sends to a peer that does not read wait for room; every byte arrives in order", function()
    -- Small sends without a callback, 32 KiB a turn: each turn's batch is
    -- written, until the kernel takes only part of one; its rest goes to
    -- the queue, later sends behind it, and then they wait: 32 MiB cannot
    -- fit in the kernel buffers and our budget.
    local srv, s, peer = net.connected_pair("tcp")
    local SIZE, COUNT = 8192, 4096
    local function part(i) return ("%07d|"):format(i):rep(SIZE // 8) end
    local sent = 0
    os.post(function()
      for i = 1, COUNT do
        assert.is_true(s:send(part(i)))
        sent = i
        if i % 4 == 0 then os.wait(1) end
      end
    end)
    os.wait(300)
    assert.truthy(sent > 0 and sent < COUNT, sent)
    -- the reader checks the stream part by part as it comes
    local pending, next_part, wrong = "", 1, nil
    peer:receive(function(d)
      if not d then return end
      pending = pending .. d
      while #pending >= SIZE do
        if pending:sub(1, SIZE) ~= part(next_part) then wrong = wrong or next_part end
        pending, next_part = pending:sub(SIZE + 1), next_part + 1
      end
    end)
    assert.is_true(H.wait_until(function() return next_part > COUNT end, 30000), next_part)
    assert.is_nil(wrong, "part out of order")
    assert.are.equal("", pending)
    s:close()
    srv:close()
  end)

  it("an idle unreachable socket is closed by GC; one with receive is kept", function()
    local srv = io.server("tcp")
    local ends, peers = 0, {}
    assert(srv:listen("127.0.0.1", 0, function(peer)
      peers[#peers + 1] = peer
      peer:receive(function(d) if not d then ends = ends + 1 end end)
    end))
    local port = srv:endpoint().port
    do
      local s = io.socket("tcp")
      assert.is_true(s:connect("127.0.0.1", port))
    end
    assert.is_true(H.wait_until(function() return #peers == 1 end, 10000))
    collectgarbage()
    collectgarbage()
    assert.is_true(H.wait_until(function() return ends == 1 end, 10000))
    local got
    do
      local s = io.socket("tcp")
      assert.is_true(s:connect("127.0.0.1", port))
      s:receive(function(d) if d then got = d end end)
    end
    assert.is_true(H.wait_until(function() return #peers == 2 end, 10000))
    collectgarbage()
    collectgarbage()
    peers[2]:write("still here")
    assert.is_true(H.wait_until(function() return got end, 10000))
    assert.are.equal("still here", got)
    assert.are.equal(1, ends)
    srv:close()
  end)
end)

describe("io.socket and other services", function()
  it("a socket's send reaches its own connection even with another service's socket id in its user value", function()
    -- The fast path of send finds a socket by the id in the object's user
    -- value, among all the sockets of its thread: one rewritten with
    -- debug.setuservalue must not reach another service's socket. Three
    -- agents, so that at least two share a worker where there are two.
    local srv = io.server("tcp")
    local got = {}
    assert(srv:listen("127.0.0.1", 0, function(peer)
      local tag
      peer:receive(function(d)
        if not d then return end
        if not tag then tag = d:sub(1, 1) end
        got[tag] = (got[tag] or "") .. d
      end)
    end))
    local port, jobs, ids = srv:endpoint().port, {}, {}
    for i = 1, 3 do
      local tag = "sock_owner_agent" .. i
      local ok, job = os.pload("helpers.agent", tag)
      assert.is_true(ok, job)
      jobs[i] = job
      local ok2, id = pcall(tag, [[
        local port, mark = ...
        sock = io.socket("tcp")
        assert(sock:connect("127.0.0.1", port))
        assert(sock:send(mark))
        return sock:id()
      ]], port, tostring(i))
      assert.is_true(ok2, id)
      ids[i] = id
    end
    for i = 1, 3 do
      for j = 1, 3 do
        if i ~= j then
          assert.are.same({ true, true }, { pcall("sock_owner_agent" .. i, [[
            debug.setuservalue(sock, ...)
            return sock:send("<" .. (...) .. ">")
          ]], ids[j]) })
        end
      end
    end
    local function want(i)
      local out = tostring(i)
      for j = 1, 3 do if j ~= i then out = out .. "<" .. ids[j] .. ">" end end
      return out
    end
    assert.is_true(H.wait_until(function()
      return got["1"] == want(1) and got["2"] == want(2) and got["3"] == want(3)
    end, 5000), "a send went to another service's socket")
    for _, job in ipairs(jobs) do job:close() end
    srv:close()
  end)
end)

describe("io.socket and the end of its service", function()
  it("stopping the service wakes a pending read with nil, 'cancel' (docs/API.md §9.2)", function()
    local peers = {}
    local srv = io.server("tcp")
    assert(srv:listen("127.0.0.1", 0, function(peer) peers[#peers + 1] = peer end)) -- never writes
    local port = srv:endpoint().port
    local report, tag = "sock_stop_report", "sock_stop_agent"
    local got
    rpc.create(report, function(...) got = table.pack(...) end)
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    assert.is_true(pcall(tag, function() end, [[
      local port, report = ...
      local s = io.socket("tcp")
      assert(s:connect("127.0.0.1", port))
      rpc.deliver(report, 0, 0, "connected")
      rpc.deliver(report, 0, 0, s:read())
    ]], port, report))
    H.wait_until(function() return got end, 2000)
    assert.are.equal("connected", got and got[1])
    got = nil
    local t0 = os.steady_clock("ms")
    job:close()
    assert.is_true(os.steady_clock("ms") - t0 < 2000)
    H.wait_until(function() return got end, 2000)
    assert.is_truthy(got, "the read was never woken")
    assert.is_nil(got[1])
    assert.are.equal("cancel", got[2])
    rpc.remove(report)
    srv:close()
  end)
end)
