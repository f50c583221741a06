-- Node B of the cloudwu/skynet cluster bench: answers every call with its arguments.
local skynet = require "skynet"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, ...)
		skynet.ret(skynet.pack(...))
	end)
end)
