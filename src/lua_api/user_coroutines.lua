-- User coroutines that may wait: `coroutine.resume`, `wrap` and `close`
-- of the table given, made so that a blocking call inside a coroutine the
-- user created passes its wait through that coroutine's resume up to the
-- scheduler and comes back; `resume` returns only when the coroutine yields
-- by itself or ends. A coroutine waiting so cannot be resumed by anyone
-- else. Run on the main script's `coroutine` at once, in a service the
-- first time it reads `coroutine` (most services never do; see lazy.rs).
local coroutine, stock, prelude, error_message = ...
local type, error, setmetatable = type, error, setmetatable
local co_create, co_resume, co_close = stock.create, stock.resume, stock.close
local suspend, WAIT = prelude.suspend, prelude.wait_marker

local waiting = setmetatable({}, { __mode = "k" })
local resume_with

local function pass(co, ok, first, ...)
  if not ok then return false, error_message(first) end
  if first ~= WAIT then return true, first, ... end
  waiting[co] = true
  return resume_with(co, suspend(...))
end

resume_with = function(co, ...)
  waiting[co] = nil
  return pass(co, co_resume(co, ...))
end

function coroutine.resume(co, ...)
  if waiting[co] then return false, "cannot resume non-suspended coroutine" end
  return pass(co, co_resume(co, ...))
end

local resume = coroutine.resume
local function unwrap(co, ok, ...)
  if ok then return ... end
  co_close(co)
  error((...), 2)
end

function coroutine.wrap(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'wrap' (function expected, got " .. (f == nil and "no value" or type(f)) .. ")", 2)
  end
  local co = co_create(f)
  return function(...) return unwrap(co, resume(co, ...)) end
end

local function plain(ok, ...)
  if ok then return ok, ... end
  return ok, error_message((...))
end

function coroutine.close(co)
  waiting[co] = nil
  return plain(co_close(co))
end

return coroutine
