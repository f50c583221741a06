-- A service that talks to a ws server once, then ends at once: with
-- `explicit`, right after close(); without, its end closes the socket.
-- Either way the close frame must reach the server.
function main(port, explicit)
  local s = io.socket("ws")
  assert(s:connect("127.0.0.1", port))
  assert(s:write("x"))
  assert(s:read() == "x")
  if explicit then s:close() end
end
