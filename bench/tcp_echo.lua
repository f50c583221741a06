-- TCP echo server for bench/tcp_echo.sh: one receive callback per connection.
--   lua5.4 bench/tcp_echo.lua [port]   prints "READY tcp_echo <port>", serves until killed.
require "skynet"

local srv = io.server("tcp")
assert(srv:listen("127.0.0.1", tonumber(arg[1]) or 0, function(peer)
  peer:receive(function(data) if data then peer:send(data) end end)
end))
print("READY tcp_echo " .. srv:endpoint().port)
io.stdout:flush()
os.wait()
