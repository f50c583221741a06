-- The Lua half of skynet's API, run once in every new state.
--
-- A Rust function cannot yield, so every blocking function is a small Lua
-- wrapper: its Rust half starts the operation and returns a session number
-- to wait on (see `Service::suspend` in service/scheduler.rs), which the
-- wrapper hands to `suspend` below. When the Rust half could answer at once
-- it returns nil followed by the results instead.
local core = ...
local type, tostring, setmetatable = type, tostring, setmetatable
local stock = core.stock
local co_yield, isyieldable = stock.yield, stock.isyieldable
local block = core.block

-- Marks the yields that carry a wait, so that a user's coroutine.resume
-- can tell them from the user's own yields. (A light userdata: the
-- scheduler receives it with every wait, and unlike a table it costs
-- nothing to hand over to Rust.)
local WAIT = core.wait_marker

-- Waits for `session`: yields it up to the scheduler (through any user
-- coroutines in between, see user_coroutines.lua) or, where nothing can
-- yield (the main script's own thread), runs the loop here until it ends.
-- A service has no such thread: where it cannot yield (inside a metamethod
-- called from C, say) the yield itself raises the error.
local suspend
if core.is_main then
  suspend = function(session, ...)
    if not session then return ... end
    if isyieldable() then return co_yield(WAIT, session) end
    return block(session)
  end
else
  suspend = function(session, ...)
    if not session then return ... end
    return co_yield(WAIT, session)
  end
end

-- Errors raised by our Rust functions are error objects (userdata); every
-- place user code can catch an error hands back their message as a plain
-- string with the caller's position, as a C library would raise it.
local error_message = core.error_message
local function plain(ok, ...)
  if ok then return ok, ... end
  return ok, error_message((...))
end

local stock_pcall, stock_xpcall = stock.pcall, stock.xpcall
local rpc_call = core.rpc_call
function pcall(f, ...)
  if type(f) ~= "string" then return plain(stock_pcall(f, ...)) end
  return suspend(rpc_call(f, ...))
end

function xpcall(f, handler, ...)
  if type(handler) ~= "function" then return stock_xpcall(f, handler, ...) end
  return stock_xpcall(f, function(e) return handler(error_message(e)) end, ...)
end

local wait = core.wait
function os.wait(ms) return suspend(wait(ms)) end

local pload = core.pload
function os.pload(name, ...) return suspend(pload(name, ...)) end

-- Job objects (jobs.lua): built with the first child, since most services
-- start none. (No function here keeps `core` itself: once this chunk has
-- run, the table is garbage, half a KiB less per service.)
local load_jobs, job_state, job_close, make_job = core.load_jobs, core.job_state, core.job_close, nil
local function new_job(id, handle)
  make_job = make_job or load_jobs(job_state, job_close, suspend)
  return make_job(id, handle)
end

-- A service's module chunk and its main run in one coroutine.
local function run_main(chunk, name, ...)
  chunk(name)
  local main = rawget(_G, "main")
  if type(main) ~= "function" then error("no main function in " .. name, 0) end
  return main(...)
end

return { new_job = new_job, run_main = run_main, suspend = suspend, wait_marker = WAIT }
