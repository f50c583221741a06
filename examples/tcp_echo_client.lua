-- A TCP echo client: sends a few lines to the echo server and prints the answers.
--   lua5.4 examples/tcp_echo_client.lua [port]     (default 8000)
require "skynet"

local s = io.socket("tcp")
local ok, err = s:connect("127.0.0.1", tonumber(arg[1]) or 8000)
if not ok then error("connect failed: " .. err) end
for i = 1, 3 do
  local line = "line " .. i .. "\n"
  s:write(line)
  local got = ""
  while #got < #line do got = got .. assert(s:read()) end
  io.write("echo: ", got)
end
s:close()
