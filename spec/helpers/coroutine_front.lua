-- An HTTP front in the shape of the original broker: every request is served
-- in a coroutine of its own made with coroutine.create, which calls
-- pcall(name, ...) and writes the answer. main(port_file) writes the port.
local function serve(peer)
  local head = ""
  while not head:find("\r\n\r\n", 1, true) do
    local data = peer:read()
    if not data then return peer:close() end
    head = head .. data
  end
  local path = head:match("^GET (%S+)") or "/"
  local ok, answer = pcall("front.answer", path:sub(2))
  local body = (ok and "ok " or "failed ") .. tostring(answer)
  peer:write(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"):format(#body, body))
  peer:close()
end

function main(port_file)
  rpc.create("front.answer", function(what)
    os.wait(5) -- the answer takes a while: the request's coroutine really waits
    return what:upper()
  end)
  local srv = io.server("tcp")
  assert(srv:listen("127.0.0.1", 0, function(peer)
    local co = coroutine.create(serve)
    local ok, err = coroutine.resume(co, peer)
    assert(ok, err)
  end))
  local f = assert(io.open(port_file, "w"))
  f:write(srv:endpoint().port)
  f:close()
  while not os.stopped() do os.wait() end
end
