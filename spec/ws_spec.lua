-- ws and wss sockets/servers (docs/API.md §9.2-9.3) against python's `websockets`
-- (a peer that is not ours), in both directions.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"

local dir = net.certificates()

local function server_context()
  local ctx = io.context()
  assert(ctx:certificate(dir .. "/cert.pem"))
  assert(ctx:key(dir .. "/key.pem"))
  return ctx
end

-- python client: connects, checks text/binary echo (1 MiB), ping, then close code.
local PY_CLIENT = [[
import asyncio, os, ssl, sys, websockets
url, out = sys.argv[1], sys.argv[2]
async def main():
    ctx = None
    if url.startswith("wss"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    async with websockets.connect(url, ssl=ctx, max_size=None, additional_headers={"X-Test": "yes"}) as ws:
        await ws.send("héllo")
        t = await ws.recv()
        assert t == "héllo", t
        data = os.urandom(1 << 20)
        await ws.send(data)
        b = await ws.recv()
        assert b == data, "binary mismatch"
        await asyncio.wait_for(await ws.ping(), 5)
        await ws.send("bye")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            open(out, "w").write("ok %s" % (e.rcvd.code if e.rcvd else "none"))
            return
    open(out, "w").write("not closed")
try:
    asyncio.run(main())
except Exception as e:
    open(out, "w").write("error %r" % e)
]]

-- python server: echoes every message; writes its port to a file.
local PY_SERVER = [[
import asyncio, os, ssl, sys, websockets
portfile, certdir, secure = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    ctx = None
    if secure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certdir + "/cert.pem", certdir + "/key.pem")
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, max_size=None,
            process_response=lambda conn, req, resp: (resp.headers.__setitem__("X-Server", req.path), resp)[1]) as srv:
        port = srv.sockets[0].getsockname()[1]
        open(portfile + ".tmp", "w").write(str(port)); os.rename(portfile + ".tmp", portfile)
        await asyncio.sleep(25)
asyncio.run(main())
]]

local function our_server(kind)
  local srv = io.server(kind, kind == "wss" and server_context() or nil)
  local seen = {}
  assert(srv:listen("127.0.0.1", 0, function(peer)
    seen.uri = peer:geturi()
    seen.header = peer:getheader("x-test")
    peer:receive(function(d, err)
      if not d then seen.ended = err return end
      if d == "bye" then peer:close() else peer:send(d) end
    end)
  end))
  return srv, srv:endpoint().port, seen
end

describe("websocket", function()
  after_each(net.stop_all)

  for _, kind in ipairs { "ws", "wss" } do
    it(kind .. " server serves a python websockets client", function()
      local srv, port, seen = our_server(kind)
      local out = os.tmpname()
      net.spawn(("python3 %s %s://127.0.0.1:%d/chat?room=1 %s"):format(net.python_script(PY_CLIENT), kind, port, out))
      assert.is_true(H.wait_until(function() return (net.read_file(out) or "") ~= "" end, 20000))
      assert.are.equal("ok 1000", net.read_file(out))
      assert.are.equal("/chat?room=1", seen.uri)
      assert.are.equal("yes", seen.header)
      srv:close()
    end)

    it(kind .. " client talks to a python websockets server: 1 MiB byte for byte", function()
      local portfile = os.tmpname()
      os.remove(portfile)
      net.spawn(("python3 %s %s %s %s"):format(net.python_script(PY_SERVER), portfile, dir, kind == "wss" and 1 or 0))
      assert.is_true(H.wait_until(function() return net.read_file(portfile) end, 20000))
      local s = io.socket(kind)
      s:seturi("/path?q=1")
      s:setheader("X-Client", "ours")
      assert.are.same({ true }, { s:connect("127.0.0.1", tonumber(net.read_file(portfile))) })
      assert.are.equal("/path?q=1", s:getheader("x-server", "response"))
      assert.are.equal("ours", s:getheader("X-Client"))
      assert.are.equal(5, s:write("hello"))
      assert.are.equal("hello", s:read())
      local data = H.random_bytes(1 << 20)
      assert.are.equal(#data, s:write(data))
      assert.are.equal(data, s:read())
      local got = {}
      s:receive(function(d) got[#got + 1] = d end)
      for i = 1, 50 do s:send("m" .. i) end
      assert.is_true(H.wait_until(function() return #got == 50 end, 10000))
      for i = 1, 50 do assert.are.equal("m" .. i, got[i]) end
      s:close()
    end)
  end

  it("our ws client and server: messages keep their boundaries, close is seen as eof", function()
    local srv, s, peer = net.connected_pair("ws")
    assert.are.equal("/", peer:geturi())
    s:write("a")
    s:write("")
    s:write("\255\0")
    assert.are.equal("a", peer:read())
    assert.are.equal("", peer:read())
    assert.are.equal("\255\0", peer:read())
    peer:close()
    assert.are.same({ nil, "eof" }, { s:read() })
    srv:close()
  end)

  it("broken handshakes and oversized messages close only that connection", function()
    local srv, port, seen = our_server("ws")
    local raw = io.socket("tcp")
    assert.is_true(raw:connect("127.0.0.1", port))
    raw:write("GARBAGE\r\n\r\n")
    local d = raw:read()
    while d do d = raw:read() end
    local plain = io.socket("tcp")
    assert.is_true(plain:connect("127.0.0.1", port))
    plain:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    d = plain:read()
    while d do d = plain:read() end
    -- a message over 16 MiB
    local big = io.socket("ws")
    assert.is_true(big:connect("127.0.0.1", port))
    big:send(("x"):rep((16 << 20) + 1))
    assert.is_true(H.wait_until(function() return seen.ended end, 20000))
    assert.are_not.equal("eof", seen.ended)
    -- the server still accepts
    local s = io.socket("ws")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal(2, s:write("ok"))
    assert.are.equal("ok", s:read())
    s:close()
    srv:close()
  end)

  it("a ws client against a server that is not websocket fails with a message", function()
    local srv = io.server("tcp")
    assert(srv:listen("127.0.0.1", 0, function(peer) peer:write("HTTP/1.1 404 Not Found\r\n\r\n") peer:close() end))
    local ok, msg = io.socket("ws"):connect("127.0.0.1", srv:endpoint().port)
    assert.is_false(ok)
    assert.truthy(msg:find("handshake", 1, true), msg)
    srv:close()
  end)

  -- python client: one echo, then times its close(code); writes "<code it got back> <seconds>".
  local PY_CLOSER = [=[
import asyncio, sys, time, websockets
url, out, code = sys.argv[1], sys.argv[2], int(sys.argv[3])
async def main():
    ws = await websockets.connect(url)
    await ws.send("hi")
    assert await ws.recv() == "hi"
    start = time.monotonic()
    await ws.close(code=code)
    took = time.monotonic() - start
    rcvd = ws.protocol.close_rcvd
    open(out, "w").write("%s %.3f" % (rcvd.code if rcvd else "none", took))
try:
    asyncio.run(main())
except Exception as e:
    open(out, "w").write("error %r" % e)
]=]

  it("a python client's close is answered at once with its own code; then eof, and closed after ours", function()
    for _, code in ipairs { 1000, 4001 } do
      local srv, seen, peer = io.server("ws"), {}, nil
      assert(srv:listen("127.0.0.1", 0, function(p)
        peer = p
        local d = p:read()
        p:write(d)
        seen.after = { p:read() }
      end))
      local port = srv:endpoint().port
      local out = os.tmpname()
      net.spawn(("python3 %s ws://127.0.0.1:%d/ %s %d"):format(net.python_script(PY_CLOSER), port, out, code))
      assert.is_true(H.wait_until(function() return (net.read_file(out) or ""):find(" ") end, 20000))
      local got, took = net.read_file(out):match("^(%S+) (%S+)$")
      assert.are.equal(tostring(code), got, net.read_file(out))
      assert.is_true(tonumber(took) < 1, "close took " .. took .. " s")
      assert.are.same({ nil, "eof" }, seen.after)
      assert.are.same({ nil, "eof" }, { peer:read() })
      peer:close()
      assert.are.same({ nil, "closed" }, { peer:read() })
      srv:close()
    end
  end)

  -- python server: echoes; appends the close code it received for each connection to a file.
  local PY_CODES = [=[
import asyncio, os, sys, websockets
portfile, out = sys.argv[1], sys.argv[2]
async def echo(ws):
    try:
        async for m in ws:
            await ws.send(m)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    rcvd = ws.protocol.close_rcvd
    with open(out, "a") as f:
        f.write("%s\n" % (rcvd.code if rcvd else "none"))
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        open(portfile + ".tmp", "w").write(str(port)); os.rename(portfile + ".tmp", portfile)
        await asyncio.sleep(25)
asyncio.run(main())
]=]

  it("our close reaches a python server as 1000, even when the service ends right after", function()
    local portfile, out = os.tmpname(), os.tmpname()
    os.remove(portfile)
    os.remove(out)
    net.spawn(("python3 %s %s %s"):format(net.python_script(PY_CODES), portfile, out))
    assert.is_true(H.wait_until(function() return net.read_file(portfile) end, 20000))
    local port = tonumber(net.read_file(portfile))
    local function codes()
      local t = {}
      for line in (net.read_file(out) or ""):gmatch("[^\n]+") do t[#t + 1] = line end
      return t
    end
    -- from the main script
    local s = io.socket("ws")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal("a", (s:write("a") and s:read()))
    s:close()
    assert.are.same({ nil, "closed" }, { s:read() })
    assert.is_true(H.wait_until(function() return #codes() == 1 end, 10000))
    -- from services that end at once: after close(), and without it
    for i, explicit in ipairs { true, false } do
      local ok, job = os.pload("helpers.ws_close_and_end", port, explicit)
      assert.is_true(ok, job)
      assert.is_true(H.wait_until(function() return job:state() ~= "running" end, 10000))
      assert.is_true(H.wait_until(function() return #codes() == i + 1 end, 10000))
    end
    assert.are.same({ "1000", "1000", "1000" }, codes())
  end)

  -- python, as a raw socket: a WebSocket handshake, then one broken frame; writes the hex of what comes back.
  local PY_BREAKER = [=[
import base64, os, socket, sys
port, case, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
head = b""
while not head.endswith(b"\r\n\r\n"):
    head += s.recv(1)
if case == "unmasked":
    s.sendall(b"\x81\x02hi")
else:  # a ping of 126 bytes: control frames carry 125 at most
    s.sendall(bytes([0x89, 0x80 | 126, 0, 126, 0, 0, 0, 0]) + b"p" * 126)
got = b""
try:
    while len(got) < 4:
        chunk = s.recv(4 - len(got))
        if not chunk:
            break
        got += chunk
except OSError:
    pass
open(out, "w").write(got.hex() or "nothing")
]=]

  it("a peer breaking the protocol gets a close frame with 1002", function()
    for _, case in ipairs { "unmasked", "big_ping" } do
      local srv, port, seen = our_server("ws")
      local out = os.tmpname()
      os.remove(out)
      net.spawn(("python3 %s %d %s %s"):format(net.python_script(PY_BREAKER), port, case, out))
      -- python creates the file before it writes: wait for the bytes, not the name
      assert.is_true(H.wait_until(function() return (net.read_file(out) or "") ~= "" end, 20000))
      assert.are.equal("880203ea", net.read_file(out), case)
      assert.is_true(H.wait_until(function() return seen.ended end, 10000))
      assert.are_not.equal("eof", seen.ended)
      srv:close()
    end
  end)
end)
