-- base64 (docs/API.md §15). Reference outputs come from python3's base64 module.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local python = require("support.python")
local H = require "support.helpers"

local function all_bytes()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return table.concat(t):rep(3) .. "tail"
end

describe("base64", function()
  it("encodes like python's base64.b64encode", function()
    for _, data in ipairs { "", "f", "fo", "foo", "foob", "fooba", "foobar", all_bytes() } do
      assert.are.equal(python.run("out = base64.b64encode(data)", data), base64.encode(data))
    end
  end)

  it("decodes python's output, with or without padding", function()
    local data = all_bytes()
    local coded = python.run("out = base64.b64encode(data)", data)
    assert.is_nil(coded:find("\n"))
    assert.are.equal(data, base64.decode(coded))
    assert.are.equal("foob", base64.decode("Zm9vYg"))
    assert.are.equal("fooba", base64.decode("Zm9vYmE"))
    assert.are.equal("", base64.decode(""))
  end)

  it("returns nil, 'invalid base64' on bad input", function()
    for _, bad in ipairs { "Z", "Zm9v!", "Zm 9v", "Zm9v\n", "-_8=", "Zh==", "Zg==Zg==", "====" } do
      local v, msg = base64.decode(bad)
      assert.is_nil(v, bad)
      assert.are.equal("invalid base64", msg)
    end
  end)

  it("checks argument types", function()
    H.raises(function() base64.encode() end, "bad argument #1 to 'encode' (string expected, got no value)")
    H.raises(function() base64.decode({}) end, "bad argument #1 to 'decode' (string expected, got table)")
  end)
end)
