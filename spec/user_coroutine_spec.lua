-- Blocking calls inside the user's own coroutines, errors as plain strings,
-- and rpc.timeout (docs/API.md §0 and §5).
require "skynet"
local H = require "support.helpers"
local P = require "support.procs"

local DECODE_ERROR = "bad argument #1 to 'decode' (string expected, got table)"

describe("globals a service builds on first use", function()
  it("coroutine, bind, throw and trace are there when first read", function()
    local ok, job = os.pload("helpers.lazy_globals")
    assert.is_true(ok)
    local ok2, seen = pcall("lazy.report")
    job:close()
    assert.is_true(ok2)
    assert.are.same({
      absent_at_start = true,
      require_gives_the_global = true,
      waited = "after a wait",
      bound = 5,
      thrown = "a\t1",
      trace = "function",
    }, seen)
  end)

  it("skynet's functions of os, rpc, string and table, and wrap and compress, are made when first read; pairs lists them before", function()
    local ok, job = os.pload("helpers.lazy_functions")
    assert.is_true(ok)
    local ok2, seen = pcall("lazy.functions")
    job:close()
    assert.is_true(ok2, seen)
    assert.are.same({
      absent_at_start = { os_stopped = true, rpc_timeout = true, string_split = true, table_export = true,
                          wrap = true, compress = true },
      listed = { true, true, true, true, true, true, true },
      works = { true, false, "b", true, 1, "zz" },
    }, seen)
  end)
end)

describe("blocking calls in user coroutines", function()
  local job
  setup(function()
    rpc.create("ucm.echo", function(...) return ... end)
    local ok
    ok, job = os.pload("helpers.user_coroutines")
    assert.is_true(ok)
  end)
  teardown(function() job:close() end)

  it("a wait in a coroutine.create coroutine of the main script passes through resume", function()
    local co = coroutine.create(function(x)
      local ok, v = pcall("ucm.echo", x)
      assert.is_true(ok)
      local got = coroutine.yield("mine", v)
      os.wait(5)
      return "done", got
    end)
    assert.are.same({ true, "mine", 41 }, { coroutine.resume(co, 41) })
    assert.are.equal("suspended", coroutine.status(co))
    assert.are.same({ true, "done", "y" }, { coroutine.resume(co, "y") })
    assert.are.equal("dead", coroutine.status(co))
  end)

  it("status, running and isyieldable are stock inside a waiting coroutine", function()
    local co
    co = coroutine.create(function()
      os.wait(1)
      local running, main = coroutine.running()
      return running == co, main, coroutine.isyieldable(), coroutine.status(co)
    end)
    assert.are.same({ true, true, false, true, "running" }, { coroutine.resume(co) })
    assert.is_false(coroutine.isyieldable())
  end)

  it("a coroutine waiting on a call cannot be resumed by anyone else", function()
    local co = coroutine.create(function() os.wait(50) return "woke" end)
    local refused
    os.post(function() refused = { coroutine.resume(co) } end)
    assert.are.same({ true, "woke" }, { coroutine.resume(co) })
    assert.are.same({ false, "cannot resume non-suspended coroutine" }, refused)
  end)

  it("coroutine.wrap generators may block between yields", function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do
        local _, v = pcall("ucm.echo", i * 10)
        coroutine.yield(v)
      end
    end)
    assert.are.same({ 10, 20, 30 }, { gen(), gen(), gen() })
  end)

  it("nested user coroutines pass a wait through every level", function()
    local outer = coroutine.wrap(function()
      local inner = coroutine.wrap(function()
        os.wait(2)
        return select(2, pcall("ucm.echo", "deep"))
      end)
      return inner() .. "!"
    end)
    assert.are.equal("deep!", outer())
  end)

  it("an error in a waiting coroutine comes back from resume, and close works", function()
    local co = coroutine.create(function() os.wait(1) error("boom", 0) end)
    assert.are.same({ false, "boom" }, { coroutine.resume(co) })
    assert.are.same({ false, "boom" }, { coroutine.close(co) })
    local done = coroutine.create(function() os.wait(1) end)
    assert.is_true(coroutine.resume(done))
    assert.is_true(coroutine.close(done))
  end)

  it("a wrapped coroutine's error is raised with the caller's position", function()
    local f = coroutine.wrap(function() os.wait(1) error("inner") end)
    local ok, err = pcall(f)
    assert.is_false(ok)
    assert.truthy(err:find("inner", 1, true))
    local dead = coroutine.wrap(function() end)
    dead()
    H.raises(dead, "cannot resume dead coroutine")
  end)

  it("in a service: create, wrap generators and nested coroutines block and come back", function()
    assert.are.same({ true, 14, "suspended", 11, "dead" }, { pcall("uc.create", 7) })
    assert.are.same({ true, 6 }, { pcall("uc.generator") })
    assert.are.same({ true, "deep!" }, { pcall("uc.nested") })
  end)

  it("in a service, a wait where nothing can yield raises and the service goes on", function()
    assert.are.same({ true, false, "attempt to yield across a C-call boundary", true }, { pcall("uc.sort_wait") })
  end)

  it("an HTTP front serving each request in its own coroutine answers curl", function()
    local port_file = os.tmpname()
    local ok, front = os.pload("helpers.coroutine_front", port_file)
    assert.is_true(ok)
    local port
    assert.is_true(H.wait_until(function()
      port = tonumber(P.read_file(port_file) or "")
      return port ~= nil
    end, 5000))
    -- several requests at once, each answered by its own coroutine
    local out = H.sh(("for p in one two three; do curl -s -m 5 http://127.0.0.1:%d/$p & done; wait"):format(port))
    for _, word in ipairs({ "ONE", "TWO", "THREE" }) do
      assert.truthy(out:find("ok " .. word, 1, true), out)
    end
    front:close()
    os.remove(port_file)
  end)
end)

describe("errors raised by the module", function()
  it("are strings with the caller's position wherever user code catches them", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, e = pcall(function() return base64.decode({}) end)
    assert.is_false(ok)
    assert.are.equal("string", type(e))
    assert.are.equal(("%s:%d: %s"):format(debug.getinfo(1, "S").short_src, line, DECODE_ERROR), e)
    local _, e2 = xpcall(function() base64.decode({}) end, function(m) return m end)
    assert.are.equal("string", type(e2))
    assert.truthy(e2:find(DECODE_ERROR, 1, true))
    local _, e3 = coroutine.resume(coroutine.create(function() base64.decode({}) end))
    assert.are.equal("string", type(e3))
  end)

  it("match busted's has_error", function()
    assert.has_error(function() base64.decode({}) end, DECODE_ERROR)
    assert.has_error(function() json.encode(function() end) end)
  end)

  it("called from C, carry no position (as stock)", function()
    local ok, e = pcall(base64.decode, {})
    assert.is_false(ok)
    assert.are.equal(DECODE_ERROR, e)
  end)

  it("are strings inside services too", function()
    local ok, job = os.pload("helpers.user_coroutines")
    assert.is_true(ok)
    local r = { pcall("uc.errors") }
    job:close()
    assert.is_true(r[1])
    assert.are.same({ "string", "string", "string", "string" }, { r[2], r[4], r[6], r[8] })
    assert.are.equal(DECODE_ERROR, r[3])
    assert.truthy(r[5]:match("user_coroutines%.lua:%d+: " .. DECODE_ERROR:gsub("%p", "%%%0")))
    assert.truthy(r[7]:find(DECODE_ERROR, 1, true))
    assert.truthy(r[9]:find(DECODE_ERROR, 1, true))
  end)
end)

describe("rpc.timeout", function()
  it("returns the current timeout, 10000 ms by default", function()
    assert.are.equal(10000, rpc.timeout())
  end)

  it("sets the timeout of this service's calls and returns the previous one", function()
    local name = H.unique("slow")
    rpc.create(name, function() os.wait(2000) return "late" end)
    assert.are.equal(10000, rpc.timeout(50))
    local t0 = os.steady_clock("ms")
    assert.are.same({ false, "timeout" }, { pcall(name) })
    local got
    pcall(name, function(...) got = { ... } end)
    assert.is_true(H.wait_until(function() return got ~= nil end, 2000))
    assert.are.same({ false, "timeout" }, got)
    assert.is_true(os.steady_clock("ms") - t0 < 1500)
    assert.are.equal(50, rpc.timeout(10000))
    rpc.remove(name)
  end)

  it("refuses what is not a positive number", function()
    H.raises(function() rpc.timeout(0) end, "bad argument #1 to 'timeout'")
    H.raises(function() rpc.timeout(-1) end, "bad argument #1 to 'timeout'")
    H.raises(function() rpc.timeout("x") end, "bad argument #1 to 'timeout'")
    assert.are.equal(10000, rpc.timeout())
  end)

  it("starts from SKYNET_RPC_TIMEOUT", function()
    local status, out = H.run_script([[
      require "skynet"
      print(rpc.timeout())
    ]], "SKYNET_RPC_TIMEOUT=250 ")
    assert.are.equal(0, status)
    assert.are.equal("250", out:match("%d+"))
  end)
end)
