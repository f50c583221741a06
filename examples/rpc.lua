-- rpc: calling a service synchronously and asynchronously.
-- Run from the repo root:
--   lua5.4 examples/rpc.lua
-- Services of this example live next to it (found through package.path).
package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
require "skynet"

assert(os.pload("rpc_calc"))	-- examples/rpc_calc.lua registers the "calc.*" names

-- Sync form: pcall(name, args...) blocks until the answer, returns status + results.
print("add       ", pcall("calc.add", 2, 3))	--> true  5
local ok, q, r, info = pcall("calc.divmod", 17, 5)
print("divmod    ", ok, q, r, "asked by service " .. info.caller)	--> true  3  2  ... 1
-- a handler error comes back as false, msg (the service also logs it on stderr)
print("divmod 0  ", pcall("calc.divmod", 1, 0))	--> false  ...division by zero
print("unknown   ", pcall("calc.nope"))	--> false  calc.nope not found

-- Async form: pcall(name, callback, args...) returns at once; the callback runs
-- later on this service (while we are in os.wait or another blocking call).
-- The slow handler answers after ms, so the answers come back out of order.
local pending = 0
for _, job in ipairs { { 3, 300 }, { 4, 100 }, { 5, 200 } } do
	local x, ms = job[1], job[2]
	pending = pending + 1
	pcall("calc.slow_square", function(ok, sq)
		print(("async     %s  %d^2 = %s (after %d ms)"):format(ok, x, sq, ms))
		pending = pending - 1
	end, x, ms)
end
print("3 async calls sent, waiting...")
while pending > 0 and not os.stopped() do os.wait(10) end
print("done")
