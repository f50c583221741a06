-- Shared helpers for the specs (not a service: no main).
local M = {}

-- Runs f(...) expecting an error whose text contains `text` (plain find).
function M.assert_error_contains(f, text, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, ("expected an error containing %q, got success"):format(text))
  local s = tostring(err)
  assert(s:find(text, 1, true), ("expected an error containing %q, got %q"):format(text, s))
  return s
end

local counter = 0
-- A unique name (rpc names, temp files) for this process.
function M.unique(prefix)
  counter = counter + 1
  return ("%s_%d_%d"):format(prefix or "u", counter, math.random(1, 1 << 30))
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
M.q = shell_quote

-- Runs a Lua script (source text) in a fresh lua5.4 process under `timeout`.
-- env: string prefix like "SKYNET_DEBUG=1 ". Returns exit status (number),
-- stdout, stderr.
function M.run_script(src, env, secs)
  local dir = os.tmpname()
  os.remove(dir)
  local script = dir .. ".lua"
  local f = assert(io.open(script, "w"))
  f:write(src)
  f:close()
  local out, errf = dir .. ".out", dir .. ".err"
  local cmd = ("%s timeout -s KILL %d lua5.4 %s >%s 2>%s; echo $?"):format(
    env or "", secs or 20, shell_quote(script), shell_quote(out), shell_quote(errf))
  local p = assert(io.popen(cmd))
  local status = tonumber(p:read("a"):match("%d+"))
  p:close()
  local function slurp(n)
    local h = io.open(n)
    local s = h and h:read("a") or ""
    if h then h:close() end
    os.remove(n)
    return s
  end
  local so, se = slurp(out), slurp(errf)
  os.remove(script)
  return status, so, se
end

-- Polls cond() while pumping events, up to `ms` milliseconds.
function M.wait_until(cond, ms)
  local deadline = os.steady_clock("ms") + (ms or 2000)
  while not cond() do
    if os.steady_clock("ms") > deadline then return false end
    os.wait(5)
  end
  return true
end

return M
