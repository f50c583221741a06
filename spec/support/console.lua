-- A client of the skynet.console line protocol, for the specs: one
-- command, then every line up to the `<ok>` / `<error> ...` that ends the reply.
local M = {}

M.free_port = require("support.net").free_port

--- Connects to the console on `port`; returns the client.
function M.connect(port)
  local s = io.socket("tcp")
  assert(s:connect("127.0.0.1", port))
  return setmetatable({ socket = s, buffer = "" }, { __index = M })
end

--- The next line the console sent (nil, err when the connection ended).
function M:line()
  while true do
    local nl = self.buffer:find("\n", 1, true)
    if nl then
      local line = self.buffer:sub(1, nl - 1)
      self.buffer = self.buffer:sub(nl + 1)
      return line
    end
    local data, err = self.socket:read()
    if not data then return nil, err end
    self.buffer = self.buffer .. data
  end
end

--- Sends `line` (a newline is added); returns the reply lines before the
--- last one, and the last one (`<ok>` or `<error> ...`).
function M:command(line)
  assert(self.socket:write(line .. "\n"))
  local lines = {}
  while true do
    local l = assert(self:line())
    if l == "<ok>" or l:match("^<error>") then return lines, l end
    lines[#lines + 1] = l
  end
end

function M:close()
  self.socket:close()
end

return M
