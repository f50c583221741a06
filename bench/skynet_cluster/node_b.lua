-- Start service of node B (the serving process) of the cloudwu/skynet cluster
-- bench: publishes "echo" and "sink" to the cluster, listens on the address
-- the clustername file gives "bench_b", then says READY for bench/cluster.sh.
local skynet = require "skynet"
local cluster = require "skynet.cluster"

skynet.start(function()
	cluster.register("echo", skynet.newservice("echo"))
	cluster.register("sink", skynet.newservice("sink"))
	cluster.open("bench_b")
	print("READY")
end)
