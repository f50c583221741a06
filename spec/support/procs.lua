-- Helpers for specs that run skynet programs as real processes and talk to
-- them with curl / python3: start in the background (bounded by `timeout`),
-- wait for a line in their output, stop every one of them at the end.
local M = {}

local root = os.getenv("PWD") or "."
-- This checkout's module and Lua files, whatever the caller's environment.
local ENV = string.format("env LUA_CPATH='%s/build/lib/?.so;;' LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/?.lua;%s/examples/?.lua;;'",
  root, root, root, root, root)
M.root = root

-- File helpers and test certificates are the networking specs' (support/net.lua),
-- shell helpers the common ones (support/helpers.lua).
local net = require "support.net"
local H = require "support.helpers"
M.read_file, M.write_file, M.certificates = net.read_file, net.write_file, net.certificates
M.sh, M.quote = H.sh, H.q

local started = {}

--- Starts `lua5.4 bin/skynet <args>` in the background (killed after
--- `limit` s anyway); stdout and stderr go to a temp file. Returns a process
--- record {pid, log}.
function M.skynet(args, limit)
  local log, pidfile = os.tmpname(), os.tmpname()
  os.execute(string.format("cd %s && %s timeout %d lua5.4 bin/skynet %s >%s 2>&1 & echo $! >%s",
    M.quote(root), ENV, limit or 120, args, log, pidfile))
  local pid = tonumber((M.read_file(pidfile) or ""):match("%d+"))
  os.remove(pidfile)
  local proc = { pid = pid, log = log }
  started[#started + 1] = proc
  return proc
end

--- Runs `lua5.4 bin/skynet <args>` to its end (20 s at most); returns its
--- output (stdout and stderr) and exit status.
function M.run_skynet(args)
  return M.sh(string.format("cd %s && %s timeout 20 lua5.4 bin/skynet %s 2>&1", M.quote(root), ENV, args))
end

--- Waits (up to ~15 s) until the process's output matches `pattern`;
--- returns the first capture (or the match), or fails with the output.
function M.wait_output(proc, pattern)
  local found
  if H.wait_until(function()
    found = (M.read_file(proc.log) or ""):match(pattern)
    return found
  end, 15000) then
    return found
  end
  error("no '" .. pattern .. "' in the output of process " .. tostring(proc.pid) .. ":\n"
    .. (M.read_file(proc.log) or ""), 2)
end

--- Stops one process: the signal goes to the program under `timeout` first
--- (once `timeout` is gone its child has another parent and `pkill -P`
--- would miss it), then to `timeout`; then waits for it to be gone.
function M.stop(proc, signal)
  if not proc.pid then return end
  os.execute(string.format("pkill -%s -P %d 2>/dev/null; kill -%s %d 2>/dev/null", signal or "TERM", proc.pid,
    signal or "TERM", proc.pid))
  H.wait_until(function() return not os.execute(string.format("kill -0 %d 2>/dev/null", proc.pid)) end, 5000)
  os.execute(string.format("pkill -KILL -P %d 2>/dev/null; kill -KILL %d 2>/dev/null", proc.pid, proc.pid))
  proc.pid = nil
end

--- Stops every process started by M.skynet.
function M.stop_all()
  for _, proc in ipairs(started) do
    M.stop(proc)
    os.remove(proc.log)
  end
  started = {}
end

--- Whether python3's json module reads the JSON `text` as equal to the
--- Python value `literal` (a Python expression, no single quotes).
function M.json_is(text, literal)
  local file = os.tmpname()
  M.write_file(file, text)
  local out = M.sh("python3 -c 'import json,sys; print(json.load(open(sys.argv[1])) == " .. literal .. ")' " .. file)
  os.remove(file)
  return out == "True\n"
end

--- curl with `opts` (a string of extra options) on `url`. Returns
--- {status, headers (lower-case names), body, raw} of the final response.
function M.curl(opts, url)
  local out = M.sh(string.format("curl -s -S -i --max-time 30 %s %s 2>&1", opts or "", M.quote(url)))
  -- -i prints every response (a 100 Continue first): keep the last.
  local head, body = out:match("^(.-)\r\n\r\n(.*)$")
  while head and head:match("^HTTP/[%d.]+ 1%d%d") do
    head, body = body:match("^(.-)\r\n\r\n(.*)$")
  end
  if not head then return { raw = out } end
  local status = tonumber(head:match("^HTTP/[%d.]+ (%d+)"))
  local headers = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do headers[name:lower()] = value end
  return { status = status, headers = headers, body = body, raw = out }
end

return M
