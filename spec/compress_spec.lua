-- compress/uncompress (docs/API.md §3.5). Interop checked both ways with
-- python3's zlib (wbits=-15: raw deflate) and gzip modules.
require "skynet"
package.path = "spec/?.lua;" .. package.path
local python = require("support.python")
local H = require "support.helpers"

local RAW_COMPRESS = "c = zlib.compressobj(6, zlib.DEFLATED, -15)\nout = c.compress(data) + c.flush()"
local RAW_DECOMPRESS = "out = zlib.decompress(data, -15)"

local function sample()
  local t = {}
  for i = 1, 2000 do t[i] = string.format("line %d: %s\0\255", i, ("xyz"):rep(i % 7)) end
  return table.concat(t, "\n")
end

describe("compress", function()
  for _, data in ipairs { "", "a", sample() } do
    it("writes raw deflate python inflates (" .. #data .. " bytes)", function()
      local c = compress(data)
      assert.are.equal(c, compress(data, "deflate"))
      assert.are.equal(data, python.run(RAW_DECOMPRESS, c))
    end)

    it("writes gzip python's gzip module reads (" .. #data .. " bytes)", function()
      local c = compress(data, "gzip")
      assert.are.equal("\31\139", c:sub(1, 2))
      assert.are.equal(data, python.run("out = gzip.decompress(data)", c))
    end)
  end

  it("shrinks repetitive data", function()
    assert.is_true(#compress(("a"):rep(100000)) < 1000)
  end)

  it("raises on an unknown method and bad arguments", function()
    H.raises(function() compress("x", "zip") end, "unknown type: zip")
    H.raises(function() compress("x", "inflate") end, "unknown type: inflate")
    H.raises(function() compress() end, "bad argument #1 to 'compress' (string expected, got no value)")
    H.raises(function() compress("x", {}) end, "bad argument #2 to 'compress' (string expected, got table)")
  end)
end)

describe("uncompress", function()
  local data = sample()

  it("reads python's raw deflate, under 'deflate' and 'inflate'", function()
    local c = python.run(RAW_COMPRESS, data)
    assert.are.equal(data, uncompress(c))
    assert.are.equal(data, uncompress(c, "deflate"))
    assert.are.equal(data, uncompress(c, "inflate"))
    assert.are.equal("", uncompress(python.run(RAW_COMPRESS, "")))
  end)

  it("reads python's gzip, also at level 9 and multi-member", function()
    assert.are.equal(data, uncompress(python.run("out = gzip.compress(data)", data), "gzip"))
    assert.are.equal(data, uncompress(python.run("out = gzip.compress(data, 9)", data), "gzip"))
    assert.are.equal(data .. data, uncompress(python.run("out = gzip.compress(data) + gzip.compress(data)", data), "gzip"))
  end)

  it("returns nil, msg on corrupt or truncated data", function()
    local raw = compress(data)
    local gz = compress(data, "gzip")
    local cases = {
      { "garbage", "deflate" }, { "garbage", "gzip" }, { "", "gzip" }, { "", "deflate" },
      { raw:sub(1, #raw // 2), "deflate" }, { raw:sub(1, -2), "deflate" }, { raw .. "x", "deflate" },
      { gz:sub(1, #gz // 2), "gzip" }, { gz:sub(1, -2), "gzip" }, { gz .. "x", "gzip" },
      { raw, "gzip" },
      -- flipped CRC byte, then flipped length byte of the gzip trailer
      { gz:sub(1, -9) .. string.char(gz:byte(-8) ~ 1) .. gz:sub(-7), "gzip" },
      { gz:sub(1, -5) .. string.char(gz:byte(-4) ~ 1) .. gz:sub(-3), "gzip" },
    }
    for i, case in ipairs(cases) do
      local v, msg = uncompress(case[1], case[2])
      assert.is_nil(v, "case " .. i)
      assert.is_string(msg, "case " .. i)
    end
  end)

  it("caps the output at max bytes (inclusive), 64 MiB by default", function()
    local big = string.rep("ab", 5000)
    for _, method in ipairs({ "deflate", "gzip" }) do
      local c = compress(big, method)
      assert.are.equal(big, uncompress(c, method, 10000))
      assert.are.same({ nil, "output exceeds 9999 bytes" }, { uncompress(c, method, 9999) })
      assert.are.same({ nil, "output exceeds 0 bytes" }, { uncompress(c, method, 0) })
      assert.are.equal("", uncompress(compress("", method), method, 0))
    end
    local bomb = compress(string.rep("\0", (64 << 20) + 1))
    assert.are.same({ nil, "output exceeds 67108864 bytes" }, { uncompress(bomb) })
    assert.are.equal((64 << 20) + 1, #uncompress(bomb, "deflate", (64 << 20) + 1))
    H.raises(function() uncompress(bomb, "deflate", -1) end, "bad argument #3 to 'uncompress'")
  end)

  it("raises on an unknown method and bad arguments", function()
    H.raises(function() uncompress("x", "lz4") end, "unknown type: lz4")
    H.raises(function() uncompress(nil) end, "bad argument #1 to 'uncompress' (string expected, got nil)")
  end)
end)
