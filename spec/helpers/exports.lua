-- Prints every function skynet exports, one per line, for
-- annotations_spec.lua: `name` or `table.path` for functions reached from
-- _G (those added or replaced by skynet), `class:method` for the methods of
-- each kind of object. It runs as its own lua5.4 process so that the stock
-- state can be recorded before `require "skynet"` changes it, away from
-- busted's own globals.

-- Tables of the stock state whose functions are compared, by path.
local function functions_of(root, depth, prefix, out, seen)
  seen[root] = true
  for k, v in pairs(root) do
    if type(k) == "string" and not (root == _G and (k == "_G" or k == "package")) then
      local path = prefix .. k
      if type(v) == "function" then
        out[path] = v
      elseif type(v) == "table" and depth > 1 and not seen[v] then
        functions_of(v, depth - 1, path .. ".", out, seen)
      end
    end
  end
  return out
end

local stock = functions_of(_G, 3, "", {}, {})

require "skynet"
-- `helpers.quick` (a service for a job object) lives beside this file.
package.path = arg[0]:match("^(.-)[^/]*$") .. "../?.lua;" .. package.path
-- Globals built on first use: reading them builds them. A new lazy global
-- must be added here to be checked. (The functions of lazy fields of other
-- tables, `os.*`, `rpc.*`, `string.*`, ..., are listed by `pairs`.)
for _, name in ipairs { "json", "base64", "crypto", "std", "storage",
                        "wrap", "unwrap", "compress", "uncompress", "bind", "throw", "trace" } do
  assert(_G[name], name)
end
for _, name in ipairs { "http", "socket", "server", "context" } do assert(io[name], name) end

local lines = {}
for path, f in pairs(functions_of(_G, 3, "", {}, {})) do
  if stock[path] ~= f then lines[#lines + 1] = path end
end

-- The methods of an object: its metatable's __index table, or (mlua
-- userdata with an __index of its own, as a skiplist) the method table
-- mlua's __index function looks in first.
local function methods_of(object)
  local index = assert(debug.getmetatable(object), "no metatable").__index
  if type(index) == "function" then
    for i = 1, math.huge do
      local name, value = debug.getupvalue(index, i)
      if name == nil then break end
      if name == "methods" and type(value) == "table" then index = value break end
    end
  end
  assert(type(index) == "table", "no method table found for " .. tostring(object))
  return index
end

local ok, job = os.pload("helpers.quick")
assert(ok, job)
local objects = {
  ["skynet.job"] = job,
  ["skynet.coroutine"] = os.coroutine(),
  ["skynet.timer"] = os.timer(),
  ["skynet.dir"] = assert(os.opendir(".")),
  ["skynet.list"] = std.list(),
  ["skynet.skiplist"] = std.skiplist(),
  ["skynet.context"] = io.context(),
  ["skynet.socket"] = assert(io.socket("tcp")),
  ["skynet.server"] = assert(io.server("tcp")),
  ["skynet.http.parser"] = io.http.request_parser {},
}
for class, object in pairs(objects) do
  for name, f in pairs(methods_of(object)) do
    if type(f) == "function" then lines[#lines + 1] = class .. ":" .. name end
  end
end

table.sort(lines)
print(table.concat(lines, "\n"))
print("-- end of exports")
