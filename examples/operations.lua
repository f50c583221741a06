-- Operating a running node: a few busy services, the console and the
-- Prometheus metrics turned on, and a monitor that hears each service end.
--
--   lua5.4 examples/operations.lua            runs for 5 s, then stops by itself
--   lua5.4 examples/operations.lua wait       runs until Ctrl-C
--
-- While it runs:  nc 127.0.0.1 7001   (then: list, top msgs, mem, help, ...)
--                 curl -s 127.0.0.1:9100/metrics
-- See docs/operations.md.
package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
require "skynet"

local forever = arg[1] == "wait"
assert(os.pload("skynet.console", 7001))
assert(os.pload("skynet.metrics", 9100))

local workers = {}
for i = 1, 3 do
  local ok, job = os.pload("operations_worker", i)
  assert(ok, job)
  workers[i] = job
  os.monitor(job:id(), function(id, how, msg)
    print(("service %d ended: %s%s"):format(id, how, msg and (" (" .. msg .. ")") or ""))
  end)
end

-- Keep the workers busy: a stream of calls, some async.
local calls, started = 0, os.steady_clock()
local load = os.timer()
load:expires(10, function()
  for _ = 1, 20 do
    pcall("work", function() calls = calls + 1 end, 1000)
  end
  return true
end)

while not os.stopped() and (forever or os.steady_clock() - started < 5) do
  os.wait(1000)
  print(("%d calls answered so far"):format(calls))
end
load:cancel()
for _, job in ipairs(workers) do job:close() end
os.wait(100)   -- the monitors' callbacks run
