-- The `skynet` command: `skynet name [args...]` runs module `name` as the
-- main service and calls its main(args...) (docs/API.md §2.5).
local M = {}

M.usage = [[
usage: skynet name [args...]
  Runs Lua module `name` (found like require: dots or slashes, .lua optional)
  as the main service and calls its main(args...).
  Arguments: all digits -> integer, digits with one dot -> float,
  true/false -> boolean, anything else -> string.
  Bundled modules: cluster.master, cluster.adapter, http.broker,
  skynet.console (port [host]), skynet.metrics (port [host])
  Entries of LUA_PATH and LUA_CPATH are searched before the installed ones.]]

--- Converts one command-line argument as the original launcher did.
function M.convert(s)
  if s:match("^%d+$") then return math.tointeger(tonumber(s)) or tonumber(s) end
  if s:match("^%d+%.%d*$") or s:match("^%d*%.%d+$") then return tonumber(s) + 0.0 end
  if s == "true" then return true end
  if s == "false" then return false end
  return s
end

--- Turns a user's module name into the dotted form require uses.
function M.module_name(name)
  return (name:gsub("%.lua$", ""):gsub("[/\\]", "."))
end

--- Returns the search path `path` (";"-separated templates) with the entries
--- of `env` (the user's LUA_PATH or LUA_CPATH) moved to the front, in their
--- order. The wrapper script luarocks writes for `skynet` puts the installed
--- tree before everything the user set, which would silently shadow a user's
--- own module of the same name (cluster/master.lua, a newer skynet.so).
--- Everything else (the tree, the defaults ";;" stands for) keeps its order.
function M.user_first(path, env)
  if not env or env == "" then return path end
  local entries, seen = {}, {}
  local function add(entry)
    if entry ~= "" and not seen[entry] then
      seen[entry] = true
      entries[#entries + 1] = entry
    end
  end
  for entry in env:gmatch("[^;]*") do add(entry) end
  for entry in path:gmatch("[^;]*") do add(entry) end
  return table.concat(entries, ";")
end

--- The search path variables as stock Lua reads them: the versioned name wins.
local function env_path(name)
  return os.getenv(name .. "_5_4") or os.getenv(name)
end

--- Runs the launcher with the command-line arguments `argv` (a table like `arg`).
--- Returns the process exit status.
function M.run(argv)
  package.path = M.user_first(package.path, env_path("LUA_PATH"))
  package.cpath = M.user_first(package.cpath, env_path("LUA_CPATH"))
  if #argv == 0 then
    -- The runtime is not needed to print the version: load it anyway so the
    -- version printed is the installed module's.
    local skynet = require "skynet"
    print("skynet " .. skynet.version)
    print(M.usage)
    return 0
  end
  local name = M.module_name(argv[1])
  -- os.name() of the main service is taken from arg[0].
  arg[0] = name
  require "skynet"
  local path, err = package.searchpath(name, package.path)
  if not path then
    -- Laid out like require's message: one searched file per line.
    io.stderr:write("skynet: module '", name, "' not found:\n\t", err, "\n")
    return 1
  end
  local args = {}
  for i = 2, #argv do args[i - 1] = M.convert(argv[i]) end
  local ok, msg = xpcall(function()
    local chunk = assert(loadfile(path))
    chunk(name)
    local main = rawget(_G, "main")
    if type(main) ~= "function" then error("no main function in " .. name, 0) end
    return main(table.unpack(args, 1, #argv - 1))
  end, debug.traceback)
  if not ok then
    io.stderr:write("skynet: ", tostring(msg), "\n")
    return 1
  end
  return 0
end

return M
