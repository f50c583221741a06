-- Cluster rpc between two processes on loopback, next to the same workload
-- within one process (calls/s):
--   roundtrip: sequential sync pcall("bench.echo", i), reply checked
--   concurrent: the same with 64 async calls in flight
--   oneway: rpc.deliver("bench.sink", ...) N times, timed until all were handled
-- Across processes three times: without a key (loopback, protected mode),
-- with a cluster key (the handshake costs only at link set-up), and with the
-- key over mutual TLS (certificates made with openssl into a temp dir; that
-- run is this script again, as a child with SKYNET_CLUSTER_CA/CERT/CERTKEY).
-- Besides, through a NATS server (`nats-server` on PATH; skipped without it).
-- Run from the repo root (starts a master, node processes and nats-server, stops them):
--   LUA_CPATH="build/lib/?.so;;" lua5.4 bench/cluster.lua
local here = (arg and arg[0] or ""):match("^(.*)[/\\]") or "."
package.path = here .. "/?.lua;" .. here .. "/../lua/?.lua;" .. package.path
package.cpath = package.cpath .. ";" .. here .. "/../build/lib/?.so"
require "skynet"
local B = require "bench_util"

local N_RT, N_CONC, N_ONEWAY, IN_FLIGHT = 20000, 50000, 200000, 64

local function roundtrip(n)
	for i = 1, n do
		local ok, v = pcall("bench.echo", i)
		if not ok or v ~= i then error("bad answer: " .. tostring(v)) end
	end
end

local function concurrent(n)
	local sent, done = 0, 0
	local function one(ok, v)
		if not ok then error(v) end
		done = done + 1
		if sent < n then
			sent = sent + 1
			pcall("bench.echo", one, sent)
		end
	end
	for _ = 1, IN_FLIGHT do
		sent = sent + 1
		pcall("bench.echo", one, sent)
	end
	while done < n do os.wait(1) end
end

local function oneway(n)
	local _, before = pcall("bench.count")
	for i = 1, n do rpc.deliver("bench.sink", 0, 0, i) end
	while select(2, pcall("bench.count")) < before + n do os.wait(1) end
end

local function measure(where)
	roundtrip(1000)	-- warm-up
	for _, w in ipairs {
		{ "roundtrip", roundtrip, N_RT },
		{ "concurrent", concurrent, N_CONC },
		{ "oneway", oneway, N_ONEWAY },
	} do
		local t0 = B.now()
		w[2](w[3])
		B.result(("cluster_%s_%s"):format(w[1], where), w[3] / (B.now() - t0), "calls/s")
	end
end

local TLS = os.getenv("SKYNET_CLUSTER_CA") ~= nil
local KEY = "bench key: 32 bytes of a secret!"

-- 1. within one process
if not TLS then
	local ok, job = os.pload("cluster_echo")
	assert(ok, job)
	measure("local")
	job:close()
end

-- 2. across two processes: a master, a node hosting the names, and us
local launcher = os.getenv("SKYNET_LAUNCHER") or (here .. "/../bin/skynet")
local function free_port()
	local s = io.server("tcp")
	assert(s:listen("127.0.0.1", 0, function() end))
	local port = s:endpoint().port
	s:close()
	return port
end
local port = free_port()
local tmp = os.tmpname()
local pids = {}
-- `env`: variables for the child; `program` is lua5.4 running the launcher unless given.
local function start(args, log, env, program)
	-- A log of an earlier run must not be read as this one's: the child
	-- truncates it only once it starts, after `wait_line` may have looked.
	os.remove(log)
	-- the children find what we found (module, Lua files)
	os.execute(("(env -u SKYNET_CLUSTER_KEY %s LUA_PATH='%s' LUA_CPATH='%s' timeout 300 %s %s) >%s 2>&1 & echo $! >%s.pid")
		:format(env or "", package.path, package.cpath, program or ("lua5.4 " .. launcher), args, log, log))
	local f = assert(io.open(log .. ".pid"))
	pids[#pids + 1] = f:read("n")
	f:close()
	os.remove(log .. ".pid")
end
local function wait_line(log, pattern)
	for _ = 1, 500 do
		local f = io.open(log)
		local text = f and f:read("a") or ""
		if f then f:close() end
		if text:find(pattern) then return true end
		os.wait(20)
	end
	error("no '" .. pattern .. "' in " .. log)
end
local function stop_all()
	for _, pid in ipairs(pids) do os.execute(("pkill -P %d; kill %d 2>/dev/null"):format(pid, pid)) end
	pids = {}
end
-- `key`: the cluster key of every process, or nil.
local function remote(where, key)
	local env = key and ("SKYNET_CLUSTER_KEY='%s'"):format(key) or ""
	port = free_port() -- the master of an earlier run may still hold the last one
	start(("cluster.master %d 127.0.0.1"):format(port), tmp .. ".master", env)
	wait_line(tmp .. ".master", "works on port")
	start(("cluster_echo %d"):format(port), tmp .. ".node", env)
	wait_line(tmp .. ".node", "ready")
	local joined, adapter = os.pload("cluster.adapter", "127.0.0.1", port, key)
	assert(joined, adapter)
	B.info("threads %s, loopback, one node process + this one, %s", os.getenv("SKYNET_THREADS") or "default", where)
	local run_ok, err = pcall(measure, where)
	adapter:close()
	stop_all()
	assert(run_ok, err)
end
local function through_nats()
	if not os.execute("command -v nats-server >/dev/null") then
		B.info("nats-server not found: NATS figures skipped")
		return
	end
	local nats_port = free_port()
	start(("-a 127.0.0.1 -p %d"):format(nats_port), tmp .. ".nats", nil, "nats-server")
	local url = ("nats://127.0.0.1:%d"):format(nats_port)
	start("cluster_echo " .. url, tmp .. ".natsnode")
	wait_line(tmp .. ".natsnode", "ready")
	local joined, node = os.pload("cluster.nats", url)
	assert(joined, node)
	B.info("through nats-server on loopback: one node process + this one")
	local run_ok, err = pcall(measure, "nats")
	node:close()
	stop_all()
	assert(run_ok, err)
end
local modes = TLS and { { "remote_tls", KEY } } or { { "remote", nil }, { "remote_key", KEY } }
local run_ok, err = true, nil
for _, m in ipairs(modes) do
	run_ok, err = pcall(remote, m[1], m[2])
	if not run_ok then break end
end
if run_ok and not TLS then run_ok, err = pcall(through_nats) end
stop_all()
for _, f in ipairs { ".master", ".node", ".nats", ".natsnode", "" } do os.remove(tmp .. f) end
if not run_ok then error(err, 0) end

-- 3. with the key over mutual TLS: this script again, with certificates
if not TLS then
	local dir = os.tmpname()
	os.remove(dir)
	os.execute("mkdir -p " .. dir)
	local ext = assert(io.open(dir .. "/ext.cnf", "w"))
	ext:write("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
	ext:close()
	for _, c in ipairs {
		'openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=bench CA" '
			.. '-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"',
		'openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj "/CN=node"',
		"openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 1 -extfile ext.cnf",
	} do
		assert(os.execute("cd " .. dir .. " && " .. c .. " >/dev/null 2>&1"), c)
	end
	local child = ("SKYNET_CLUSTER_CA=%s/ca.pem SKYNET_CLUSTER_CERT=%s/node.pem SKYNET_CLUSTER_CERTKEY=%s/node.key "
		.. "LUA_PATH='%s' LUA_CPATH='%s' lua5.4 %s"):format(dir, dir, dir, package.path, package.cpath, arg[0])
	local ok = os.execute(child)
	os.execute("rm -rf " .. dir)
	assert(ok, "the TLS run failed")
end
