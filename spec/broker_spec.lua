-- http.broker (docs/API.md §19) as a real process, driven by curl and python3:
-- spec/helpers/broker_app.lua starts the broker service and registers the
-- test handlers in the same process. Every process is stopped at the end.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local P = require("support.procs")
local H = require "support.helpers"

local VERSION = "skynet-lua/" .. os.version()

--- Starts broker_app on a free port; returns the process and the port.
local function start_app(extra)
  local proc = P.skynet("helpers.broker_app 0 " .. (extra or ""))
  local port = tonumber(P.wait_output(proc, "http.broker works on port (%d+)"))
  P.wait_output(proc, "handlers ready")
  return proc, port
end

--- Sends raw bytes (a python bytes literal) and returns what came back
--- before the server closed, and python's exit status (3: not closed).
local function raw(port, literal, wait)
  local out, status = P.sh(string.format("python3 spec/helpers/raw_http.py %d %s %s", port, P.quote(literal), wait or 15))
  return out, status
end

describe("http.broker", function()
  local app, port, base
  lazy_setup(function()
    app, port = start_app()
    base = "http://127.0.0.1:" .. port
  end)
  lazy_teardown(P.stop_all)

  it("answers / with its version and the fixed headers", function()
    local r = P.curl("", base .. "/")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal(VERSION, r.body)
    assert.are.equal(VERSION, r.headers["server"])
    assert.are.equal("max-age=0", r.headers["cache-control"])
    assert.are.equal("close", r.headers["connection"])
    assert.are.equal("text/html;charset=UTF-8", r.headers["content-type"])
    assert.are.equal(tostring(#VERSION), r.headers["content-length"])
    assert.is_nil(r.headers["content-encoding"])
  end)

  it("turns the path into an rpc name and the query into a table", function()
    -- test:echo answers "k=v&..." (sorted keys) .. "|" .. body
    local r = P.curl("", base .. "/test/echo?b=x+y%21&a=1&flag&a=2&=skipped&&c=%E4%B8%AD")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("a=2&b=x y!&c=中&flag=|", r.body)
    -- empty segments are dropped; no query -> an empty table; GET body ""
    assert.are.equal("|", P.curl("", base .. "//test///echo/").body)
    assert.are.equal("|", P.curl("", base .. "/test/echo?").body)
    -- a broken escape is kept as sent
    assert.are.equal("x=100%|", P.curl("", base .. "/test/echo?x=100%").body)
  end)

  it("passes a POST body (binary-safe) and the query", function()
    local file = os.tmpname()
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local body = table.concat(bytes) .. "\r\n\r\nend"
    P.write_file(file, body)
    local r = P.curl("--data-binary @" .. file, base .. "/test/echo?q=1")
    os.remove(file)
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("q=1|" .. body, r.body)
    local r2 = P.curl("-d 'hello body'", base .. "/test/echo")
    assert.are.equal("|hello body", r2.body)
  end)

  it("sends tostring of the first result; nothing -> empty body", function()
    assert.are.equal("42", P.curl("", base .. "/test/number").body)
    local r = P.curl("", base .. "/test/nothing")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("", r.body)
    assert.are.equal("0", r.headers["content-length"])
  end)

  it("404 for a name nobody handles", function()
    local r = P.curl("", base .. "/no/such?x=1")
    assert.are.equal(404, r.status, r.raw)
    assert.are.equal("no:such not found", r.body)
    assert.are.equal("close", r.headers["connection"])
  end)

  it("500 with the error text when the handler raises", function()
    local r = P.curl("", base .. "/test/fail")
    assert.are.equal(500, r.status, r.raw)
    assert.are.equal("handler failed on purpose", r.body)
  end)

  it("sends a table result as JSON (checked by python's json)", function()
    local r = P.curl("", base .. "/test/table?name=bob")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("application/json", r.headers["content-type"])
    assert.is_true(P.json_is(r.body, '{"name": "bob", "list": [1, 2, 3], "nested": {"ok": True}}'), r.body)
  end)

  it("gzips the body when the client accepts gzip", function()
    local expected = string.rep("abcdefgh", 5000)
    local r = P.curl("--compressed", base .. "/test/big?n=5000")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("gzip", r.headers["content-encoding"])
    assert.are.equal(expected, r.body)
    assert.truthy(tonumber(r.headers["content-length"]) < #expected)
    -- the compressed bytes as sent, decoded by python's gzip; the header
    -- name is matched without regard to case
    local out = P.sh("curl -s -H 'ACCEPT-ENCODING: deflate, GZIP' " .. base .. "/test/big?n=5000"
      .. " | python3 -c 'import gzip,sys; sys.stdout.write(gzip.decompress(sys.stdin.buffer.read()).decode())'")
    assert.are.equal(expected, out)
    -- not asked for: plain; asked for but empty body: plain
    local plain = P.curl("", base .. "/test/big?n=5000")
    assert.is_nil(plain.headers["content-encoding"])
    assert.are.equal(expected, plain.body)
    local empty = P.curl("--compressed", base .. "/test/nothing")
    assert.is_nil(empty.headers["content-encoding"])
    assert.are.equal("", empty.body)
  end)

  it("405 for methods other than GET and POST", function()
    for _, method in ipairs({ "PUT", "DELETE", "PATCH", "OPTIONS" }) do
      local r = P.curl("-X " .. method .. " -d x", base .. "/test/echo")
      assert.are.equal(405, r.status, method .. ": " .. r.raw)
      assert.are.equal("GET, POST", r.headers["allow"])
    end
    assert.are.equal(405, P.curl("-I", base .. "/test/echo").status)
  end)

  it("closes the connection after the response, even when asked to keep it", function()
    local out, status = raw(port, [[b"GET /test/echo?k=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"]])
    assert.are.equal(0, status, "the broker left the connection open")
    assert.truthy(out:find("^HTTP/1.1 200 OK\r\n"), out)
    assert.truthy(out:find("\r\n\r\nk=1|$"), out)
    -- pipelined requests: only the first is answered
    out, status = raw(port, [[b"GET /test/echo?n=1 HTTP/1.1\r\n\r\nGET /test/echo?n=2 HTTP/1.1\r\n\r\n"]])
    assert.are.equal(0, status)
    assert.truthy(out:find("n=1|", 1, true), out)
    assert.falsy(out:find("n=2|", 1, true), out)
  end)

  it("closes a malformed request's connection and keeps serving", function()
    for _, literal in ipairs({
      [[b"GARBAGE\r\n\r\n"]],
      [[b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"]],
      [[b"GET / HTTP/9.9\r\n\r\n"]],
      [[b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"]],
      [[b"\x00\xff\x16\x03\x01 binary noise\r\n\r\n"]],
    }) do
      local out, status = raw(port, literal)
      assert.are.equal(0, status, literal .. ": the connection stayed open")
      assert.are.equal("", out, literal)
      local r = P.curl("", base .. "/")
      assert.are.equal(200, r.status, literal .. ": " .. r.raw)
      assert.are.equal(VERSION, r.body)
    end
    -- a client that leaves mid-request does not disturb the others
    local out, status = raw(port, [[b"POST /test/echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort"]], 1)
    assert.are.equal(3, status) -- nothing sent back while the body is incomplete
    assert.are.equal("", out)
    assert.are.equal(VERSION, P.curl("", base .. "/").body)
  end)

  it("accepts a body of 16 MiB, answers 413 above", function()
    local file = os.tmpname()
    assert(os.execute("head -c 16777216 /dev/zero > " .. file))
    local r = P.curl("--data-binary @" .. file, base .. "/test/size")
    assert.are.equal(200, r.status, r.raw:sub(1, 300))
    assert.are.equal("16777216", r.body)
    assert(os.execute("head -c 16777217 /dev/zero > " .. file))
    r = P.curl("--data-binary @" .. file, base .. "/test/size")
    os.remove(file)
    assert.are.equal(413, r.status, r.raw:sub(1, 300))
    assert.are.equal("close", r.headers["connection"])
    -- a chunked body (no Content-Length) that grows past the limit
    local out = raw(port, [[b"POST /test/size HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"]]
      .. [[ + (b"100000\r\n" + b"x" * 0x100000 + b"\r\n") * 17]])
    assert.truthy(out:find("^HTTP/1.1 413 Payload Too Large\r\n"), out:sub(1, 200))
    assert.are.equal(VERSION, P.curl("", base .. "/").body)
  end)

  it("serves others while one handler is slow", function()
    local slow_out = os.tmpname()
    os.execute(string.format("curl -s --max-time 30 %s/test/slow?ms=4000 > %s 2>&1 &", base, slow_out))
    os.execute("sleep 0.3")
    local r = P.curl("", base .. "/test/echo?fast=1")
    assert.are.equal("fast=1|", r.body)
    -- the slow one has not answered yet when the fast one has
    assert.are.equal("", P.read_file(slow_out))
    H.wait_until(function() return P.read_file(slow_out) ~= "" end, 20000)
    assert.are.equal("slow done", P.read_file(slow_out))
    os.remove(slow_out)
  end)

  it("answers 50 concurrent clients", function()
    local out = P.sh(string.format("python3 spec/helpers/http_many.py %d 50", port))
    assert.are.equal("ok 50\n", out)
  end)

  it("504 when the handler does not answer within the rpc timeout (10 s)", function()
    local r = P.curl("", base .. "/test/never")
    assert.are.equal(504, r.status, r.raw)
    assert.are.equal("timeout", r.body)
  end)
end)

describe("http.broker over TLS", function()
  local dir
  lazy_setup(function() dir = P.certificates() end)
  lazy_teardown(function()
    P.stop_all()
    os.execute("rm -rf " .. dir)
  end)

  it("serves HTTPS with certificate and key files", function()
    local _, port = start_app(dir .. "/cert.pem " .. dir .. "/key.pem")
    local base = "https://127.0.0.1:" .. port
    local r = P.curl("-k", base .. "/")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal(VERSION, r.body)
    -- and checked against the certificate, not just -k
    r = P.curl("--cacert " .. dir .. "/cert.pem", base .. "/test/echo?a=b")
    assert.are.equal("a=b|", r.body, r.raw)
    r = P.curl("-k --compressed -d payload", base .. "/test/echo")
    assert.are.equal("|payload", r.body)
    assert.are.equal(404, P.curl("-k", base .. "/nothing/here").status)
    -- plain HTTP on the TLS port: that connection fails, the server lives on
    local plain = P.curl("", "http://127.0.0.1:" .. port .. "/")
    assert.is_nil(plain.status)
    assert.are.equal(VERSION, P.curl("-k", base .. "/").body)
  end)

  it("takes PEM text and an encrypted key with its password", function()
    local cert = P.read_file(dir .. "/cert.pem")
    local _, port = start_app(P.quote(cert) .. " " .. dir .. "/enc.pem secret")
    local r = P.curl("-k", "https://127.0.0.1:" .. port .. "/test/echo?tls=yes")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("tls=yes|", r.body)
  end)
end)

describe("skynet http.broker (the launcher)", function()
  after_each(P.stop_all)

  it("prints the port it works on and serves /", function()
    local proc = P.skynet("http.broker 0 127.0.0.1")
    local port = tonumber(P.wait_output(proc, "^http.broker works on port (%d+)\n"))
    assert.truthy(port > 0)
    local r = P.curl("", "http://127.0.0.1:" .. port .. "/")
    assert.are.equal(VERSION, r.body)
    assert.are.equal(404, P.curl("", "http://127.0.0.1:" .. port .. "/user/login").status)
  end)

  it("fails with status 1 on a bad port, a port in use, a bad key", function()
    local out, status = P.run_skynet("http.broker nope 127.0.0.1")
    assert.are.equal(1, status)
    assert.truthy(out:find("http.broker: bad port nope", 1, true), out)
    local proc = P.skynet("http.broker 0 127.0.0.1")
    local port = P.wait_output(proc, "works on port (%d+)")
    out, status = P.run_skynet("http.broker " .. port .. " 127.0.0.1")
    assert.are.equal(1, status)
    assert.truthy(out:find("cannot listen on 127.0.0.1:" .. port, 1, true), out)
    out, status = P.run_skynet("http.broker 0 127.0.0.1 /no/cert.pem /no/key.pem")
    assert.are.equal(1, status)
    assert.truthy(out:find("http.broker: ", 1, true), out)
  end)
end)
