-- io.server (docs/API.md §9.3), tcp kind: listen, accept, endpoint, close, 200 concurrent peers,
-- a python client (not ours).
require "skynet"
package.path = "spec/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"

describe("io.server", function()
  after_each(net.stop_all)

  it("creates servers and checks its arguments", function()
    assert.are.equal("userdata", type(io.server("tcp")))
    assert.are.equal("userdata", type(io.server("ws")))
    assert.are.same({ nil, "unknown type: udp" }, { io.server("udp") })
    H.raises(function() io.server() end, "bad argument #1 to 'server' (string expected, got no value)")
    H.raises(function() io.server("ssl") end, "needs a context")
    H.raises(function() io.server("wss") end, "needs a context")
    H.raises(function() io.server("ssl", io.context()) end, "no certificate")
    H.raises(function() io.server("tcp", 5) end, "bad argument #2 to 'server' (context expected, got number)")
    local srv = io.server("tcp")
    H.raises(function() srv:listen("127.0.0.1", 0) end, "bad argument #3 to 'listen' (function expected, got no value)")
    H.raises(function() srv:listen("127.0.0.1", "x", print) end, "bad argument #2 to 'listen' (number expected, got string)")
    H.raises(function() srv:listen(nil, 0, print) end, "bad argument #1 to 'listen' (string expected, got nil)")
    H.raises(function() srv.listen(1, "127.0.0.1", 0, print) end, "bad argument #1 to 'listen' (server expected, got number)")
    assert.are.same({ false, "invalid port" }, { srv:listen("127.0.0.1", -1, print) })
    assert.are.same({ false, "invalid port" }, { srv:listen("127.0.0.1", 65536, print) })
    assert.are.same({ nil, "not listening" }, { srv:endpoint() })
    assert.are_not.equal(srv:id(), io.server("tcp"):id())
  end)

  it("listens on a free port, refuses a second listen and a port in use", function()
    local srv, port = net.echo_server()
    assert.truthy(port > 0)
    assert.are.equal("127.0.0.1", srv:endpoint().address)
    assert.are.same({ false, "already listening" }, { srv:listen("127.0.0.1", 0, print) })
    local other = io.server("tcp")
    local ok, msg = other:listen("127.0.0.1", port, print)
    assert.is_false(ok)
    assert.are.equal("string", type(msg))
    srv:close()
  end)

  it("close stops accepting and releases the port; accepted peers live on", function()
    local srv, port = net.echo_server()
    local s = io.socket("tcp")
    assert.is_true(s:connect("127.0.0.1", port))
    srv:close()
    srv:close()
    assert.are.same({ nil, "not listening" }, { srv:endpoint() })
    assert.are.same({ false, "closed" }, { srv:listen("127.0.0.1", 0, print) })
    assert.is_false((io.socket("tcp"):connect("127.0.0.1", port)))
    assert.are.equal(4, s:write("ping"))
    assert.are.equal("ping", s:read())
    local again = io.server("tcp")
    assert.is_true(again:listen("127.0.0.1", port, print))
    again:close()
    s:close()
  end)

  it("serves 200 concurrent connections", function()
    local srv, port = net.echo_server()
    local answers, sockets = 0, {}
    for i = 1, 200 do
      local s = io.socket("tcp")
      sockets[i] = s
      local msg = "hello " .. i
      s:connect("127.0.0.1", port, function(err)
        assert(err == nil, err)
        s:receive(function(d) if d == msg then answers = answers + 1 end end)
        s:send(msg)
      end)
    end
    assert.is_true(H.wait_until(function() return answers == 200 end, 30000))
    for _, s in ipairs(sockets) do s:close() end
    srv:close()
  end)

  it("serves a python client: 1 MiB echoed byte for byte", function()
    local srv, port = net.echo_server()
    local out = os.tmpname()
    net.spawn(("python3 %s %d %s"):format(net.python_script([[
import socket, sys, os
data = os.urandom(1 << 20)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(data)
got = b""
while len(got) < len(data):
    d = c.recv(65536)
    if not d: break
    got += d
open(sys.argv[2], "w").write("ok" if got == data else "mismatch %d" % len(got))
]]), port, out))
    assert.is_true(H.wait_until(function() return (net.read_file(out) or "") ~= "" end, 10000))
    assert.are.equal("ok", net.read_file(out))
    srv:close()
  end)

  it("runs the accept callback in the owning service, each in its own coroutine", function()
    local srv = io.server("tcp")
    local ids, got = {}, {}
    assert(srv:listen("127.0.0.1", 0, function(peer)
      ids[#ids + 1] = os.id()
      local d = peer:read() -- blocks this callback only
      got[#got + 1] = d
    end))
    local a, b = io.socket("tcp"), io.socket("tcp")
    assert.is_true(a:connect("127.0.0.1", srv:endpoint().port))
    assert.is_true(b:connect("127.0.0.1", srv:endpoint().port))
    b:write("b")
    a:write("a")
    assert.is_true(H.wait_until(function() return #got == 2 end, 10000))
    table.sort(got)
    assert.are.same({ "a", "b" }, got)
    assert.are.same({ os.id(), os.id() }, ids)
    srv:close()
  end)
end)
