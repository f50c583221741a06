-- Starts a child agent registering `child_tag`, answers on `tag`.
function main(tag, child_tag)
  local ok, job = os.pload("helpers.agent", child_tag)
  assert(ok, job)
  rpc.create(tag, function() return job:id(), job:state() end)
  while not os.stopped() do os.wait() end
end
