-- The Lua half of skynet's API, run once in every new state.
--
-- A Rust function cannot yield, so every blocking function is a small Lua
-- wrapper: its Rust half starts the operation and returns a session number
-- to wait on (see `Service::suspend` in service/scheduler.rs), which the
-- wrapper hands to `suspend` below. When the Rust half could answer at once
-- it returns nil followed by the results instead.
local core = ...
local select, type, error, tostring, setmetatable = select, type, error, tostring, setmetatable
local concat, unpack = table.concat, table.unpack
local stock = core.stock
local co_create, co_resume, co_yield, co_close = stock.create, stock.resume, stock.yield, stock.close
local isyieldable = stock.isyieldable
local block = core.block

-- Marks the yields that carry a wait, so that a user's coroutine.resume
-- can tell them from the user's own yields.
local WAIT = setmetatable({}, { __name = "skynet.wait" })

-- Waits for `session`: yields it up to the scheduler (through any user
-- coroutines in between, see coroutine.resume below) or, where nothing can
-- yield (the main script's own thread), runs the loop here until it ends.
local function suspend(session, ...)
  if not session then return ... end
  if isyieldable() then return co_yield(WAIT, session) end
  return block(session)
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

-- User coroutines: a wait inside one passes through its resume to the
-- scheduler and comes back; `resume` returns only when the coroutine yields
-- by itself or ends. A coroutine waiting so cannot be resumed by anyone else.
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

function coroutine.close(co)
  waiting[co] = nil
  return plain(co_close(co))
end

local rpc_deliver = core.rpc_deliver
function rpc.deliver(name, mask, receiver, ...) return suspend(rpc_deliver(name, mask, receiver, ...)) end

local wait = core.wait
function os.wait(ms) return suspend(wait(ms)) end

local pload = core.pload
function os.pload(name, ...) return suspend(pload(name, ...)) end

-- Job objects: a table per child, its id and handle (what `job_state` and
-- `job_close` read) kept out of sight.
local job_ids = setmetatable({}, { __mode = "k" })
local job_handles = setmetatable({}, { __mode = "k" })
local job_state, job_close = core.job_state, core.job_close
local job_meta = {
  __name = "job",
  __index = {
    id = function(job) return job_ids[job] end,
    state = function(job) return job_state(job_handles[job]) end,
    close = function(job) return suspend(job_close(job_handles[job])) end,
  },
  __tostring = function(job) return "job: " .. tostring(job_ids[job]) end,
}

local function new_job(id, handle)
  local job = setmetatable({}, job_meta)
  job_ids[job] = id
  job_handles[job] = handle
  return job
end

function bind(f, ...)
  if type(f) ~= "function" then
    error("bad argument #1 to 'bind' (function expected, got " .. (f == nil and "no value" or type(f)) .. ")", 2)
  end
  local n = select("#", ...)
  if n == 0 then return function(...) return f(...) end end
  if n == 1 then
    local a = ...
    return function(...) return f(a, ...) end
  end
  local bound = { ... }
  return function(...)
    local m = select("#", ...)
    local args = { unpack(bound, 1, n) }
    for i = 1, m do args[n + i] = (select(i, ...)) end
    return f(unpack(args, 1, n + m))
  end
end

local function joined(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return concat(parts, "\t")
end

function throw(...)
  if select("#", ...) == 0 then error("", 0) end
  error(joined(...), 2)
end

local debugging, date, id = os.debugging, os.date, os.id
function trace(...)
  if not debugging() then return end
  local info = debug.getinfo(2, "Sl")
  local where = info and (info.short_src .. ":" .. (info.currentline or 0)) or "?"
  io.stderr:write(("#%d [%s] <%s> %s\n"):format(id(), date("%H:%M:%S"), where, joined(...)))
end

-- A service's module chunk and its main run in one coroutine.
local function run_main(chunk, name, ...)
  chunk(name)
  local main = rawget(_G, "main")
  if type(main) ~= "function" then error("no main function in " .. name, 0) end
  return main(...)
end

return { new_job = new_job, run_main = run_main, suspend = suspend }
