-- WebSocket echo throughput, in one process: a ws server echoing with
-- receive/send and 20 client connections doing write-then-read round trips
-- (one coroutine each) for a few seconds.
--   lua5.4 bench/ws_echo.lua [seconds] [conns]
require "skynet"
local clock = os.steady_clock or os.clock
local seconds, conns = tonumber(arg[1]) or 5, tonumber(arg[2]) or 20

local srv = io.server("ws")
assert(srv:listen("127.0.0.1", 0, function(peer)
  peer:receive(function(data) if data then peer:send(data) end end)
end))
local port = srv:endpoint().port
local count, stop = 0, false
local msg = ("x"):rep(64)
for _ = 1, conns do
  os.post(function()
    local s = io.socket("ws")
    assert(s:connect("127.0.0.1", port))
    while not stop do
      s:write(msg)
      if s:read() then count = count + 1 end
    end
    s:close()
  end)
end
os.wait(300) -- warm-up
local c0, t0 = count, clock()
os.wait(seconds * 1000)
local n, dt = count - c0, clock() - t0
stop = true
print(("RESULT ws_echo %.0f msg/s"):format(n / dt))
os.wait(100)
srv:close()
