-- http.broker: an HTTP(S) -> rpc gateway (docs/API.md §19, docs/broker.md).
--
--   skynet http.broker [port] [host] [ca] [key] [pwd]
--
-- One request per connection: the path names an rpc handler
-- (`/user/login` -> "user:login"), the handler is called with
-- pcall(name, query, body) and its first result is the response body, then
-- the connection is closed. Each connection is served in the coroutine the
-- server starts for it, so a slow handler only holds up its own client.
local VERSION = "skynet-lua/" .. os.version()
local MAX_BODY = 16 * 1024 * 1024 -- bytes; larger bodies get 413
local IDLE_MS = 30000 -- a client must send its whole request within this time
-- After an early answer (413 while the body still comes), what the client
-- still sends is read and dropped, up to this long and this much, before
-- the connection closes: closing a socket with unread data makes the
-- system reset the connection, and the client may then lose the answer.
local LINGER_MS, LINGER_BYTES = 2000, 4 * 1024 * 1024

local REASON = {
  [200] = "OK",
  [404] = "Not Found",
  [405] = "Method Not Allowed",
  [413] = "Payload Too Large",
  [500] = "Internal Server Error",
  [504] = "Gateway Timeout",
}

local HTML = "text/html;charset=UTF-8"
local JSON = "application/json"

--- "/user/login" -> "user:login"; "/" (no segment) -> "http:index".
local function rpc_name(path)
  local segments = {}
  for segment in path:gmatch("[^/]+") do segments[#segments + 1] = segment end
  if #segments == 0 then return "http:index" end
  return table.concat(segments, ":")
end

--- Decodes one query component: `+` is a space, then %XX escapes; a broken
--- escape is kept as sent.
local function unescape(s)
  s = s:gsub("%+", " ")
  return io.http.unescape(s) or s
end

--- "a=1&b=x+y&flag" -> {a = "1", b = "x y", flag = ""}; the last of
--- repeated keys wins; no query -> {}.
local function parse_query(query)
  local args = {}
  for pair in (query or ""):gmatch("[^&]+") do
    local key, value = pair:match("^([^=]*)=(.*)$")
    if not key then key, value = pair, "" end
    if key ~= "" then args[unescape(key)] = unescape(value) end
  end
  return args
end

--- Calls the handler the request names; returns status, body, content type.
local function answer(request)
  if request.method ~= "GET" and request.method ~= "POST" then
    return 405, "method not allowed", HTML
  end
  local url = io.http.parse_url(request.url) or {}
  local name = rpc_name(url.path or "/")
  local ok, result = pcall(name, parse_query(url.query), table.concat(request.body))
  if not ok then
    result = tostring(result)
    if result == name .. " not found" or result == "function not found" then return 404, result, HTML end
    if result == "timeout" then return 504, result, HTML end
    return 500, result, HTML
  end
  if type(result) == "table" then
    local encoded_ok, text = pcall(json.encode, result)
    if not encoded_ok then return 500, tostring(text), HTML end
    return 200, text, JSON
  end
  -- Decision: a handler that returns nothing (or nil) sends an empty body.
  if result == nil then return 200, "", HTML end
  return 200, tostring(result), HTML
end

--- Writes the whole response (blocking this connection's coroutine only).
local function respond(peer, request, status, body, content_type)
  local headers = {
    string.format("HTTP/1.1 %d %s", status, REASON[status]),
    "Server: " .. VERSION,
    "Cache-Control: max-age=0",
    "Connection: close",
    "Content-Type: " .. content_type,
  }
  local accept = request.headers["accept-encoding"] or ""
  if body ~= "" and accept:lower():find("gzip", 1, true) then
    body = compress(body, "gzip")
    headers[#headers + 1] = "Content-Encoding: gzip"
  end
  if status == 405 then headers[#headers + 1] = "Allow: GET, POST" end
  headers[#headers + 1] = "Content-Length: " .. #body
  peer:write(table.concat(headers, "\r\n") .. "\r\n\r\n" .. body)
end

--- Reads and drops what the client still sends, within the bounds above.
local function linger(peer)
  local timer = os.timer()
  timer:expires(LINGER_MS, function() peer:close() end)
  local left = LINGER_BYTES
  while left > 0 do
    local data = peer:read()
    if not data then break end
    left = left - #data
  end
  timer:cancel()
end

--- Serves one connection: reads one request, answers it, closes.
local function serve(peer)
  local request = { headers = {}, body = {}, size = 0 }
  local parser
  -- Callbacks only record what they see (they run inside execute, where
  -- nothing may block); the loop below acts on it. Anything after the first
  -- request (pipelining) is ignored: the connection closes after one answer.
  parser = io.http.request_parser {
    on_url = function(url) if not request.complete then request.url = url end end,
    on_header = function(name, value)
      if not request.complete then request.headers[name:lower()] = value end
    end,
    on_headers_complete = function()
      if request.complete then return end
      request.method = parser:method()
      local length = tonumber(request.headers["content-length"])
      if length and length > MAX_BODY then
        request.status = 413
      elseif (request.headers["expect"] or ""):lower() == "100-continue" then
        request.continue = true
      end
    end,
    on_body = function(chunk)
      if request.complete or not chunk then return end
      request.size = request.size + #chunk
      if request.size > MAX_BODY then request.status = 413 return end
      request.body[#request.body + 1] = chunk
    end,
    on_message_complete = function() request.complete = true end,
  }
  local timer = os.timer()
  timer:expires(IDLE_MS, function() peer:close() end)
  while not request.complete and not request.status do
    local data = peer:read()
    if not data then break end -- the client went away (or timed out)
    local consumed = parser:execute(data)
    if consumed < #data and parser:error() ~= 0 then break end -- malformed: drop
    if request.continue then
      request.continue = nil
      peer:write("HTTP/1.1 100 Continue\r\n\r\n")
    end
  end
  timer:cancel()
  if request.status then
    respond(peer, request, request.status, REASON[request.status], HTML)
    linger(peer)
  elseif request.complete then
    respond(peer, request, answer(request))
  end
  peer:close()
end

local function check(ok, err)
  if not ok then error("http.broker: " .. tostring(err), 0) end
end

--- Arguments as given to `skynet http.broker [port] [host] [ca] [key] [pwd]`.
function main(port, host, ca, key, pwd)
  local tls = ca ~= nil and key ~= nil
  port = port or (tls and 443 or 80)
  host = host or "0.0.0.0"
  if math.type(port) ~= "integer" then error("http.broker: bad port " .. tostring(port), 0) end
  local server
  if tls then
    local ctx = io.context()
    check(ctx:certificate(tostring(ca)))
    check(ctx:key(tostring(key)))
    -- The launcher turns an all-digit password into an integer.
    if pwd ~= nil then check(ctx:password(tostring(pwd))) end
    server = io.server("ssl", ctx)
  else
    server = io.server("tcp")
  end
  rpc.create("http:index", function() return VERSION end)
  local ok, err = server:listen(host, port, serve)
  check(ok, err and ("cannot listen on " .. host .. ":" .. port .. ": " .. err))
  print("http.broker works on port " .. server:endpoint().port)
  io.stdout:flush()
  while not os.stopped() do os.wait() end
  server:close()
end
