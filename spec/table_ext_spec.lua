require "skynet"
local H = require "support.helpers"

-- Collects pairs(t) into a plain table (nested proxies kept as they come).
local function collect(t)
  local out, n = {}, 0
  for k, v in pairs(t) do
    out[k] = v
    n = n + 1
  end
  return out, n
end

-- A plain deep copy of a proxy, read through pairs (so through the metamethods).
local function plain(t)
  local out = {}
  for k, v in pairs(t) do
    out[k] = type(v) == "table" and plain(v) or v
  end
  return out
end

describe("table.export / table.import", function()
  -- Export names are process-wide: each test uses its own and removes it.
  local names = {}
  local function name(n)
    names[#names + 1] = n
    return n
  end
  after_each(function()
    for _, n in ipairs(names) do table.export(nil, n) end
    names = {}
  end)

  it("export returns nothing and import returns a proxy", function()
    assert.are.equal(0, select("#", table.export({ 1 }, name("ret"))))
    assert.is_table(table.import("ret"))
  end)

  it("import of an unknown name is nil", function()
    assert.is_nil(table.import("never exported"))
    local r = table.pack(table.import("never exported"))
    assert.are.equal(1, r.n)
  end)

  it("reads scalars with their types", function()
    table.export({ i = 1, f = 1.0, s = "x\0y", t = true, b = false, big = math.maxinteger }, name("scalars"))
    local p = table.import("scalars")
    assert.are.equal("integer", math.type(p.i))
    assert.are.equal("float", math.type(p.f))
    assert.are.equal("x\0y", p.s)
    assert.is_true(p.t)
    assert.is_false(p.b)
    assert.are.equal(math.maxinteger, p.big)
    assert.is_nil(p.missing)
  end)

  it("keeps keys of every scalar type", function()
    table.export({ [1] = "one", [2.5] = "float", [true] = "yes", [false] = "no", ["1"] = "string one", [-3] = "neg" },
      name("keys"))
    local p = table.import("keys")
    assert.are.equal("one", p[1])
    assert.are.equal("one", p[1.0])
    assert.are.equal("float", p[2.5])
    assert.are.equal("yes", p[true])
    assert.are.equal("no", p[false])
    assert.are.equal("string one", p["1"])
    assert.are.equal("neg", p[-3])
    assert.is_nil(p[0 / 0])
    assert.is_nil(p[{}])
    assert.is_nil(p[print])
    local got, n = collect(p)
    assert.are.equal(6, n)
    assert.are.same({ [1] = "one", [2.5] = "float", [true] = "yes", [false] = "no", ["1"] = "string one", [-3] = "neg" },
      got)
  end)

  it("gives nested tables as nested proxies", function()
    table.export({ a = { b = { c = "deep" } }, list = { 10, 20 } }, name("nested"))
    local p = table.import("nested")
    assert.are.equal("deep", p.a.b.c)
    assert.is_table(p.a)
    assert.is_nil(rawget(p.a, "b"))
    assert.are.equal(p.a, p.a)
    assert.are.equal(p.a.b, p.a.b)
    assert.are.equal(table.import("nested"), table.import("nested"))
    assert.are.equal(2, #p.list)
    assert.are.same({ a = { b = { c = "deep" } }, list = { 10, 20 } }, plain(p))
  end)

  it("supports #, ipairs and pairs", function()
    table.export({ "a", "b", "c", x = 1, [10] = "ten" }, name("seq"))
    local p = table.import("seq")
    assert.are.equal(3, #p)
    local seen = {}
    for i, v in ipairs(p) do seen[i] = v end
    assert.are.same({ "a", "b", "c" }, seen)
    local got, n = collect(p)
    assert.are.equal(5, n)
    assert.are.same({ "a", "b", "c", x = 1, [10] = "ten" }, got)
    -- pairs lists the array part first, in order.
    local order = {}
    for k in pairs(p) do order[#order + 1] = k end
    assert.are.same({ 1, 2, 3 }, { order[1], order[2], order[3] })
  end)

  it("is empty to raw access", function()
    table.export({ 1, 2, x = 3 }, name("raw"))
    local p = table.import("raw")
    assert.is_nil(rawget(p, 1))
    assert.is_nil(rawget(p, "x"))
    assert.is_nil(next(p))
    assert.are.equal(0, rawlen(p))
  end)

  it("is read-only", function()
    table.export({ 1, sub = { 2 } }, name("ro"))
    local p = table.import("ro")
    H.raises(function() p.x = 1 end, "ro is readonly")
    H.raises(function() p[1] = 5 end, "ro is readonly")
    H.raises(function() p.sub[1] = 5 end, "ro is readonly")
    H.raises(table.insert, "ro is readonly", p, 3)
    assert.are.equal(1, p[1])
    assert.are.equal(2, p.sub[1])
    assert.are.equal("readonly", getmetatable(p))
    H.raises(setmetatable, "protected metatable", p, {})
  end)

  it("copies at export time", function()
    local t = { a = { 1 } }
    table.export(t, name("copy"))
    t.a[1] = 2
    t.b = 3
    local p = table.import("copy")
    assert.are.equal(1, p.a[1])
    assert.is_nil(p.b)
  end)

  it("copies raw contents, ignoring metatables", function()
    local t = setmetatable({ own = 1 }, { __index = { inherited = 2 } })
    table.export(t, name("meta"))
    local p = table.import("meta")
    assert.are.equal(1, p.own)
    assert.is_nil(p.inherited)
  end)

  it("shows a re-export to existing proxies, nested ones included", function()
    table.export({ v = 1, sub = { w = 1 } }, name("live"))
    local p = table.import("live")
    local sub = p.sub
    table.export({ v = 2, sub = { w = 2 }, extra = true }, "live")
    assert.are.equal(2, p.v)
    assert.are.equal(2, sub.w)
    assert.is_true(p.extra)
    -- A path that now leads to a non-table reads as an empty table.
    table.export({ v = 3, sub = "scalar" }, "live")
    assert.is_nil(sub.w)
    assert.are.equal(0, #sub)
    assert.is_nil(next((collect(sub))))
    assert.are.equal("scalar", p.sub)
  end)

  it("iterates over the version current when pairs was called", function()
    table.export({ 1, 2, 3 }, name("snap"))
    local p = table.import("snap")
    local seen = {}
    for k, v in pairs(p) do
      seen[k] = v
      table.export({ "x" }, "snap")
    end
    assert.are.same({ 1, 2, 3 }, seen)
    assert.are.equal("x", p[1])
  end)

  it("removes an export with nil", function()
    table.export({ 1, sub = { 2 } }, name("gone"))
    local p = table.import("gone")
    local sub = p.sub
    assert.are.equal(0, select("#", table.export(nil, "gone")))
    assert.is_nil(table.import("gone"))
    assert.is_nil(p[1])
    assert.are.equal(0, #p)
    assert.is_nil(sub[1])
    assert.is_nil(next((collect(p))))
    -- Removing twice is harmless.
    table.export(nil, "gone")
    table.export({ 5 }, "gone")
    assert.are.equal(5, p[1])
  end)

  it("refuses to export a proxy", function()
    table.export({ 1, sub = { 2 } }, name("src"))
    local p = table.import("src")
    names[#names + 1] = "dst"
    H.raises(table.export, "export repeat", p, "dst")
    H.raises(table.export, "export repeat", p.sub, "dst")
    H.raises(table.export, "export repeat", { inner = p }, "dst")
    assert.is_nil(table.import("dst"))
  end)

  it("refuses what cannot be copied", function()
    names[#names + 1] = "bad"
    H.raises(table.export, "cannot export a function", { f = print }, "bad")
    H.raises(table.export, "cannot export a userdata", { io.stdout }, "bad")
    H.raises(table.export, "cannot export a thread", { coroutine.create(print) }, "bad")
    H.raises(table.export, "cannot export a table key", { [{}] = 1 }, "bad")
    H.raises(table.export, "cannot export a function key", { [print] = 1 }, "bad")
    local cyc = {}
    cyc.self = cyc
    H.raises(table.export, "nesting too deep", cyc, "bad")
    assert.is_nil(table.import("bad"))
  end)

  it("allows 64 levels of nesting and no more", function()
    local t = { "leaf" }
    for _ = 2, 64 do t = { t } end
    table.export(t, name("deep"))
    local p = table.import("deep")
    for _ = 2, 64 do p = p[1] end
    assert.are.equal("leaf", p[1])
    H.raises(table.export, "nesting too deep", { t }, "deep")
    -- The failed export left the old one in place.
    assert.is_table(table.import("deep")[1])
  end)

  it("rejects bad arguments", function()
    H.raises(table.export, "bad argument #1 to 'export' (table expected, got number)", 1, "x")
    H.raises(table.export, "bad argument #1 to 'export' (table expected, got string)", "t", "x")
    H.raises(table.export, "bad argument #2 to 'export' (string expected, got no value)", {})
    H.raises(table.export, "bad argument #2 to 'export' (string expected, got table)", {}, {})
    H.raises(table.export, "bad argument #2 to 'export' (string expected, got nil)", nil, nil)
    H.raises(table.import, "bad argument #1 to 'import' (string expected, got no value)")
    H.raises(table.import, "bad argument #1 to 'import' (string expected, got table)", {})
    H.raises(table.import, "bad argument #1 to 'import' (string expected, got boolean)", true)
  end)

  it("accepts a number as name, like other string arguments", function()
    table.export({ 1 }, 42)
    names[#names + 1] = "42"
    assert.are.equal(1, table.import("42")[1])
    assert.are.equal(1, table.import(42)[1])
  end)
end)
