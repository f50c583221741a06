-- Keeps sending itself one-way messages (a busy service for `top msgs`).
function main(tag)
  local count = 0
  rpc.create(tag, function() count = count + 1 end)
  rpc.create(tag .. ".count", function() return count end)
  while not os.stopped() do
    for _ = 1, 50 do rpc.deliver(tag, 0, os.id()) end
    os.wait(2)
  end
end
