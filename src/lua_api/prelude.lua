-- The Lua half of skynet's API, run once in every new state.
--
-- A Rust function cannot yield, so every blocking function is a small Lua
-- wrapper: its Rust half starts the operation and returns a session number,
-- which the wrapper yields to the scheduler (service/mod.rs, rule 3). When
-- the Rust half could answer at once (or blocked the main thread until the
-- answer came) it returns nil followed by the results instead.
local core = ...
local yield, select, type, error, tostring = coroutine.yield, select, type, error, tostring
local concat, unpack = table.concat, table.unpack

local function suspend(session, ...)
  if session then return yield(session) end
  return ...
end

-- Errors raised by our Rust functions are error objects (userdata) that
-- carry a traceback; pcall hands back their plain message, as stock C
-- libraries would give it.
local stock_pcall = pcall
local error_message = core.error_message
local function plain(ok, ...)
  if ok then return ok, ... end
  return ok, error_message((...))
end

local rpc_call = core.rpc_call
function pcall(f, ...)
  if type(f) ~= "string" then return plain(stock_pcall(f, ...)) end
  return suspend(rpc_call(f, ...))
end

local wait = core.wait
function os.wait(ms) return suspend(wait(ms)) end

local pload = core.pload
function os.pload(name, ...) return suspend(pload(name, ...)) end

-- Job objects: a table per child, its id kept out of sight.
local job_ids = setmetatable({}, { __mode = "k" })
local job_state, job_close = core.job_state, core.job_close
local job_meta = {
  __name = "job",
  __index = {
    id = function(job) return job_ids[job] end,
    state = function(job) return job_state(job_ids[job]) end,
    close = function(job) return suspend(job_close(job_ids[job])) end,
  },
  __tostring = function(job) return "job: " .. tostring(job_ids[job]) end,
}

local function new_job(id)
  local job = setmetatable({}, job_meta)
  job_ids[job] = id
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

return { new_job = new_job, run_main = run_main }
