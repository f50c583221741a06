-- io.http (docs/API.md §9.4). Reference values for escape/unescape/parse_url come
-- from python3's urllib.parse; HTTP messages are written out by hand.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local python = require("support.python")
local H = require "support.helpers"

-- A parser that records every callback as a string; body pieces are merged
-- so the log does not depend on how the input was split.
local function recorder(kind, extra)
  local log = {}
  local function add(s)
    local last = log[#log]
    if s:sub(1, 5) == "body " and last and last:sub(1, 5) == "body " then
      log[#log] = last .. s:sub(6)
    else
      log[#log + 1] = s
    end
  end
  local cbs = {
    on_message_begin = function() add("begin") end,
    on_url = function(u) add("url " .. u) end,
    on_status = function(code, text) add(("status %d %s"):format(code, text)) end,
    on_header = function(n, v) add("header " .. n .. "=" .. v) end,
    on_headers_complete = function() add("headers") end,
    on_body = function(b)
      if b == nil then add("body-end") elseif #b > 0 then add("body " .. b) end
    end,
    on_message_complete = function() add("complete") end,
    on_chunk_header = function(n) add("chunk " .. n) end,
    on_chunk_complete = function() add("chunk-done") end,
  }
  for k, v in pairs(extra or {}) do cbs[k] = v end
  local p = io.http[kind .. "_parser"](cbs)
  return p, log
end

local CHUNKED = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
  .. "5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n"
local CHUNKED_LOG = {
  "begin", "url /up", "header Host=h", "header Transfer-Encoding=chunked", "headers",
  "chunk 5", "body hello", "chunk-done", "chunk 6", "body  world", "chunk-done",
  "chunk 0", "header X-Checksum=42", "chunk-done", "body-end", "complete",
}

describe("io.http parsers", function()
  it("exist and refuse a callbacks argument that is not a table", function()
    for _, name in ipairs { "request_parser", "response_parser" } do
      assert.is_function(io.http[name])
      H.raises(function() io.http[name]() end, "bad argument #1 to '" .. name .. "' (table expected, got no value)")
      H.raises(function() io.http[name]("x") end, "(table expected, got string)")
      H.raises(function() io.http[name] { on_url = 1 } end, "callbacks.on_url must be a function")
    end
    assert.truthy(tostring(io.http.request_parser {}):find("http request parser", 1, true))
  end)

  it("parses a request with Content-Length and reports its state", function()
    local seen
    local p, log
    p, log = recorder("request", {
      on_headers_complete = function()
        seen = { p:method(), select(1, p:version()), select(2, p:version()), p:should_keep_alive(), p:is_upgrade() }
      end,
    })
    local req = "PUT /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
    assert.are.equal(#req, p:execute(req))
    assert.are.same({ "begin", "url /a/b?x=1", "header Host=example.com", "header Content-Length=5",
      "body hello", "body-end", "complete" }, log)
    assert.are.same({ "PUT", 1, 1, true, false }, seen)
    assert.are.same({ 0, "HPE_OK", "success" }, { p:error() })
    assert.are.equal("PUT", p:method())
    assert.are.equal(0, p:status_code())
  end)

  it("gives the same events when a request arrives one byte at a time", function()
    local p, log = recorder("request")
    for i = 1, #CHUNKED do
      assert.are.equal(1, p:execute(CHUNKED:sub(i, i)))
    end
    assert.are.same(CHUNKED_LOG, log)
  end)

  it("parses chunked bodies with trailers split at every position", function()
    for cut = 0, #CHUNKED do
      local p, log = recorder("request")
      local a, b = CHUNKED:sub(1, cut), CHUNKED:sub(cut + 1)
      assert.are.equal(#a, p:execute(a))
      assert.are.equal(#b, p:execute(b))
      assert.are.same(CHUNKED_LOG, log, "cut at " .. cut)
      assert.are.equal(0, (p:error()))
    end
  end)

  it("parses pipelined requests", function()
    local methods = {}
    local p
    p = io.http.request_parser {
      on_message_complete = function()
        methods[#methods + 1] = { p:method(), select(2, p:version()), p:should_keep_alive() }
      end,
    }
    local data = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      .. "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      .. "DELETE /3 HTTP/1.0\r\n\r\n"
    assert.are.equal(#data, p:execute(data))
    assert.are.same({ { "GET", 1, true }, { "POST", 1, true }, { "DELETE", 0, false } }, methods)
  end)

  it("reads a response without length until EOF, signalled by execute('')", function()
    local p, log = recorder("response")
    local head = "HTTP/1.0 200 OK\r\nServer: test\r\n\r\n"
    assert.are.equal(#head + 5, p:execute(head .. "first"))
    assert.are.equal(#" part", p:execute(" part"))
    assert.are.equal(200, p:status_code())
    assert.is_false(p:should_keep_alive())
    assert.is_nil(p:method())
    assert.are.same({ "begin", "status 200 OK", "header Server=test", "headers", "body first part" }, log)
    assert.are.equal(0, p:execute(""))
    assert.are.same({ "body-end", "complete" }, { log[#log - 1], log[#log] })
    assert.are.equal(0, (p:error()))
  end)

  it("reports EOF in the middle of a message as an error", function()
    local p = io.http.response_parser {}
    p:execute("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert.are.equal(0, p:execute(""))
    local errno, name = p:error()
    assert.are.equal(11, errno)
    assert.are.equal("HPE_INVALID_EOF_STATE", name)
  end)

  it("parses a chunked response and lets on_headers_complete skip a HEAD body", function()
    local p, log = recorder("response")
    local res = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    assert.are.equal(#res, p:execute(res))
    assert.are.same({ "begin", "status 200 OK", "header Transfer-Encoding=chunked", "headers",
      "chunk 3", "body abc", "chunk-done", "chunk 0", "chunk-done", "body-end", "complete" }, log)
    local completes = 0
    local head = io.http.response_parser {
      on_headers_complete = function() return true end,
      on_message_complete = function() completes = completes + 1 end,
    }
    local two = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\n"
    assert.are.equal(#two, head:execute(two))
    assert.are.equal(2, completes)
    assert.are.equal(404, head:status_code())
  end)

  it("stops at the end of the head on an upgrade", function()
    local p, log = recorder("request")
    local head = "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    local data = head .. "\129\5hello"
    local n = p:execute(data)
    assert.are.equal(#head, n)
    assert.is_true(p:is_upgrade())
    assert.are.equal("\129\5hello", data:sub(n + 1))
    assert.are.equal("complete", log[#log])
    assert.are.equal(0, (p:error()))
    assert.are.equal(0, p:execute("more"))
    local r = io.http.response_parser {}
    local res = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    assert.are.equal(#res, r:execute(res .. "xyz"))
    assert.is_true(r:is_upgrade())
  end)

  it("reports malformed input through error() and consumes less than given", function()
    local cases = {
      { "request", "G@T / HTTP/1.1\r\n\r\n", "HPE_INVALID_METHOD" },
      { "request", "GET / HTTP/9.9\r\n\r\n", "HPE_INVALID_VERSION" },
      { "request", "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HPE_INVALID_HEADER_TOKEN" },
      { "request", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "HPE_INVALID_CONTENT_LENGTH" },
      { "request", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HPE_UNEXPECTED_CONTENT_LENGTH" },
      { "request", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", "HPE_INVALID_CHUNK_SIZE" },
      { "response", "HTTP/1.1 abc OK\r\n\r\n", "HPE_INVALID_STATUS" },
    }
    for _, case in ipairs(cases) do
      local p = io.http[case[1] .. "_parser"] {}
      local n = p:execute(case[2])
      local errno, name, description = p:error()
      assert.is_true(n < #case[2], case[2])
      assert.is_true(errno > 0)
      assert.are.equal(case[3], name, case[2])
      assert.is_string(description)
      assert.are.equal(0, p:execute("GET / HTTP/1.1\r\n\r\n"))
    end
  end)

  it("refuses a head larger than the limit", function()
    local p = io.http.request_parser {}
    local head = "GET / HTTP/1.1\r\nX-Big: " .. ("a"):rep(100 * 1024) .. "\r\n\r\n"
    local consumed = 0
    for i = 1, #head, 4096 do
      consumed = consumed + p:execute(head:sub(i, i + 4095))
      if p:error() ~= 0 then break end
    end
    assert.is_true(consumed < #head)
    assert.are.equal("HPE_HEADER_OVERFLOW", select(2, p:error()))
  end)

  it("reset clears the error and can swap the callbacks", function()
    local p = io.http.request_parser {}
    p:execute("garbage\r\n\r\n")
    assert.is_true(p:error() > 0)
    local urls = {}
    p:reset { on_url = function(u) urls[#urls + 1] = u end }
    assert.are.equal(0, (p:error()))
    assert.are.equal(#"GET /x HTTP/1.1\r\n\r\n", p:execute("GET /x HTTP/1.1\r\n\r\n"))
    p:reset()
    p:execute("GET /y HTTP/1.1\r\n\r\n")
    assert.are.same({ "/x", "/y" }, urls)
    H.raises(function() p:reset(5) end, "bad argument #1 to 'reset' (table expected, got number)")
  end)

  it("lets a callback error propagate out of execute and fail the parser", function()
    local p = io.http.request_parser { on_header = function() error("no headers please") end }
    H.raises(function() p:execute("GET / HTTP/1.1\r\nA: b\r\n\r\n") end, "no headers please")
    local errno, name = p:error()
    assert.are.equal(3, errno)
    assert.are.equal("HPE_CB_header_field", name)
    assert.are.equal(0, p:execute("GET / HTTP/1.1\r\n\r\n"))
  end)

  it("refuses execute from inside its own callback", function()
    local p
    p = io.http.request_parser { on_url = function() p:execute("x") end }
    H.raises(function() p:execute("GET / HTTP/1.1\r\n\r\n") end, "http parser is busy")
  end)

  it("checks method arguments", function()
    local p = io.http.request_parser {}
    H.raises(function() p:execute() end, "bad argument #1 to 'execute' (string expected, got no value)")
    H.raises(function() p:execute({}) end, "bad argument #1 to 'execute' (string expected, got table)")
    H.raises(function() p.execute("GET") end, "bad argument #1 to 'execute' (http parser expected, got string)")
    H.raises(function() p.error() end, "(http parser expected, got no value)")
    H.raises(function() p.method({}) end, "(http parser expected, got table)")
  end)
end)

describe("io.http.parse_url", function()
  local function urlsplit(url)
    local out = python.run([[
from urllib.parse import urlsplit
u = urlsplit(data.decode())
parts = [u.scheme, u.username and (u.username + (':' + u.password if u.password is not None else '')) or '',
         u.hostname or '', str(u.port or ''), u.path, u.query, u.fragment]
out = '\n'.join(parts).encode()]], url)
    local t = {}
    for line in (out .. "\n"):gmatch("(.-)\n") do t[#t + 1] = line end
    local function opt(s) if s ~= "" then return s end end
    return { schema = opt(t[1]), userinfo = opt(t[2]), host = opt(t[3]), port = tonumber(t[4]),
      path = opt(t[5]), query = opt(t[6]), fragment = opt(t[7]) }
  end

  it("splits URLs as python's urlsplit does", function()
    for _, url in ipairs {
      "http://example.com/", "https://user:secret@example.com:8443/a/b?x=1&y=2#frag",
      "http://h", "http://h:80?q", "ws://127.0.0.1:9000/chat", "/just/a/path?k=v#top", "/",
    } do
      assert.are.same(urlsplit(url), io.http.parse_url(url), url)
    end
  end)

  it("returns the port as an integer and an IPv6 host without brackets", function()
    local u = io.http.parse_url("http://[::1]:8080/x")
    assert.are.equal("::1", u.host)
    assert.are.equal("integer", math.type(u.port))
    assert.are.equal(8080, u.port)
  end)

  it("parses the authority form of CONNECT", function()
    assert.are.same({ host = "example.com", port = 443 }, io.http.parse_url("example.com:443", true))
    assert.are.same({ nil, "invalid url" }, { io.http.parse_url("example.com", true) })
    assert.are.same({ nil, "invalid url" }, { io.http.parse_url("/path", true) })
  end)

  it("returns nil, 'invalid url' for invalid URLs", function()
    for _, bad in ipairs { "", "http://", "no/scheme", "http:/one-slash", "http://h:99999/", "http://h:x/",
      "http://a b/", "/with space", "?query-only" } do
      assert.are.same({ nil, "invalid url" }, { io.http.parse_url(bad) }, bad)
    end
  end)

  it("checks its arguments", function()
    H.raises(function() io.http.parse_url() end, "bad argument #1 to 'parse_url' (string expected, got no value)")
    H.raises(function() io.http.parse_url({}) end, "(string expected, got table)")
  end)
end)

describe("io.http.escape / unescape", function()
  local function all_bytes()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    return table.concat(t)
  end

  it("escapes like python's urllib.parse.quote(s, safe='')", function()
    for _, s in ipairs { "", "abc", "a b+c/d?e=f&g#h", "AZaz09-_.~", "100%", all_bytes() } do
      assert.are.equal(python.run("from urllib.parse import quote\nout = quote(data, safe='').encode()", s),
        io.http.escape(s))
    end
    assert.are.equal("%20", io.http.escape(" "))
  end)

  it("unescapes like python's unquote_to_bytes, keeping +", function()
    local coded = "a%20b+c%2fd%2F%00%ff%E2%82%AC"
    assert.are.equal(python.run("from urllib.parse import unquote_to_bytes\nout = unquote_to_bytes(data)", coded),
      io.http.unescape(coded))
    assert.are.equal("a+b", io.http.unescape("a+b"))
    assert.are.equal("", io.http.unescape(""))
    assert.are.equal(all_bytes(), io.http.unescape(io.http.escape(all_bytes())))
  end)

  it("returns nil, 'invalid escape' on a malformed escape", function()
    for _, bad in ipairs { "%", "%2", "abc%", "%zz", "%%41", "a%g0" } do
      assert.are.same({ nil, "invalid escape" }, { io.http.unescape(bad) }, bad)
    end
  end)

  it("checks its arguments", function()
    H.raises(function() io.http.escape() end, "bad argument #1 to 'escape' (string expected, got no value)")
    H.raises(function() io.http.unescape(nil) end, "bad argument #1 to 'unescape' (string expected, got nil)")
    assert.are.equal("12", io.http.escape(12))
  end)
end)
