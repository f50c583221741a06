-- A WebSocket chat server: every message is sent to everyone connected.
--   lua5.4 examples/ws_chat.lua [port]    (default 8080), then open
--   examples/ws_chat.html in a browser (it connects to ws://localhost:8080/).
require "skynet"

local peers = {}
local srv = io.server("ws")
assert(srv:listen("127.0.0.1", tonumber(arg[1]) or 8080, function(peer)
  local name = (peer:getheader("sec-websocket-key") or "?"):sub(1, 6)
  peers[peer] = true
  local function broadcast(text)
    for p in pairs(peers) do p:send(text) end
  end
  broadcast("* " .. name .. " joined")
  peer:receive(function(msg)
    if msg then
      broadcast(name .. ": " .. msg)
    else
      peers[peer] = nil
      broadcast("* " .. name .. " left")
    end
  end)
end))
print("chat on ws://localhost:" .. srv:endpoint().port .. "/ (open examples/ws_chat.html)")
os.wait()
