-- pool_worker: one worker of examples/pool.lua, started as os.pload("pool_worker", k).
-- All workers register the SAME names, so each name is a group of N handlers.

function main(k)
	-- "pool.work": a normal rpc; pcall picks one handler of the group, rotating.
	rpc.create("pool.work", function(x)
		return k, x * x
	end)

	-- "pool.config": sent to every worker at once (broadcast); we acknowledge
	-- to the main script so it can print the acks in order.
	rpc.create("pool.config", function(cfg)
		rpc.deliver("pool.ack", 0, 0, k, cfg.level)
	end)

	-- "pool.session": sharded by user id; the same id always lands here.
	rpc.create("pool.session", function(uid)
		rpc.deliver("pool.sharded", 0, 0, k, uid)
	end)

	while not os.stopped() do os.wait() end
end
