-- An attacker without the cluster key, for spec/cluster_trust_spec.lua, run
-- as its own process:
--   lua5.4 bin/skynet helpers.cluster_attacker <master port> <link ip> <link port> <replay dir>
-- Tries the master and one node's link port with the old headers alone,
-- with garbage for an answer to the challenge, and with the bytes another
-- (keyed) connection sent (<replay dir>/master.bin, link.bin). For each try
-- prints "attack <name> learned: <what>..." (the `what` of every message
-- it got before the peer closed), then "attacks done".

local function read_file(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

--- Connects with `headers`, sends `sends`, reads until the peer closes.
local function attempt(host, port, headers, sends)
	local s = io.socket("ws")
	for k, v in pairs(headers) do s:setheader(k, v) end
	local ok, err = s:connect(host, port)
	if not ok then return { "connect failed: " .. tostring(err) } end
	for _, data in ipairs(sends) do s:send(data) end
	local seen = {}
	while #seen < 100 do
		local data = s:read()
		if not data then break end
		local decoded, msg = pcall(unwrap, data)
		seen[#seen + 1] = decoded and type(msg) == "table" and tostring(msg.what) or "?"
	end
	s:close()
	return seen
end

function main(master_port, link_ip, link_port, replay)
	local member = { ["xforword-port"] = 9, ["xforword-host"] = "127.0.0.9" }
	local join = { ["xforword-join"] = "skynet-lua" }
	local node = {
		wrap { what = "bind", name = "all.echo", caller = 1 },
		wrap { what = "ready", node = 77, addr = "127.0.0.9:9" },
		wrap { what = "deliver", name = "all.echo", argv = "", who = 1, caller = 1, rcf = 1, sn = 1 },
	}
	local attacks = {
		{ "master-old-headers", "127.0.0.1", master_port, member, {} },
		{ "master-garbage", "127.0.0.1", master_port, member, { "garbage", wrap { what = "proof", nonce = "x", proof = "y" } } },
		{ "master-replay", "127.0.0.1", master_port, member, { read_file(replay .. "/master.bin") } },
		{ "link-old-headers", link_ip, link_port, join, node },
		{ "link-garbage", link_ip, link_port, join, { wrap { what = "proof", nonce = ("0"):rep(64), proof = ("1"):rep(64) } } },
		{ "link-replay", link_ip, link_port, join, { read_file(replay .. "/link.bin"), table.unpack(node) } },
	}
	for _, a in ipairs(attacks) do
		local seen = attempt(a[2], math.tointeger(tonumber(a[3])), a[4], a[5])
		io.stdout:write(("attack %s learned: %s\n"):format(a[1], table.concat(seen, " ")))
		io.stdout:flush()
	end
	io.stdout:write("attacks done\n")
	io.stdout:flush()
end
