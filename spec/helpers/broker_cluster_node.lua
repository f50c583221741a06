-- A cluster node with the handlers for spec/broker_cluster_spec.lua:
--   skynet helpers.broker_cluster_node <master port>
-- Joins the cluster at 127.0.0.1:<master port>, publishes its handlers
-- (public rpc names) and one private name, then serves until stopped.

local handlers = {
  -- answers with the caller id, so the spec sees the call came from another node
  ["remote:echo"] = function(query, body)
    return string.format("caller>0xFFFF=%s q=%s|%s", tostring(rpc.caller() > 0xFFFF), tostring(query.q), body)
  end,
  ["remote:table"] = function(query) return { from = "node", q = query.q, list = { 1, 2 } } end,
  ["remote:fail"] = function() error("remote handler failed", 0) end,
  ["remote:big"] = function() return string.rep("0123456789", 3000) end,
}

function main(master_port)
  local ok, err = os.pload("cluster.adapter", "127.0.0.1", master_port)
  if not ok then error(err, 0) end
  for name, f in pairs(handlers) do assert(rpc.create(name, f, true)) end
  -- not public: the broker on the other node must not reach it
  assert(rpc.create("remote:private", function() return "private" end))
  io.stdout:write("node ready\n")
  io.stdout:flush()
  while not os.stopped() do os.wait() end
end
