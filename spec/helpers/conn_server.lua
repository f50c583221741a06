function main(N)
  local srv = io.server("tcp")
  local peers, n = {}, 0
  assert(srv:listen("127.0.0.1", 0, function(peer)
    n = n + 1
    peers[#peers + 1] = peer
    peer:read()
  end))
  rpc.create("cs.port", function() return srv:endpoint().port end)
  rpc.create("cs.count", function() return n end)
  rpc.create("cs.close", function()
    for _, p in ipairs(peers) do p:close() end
    peers = {}
    collectgarbage() collectgarbage()
    return true
  end)
  while not os.stopped() do os.wait() end
end
