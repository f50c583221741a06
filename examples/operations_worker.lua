-- A busy service for examples/operations.lua: answers "work" calls and
-- keeps `load` kilobytes of garbage-prone data around.
function main(load)
  local kept = {}
  rpc.create("work", function(n)
    kept[#kept % 100 + 1] = string.rep("x", load * 10)
    local sum = 0
    for i = 1, n do sum = sum + i end
    return sum
  end)
  while not os.stopped() do os.wait() end
end
