-- http.broker in front of a service: HTTP requests become rpc calls.
-- Run from the repo root:
--   lua5.4 examples/broker.lua
-- It starts the shop service (examples/broker_shop.lua) and the broker, makes
-- a few requests with io.socket, prints the answers and ends. The same
-- requests with curl are printed too (try them with `lua5.4 examples/broker.lua wait`,
-- which keeps serving until Ctrl-C).
-- The shop service lives next to this file; http.broker comes from the
-- installed rock, or from this checkout's lua/ when run from the repo.
local here = arg[0]:match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. here .. "/../lua/?.lua;" .. package.path
require "skynet"

-- A free port: listen on port 0, note the port, let it go.
local probe = io.server("tcp")
assert(probe:listen("127.0.0.1", 0, function(peer) peer:close() end))
local port = probe:endpoint().port
probe:close()

assert(os.pload("broker_shop"))
assert(os.pload("http.broker", port, "127.0.0.1")) -- prints "http.broker works on port ..."

-- One request per connection: the broker answers and closes, so read to EOF.
local function request(method, target, body)
  local s = io.socket("tcp")
  assert(s:connect("127.0.0.1", port))
  body = body or ""
  s:write(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s"):format(method, target, #body, body))
  local reply = {}
  for chunk in function() return s:read() end do reply[#reply + 1] = chunk end
  s:close()
  local text = table.concat(reply)
  return text:match("^HTTP/1.1 (%d+)"), text:match("\r\n\r\n(.*)$")
end

for _, r in ipairs {
  { "GET", "/" },                                  --> 200 skynet-lua/<version>
  { "GET", "/shop/price?item=apple" },             --> 200 3
  { "POST", "/shop/order?item=pear&n=2", "gift wrap, please" }, --> 200 {"id":1,"total":8,...}
  { "GET", "/shop/price?item=kiwi" },              --> 500 no such item: kiwi
  { "GET", "/shop/refund" },                       --> 404 shop:refund not found
  { "DELETE", "/shop/order" },                     --> 405
} do
  local status, body = request(r[1], r[2], r[3])
  print(("%-6s %-28s -> %s %s"):format(r[1], r[2], status, body))
end

print(("\nwith curl: curl 'http://127.0.0.1:%d/shop/price?item=plum'"):format(port))
print(("           curl -d 'note' 'http://127.0.0.1:%d/shop/order?item=plum&n=3'"):format(port))
if arg[1] == "wait" then
  while not os.stopped() do os.wait() end
end
