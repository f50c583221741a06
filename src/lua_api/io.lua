-- The Lua half of io.socket and io.server objects (see lua_api/io.rs).
--
-- Blocking methods are wrappers that hand the session their Rust half
-- returns to the prelude's `suspend`, but for `send`, a C front that does
-- the same itself (it is an echo's every other call: io/front.rs); the
-- others are the Rust functions themselves.
--
-- `socket_methods` and `server_methods` are the tables the objects'
-- metatables index: made before this chunk runs (an object was made to
-- learn the socket metatable, see io/front.rs), filled here.
local core, socket_methods, server_methods = ...
local suspend = core.suspend

local connect, read, write = core.connect, core.read, core.write

local socket = {
  connect = function(s, ...) return suspend(connect(s, ...)) end,
  read = function(s, ...) return suspend(read(s, ...)) end,
  write = function(s, ...) return suspend(write(s, ...)) end,
  send = core.send, -- a C front that waits itself (io/front.rs)
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

for name, method in pairs(socket) do socket_methods[name] = method end
for name, method in pairs(server) do server_methods[name] = method end
