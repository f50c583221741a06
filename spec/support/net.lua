-- Helpers for the networking specs: background processes
-- (python peers, openssl s_client) that are always stopped, and test
-- certificates made by the openssl CLI (CA:FALSE, SAN 127.0.0.1/localhost:
-- rustls refuses a CA certificate as a server's end-entity certificate).
local M = {}

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

-- Our own TCP echo server on a free port; returns the server and its port.
function M.echo_server()
  local srv = io.server("tcp")
  assert(srv:listen("127.0.0.1", 0, function(peer, err)
    assert(err == nil)
    peer:receive(function(data) if data then peer:send(data) end end)
  end))
  return srv, srv:endpoint().port
end

--- A server of `kind` on 127.0.0.1, a socket of that kind connected to it,
-- and the accepted peer, which does nothing yet: srv, socket, peer.
function M.connected_pair(kind)
  local srv, peer = io.server(kind), nil
  assert(srv:listen("127.0.0.1", 0, function(p) peer = p end))
  local s = io.socket(kind)
  assert(s:connect("127.0.0.1", srv:endpoint().port) == true)
  assert(require("support.helpers").wait_until(function() return peer end, 10000), "no peer accepted")
  return srv, s, peer
end

--- A TCP port of 127.0.0.1 that was free a moment ago (bound, then released at once).
function M.free_port()
  local srv = io.server("tcp")
  assert(srv:listen("127.0.0.1", 0, function() end))
  local port = srv:endpoint().port
  srv:close()
  return port
end

local started = {}

-- Starts `cmd` in the background (killed after `limit` s anyway); returns its pid.
function M.spawn(cmd, limit)
  local pidfile = os.tmpname()
  os.execute(string.format("(timeout %d %s) >/dev/null 2>&1 & echo $! > %s", limit or 30, cmd, pidfile))
  local pid = tonumber((M.read_file(pidfile) or ""):match("%d+"))
  os.remove(pidfile)
  started[#started + 1] = pid
  return pid
end

-- Stops every process started by spawn (their `timeout` wrapper and children).
function M.stop_all()
  for _, pid in ipairs(started) do
    os.execute(string.format("pkill -P %d 2>/dev/null; kill %d 2>/dev/null", pid, pid))
  end
  started = {}
end

-- A python3 script in a temp file; returns its path.
function M.python_script(source)
  local path = os.tmpname() .. ".py"
  M.write_file(path, source)
  return path
end

-- A fresh directory with cert.pem/key.pem (RSA, self-signed, CA:FALSE),
-- enc.pem (the key as encrypted PKCS#8, password "secret"), rsa1.pem
-- (PKCS#1), and ec_cert.pem/ec_key.pem (P-256, SEC1 key).
function M.certificates()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local subj = '-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" '
    .. '-addext "basicConstraints=critical,CA:FALSE"'
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 " .. subj,
    "openssl pkcs8 -topk8 -in key.pem -out enc.pem -passout pass:secret -v2 aes-256-cbc",
    "openssl rsa -in key.pem -traditional -out rsa1.pem",
    "openssl ecparam -name prime256v1 -genkey -noout -out ec_key.pem",
    "openssl req -x509 -key ec_key.pem -out ec_cert.pem -days 2 " .. subj,
  }
  for _, c in ipairs(cmds) do
    assert(os.execute("cd " .. dir .. " && " .. c .. " >/dev/null 2>&1"), c)
  end
  return dir
end

-- A fresh directory with a test CA (ca.pem, ca.key), a server certificate
-- it signed (server.pem, server.key: CA:FALSE, SAN 127.0.0.1/localhost) and
-- an unrelated CA (other_ca.pem), for clients that trust roots, not peers.
function M.ca_certificates()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  M.write_file(dir .. "/server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    .. "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
  local ca = '-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"'
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=skynet test root' " .. ca,
    "openssl req -x509 -newkey rsa:2048 -nodes -keyout other_ca.key -out other_ca.pem -days 2 -subj '/CN=other root' " .. ca,
    "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext",
  }
  for _, c in ipairs(cmds) do
    assert(os.execute("cd " .. dir .. " && " .. c .. " >/dev/null 2>&1"), c)
  end
  return dir
end

return M
