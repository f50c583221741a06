-- Busy for `ms` before its first os.wait; registers `tag` just before it.
function main(tag, ms)
  local t0 = os.steady_clock("ms")
  while os.steady_clock("ms") - t0 < ms do end
  rpc.create(tag, function() return "ready" end)
  while not os.stopped() do os.wait() end
end
