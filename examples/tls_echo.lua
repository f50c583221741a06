-- A TLS echo server and client in one script. It makes its own test
-- certificate with the openssl CLI (CA:FALSE, SAN localhost/127.0.0.1),
-- serves on a free port, talks to itself with verification on, then ends.
--   lua5.4 examples/tls_echo.lua
require "skynet"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
assert(os.execute(("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
  .. '-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" '
  .. '-addext "basicConstraints=critical,CA:FALSE" >/dev/null 2>&1'):format(dir)), "openssl failed")

local server_ctx = io.context()
assert(server_ctx:certificate(dir .. "/cert.pem"))
assert(server_ctx:key(dir .. "/key.pem"))

local srv = io.server("ssl", server_ctx)
assert(srv:listen("127.0.0.1", 0, function(peer)
  peer:receive(function(data) if data then peer:send(data) end end)
end))
local port = srv:endpoint().port
print("TLS echo server on port " .. port)

local client_ctx = io.context()
assert(client_ctx:certificate(dir .. "/cert.pem")) -- client side: a trusted root
client_ctx:verify(true)
local s = io.socket("ssl", client_ctx)
assert(s:connect("localhost", port))
for _, msg in ipairs { "hello", "over", "TLS" } do
  s:write(msg)
  print("echo: " .. assert(s:read()))
end
s:close()
srv:close()
os.execute("rm -rf " .. dir)
