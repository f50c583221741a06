-- json (docs/API.md §14). Reference outputs come from python3's json module.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local python = require("support.python")

-- A document with every kind of value; keys sorted and pretty-printed by
-- python must equal our pretty, sorted output byte for byte.
local DOC = [==[{"name": "skynet \"quoted\" \\ tab\t nl\n ctl\u0001 é 😀 /",
  "ints": [0, -1, 9007199254740993, -9223372036854775808, 9223372036854775807],
  "floats": [1.0, -0.0, 0.1, 2.5e+300, 1e+16, 1000000000000000.0, 0.30000000000000004, 5e-324],
  "empty_list": [], "empty_obj": {}, "nested": {"a": [[[]]], "b": {"c": null}},
  "bools": [true, false], "null": null}]==]

describe("json.encode", function()
  it("writes python's json.dumps(indent=4, sort_keys=True, ensure_ascii=False) byte for byte", function()
    local expected = python.run("out = json.dumps(json.loads(data), indent=4, sort_keys=True, ensure_ascii=False).encode()", DOC)
    local ours = json.encode(json.decode(DOC), { pretty = true, sort_keys = true })
    assert.are.equal(expected, ours)
  end)

  it("writes compact output python reads back to the same value", function()
    local ours = json.encode(json.decode(DOC))
    assert.is_nil(ours:find("\n"))
    assert.are.equal("True", python.run("d = json.loads(data)\nout = str(d == json.loads(json.dumps(d))).encode()", ours))
    local back = python.run("out = json.dumps(json.loads(data), sort_keys=True).encode()", ours)
    assert.are.equal(python.run("out = json.dumps(json.loads(data), sort_keys=True).encode()", DOC), back)
  end)

  it("tells arrays from objects by keys", function()
    assert.are.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
    assert.are.equal('{"1":1,"3":3}', json.encode({ [1] = 1, [3] = 3 }, { sort_keys = true }))
    assert.are.equal('{"1":"a","x":1}', json.encode({ "a", x = 1 }, { sort_keys = true }))
    assert.are.equal('{"0":0,"1":1}', json.encode({ [0] = 0, [1] = 1 }, { sort_keys = true }))
    assert.are.equal('{"1.5":true}', json.encode({ [1.5] = true }))
  end)

  it("writes empty tables as {} unless marked or asked", function()
    assert.are.equal("{}", json.encode({}))
    assert.are.equal("[]", json.encode(json.array({})))
    assert.are.equal("[]", json.encode(json.array()))
    assert.are.equal("{}", json.encode(json.object()))
    assert.are.equal("[]", json.encode({}, { empty_table_as_array = true }))
    assert.are.equal("{}", json.encode(json.object({}), { empty_table_as_array = true }))
    assert.are.equal("[]", json.encode(setmetatable({}, { __jsontype = "array" })))
  end)

  it("json.object forces an object, json.array returns its argument", function()
    local t = { 10, 20 }
    assert.are.equal(t, json.array(t))
    assert.are.equal('{"1":10,"2":20}', json.encode(json.object(t), { sort_keys = true }))
  end)

  it("keeps integers and floats apart", function()
    assert.are.equal("1", json.encode(1))
    assert.are.equal("1.0", json.encode(1.0))
    assert.are.equal("-0.0", json.encode(-0.0))
    assert.are.equal("0.1", json.encode(0.1))
    assert.are.equal("9223372036854775807", json.encode(math.maxinteger))
    assert.are.equal("1e+300", json.encode(1e300))
  end)

  it("writes scalars, null and strings", function()
    assert.are.equal("null", json.encode(nil))
    assert.are.equal("null", json.encode(json.null))
    assert.are.equal("true", json.encode(true))
    assert.are.equal('"a\\"b\\\\c\\n\\u0000/"', json.encode('a"b\\c\n\0/'))
  end)

  it("pretty-prints with 4 spaces", function()
    assert.are.equal('{\n    "a": [\n        1,\n        2\n    ],\n    "b": {}\n}',
      json.encode({ a = { 1, 2 }, b = {} }, { pretty = true, sort_keys = true }))
    assert.are.equal("[]", json.encode(json.array(), { pretty = true }))
  end)

  it("raises on values JSON cannot hold", function()
    assert.has_error(function() json.encode(0 / 0) end, "json.encode: cannot encode nan (JSON has no NaN or infinity)")
    assert.has_error(function() json.encode({ x = math.huge }) end)
    assert.has_error(function() json.encode({ -math.huge }) end)
    assert.has_error(function() json.encode(print) end, "json.encode: cannot encode a function")
    assert.has_error(function() json.encode({ coroutine.create(print) }) end, "json.encode: cannot encode a thread")
    assert.has_error(function() json.encode(io.stdout) end, "json.encode: cannot encode a userdata")
    assert.has_error(function() json.encode({ [{}] = 1 }) end)
    assert.has_error(function() json.encode({ [true] = 1 }, { sort_keys = true }) end)
    assert.has_error(function() json.encode({ [math.huge] = 1 }) end)
    assert.has_error(function() json.encode("\xff") end)
  end)

  it("raises past 1000 levels and on cycles, accepts 1000", function()
    local t = {}
    for _ = 2, 1000 do t = { t } end
    assert.are.equal(2000, #json.encode(t))
    assert.has_error(function() json.encode({ t }) end)
    local cycle = {}
    cycle.self = cycle
    assert.has_error(function() json.encode(cycle) end)
  end)

  it("checks its arguments", function()
    assert.has_error(function() json.encode() end, "bad argument #1 to 'encode' (value expected)")
    assert.has_error(function() json.encode({}, 5) end, "bad argument #2 to 'encode' (table expected, got number)")
    assert.has_error(function() json.array(5) end)
  end)
end)

describe("json.decode", function()
  it("reads python's output with \\u escapes and surrogate pairs", function()
    local text = python.run([[out = json.dumps({"s": "é 😀 \u0001 \"q\" \\", "n": None, "a": [1, 2.0, -3]}, ensure_ascii=True).encode()]])
    assert.truthy(text:find("\\ud83d\\ude00", 1, true))
    local v = json.decode(text)
    assert.are.equal('é 😀 \1 "q" \\', v.s)
    assert.are.equal(json.null, v.n)
    assert.are.equal(3, #v.a)
    assert.are.equal("integer", math.type(v.a[1]))
    assert.are.equal("float", math.type(v.a[2]))
    assert.are.equal(-3, v.a[3])
  end)

  it("keeps integers, floats and big numbers", function()
    assert.are.equal(math.mininteger, json.decode("-9223372036854775808"))
    assert.are.equal(math.maxinteger, json.decode("9223372036854775807"))
    assert.are.equal("float", math.type(json.decode("9223372036854775808")))
    assert.are.equal("float", math.type(json.decode("1e2")))
    assert.are.equal(0.30000000000000004, json.decode("0.30000000000000004"))
    for _, x in ipairs { 0.1, 1 / 3, 5e-324, 1.7976931348623157e308, 123.456e-100 } do
      assert.are.equal(x, json.decode(json.encode(x)))
    end
  end)

  it("marks arrays and objects so they re-encode as the same kind", function()
    assert.are.equal('{"a":[],"b":{},"c":[{}]}', json.encode(json.decode('{"a":[],"b":{},"c":[{}]}'), { sort_keys = true }))
    assert.are.equal("array", getmetatable(json.decode("[]")).__jsontype)
    assert.are.equal("object", getmetatable(json.decode("{}")).__jsontype)
  end)

  it("keeps nulls in arrays and the last of duplicate keys", function()
    local a = json.decode("[null, 1, null]")
    assert.are.equal(json.null, a[1])
    assert.are.equal(json.null, a[3])
    assert.are.equal(2, json.decode('{"k":1,"k":2}').k)
  end)

  it("reads big arrays and objects", function()
    local parts, obj = {}, {}
    for i = 1, 5000 do parts[i] = tostring(i); obj[i] = string.format('"k%d":%d', i, i) end
    local a = json.decode("[" .. table.concat(parts, ",") .. "]")
    assert.are.equal(5000, #a)
    assert.are.equal(4321, a[4321])
    local o = json.decode("{" .. table.concat(obj, ",") .. "}")
    assert.are.equal(4321, o.k4321)
  end)

  it("returns nil and a message with line and column on bad input", function()
    for _, bad in ipairs { "", "[1,]", "{", '{"a" 1}', "nul", "01", "1.", '"\\x"', '"\\ud800"', "[1] x", "NaN", '"a\nb"', "\255" } do
      local v, msg = json.decode(bad)
      assert.is_nil(v, bad)
      assert.is_string(msg)
      assert.truthy(msg:find("line %d+ column %d+"), msg)
    end
    local _, msg = json.decode("{\n  \"a\": 1,\n  \"b\": x\n}")
    assert.truthy(msg:find("line 3 column 8", 1, true), msg)
  end)

  it("reads 1000 levels and refuses deeper, without crashing", function()
    assert.is_table(json.decode(string.rep("[", 1000) .. string.rep("]", 1000)))
    local v, msg = json.decode(string.rep("[", 1001) .. string.rep("]", 1001))
    assert.is_nil(v)
    assert.truthy(msg:find("nesting deeper than 1000", 1, true), msg)
    v, msg = json.decode(string.rep('{"a":', 100000))
    assert.is_nil(v)
    assert.is_string(msg)
  end)

  it("checks its argument", function()
    assert.has_error(function() json.decode() end, "bad argument #1 to 'decode' (string expected, got no value)")
    assert.has_error(function() json.decode({}) end, "bad argument #1 to 'decode' (string expected, got table)")
    assert.are.equal(12, json.decode(12))
  end)
end)
