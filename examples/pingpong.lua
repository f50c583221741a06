-- pingpong: two services bounce a ball back and forth with rpc.deliver.
-- Run from the repo root:
--   lua5.4 examples/pingpong.lua
-- Services of this example live next to it (found through package.path).
package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
require "skynet"

local ROUNDS = 6

-- The main script is a service too: it gets told when the game is over.
local over = false
rpc.create("game.over", function(hits)
	print(("game over after %d hits"):format(hits))
	over = true
end)

-- Start the two players (examples/pingpong_player.lua); os.pload returns
-- true, job once each one is ready to play (false, msg if it cannot start).
assert(os.pload("pingpong_player", "ping", "pong", ROUNDS))
assert(os.pload("pingpong_player", "pong", "ping", ROUNDS))

rpc.deliver("player.ping", 0, 0, 1)	-- serve: hit number 1 goes to "ping"

-- Handle our own events until the game is over (or we are stopped, e.g. by
-- Ctrl-C); then the script ends and the runtime stops the players.
while not over and not os.stopped() do os.wait(10) end
