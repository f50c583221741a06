-- A TCP echo server: every connection gets back what it sends.
--   lua5.4 examples/tcp_echo_server.lua [port]     (default 8000; 0 = any free port)
require "skynet"

local srv = io.server("tcp")
assert(srv:listen("127.0.0.1", tonumber(arg[1]) or 8000, function(peer)
  -- one callback per connection; receive runs until the peer goes away
  peer:receive(function(data, err)
    if data then peer:send(data) else print("peer left: " .. err) end
  end)
end))
print("echo server on port " .. srv:endpoint().port .. " (Ctrl-C to stop)")
os.wait()
