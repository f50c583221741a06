-- pool: a pool of N worker services sharing rpc names.
--   * round-robin: pcall(name, ...) rotates over the handlers of name
--   * broadcast:   rpc.deliver(name, 0, 0, ...) reaches every handler
--   * shard:       rpc.deliver(name, mask, 0, ...) with mask ~= 0 reaches
--                  handler number (mask % N) + 1 (in service id order)
-- Run from the repo root:
--   lua5.4 examples/pool.lua
-- Services of this example live next to it (found through package.path).
package.path = (arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
require "skynet"

local N = 4
for k = 1, N do assert(os.pload("pool_worker", k)) end

-- Round-robin: 8 calls, each worker answers twice.
print("round-robin:")
for x = 1, 8 do
	local ok, k, sq = pcall("pool.work", x)
	print(("  %d^2 = %2d  (worker %d)"):format(x, sq, k))
end

-- Broadcast: one message to every worker; deliver returns how many got it.
local acks = {}
rpc.create("pool.ack", function(k, level) acks[#acks + 1] = ("worker %d set level=%s"):format(k, level) end)
local n = rpc.deliver("pool.config", 0, 0, { level = "debug" })
print(("broadcast to %d workers:"):format(n))
while #acks < n and not os.stopped() do os.wait(10) end
table.sort(acks)
for _, a in ipairs(acks) do print("  " .. a) end

-- Shard: the user id is the mask (it must not be 0: mask 0 means broadcast).
local owner, got = {}, 0
rpc.create("pool.sharded", function(k, uid)
	got = got + 1
	if owner[uid] and owner[uid] ~= k then error("shard moved!") end
	owner[uid] = k
end)
local uids = { 101, 202, 303, 404, 101, 202, 505, 101 }
for _, uid in ipairs(uids) do rpc.deliver("pool.session", uid, 0, uid) end
while got < #uids and not os.stopped() do os.wait(10) end
print("shard by user id:")
local seen = {}
for _, uid in ipairs(uids) do
	if not seen[uid] then
		seen[uid] = true
		print(("  user %d -> worker %d  (%d %% %d + 1 = %d)"):format(uid, owner[uid], uid, N, uid % N + 1))
	end
end
