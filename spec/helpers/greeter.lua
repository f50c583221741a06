-- Answers `tag` with greeting(), a global function a hot fix may replace.
function greeting() return "hello" end

function main(tag)
  rpc.create(tag, function() return greeting() end)
  while not os.stopped() do os.wait() end
end
