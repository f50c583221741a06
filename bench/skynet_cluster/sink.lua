-- Node B of the cloudwu/skynet cluster bench: counts one-way messages
-- (cluster.send, session 0); a call (cluster.call) is answered with the count
-- so far, which tells the caller when all its messages were handled.
local skynet = require "skynet"

local count = 0

skynet.start(function()
	skynet.dispatch("lua", function(session)
		if session == 0 then
			count = count + 1
		else
			skynet.ret(skynet.pack(count))
		end
	end)
end)
