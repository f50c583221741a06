-- pingpong_player: one player of examples/pingpong.lua.
-- Started with os.pload("pingpong_player", me, other, rounds).

function main(me, other, rounds)
	-- Each player is reachable under its own rpc name, e.g. "player.ping".
	rpc.create("player." .. me, function(hit)
		print(("%-4s <- ball (hit %d, service %d)"):format(me, hit, os.id()))
		if hit == rounds then
			rpc.deliver("game.over", 0, 0, hit)	-- tell the main script
		else
			rpc.deliver("player." .. other, 0, 0, hit + 1)	-- hit it back
		end
	end)
	-- A service lives as long as its main runs: wait for events until stopped.
	while not os.stopped() do os.wait() end
end
