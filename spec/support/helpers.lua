-- Helpers every spec may use: expected errors, bounded waiting, unique
-- names, child lua5.4 processes, random data. They run in the main script of
-- the busted process (the skynet main state); wait_until needs the spec to
-- have required "skynet" (a spec that only starts processes need not).
local luassert = require "luassert"

local M = {}

--- The text of the error raised by f(...); fails the test if f returns.
--- Errors raised from Rust are error objects: their text is tostring(err).
function M.error_of(f, ...)
  local ok, err = pcall(f, ...)
  luassert.is_false(ok, "expected an error")
  return tostring(err)
end

--- Runs f(...) expecting an error whose text contains `needle` (plain
--- find, so a traceback or position prefix around it does not matter).
--- Returns the whole text.
function M.raises(f, needle, ...)
  local ok, err = pcall(f, ...)
  luassert.is_false(ok, ("expected an error containing %q, got success"):format(needle))
  local msg = tostring(err)
  luassert.is_truthy(msg:find(needle, 1, true), ("expected an error containing %q, got %q"):format(needle, msg))
  return msg
end

--- Polls cond() until it returns a true value, handling the main script's
--- events (callbacks, rpc answers) between polls with os.wait, for at most
--- `timeout_ms` milliseconds. Returns true when cond() held, false when the
--- time ran out (cond() is asked once more after the last wait).
function M.wait_until(cond, timeout_ms)
  local deadline = os.steady_clock("ms") + timeout_ms
  while true do
    if cond() then return true end
    if os.steady_clock("ms") >= deadline then return false end
    os.wait(5)
  end
end

local counter = 0
--- A unique name (rpc names, temp files) for this process.
function M.unique(prefix)
  counter = counter + 1
  return ("%s_%d_%d"):format(prefix or "u", counter, math.random(1, 1 << 30))
end

--- `s` quoted for sh.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Runs a shell command; returns its stdout and its exit status.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local _, _, status = p:close()
  return out, status
end

local function slurp(path)
  local f = io.open(path)
  local s = f and f:read("a") or ""
  if f then f:close() end
  os.remove(path)
  return s
end

--- Runs a Lua script (source text) in a fresh lua5.4 process under `timeout`.
--- env: string prefix like "SKYNET_DEBUG=1 ". Returns exit status (number),
--- stdout, stderr.
function M.run_script(src, env, secs)
  local base = os.tmpname()
  os.remove(base)
  local script, out, err = base .. ".lua", base .. ".out", base .. ".err"
  local f = assert(io.open(script, "w"))
  f:write(src)
  f:close()
  local cmd = ("%s timeout -s KILL %d lua5.4 %s >%s 2>%s; echo $?"):format(
    env or "", secs or 20, M.q(script), M.q(out), M.q(err))
  local p = assert(io.popen(cmd))
  local status = tonumber(p:read("a"):match("%d+"))
  p:close()
  os.remove(script)
  return status, slurp(out), slurp(err)
end

--- Peak resident memory (VmHWM) of the calling process, in whole MiB.
function M.peak_mib()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return tonumber(kb) // 1024 end
  end
end

--- `n` random bytes (math.random: seed it for a repeatable run).
function M.random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

return M
