-- A service that ends as `mode` says: "exit" (main returns), "raise"
-- (main raises "boom"), "stop" (calls os.stop itself), "stay" (runs until
-- stopped from outside). `parent_of` starts a "stay" child first and
-- registers `tag` answering with its id.
function main(mode, tag)
  if mode == "exit" then os.wait(20) return end
  if mode == "raise" then os.wait(20) error("boom", 0) end
  if mode == "stop" then os.wait(20) os.stop() end
  if mode == "parent_of" then
    local ok, child = os.pload("helpers.monitored", "stay")
    assert(ok, child)
    rpc.create(tag, function() return child:id() end)
  end
  while not os.stopped() do os.wait() end
end
