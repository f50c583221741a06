-- A soak service: serves calls and one-way messages, and echoes TCP.
-- main(n): registers soak.call / soak.msg (pool of n), and soak.port.
function main()
  local received = 0
  rpc.create("soak.call", function(x) return x, #tostring(x) end)
  rpc.create("soak.msg", function(data) received = received + #data end)
  rpc.create("soak.received", function() return received end)
  while not os.stopped() do os.wait() end
end
