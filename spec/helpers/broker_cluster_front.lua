-- A cluster node running only the HTTP broker, for spec/broker_cluster_spec.lua:
--   skynet helpers.broker_cluster_front <master port>
-- Joins the cluster, starts http.broker on 127.0.0.1 (free port, printed by
-- the broker), then serves until stopped. It has no handlers of its own.

function main(master_port)
  local ok, err = os.pload("cluster.adapter", "127.0.0.1", master_port)
  if not ok then error(err, 0) end
  ok, err = os.pload("http.broker", 0, "127.0.0.1")
  if not ok then error(err, 0) end
  io.stdout:write("front ready\n")
  io.stdout:flush()
  while not os.stopped() do os.wait() end
end
