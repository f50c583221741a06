-- The process measured by bench/broker.sh: http.broker on 127.0.0.1 plus
-- two trivial handlers, so the figure is the broker's own cost (HTTP parse,
-- rpc round trip, response, connection setup and close).
--   skynet broker_app <port>   (LUA_PATH must include bench/)

function main(port)
  assert(os.pload("http.broker", port, "127.0.0.1"))
  rpc.create("bench:hello", function(query) return "hello " .. (query.name or "world") end)
  rpc.create("bench:json", function(query) return { name = query.name, list = { 1, 2, 3 } } end)
  io.stdout:write("handlers ready\n")
  io.stdout:flush()
  while not os.stopped() do os.wait() end
end
