-- Answers the arguments main got, and its chunk argument and os.name().
local chunk_arg = ...
function main(tag, ...)
  local args = table.pack(...)
  rpc.create(tag, function()
    return args, chunk_arg, os.name(), os.id()
  end)
  while not os.stopped() do os.wait() end
end
