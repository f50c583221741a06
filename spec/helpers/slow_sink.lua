-- A service slower than its senders: each message costs it some CPU.
-- main(name, us): serves `name` (one-way messages counted, sizes summed),
-- `<name>.count` (how many arrived, total bytes) and `<name>.call`.
function main(name, us)
  local count, bytes = 0, 0
  local clock = os.steady_clock
  rpc.create(name, function(data)
    count, bytes = count + 1, bytes + #data
    local t = clock("us") + us
    while clock("us") < t do end
  end)
  rpc.create(name .. ".count", function() return count, bytes end)
  rpc.create(name .. ".call", function(x) return x end)
  while not os.stopped() do os.wait() end
end
