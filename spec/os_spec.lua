-- os additions (docs/API.md §4) run in the main service (the busted process).
require "skynet"
local H = require "support.helpers"

describe("os basics", function()
  it("os.id of the main service is a positive integer", function()
    local id = os.id()
    assert.are.equal("integer", math.type(id))
    assert.is_true(id > 0 and id <= 0xFFFF)
    assert.are.equal(id, os.id())
  end)

  it("os.name of the main service is a non-empty string", function()
    assert.is_string(os.name())
    assert.is_true(#os.name() > 0)
  end)

  it("os.version is a dotted version string equal to the module's", function()
    local v = os.version()
    assert.is_string(v)
    assert.truthy(v:match("^%d+%.%d+%.%d+"))
    assert.are.equal((require "skynet").version, v)
  end)

  it("os.getcwd is the current directory", function()
    local cwd = os.getcwd()
    assert.is_string(cwd)
    local p = io.popen("pwd -P")
    local pwd = p:read("l"); p:close()
    assert.are.equal(pwd, cwd)
  end)

  it("os.dirsep is '/'", function()
    assert.are.equal("/", os.dirsep())
  end)

  it("os.processors is a positive integer", function()
    local n = os.processors()
    assert.are.equal("integer", math.type(n))
    assert.is_true(n >= 1)
  end)

  it("os.debugging is a boolean", function()
    assert.is_boolean(os.debugging())
  end)

  it("os.stopped is false in the running main service", function()
    assert.is_false(os.stopped())
  end)
end)

describe("os.mkdir / os.opendir", function()
  local base
  before_each(function()
    base = os.tmpname()
    os.remove(base)
  end)
  after_each(function()
    os.execute("rm -rf " .. H.q(base))
  end)

  it("mkdir creates a directory; an existing path gives false, msg", function()
    assert.is_true(os.mkdir(base))
    local ok, msg = os.mkdir(base)
    assert.is_false(ok)
    assert.is_string(msg)
    assert.is_true(#msg > 0)
  end)

  it("mkdir is not recursive", function()
    local ok, msg = os.mkdir(base .. "/a/b")
    assert.is_false(ok)
    assert.is_string(msg)
  end)

  it("mkdir raises on a non-string path", function()
    H.raises(function() os.mkdir() end, "bad argument #1")
    H.raises(function() os.mkdir({}) end, "bad argument #1")
  end)

  it("opendir lists entries with is_dir, without . and ..", function()
    assert.is_true(os.mkdir(base))
    assert.is_true(os.mkdir(base .. "/sub"))
    local f = assert(io.open(base .. "/file.txt", "w")); f:write("x"); f:close()
    local dir = assert(os.opendir(base))
    local seen = {}
    for name, is_dir in pairs(dir) do seen[name] = is_dir end
    assert.are.same({ sub = true, ["file.txt"] = false }, seen)
    dir:close()
  end)

  it("opendir of an empty directory yields nothing", function()
    assert.is_true(os.mkdir(base))
    local n = 0
    for _ in pairs(assert(os.opendir(base))) do n = n + 1 end
    assert.are.equal(0, n)
  end)

  it("dir:close ends the iteration early and is idempotent", function()
    assert.is_true(os.mkdir(base))
    for i = 1, 5 do assert.is_true(os.mkdir(base .. "/d" .. i)) end
    local dir = assert(os.opendir(base))
    local n = 0
    for _ in pairs(dir) do
      n = n + 1
      dir:close()
    end
    assert.are.equal(1, n)
    dir:close()
    local again = 0
    for _ in pairs(dir) do again = again + 1 end
    assert.are.equal(0, again)
  end)

  it("opendir defaults to '.'", function()
    local dir = assert(os.opendir())
    local seen = {}
    for name in pairs(dir) do seen[name] = true end
    local dir2 = assert(os.opendir("."))
    local seen2 = {}
    for name in pairs(dir2) do seen2[name] = true end
    assert.are.same(seen2, seen)
  end)

  it("opendir of a missing directory gives nil, msg", function()
    local d, msg = os.opendir(base .. "/missing")
    assert.is_nil(d)
    assert.is_string(msg)
  end)

  it("opendir raises on a non-string path", function()
    H.raises(function() os.opendir({}) end, "bad argument #1")
  end)
end)

describe("os.compile", function()
  local src, out
  before_each(function()
    src = os.tmpname()
    out = os.tmpname()
    local f = assert(io.open(src, "w"))
    f:write("local a, b = ...\nreturn (a or 1) + (b or 2), 'compiled'\n")
    f:close()
  end)
  after_each(function()
    os.remove(src); os.remove(out)
  end)

  it("returns bytecode that load() runs", function()
    local bc = os.compile(src)
    assert.is_string(bc)
    assert.are.equal("\27Lua", bc:sub(1, 4))
    local fn = assert(load(bc, "bc", "b"))
    local r, s = fn(10, 20)
    assert.are.equal(30, r)
    assert.are.equal("compiled", s)
  end)

  it("keeps debug info (not stripped)", function()
    local f = assert(io.open(src, "w"))
    f:write("local function inner() error('boom') end\nreturn inner\n")
    f:close()
    local fn = assert(load(os.compile(src), "bc", "b"))
    local ok, err = pcall(fn())
    assert.is_false(ok)
    assert.truthy(tostring(err):find(":1:", 1, true), err)
  end)

  it("writes bytecode to oname and returns true", function()
    assert.is_true(os.compile(src, out))
    local fn = assert(loadfile(out, "b"))
    assert.are.equal(3, (fn()))
  end)

  it("a missing source gives nil, msg (no oname) or false, msg (oname)", function()
    local r, msg = os.compile(src .. ".missing")
    assert.is_nil(r)
    assert.is_string(msg)
    local r2, msg2 = os.compile(src .. ".missing", out)
    assert.is_false(r2)
    assert.is_string(msg2)
  end)

  it("a syntax error gives nil, msg", function()
    local f = assert(io.open(src, "w")); f:write("return +"); f:close()
    local r, msg = os.compile(src)
    assert.is_nil(r)
    assert.is_string(msg)
  end)

  it("an unwritable oname gives false, msg", function()
    local r, msg = os.compile(src, "/nonexistent_dir_xyz/out.luac")
    assert.is_false(r)
    assert.is_string(msg)
  end)

  it("raises on a non-string fname", function()
    H.raises(function() os.compile() end, "bad argument #1")
    H.raises(function() os.compile(1 == 1) end, "bad argument #1")
  end)
end)

describe("clocks", function()
  it("system_clock is seconds since the epoch (float by default)", function()
    local s = os.system_clock()
    assert.are.equal("float", math.type(s))
    assert.is_true(math.abs(s - os.time()) < 5)
    assert.is_true(math.abs(os.system_clock("s") - os.time()) < 5)
  end)

  it("system_clock ms/us are integers in the right scale", function()
    local ms, us = os.system_clock("ms"), os.system_clock("us")
    assert.are.equal("integer", math.type(ms))
    assert.are.equal("integer", math.type(us))
    assert.is_true(math.abs(ms // 1000 - os.time()) < 5)
    assert.is_true(math.abs(us // 1000000 - os.time()) < 5)
  end)

  it("steady_clock units are consistent and monotonic", function()
    local s, ms, us = os.steady_clock(), os.steady_clock("ms"), os.steady_clock("us")
    assert.are.equal("float", math.type(s))
    assert.are.equal("integer", math.type(ms))
    assert.are.equal("integer", math.type(us))
    assert.is_true(s >= 0 and ms >= 0 and us >= 0)
    assert.is_true(math.abs(ms - s * 1000) < 1000)
    assert.is_true(math.abs(us - ms * 1000) < 1000000)
    local prev = os.steady_clock("us")
    for _ = 1, 10000 do
      local now = os.steady_clock("us")
      assert.is_true(now >= prev)
      prev = now
    end
  end)

  it("steady_clock measures a 50 ms wait", function()
    local t0 = os.steady_clock("ms")
    os.wait(50)
    local dt = os.steady_clock("ms") - t0
    assert.is_true(dt >= 50 and dt < 2000, dt)
  end)

  it("an unknown unit raises", function()
    assert.has_error(function() os.system_clock("h") end)
    assert.has_error(function() os.steady_clock("ns") end)
    assert.has_error(function() os.steady_clock("") end)
    assert.has_error(function() os.steady_clock({}) end)
  end)
end)

describe("os.post", function()
  it("runs later, in FIFO order, with args kept as-is", function()
    local log = {}
    local tbl = {}
    local fn = function() end
    os.post(function(...) log[#log + 1] = table.pack(...) end, 1, tbl, fn, nil)
    os.post(function() log[#log + 1] = "second" end)
    for i = 3, 20 do os.post(function() log[#log + 1] = i end) end
    assert.are.equal(0, #log)
    local n = os.wait(0)
    assert.is_true(n >= 20, "os.wait(0) returned " .. tostring(n))
    assert.are.equal(20, #log)
    local first = log[1]
    assert.are.equal(4, first.n)
    assert.are.equal(1, first[1])
    assert.are.equal(tbl, first[2]) -- same table, not a copy
    assert.are.equal(fn, first[3])
    assert.is_nil(first[4])
    assert.are.equal("second", log[2])
    for i = 3, 20 do assert.are.equal(i, log[i]) end
  end)

  it("returns nothing", function()
    assert.are.equal(0, select("#", os.post(function() end)))
    os.wait(0)
  end)

  it("an error in a posted function does not stop the others", function()
    local ran = false
    os.post(function() error("posted error on purpose") end)
    os.post(function() ran = true end)
    os.wait(0)
    assert.is_true(ran)
  end)

  it("raises on a non-function", function()
    H.raises(function() os.post() end, "bad argument #1")
    H.raises(function() os.post(1) end, "bad argument #1")
    H.raises(function() os.post("print") end, "bad argument #1")
  end)

  it("a posted function posting again runs in a later turn", function()
    local log = {}
    os.post(function()
      log[#log + 1] = "a"
      os.post(function() log[#log + 1] = "c" end)
    end)
    os.post(function() log[#log + 1] = "b" end)
    assert.is_true(H.wait_until(function() return #log == 3 end, 1000))
    assert.are.same({ "a", "b", "c" }, log)
  end)
end)

describe("os.wait", function()
  it("os.wait(0) with nothing queued returns 0", function()
    os.wait(0)
    assert.are.equal(0, os.wait(0))
  end)

  it("os.wait(0) counts queued events", function()
    for _ = 1, 3 do os.post(function() end) end
    assert.are.equal(3, os.wait(0))
  end)

  it("os.wait(ms) waits at least ms and returns an integer count", function()
    os.wait(0)
    local t0 = os.steady_clock("ms")
    local n = os.wait(30)
    local dt = os.steady_clock("ms") - t0
    assert.are.equal("integer", math.type(n))
    assert.are.equal(0, n)
    assert.is_true(dt >= 30 and dt < 2000, dt)
  end)

  it("os.wait(ms) counts events handled during the wait", function()
    local t = os.timer()
    t:expires(10, function() end)
    local t2 = os.timer()
    t2:expires(20, function() end)
    assert.are.equal(2, os.wait(100))
  end)

  it("os.wait counts rpc messages handled", function()
    local name = H.unique("wait_cnt")
    local n = 0
    rpc.create(name, function() n = n + 1 end)
    local tag = H.unique("wait_cnt_agent")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    os.wait(0)
    -- a deliver, so that we do not block (a blocking call would handle them)
    assert.are.equal(1, rpc.deliver(tag, 0, 0, ("for i = 1, 5 do rpc.deliver(%q, 0, 0) end"):format(name)))
    local total = 0
    local t0 = os.steady_clock("ms")
    while n < 5 and os.steady_clock("ms") - t0 < 2000 do total = total + os.wait(10) end
    assert.are.equal(5, n)
    assert.are.equal(5, total)
    job:close()
    rpc.remove(name)
  end)

  it("accepts float ms", function()
    local t0 = os.steady_clock("us")
    os.wait(5.5)
    assert.is_true(os.steady_clock("us") - t0 >= 5500)
  end)

  it("non-number ms raises", function()
    H.raises(function() os.wait("x") end, "bad argument #1")
    H.raises(function() os.wait({}) end, "bad argument #1")
    H.raises(function() os.wait(true) end, "bad argument #1")
  end)

  it("numeric strings: behave as numbers or raise, never hang", function()
    -- stock Lua converts "10" to a number for number arguments
    local t0 = os.steady_clock("ms")
    local ok = pcall(os.wait, "10")
    assert.is_true(os.steady_clock("ms") - t0 < 2000)
    assert.is_boolean(ok)
  end)

  it("os.wait(math.huge) / os.wait(1e300) wait until stopped (no panic)", function()
    for _, ms in ipairs({ "math.huge", "1e300" }) do
      local tag = H.unique("wait_huge")
      local ok, job = os.pload("helpers.agent", tag)
      assert.is_true(ok, job)
      local got
      assert.is_true(pcall(tag, function(...) got = table.pack(...) end, "return pcall(os.wait, " .. ms .. ")"))
      os.wait(50)
      assert.is_nil(got, ms .. ": os.wait returned early: " .. (got and (tostring(got[1]) .. ", " .. tostring(got[2]) .. ", " .. tostring(got[3])) or ""))
      pcall(tag, "os.stop()")
      job:close()
    end
  end)

  it("os.wait(nil) in a service waits until it is stopped", function()
    local tag = H.unique("wait_nil")
    local ok, job = os.pload("helpers.agent", tag, [[
      rpc.create(... .. "_w", function()
        local n = os.wait()
        return n, os.stopped()
      end)
    ]], tag)
    assert.is_true(ok, job)
    local result
    assert.is_true(pcall(tag .. "_w", function(ok2, n, st) result = { ok2, n, st } end))
    os.wait(50)
    assert.is_nil(result)
    -- stop it from inside
    assert.is_true((pcall(tag, "os.stop()")))
    assert.is_true(H.wait_until(function() return result ~= nil end, 3000))
    if result[1] then
      assert.are.equal("integer", math.type(result[2]))
      assert.is_true(result[3])
    else
      assert.are.equal("cancel", result[2])
    end
    job:close()
  end)
end)

describe("os.stop / os.stopped inside a service", function()
  it("os.stop sets os.stopped and os.wait then returns 0 at once", function()
    local tag = H.unique("stop")
    local ok, job = os.pload("helpers.agent", tag, [[
      local tag = ...
      rpc.create(tag .. "_q", function()
        local before = os.stopped()
        os.stop()
        return before, os.stopped()
      end)
    ]], tag)
    assert.is_true(ok, job)
    local ok2, before, after = pcall(tag .. "_q")
    assert.is_true(ok2, before)
    assert.is_false(before)
    assert.is_true(after)
    assert.is_true(H.wait_until(function() return job:state() == "dead" end, 3000))
    job:close()
  end)

  it("blocked calls of a stopping service get false, 'cancel'", function()
    local tag, sink = H.unique("stopc"), H.unique("stopc_sink")
    rpc.create(sink, function() os.wait(5000) return "late" end)
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local got
    assert.is_true(pcall(tag, function(...) got = table.pack(...) end, ([[
      os.post(function() os.stop() end)
      return pcall(%q)
    ]]):format(sink)))
    local t0 = os.steady_clock("ms")
    assert.is_true(H.wait_until(function() return got ~= nil end, 3000), "no answer after the stop")
    assert.is_true(os.steady_clock("ms") - t0 < 2000)
    -- either the handler's own result (true, false, "cancel") or the whole
    -- call cancelled because the service ended (false, "cancel")
    if got[1] then
      assert.are.same({ n = 3, true, false, "cancel" }, got)
    else
      assert.are.same({ n = 2, false, "cancel" }, got)
    end
    job:close()
    rpc.remove(sink)
  end)
end)
