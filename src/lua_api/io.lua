-- The Lua half of io.socket and io.server objects (see lua_api/io.rs).
--
-- Blocking methods are wrappers that yield the session their Rust half
-- returns, as in prelude.lua; the others are the Rust functions themselves.
local core = ...
local yield = coroutine.yield

local function suspend(session, ...)
  if session then return yield(session) end
  return ...
end

local connect, read, write, send = core.connect, core.read, core.write, core.send

local socket = {
  connect = function(s, ...) return suspend(connect(s, ...)) end,
  read = function(s, ...) return suspend(read(s, ...)) end,
  write = function(s, ...) return suspend(write(s, ...)) end,
  send = function(s, ...) return suspend(send(s, ...)) end,
  receive = core.receive,
  close = core.close,
  id = core.id,
  endpoint = core.endpoint,
  seturi = core.seturi,
  geturi = core.geturi,
  setheader = core.setheader,
  getheader = core.getheader,
}

local server = {
  listen = core.listen,
  endpoint = core.server_endpoint,
  id = core.server_id,
  close = core.server_close,
}

return { socket = socket, server = server }
