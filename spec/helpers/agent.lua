-- A service that runs code sent to it: pcall(tag, src, ...) runs load(src)(...)
-- inside this service and answers its results. Optional startup code.
function main(tag, code, ...)
  rpc.create(tag, function(src, ...)
    return assert(load(src, "=agent"))(...)
  end)
  if code then assert(load(code, "=agent_init"))(...) end
  while not os.stopped() do os.wait() end
end
