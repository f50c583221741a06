-- bind, throw, trace, wrap/unwrap (docs/API.md §3.1, §3.3, §3.4).
require "skynet"
local H = require "support.helpers"

describe("bind", function()
  it("prepends bound args and passes results through", function()
    local f = bind(function(...) return select("#", ...), ... end, 1, nil, 3)
    assert.are.same({ 5, 1, nil, 3, "a", nil }, { f("a", nil) })
    local n = select("#", f("a", nil))
    assert.are.equal(6, n)
  end)

  it("works with 0 and 1 bound args", function()
    assert.are.same({ 1, 2 }, { bind(function(...) return ... end)(1, 2) })
    assert.are.same({ "x", 1 }, { bind(function(...) return ... end, "x")(1) })
  end)

  it("keeps trailing nils of the bound args", function()
    local g = bind(function(...) return select("#", ...) end, nil, nil)
    assert.are.equal(2, g())
    assert.are.equal(3, g(nil))
  end)

  it("propagates errors", function()
    local g = bind(error, "bound error", 0)
    local ok, err = pcall(g)
    assert.is_false(ok)
    assert.are.equal("bound error", err)
  end)

  it("may yield", function()
    local g = bind(function(a) local b = coroutine.yield(a); return a + b end, 10)
    local co = coroutine.wrap(g)
    assert.are.equal(10, co())
    assert.are.equal(15, co(5))
    local done = false
    os.post(bind(function(ms) os.wait(ms); done = true end, 5))
    assert.is_true(H.wait_until(function() return done end, 1000))
  end)

  it("raises when func is not a function", function()
    H.raises(function() bind() end, "bad argument #1")
    H.raises(function() bind(1) end, "bad argument #1")
    H.raises(function() bind("print") end, "bad argument #1")
  end)

  it("binds callable tables? (must be a function: raises)", function()
    assert.has_error(function() bind(setmetatable({}, { __call = function() end })) end)
  end)
end)

describe("throw", function()
  it("prefixes source:line and joins with tabs", function()
    local ok, err = pcall(function() throw("a", 1, nil, true) end)
    local line = debug.getinfo(1, "l").currentline - 1
    assert.is_false(ok)
    assert.is_string(err)
    assert.are.equal(("spec/globals_spec.lua:%d: a\t1\tnil\ttrue"):format(line), err)
  end)

  it("tostring-s its arguments (including __tostring)", function()
    local obj = setmetatable({}, { __tostring = function() return "OBJ" end })
    local ok, err = pcall(throw, obj, 2.5)
    assert.is_false(ok)
    assert.truthy(err:find("OBJ\t2.5", 1, true), err)
  end)

  it("throw() raises the empty string", function()
    local ok, err = pcall(function() throw() end)
    assert.is_false(ok)
    assert.are.equal("", err)
  end)

  it("in a service the caller gets the message", function()
    local tag = H.unique("throw_svc")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local ok2, msg = pcall(tag, "throw('thrown', 'in service on purpose')")
    assert.is_false(ok2)
    assert.truthy(tostring(msg):find("agent:1: thrown\tin service on purpose", 1, true), msg)
    job:close()
  end)
end)

describe("trace", function()
  it("returns nothing", function()
    assert.are.equal(0, select("#", trace("x")))
  end)

  it("writes to stderr only when debugging (subprocess)", function()
    local src = [[
      require "skynet"
      trace("hello", 1, nil, true)
      io.stdout:write(tostring(os.debugging()))
    ]]
    local st, out, err = H.run_script(src, "SKYNET_DEBUG=1")
    assert.are.equal(0, st, err)
    assert.are.equal("true", out)
    assert.truthy(err:find("hello\t1\tnil\ttrue", 1, true), err)
    assert.truthy(err:match("#%d+ %[%d%d:%d%d:%d%d%] <[^>]*:2>"), err)

    local st2, out2, err2 = H.run_script(src, "SKYNET_DEBUG=0")
    assert.are.equal(0, st2, err2)
    assert.are.equal("false", out2)
    assert.is_nil(err2:find("hello", 1, true), err2)

    local st3, out3, err3 = H.run_script(src, "env -u SKYNET_DEBUG")
    assert.are.equal(0, st3, err3)
    assert.are.equal("false", out3)
    assert.are.equal("", err3)
  end)
end)

describe("wrap / unwrap", function()
  local function roundtrip(...)
    local s = wrap(...)
    assert.is_string(s)
    return table.pack(unwrap(s))
  end

  it("round-trips scalars, keeping count and types", function()
    local r = roundtrip(1, nil, 2.0, "x", true, false, -7, 0.5, math.maxinteger, math.mininteger)
    assert.are.equal(10, r.n)
    assert.are.equal(1, r[1]); assert.are.equal("integer", math.type(r[1]))
    assert.is_nil(r[2])
    assert.are.equal(2.0, r[3]); assert.are.equal("float", math.type(r[3]))
    assert.are.equal("x", r[4])
    assert.is_true(r[5]); assert.is_false(r[6])
    assert.are.equal(-7, r[7]); assert.are.equal("integer", math.type(r[7]))
    assert.are.equal(0.5, r[8])
    assert.are.equal(math.maxinteger, r[9])
    assert.are.equal(math.mininteger, r[10])
  end)

  it("keeps special floats", function()
    local r = roundtrip(math.huge, -math.huge, 0 / 0, -0.0, 1e308, 2^53)
    assert.are.equal(math.huge, r[1])
    assert.are.equal(-math.huge, r[2])
    assert.is_true(r[3] ~= r[3])
    assert.are.equal("float", math.type(r[4]))
    assert.are.equal(1e308, r[5])
    assert.are.equal("float", math.type(r[6]))
  end)

  it("integers of every size class", function()
    local vals = { 0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 31, 1 << 32, -1, -32, -33, -128, -129,
      -32768, -32769, -(1 << 31), -(1 << 31) - 1 }
    local r = roundtrip(table.unpack(vals))
    for i, v in ipairs(vals) do
      assert.are.equal(v, r[i])
      assert.are.equal("integer", math.type(r[i]))
    end
  end)

  it("strings are binary-safe, of any length", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    local bin = table.concat(all)
    local long = ("\0\255xy"):rep(20000)
    local r = roundtrip("", bin, long, ("a"):rep(31), ("a"):rep(32), ("a"):rep(255), ("a"):rep(65536))
    assert.are.equal("", r[1])
    assert.are.equal(bin, r[2])
    assert.are.equal(long, r[3])
    assert.are.equal(("a"):rep(31), r[4])
    assert.are.equal(("a"):rep(65536), r[7])
  end)

  it("nested tables, arrays and maps with any keys", function()
    local t = {
      arr = { 1, 2, 3, "four", { 5 } },
      map = { a = 1, [2.5] = "f", [true] = false, [-1] = "neg", [10] = "sparse" },
      empty = {},
      deep = { { { { "x" } } } },
    }
    local r = roundtrip(t, { 1, 2, nil, 4 })
    assert.are.same(t, r[1])
    local holes = r[2]
    assert.are.equal(1, holes[1]); assert.is_nil(holes[3]); assert.are.equal(4, holes[4])
  end)

  it("metatables are not kept", function()
    local t = setmetatable({ 1 }, { __index = function() return "mt" end })
    local r = roundtrip(t)
    assert.is_nil(getmetatable(r[1]))
    assert.are.same({ 1 }, r[1])
  end)

  it("shared (non-cyclic) subtables are allowed", function()
    local s = { 1 }
    local r = roundtrip({ s, s })
    assert.are.same({ { 1 }, { 1 } }, r[1])
  end)

  it("wrap() == '' and unwrap('') returns nothing", function()
    assert.are.equal("", wrap())
    assert.are.equal(0, select("#", unwrap("")))
  end)

  it("unwrap of concatenated wraps gives all values", function()
    local r = table.pack(unwrap(wrap(1, 2) .. wrap("x")))
    assert.are.same({ n = 3, 1, 2, "x" }, r)
  end)

  it("wrap(nil) round-trips one nil", function()
    local r = roundtrip(nil)
    assert.are.equal(1, r.n)
    local r2 = roundtrip(nil, nil, nil)
    assert.are.equal(3, r2.n)
  end)

  it("functions, userdata, threads raise 'cannot wrap a <type>'", function()
    H.raises(function() wrap(print) end, "cannot wrap a function")
    H.raises(function() wrap(1, { f = function() end }) end, "cannot wrap a function")
    H.raises(function() wrap(coroutine.create(print)) end, "cannot wrap a thread")
    H.raises(function() wrap(io.stdout) end, "cannot wrap a userdata")
    H.raises(function() wrap({ [print] = 1 }) end, "cannot wrap a function")
  end)

  it("cycles and nesting deeper than 64 raise 'wrap: nesting too deep'", function()
    local c = {}; c[1] = c
    H.raises(function() wrap(c) end, "wrap: nesting too deep")
    local function nest(n)
      local t = {}
      local cur = t
      for _ = 2, n do cur[1] = {}; cur = cur[1] end
      return t
    end
    -- 64 levels is fine, 65 is too deep
    local r = roundtrip(nest(64))
    assert.is_table(r[1])
    H.raises(function() wrap(nest(65)) end, "wrap: nesting too deep")
    H.raises(function() wrap(nest(100000)) end, "wrap: nesting too deep")
    -- key nesting counts too
    local k = {}; k[k] = 1
    assert.has_error(function() wrap(k) end)
  end)

  it("malformed data raises 'unwrap: malformed data'", function()
    local good = wrap({ 1, 2, 3 }, "hello")
    H.raises(function() unwrap(good:sub(1, -2)) end, "unwrap: malformed data")
    H.raises(function() unwrap("\xc1") end, "unwrap: malformed data") -- never-used byte
    H.raises(function() unwrap("\xdd\xff\xff\xff\xff") end, "unwrap: malformed data") -- huge array, no data
    H.raises(function() unwrap("\xdb\xff\xff\xff\xff") end, "unwrap: malformed data") -- huge string, no data
    H.raises(function() unwrap("\x92\x01") end, "unwrap: malformed data")
    -- every truncation of a valid message raises (never crashes)
    -- (one value: a cut between two values would be valid data)
    local msg = wrap({ a = { 1, 2.5, "x" }, [3] = true, s = ("s"):rep(40), n = -1000 })
    for i = 1, #msg - 1 do
      H.raises(function() unwrap(msg:sub(1, i)) end, "unwrap: malformed data")
    end
  end)

  it("deeply nested malformed input does not crash", function()
    assert.has_error(function() unwrap(("\x91"):rep(100000)) end)
  end)

  it("random bytes never crash unwrap", function()
    math.randomseed(42)
    for _ = 1, 2000 do
      local n = math.random(1, 20)
      local b = {}
      for i = 1, n do b[i] = string.char(math.random(0, 255)) end
      pcall(unwrap, table.concat(b))
    end
  end)

  it("unwrap of a non-string raises", function()
    H.raises(function() unwrap() end, "bad argument #1")
    H.raises(function() unwrap({}) end, "bad argument #1")
    H.raises(function() unwrap(nil) end, "bad argument #1")
  end)
end)

describe("errors raised by Rust functions", function()
  it("come back from coroutine.resume as strings with the caller's position", function()
    local ok, e = coroutine.resume(coroutine.create(function() return rpc.create() end))
    assert.is_false(ok)
    assert.are.equal("string", type(e))
    assert.truthy(e:match("^[^:]+globals_spec%.lua:%d+: bad argument #1 to 'create' %(string expected, got no value%)$"), e)
  end)

  it("caught by a pcall kept from before require, read as their message and take string methods", function()
    local status, out = H.run_script([[
      local stock_pcall = pcall
      require "skynet"
      local ok, e = stock_pcall(rpc.create)
      local s = tostring(e)
      print(type(e), s:find("bad argument #1 to 'create' (string expected, got no value)", 1, true),
        s:find("runtime error", 1, true) == nil, s:find("stack traceback", 1, true) ~= nil,
        (e:find("bad argument", 1, true)), e:match("#%d"), ("x: " .. e):sub(1, 6))
    ]])
    assert.are.equal(0, status)
    assert.are.equal("userdata\t1\ttrue\ttrue\t1\t#1\tx: bad\n", out)
  end)

  it("come back from pcall as plain strings", function()
    local ok, err = pcall(rpc.create)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'create' (string expected, got no value)", err)
  end)
end)
