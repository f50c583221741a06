-- The `skynet` launcher (docs/API.md §2.5): bin/skynet and lua/skynet/launcher.lua.
require "skynet"
local launcher = require "skynet.launcher"

local LAUNCHER = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"

-- Runs the launcher in its own process; returns status, stdout, stderr.
-- `prefix` goes before the command (environment settings); `lua_options`
-- between lua5.4 and the launcher (what a luarocks wrapper script passes).
local function run(args, prefix, lua_options)
  local out, err = os.tmpname(), os.tmpname()
  local ok, _, status = os.execute(("%s timeout 20 lua5.4 %s %s %s >%s 2>%s"):format(prefix or "", lua_options or "",
    LAUNCHER, args, out, err))
  local function slurp(p) local f = io.open(p) local s = f:read("a") f:close() os.remove(p) return s end
  return ok and 0 or status, slurp(out), slurp(err)
end

describe("launcher argument conversion", function()
  it("turns digits into integers, one dot into floats, true/false into booleans", function()
    assert.are.equal(12, launcher.convert("12"))
    assert.are.equal("integer", math.type(launcher.convert("12")))
    assert.are.equal(1.5, launcher.convert("1.5"))
    assert.are.equal("float", math.type(launcher.convert("3.")))
    assert.is_true(launcher.convert("true"))
    assert.is_false(launcher.convert("false"))
  end)

  it("keeps everything else a string, the empty string included", function()
    assert.are.equal("", launcher.convert(""))
    assert.are.equal("1.2.3", launcher.convert("1.2.3"))
    assert.are.equal("-5", launcher.convert("-5"))
    assert.are.equal("True", launcher.convert("True"))
    assert.are.equal("0x10", launcher.convert("0x10"))
  end)

  it("puts the entries of the user's search path first, keeping the order of the rest", function()
    assert.are.equal("/u/?.lua;/tree/?.lua;/def/?.lua;./?.lua",
      launcher.user_first("/tree/?.lua;/u/?.lua;/def/?.lua;./?.lua", "/u/?.lua;;"))
    assert.are.equal("/u/?.lua;/v/?.lua;/tree/?.lua", launcher.user_first("/tree/?.lua;/v/?.lua;/u/?.lua", ";/u/?.lua;/v/?.lua"))
    assert.are.equal("/tree/?.lua;/def/?.lua", launcher.user_first("/tree/?.lua;/def/?.lua", nil))
    assert.are.equal("/tree/?.lua;/def/?.lua", launcher.user_first("/tree/?.lua;/def/?.lua", ""))
  end)

  it("normalises module names like os.pload", function()
    assert.are.equal("cluster.master", launcher.module_name("cluster/master.lua"))
    assert.are.equal("a.b", launcher.module_name("a\\b"))
  end)
end)

describe("the skynet command", function()
  it("runs main(args...) of the module as the main service, with converted arguments", function()
    local st, out, err = run("helpers/launched.lua 7 2.5 true word ''")
    assert.are.equal(0, st, err)
    assert.are.equal("helpers.launched integer:7 float:2.5 boolean:true string:word string:\n", out)
  end)

  it("prints version and usage without arguments, status 0", function()
    local st, out = run("")
    assert.are.equal(0, st)
    assert.truthy(out:find("skynet " .. require("skynet").version, 1, true), out)
    assert.truthy(out:find("usage: skynet name", 1, true), out)
  end)

  it("exits 1 with the error on stderr when main raises", function()
    local st, out, err = run("helpers.launched_raise")
    assert.are.equal(1, st)
    assert.are.equal("", out)
    assert.truthy(err:find("launched main failed", 1, true), err)
  end)

  it("exits 1 when the module does not exist", function()
    local st, _, err = run("helpers.no_such_module")
    assert.are.equal(1, st)
    assert.truthy(err:find("module 'helpers.no_such_module' not found", 1, true), err)
  end)

  it("lists the searched files one per line, like require", function()
    local _, _, err = run("helpers.no_such_module")
    assert.truthy(err:find("module 'helpers.no_such_module' not found:\n\tno file '", 1, true), err)
    assert.truthy(err:find("helpers/no_such_module.lua'\n\tno file '", 1, true), err)
  end)
end)

describe("the skynet command run by a luarocks wrapper script", function()
  -- A tree and a user directory each hold a module `shadow_probe`; the
  -- wrapper puts the tree first in package.path and package.cpath, as the
  -- script luarocks writes for `skynet` does.
  local tree, user
  before_each(function()
    tree, user = os.tmpname(), os.tmpname()
    os.remove(tree) os.remove(user)
    assert(os.execute("mkdir -p " .. tree .. " " .. user))
    for dir, who in pairs { [tree] = "tree", [user] = "user" } do
      local f = assert(io.open(dir .. "/shadow_probe.lua", "w"))
      f:write(("function main() print(%q, package.cpath:match('^[^;]*')) end\n"):format(who))
      f:close()
    end
  end)
  after_each(function() os.execute("rm -rf " .. tree .. " " .. user) end)

  local function wrapper()
    return ("-e 'package.path=\"%s/?.lua;\"..package.path;package.cpath=\"%s/?.so;\"..package.cpath'"):format(tree, tree)
  end

  it("runs the user's module, found through LUA_PATH, before the tree's", function()
    local env = ("LUA_PATH='%s/?.lua;%s' LUA_CPATH='%s/?.so;%s'"):format(user, os.getenv("LUA_PATH") or ";",
      user, os.getenv("LUA_CPATH") or ";")
    local st, out, err = run("shadow_probe", env, wrapper())
    assert.are.equal(0, st, err)
    assert.are.equal("user\t" .. user .. "/?.so\n", out)
  end)

  it("reads LUA_PATH_5_4 and LUA_CPATH_5_4 first, like stock Lua", function()
    local env = ("LUA_PATH=/nowhere/?.lua LUA_PATH_5_4='%s/?.lua;%s' LUA_CPATH_5_4='%s/?.so;%s'"):format(user,
      os.getenv("LUA_PATH") or ";", user, os.getenv("LUA_CPATH") or ";")
    local st, out, err = run("shadow_probe", env, wrapper())
    assert.are.equal(0, st, err)
    assert.are.equal("user\t" .. user .. "/?.so\n", out)
  end)

  it("runs the tree's module when the user's path does not have one", function()
    local st, out, err = run("shadow_probe", nil, wrapper())
    assert.are.equal(0, st, err)
    assert.are.equal("tree\t", out:sub(1, 5))
  end)
end)
