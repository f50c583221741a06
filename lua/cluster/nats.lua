-- cluster.nats: joins this process to a cluster whose nodes meet through a
-- NATS server (docs/cluster.md, "Cluster over NATS").
--
--   local ok, job = os.pload("cluster.nats", "nats://127.0.0.1:4222", { token = "..." })
--   ...
--   job:close()                                  -- leave
--
-- Everything happens in Rust tasks of this service (src/cluster/nats/):
-- the connection, one subscription per public name, requests and replies,
-- heartbeats. This service only starts them, then lives as long as the node.

local cluster = require "skynet.cluster"

function main(url, options)
	if type(url) ~= "string" then error("cluster.nats: url expected (nats://host:port)", 0) end
	if options ~= nil and type(options) ~= "table" then error("cluster.nats: options must be a table", 0) end
	local ok, err = cluster.nats(url, options)
	if not ok then error("cluster.nats: " .. tostring(err), 0) end
	while not os.stopped() do os.wait() end
end
