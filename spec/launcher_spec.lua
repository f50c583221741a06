-- The `skynet` launcher (API.md §2.5): bin/skynet and lua/skynet/launcher.lua.
require "skynet"
local launcher = require "skynet.launcher"

local LAUNCHER = os.getenv("SKYNET_LAUNCHER") or "bin/skynet"

-- Runs the launcher in its own process; returns status, stdout, stderr.
local function run(args)
  local out, err = os.tmpname(), os.tmpname()
  local ok, _, status = os.execute(("timeout 20 lua5.4 %s %s >%s 2>%s"):format(LAUNCHER, args, out, err))
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
end)
