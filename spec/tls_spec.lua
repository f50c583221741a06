-- io.context and ssl sockets/servers (docs/API.md §9.1-9.3). Certificates are made
-- at test time by the openssl CLI; openssl s_client is a peer that is not ours.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local net = require("support.net")
local H = require "support.helpers"

local dir = net.certificates()
local function file(name) return net.read_file(dir .. "/" .. name) end

local function server_context(cert, key)
  local ctx = io.context()
  assert(ctx:certificate(file(cert or "cert.pem")))
  assert(ctx:key(file(key or "key.pem")))
  return ctx
end

local function tls_echo(ctx)
  local srv = io.server("ssl", ctx or server_context())
  assert(srv:listen("127.0.0.1", 0, function(peer)
    peer:receive(function(d) if d then peer:send(d) end end)
  end))
  return srv, srv:endpoint().port
end

local function roundtrip(s, data)
  assert.are.equal(#data, s:write(data))
  local got, n = {}, 0
  while n < #data do
    local c = assert(s:read())
    got[#got + 1] = c
    n = n + #c
  end
  return table.concat(got)
end

describe("io.context", function()
  after_each(net.stop_all)

  it("loads certificates and keys from text or a path", function()
    local ctx = io.context()
    assert.is_true(ctx:certificate(file("cert.pem")))
    assert.is_true(ctx:certificate(dir .. "/cert.pem"))
    assert.is_true(ctx:key(dir .. "/key.pem")) -- PKCS#8
    assert.is_true(ctx:key(file("rsa1.pem"))) -- PKCS#1
    assert.is_true(io.context():key(file("ec_key.pem"))) -- SEC1
    assert.is_true(ctx:verify(true))
    local ok, msg = ctx:certificate(dir .. "/missing.pem")
    assert.is_false(ok)
    assert.truthy(msg:find("missing.pem", 1, true))
    assert.are.same({ false, "no certificate found" }, { ctx:certificate(file("key.pem")) })
    assert.are.same({ false, "no private key found" }, { ctx:key(file("cert.pem")) })
    H.raises(function() ctx:certificate() end, "bad argument #1 to 'certificate' (string expected, got no value)")
    H.raises(function() ctx:key({}) end, "bad argument #1 to 'key' (string expected, got table)")
    H.raises(function() ctx:password() end, "bad argument #1 to 'password' (string expected, got no value)")
  end)

  it("decrypts an encrypted PKCS#8 key whatever the order of key and password", function()
    local a = io.context()
    assert.is_true(a:certificate(file("cert.pem")))
    assert.is_true(a:key(file("enc.pem")))
    H.raises(function() io.server("ssl", a) end, "the key needs a password")
    assert.are.same({ false, "bad password" }, { a:password("wrong") })
    assert.is_true(a:password("secret"))
    assert.are.equal("userdata", type(io.server("ssl", a)))
    local b = io.context()
    assert.is_true(b:password("secret"))
    assert.is_true(b:certificate(file("cert.pem")))
    assert.is_true(b:key(file("enc.pem")))
    local srv, port = tls_echo(b)
    local s = io.socket("ssl")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal("pkcs8", roundtrip(s, "pkcs8"))
    s:close()
    srv:close()
    local c = io.context()
    assert.is_true(c:password("nope"))
    assert.are.same({ false, "bad password" }, { c:key(file("enc.pem")) })
  end)
end)

describe("ssl sockets", function()
  after_each(net.stop_all)

  it("echo 1 MiB byte for byte, RSA and ECDSA certificates", function()
    for _, pair in ipairs { { "cert.pem", "key.pem" }, { "ec_cert.pem", "ec_key.pem" } } do
      local srv, port = tls_echo(server_context(pair[1], pair[2]))
      local s = io.socket("ssl") -- default context: no verification
      assert.is_true(s:connect("127.0.0.1", port))
      local data = H.random_bytes(1 << 20)
      assert.are.equal(data, roundtrip(s, data))
      s:close()
      srv:close()
    end
  end)

  it("verify(true) trusts only the context's certificates; SNI names work", function()
    local srv, port = tls_echo()
    local trusting = io.context()
    assert.is_true(trusting:certificate(file("cert.pem")))
    trusting:verify(true)
    for _, host in ipairs { "127.0.0.1", "localhost" } do
      local s = io.socket("ssl", trusting)
      assert.are.same({ true }, { s:connect(host, port) })
      assert.are.equal("v", roundtrip(s, "v"))
      s:close()
    end
    local strict = io.context()
    strict:verify(true)
    local ok, msg = io.socket("ssl", strict):connect("127.0.0.1", port)
    assert.is_false(ok)
    assert.truthy(msg:find("tls handshake failed", 1, true), msg)
    local other = io.context()
    assert.is_true(other:certificate(file("ec_cert.pem")))
    other:verify(true)
    assert.is_false((io.socket("ssl", other):connect("localhost", port)))
    srv:close()
  end)

  it("openssl s_client talks to our TLS server (TLS 1.2 and 1.3), TLS 1.1 is refused", function()
    local srv = io.server("ssl", server_context())
    local heard = {}
    assert(srv:listen("127.0.0.1", 0, function(peer)
      local d = peer:read()
      heard[#heard + 1] = d
      peer:write("world:" .. tostring(d))
      peer:close()
    end))
    local port = srv:endpoint().port
    for _, version in ipairs { "-tls1_2", "-tls1_3" } do
      local out = os.tmpname()
      net.spawn(("sh -c \"(printf 'hello\\n'; sleep 3) | openssl s_client -connect 127.0.0.1:%d %s -quiet > %s 2>/dev/null\"")
        :format(port, version, out), 10)
      assert.is_true(H.wait_until(function() return (net.read_file(out) or ""):find("world") end, 10000))
      assert.are.equal("world:hello\n", net.read_file(out))
    end
    local out = os.tmpname()
    net.spawn(("sh -c \"openssl s_client -connect 127.0.0.1:%d -tls1_1 < /dev/null > %s 2>&1\""):format(port, out), 10)
    assert.is_true(H.wait_until(function() return (net.read_file(out) or ""):find("\n") end, 10000))
    os.wait(200)
    assert.are.equal(2, #heard)
    -- the server still works after the refused handshake
    local s = io.socket("ssl")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal(3, s:write("ok\n"))
    assert.are.equal("world:ok\n", s:read())
    srv:close()
  end)

  it("garbage instead of a ClientHello drops only that connection", function()
    local srv, port = tls_echo()
    local raw = io.socket("tcp")
    assert.is_true(raw:connect("127.0.0.1", port))
    raw:write(("GET / HTTP/1.1\r\n\r\n"):rep(10))
    local d = raw:read()
    -- rustls may answer with an alert before closing
    while d do d = raw:read() end
    local s = io.socket("ssl")
    assert.is_true(s:connect("127.0.0.1", port))
    assert.are.equal("still", roundtrip(s, "still"))
    s:close()
    srv:close()
  end)

  it("connecting TLS to a plain server fails with a message", function()
    local srv = io.server("tcp")
    assert(srv:listen("127.0.0.1", 0, function(peer) peer:write(("x"):rep(100)) peer:close() end))
    local ok, msg = io.socket("ssl"):connect("127.0.0.1", srv:endpoint().port)
    assert.is_false(ok)
    assert.are.equal("string", type(msg))
    srv:close()
  end)
end)

-- verify(true) with no certificate in the context trusts the system's roots.
-- They are read once per process, so each client is a process of its own,
-- with the environment that names (or not) the test CA.
describe("system roots", function()
  after_each(net.stop_all)

  local ca = net.ca_certificates()
  local CLIENT = [[
require "skynet"
local port, out = tonumber(arg[1]), arg[2]
local ctx = io.context()
ctx:verify(true)
local results = {}
for _, host in ipairs { "127.0.0.1", "localhost" } do
  local s = io.socket("ssl", ctx)
  local ok, err = s:connect(host, port)
  if ok then
    s:write("ping")
    results[#results + 1] = "ok " .. tostring(s:read())
    s:close()
  else
    results[#results + 1] = "refused " .. tostring(err)
  end
end
local f = assert(io.open(out .. ".tmp", "w"))
f:write(table.concat(results, "\n"))
f:close()
os.rename(out .. ".tmp", out)
]]

  local function ca_server()
    local ctx = io.context()
    assert(ctx:certificate(ca .. "/server.pem"))
    assert(ctx:key(ca .. "/server.key"))
    return tls_echo(ctx)
  end

  -- Runs the client in a lua5.4 process with `env` (no SSL_CERT_* otherwise); returns its lines.
  local function client(port, env)
    local script, out = os.tmpname() .. ".lua", os.tmpname()
    os.remove(out)
    net.write_file(script, CLIENT)
    net.spawn(("env -u SSL_CERT_FILE -u SSL_CERT_DIR %s LUA_CPATH='%s' lua5.4 %s %d %s")
      :format(env, package.cpath, script, port, out), 20)
    assert.is_true(H.wait_until(function() return net.read_file(out) end, 20000), "the client did not finish")
    local lines = {}
    for line in net.read_file(out):gmatch("[^\n]+") do lines[#lines + 1] = line end
    os.remove(script)
    os.remove(out)
    return lines
  end

  it("a CA named by SSL_CERT_FILE or SSL_CERT_DIR is trusted", function()
    local srv, port = ca_server()
    assert.are.same({ "ok ping", "ok ping" }, client(port, "SSL_CERT_FILE=" .. ca .. "/ca.pem"))
    assert(os.execute(("mkdir -p %s/roots && cp %s/ca.pem %s/roots/"):format(ca, ca, ca)))
    assert.are.same({ "ok ping", "ok ping" }, client(port, "SSL_CERT_DIR=" .. ca .. "/roots"))
    srv:close()
  end)

  it("without the CA among the roots the server is refused", function()
    local srv, port = ca_server()
    for _, env in ipairs { "SSL_CERT_FILE=" .. ca .. "/other_ca.pem", "" } do
      local lines = client(port, env)
      assert.are.equal(2, #lines)
      for _, line in ipairs(lines) do
        assert.truthy(line:find("^refused tls handshake failed"), line)
      end
    end
    srv:close()
  end)
end)
