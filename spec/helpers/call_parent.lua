-- Calls the parent's handler `pname` from main before its first os.wait.
function main(pname, tag)
  local ok, v = pcall(pname, "from child")
  rpc.create(tag, function() return ok, v end)
  while not os.stopped() do os.wait() end
end
