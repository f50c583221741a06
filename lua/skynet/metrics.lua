-- skynet.metrics: the node's figures for Prometheus, over HTTP.
--
--   os.pload("skynet.metrics", port [, host])    -- inside a node
--   skynet skynet.metrics 9100                   -- from the launcher
--
-- `GET /metrics` answers in the Prometheus text format (0.0.4); any other
-- path is 404, any other method 405, a malformed request 400. Every
-- answer closes the connection. The metrics are listed in docs/operations.md.
local introspect = require "skynet.debug"
local run_server = require "skynet.serve"

local fmt = string.format

-- A request head larger than this is refused (the parser's own limit is higher).
local MAX_REQUEST = 16 * 1024

local REASONS = { [200] = "OK", [400] = "Bad Request", [404] = "Not Found", [405] = "Method Not Allowed" }

local function respond(peer, status, body, content_type, head_only)
  peer:write(fmt("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
    status, REASONS[status], content_type or "text/plain; charset=utf-8", #body, head_only and "" or body))
end

-- The answer to a request for `url` with `method`.
local function answer(method, url)
  local path = url:match("^[^?#]*")
  if path ~= "/metrics" then return 404, "not found\n" end
  if method ~= "GET" and method ~= "HEAD" then return 405, "method not allowed\n" end
  return 200, introspect.prometheus(), introspect.content_type
end

-- One client: read one request, answer it, close.
local function serve(peer)
  local method, url, complete
  local parser
  parser = io.http.request_parser {
    on_url = function(u) method, url = parser:method(), u end,
    on_message_complete = function() complete = true end,
  }
  local seen = 0
  while not complete do
    local data = peer:read()
    if not data then return peer:close() end
    seen = seen + #data
    local used = parser:execute(data)
    if seen > MAX_REQUEST or (used < #data and not complete) or parser:error() ~= 0 then
      respond(peer, 400, "bad request\n")
      return peer:close()
    end
  end
  local status, body, content_type = answer(method, url)
  respond(peer, status, body, content_type, method == "HEAD")
  peer:close()
end

function main(port, host)
  run_server("skynet.metrics", port, host, serve)
end
