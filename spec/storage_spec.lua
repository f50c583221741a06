require "skynet"
local H = require "support.helpers"

local function pack(...)
  return table.pack(...)
end

describe("storage", function()
  -- The store is process-wide: start every test from an empty one.
  before_each(function() storage.clear() end)
  after_each(function() storage.clear() end)

  describe("set / get", function()
    it("returns nil for a new key and the previous values after", function()
      assert.is_nil(storage.set("k", 1))
      local r = pack(storage.set("k", 2, "two"))
      assert.are.same({ n = 1, 1 }, r)
      r = pack(storage.set("k", 3))
      assert.are.same({ n = 2, 2, "two" }, r)
      assert.are.equal(3, storage.get("k"))
    end)

    it("keeps the whole list of values, trailing nils counted", function()
      storage.set("k", 1, nil)
      local r = pack(storage.get("k"))
      assert.are.equal(2, r.n)
      assert.are.equal(1, r[1])
      assert.is_nil(r[2])
      storage.set("n", nil)
      assert.is_true(storage.exist("n"))
      r = pack(storage.get("n"))
      assert.are.equal(1, r.n)
      assert.is_nil(r[1])
      storage.set("m", nil, nil, 3, nil)
      r = pack(storage.get("m"))
      assert.are.same({ n = 4, [3] = 3 }, r)
    end)

    it("get of a missing key is one nil", function()
      local r = pack(storage.get("missing"))
      assert.are.equal(1, r.n)
      assert.is_nil(r[1])
    end)

    it("copies values and keeps their types", function()
      local t = { 1, 2.0, "x\0y", true, sub = { a = { b = "c" } }, [2.5] = false }
      storage.set("t", t, 7, 7.0, "\255")
      t.sub.a.b = "changed"
      t[1] = 100
      local got, i, f, s = storage.get("t")
      assert.are_not.equal(t, got)
      assert.are.same({ 1, 2.0, "x\0y", true, sub = { a = { b = "c" } }, [2.5] = false }, got)
      assert.are.equal("float", math.type(got[2]))
      assert.are.equal("integer", math.type(i))
      assert.are.equal("float", math.type(f))
      assert.are.equal("\255", s)
      -- Each get is a fresh copy.
      got.sub = nil
      assert.is_table((storage.get("t")).sub)
    end)

    it("converts number keys to strings like tostring", function()
      storage.set(1, "int")
      assert.are.equal("int", storage.get("1"))
      storage.set(1.5, "float")
      assert.are.equal("float", storage.get("1.5"))
      storage.set(2.0, "two")
      assert.are.equal("two", storage.get(tostring(2.0)))
      assert.is_nil(storage.get("2"))
    end)

    it("keys are binary-safe strings", function()
      storage.set("a\0b", 1)
      storage.set("a", 2)
      assert.are.equal(1, storage.get("a\0b"))
      assert.are.equal(2, storage.get("a"))
    end)

    it("refuses a missing value", function()
      H.raises(storage.set, "no value", "k")
      assert.is_false(storage.exist("k"))
    end)

    it("refuses values that cannot be copied and keeps the old ones", function()
      storage.set("k", "old")
      H.raises(storage.set, "cannot wrap a function", "k", print)
      H.raises(storage.set, "cannot wrap a thread", "k", 1, coroutine.create(print))
      H.raises(storage.set, "cannot wrap a userdata", "k", io.stdout)
      local deep = {}
      for _ = 2, 65 do deep = { deep } end
      H.raises(storage.set, "nesting too deep", "k", deep)
      local cyc = {}
      cyc.self = cyc
      H.raises(storage.set, "nesting too deep", "k", cyc)
      assert.are.equal("old", storage.get("k"))
    end)

    it("rejects keys that are not strings or numbers", function()
      H.raises(storage.set, "bad argument #1 to 'set' (string expected, got table)", {}, 1)
      H.raises(storage.set, "bad argument #1 to 'set' (string expected, got nil)", nil, 1)
      H.raises(storage.get, "bad argument #1 to 'get' (string expected, got boolean)", true)
      H.raises(storage.get, "bad argument #1 to 'get' (string expected, got no value)")
      H.raises(storage.get, "bad argument #1 to 'get' (string expected, got function)", print)
    end)
  end)

  describe("exist", function()
    it("tells whether a key is stored", function()
      assert.is_false(storage.exist("k"))
      storage.set("k", false)
      assert.is_true(storage.exist("k"))
      storage.set(5, 1)
      assert.is_true(storage.exist("5"))
      assert.is_true(storage.exist(5))
    end)

    it("rejects bad keys", function()
      H.raises(storage.exist, "bad argument #1 to 'exist' (string expected, got table)", {})
      H.raises(storage.exist, "bad argument #1 to 'exist' (string expected, got no value)")
    end)
  end)

  describe("erase", function()
    it("removes a key and returns its values", function()
      storage.set("k", 1, nil, "x")
      local r = pack(storage.erase("k"))
      assert.are.same({ n = 3, 1, nil, "x" }, r)
      assert.is_false(storage.exist("k"))
      r = pack(storage.erase("k"))
      assert.are.equal(1, r.n)
      assert.is_nil(r[1])
    end)

    it("rejects bad keys", function()
      H.raises(storage.erase, "bad argument #1 to 'erase' (string expected, got table)", {})
    end)
  end)

  describe("empty / size / clear", function()
    it("count keys and clear them all", function()
      assert.is_true(storage.empty())
      assert.are.equal(0, storage.size())
      storage.set("a", 1)
      storage.set("b", 1, 2, 3)
      storage.set("a", 2)
      assert.is_false(storage.empty())
      assert.are.equal(2, storage.size())
      assert.are.equal("integer", math.type(storage.size()))
      assert.are.equal(0, select("#", storage.clear()))
      assert.is_true(storage.empty())
      assert.are.equal(0, storage.size())
      assert.is_false(storage.exist("a"))
    end)
  end)

  describe("set_if", function()
    it("passes the new values then the stored ones to check", function()
      storage.set("k", "old1", nil)
      local seen
      storage.set_if("k", function(...) seen = pack(...) return false end, "new1", "new2")
      assert.are.same({ n = 4, "new1", "new2", "old1" }, seen)
      storage.set_if("absent", function(...) seen = pack(...) return false end, 1, nil)
      assert.are.same({ n = 2, 1 }, seen)
    end)

    it("stores when check says yes and returns true with the old values", function()
      local r = pack(storage.set_if("k", function() return true end, 1))
      assert.are.same({ n = 2, true }, r)
      assert.are.equal(1, storage.get("k"))
      r = pack(storage.set_if("k", function() return "yes" end, 2, nil))
      assert.are.same({ n = 2, true, 1 }, r)
      r = pack(storage.get("k"))
      assert.are.same({ n = 2, 2 }, r)
      r = pack(storage.set_if("k", function() return 0 end, 3))
      assert.are.same({ n = 3, true, 2 }, r)
      assert.are.equal(3, storage.get("k"))
    end)

    it("stores nothing when check says no", function()
      storage.set("k", "old")
      for _, verdict in ipairs({ false, nil }) do
        local r = pack(storage.set_if("k", function() return verdict end, "new"))
        assert.are.same({ n = 2, false }, r)
        assert.are.equal("old", storage.get("k"))
      end
      local r = pack(storage.set_if("k", function() end, "new"))
      assert.are.same({ n = 2, false }, r)
      r = pack(storage.set_if("fresh", function() return false end, 1))
      assert.are.same({ n = 2, false }, r)
      assert.is_false(storage.exist("fresh"))
    end)

    it("works as compare-and-set", function()
      storage.set("counter", 0)
      for _ = 1, 10 do
        local n = storage.get("counter")
        local ok = storage.set_if("counter", function(new, old) return old == n end, n + 1)
        assert.is_true(ok)
      end
      assert.are.equal(10, storage.get("counter"))
      assert.is_false((storage.set_if("counter", function(new, old) return old == 3 end, 0)))
    end)

    it("gives check copies of the stored values", function()
      storage.set("k", { a = 1 })
      storage.set_if("k", function(_, old) old.a = 2 return false end, 0)
      assert.are.equal(1, storage.get("k").a)
    end)

    it("lets check read the store", function()
      storage.set("other", "o", 2)
      local seen
      local ok = storage.set_if("k", function()
        local v1, v2 = storage.get("other")
        seen = pack(v1, v2, storage.exist("other"), storage.exist("k"), storage.size(), storage.empty())
        return true
      end, 1)
      assert.is_true(ok)
      assert.are.same({ n = 6, "o", 2, true, false, 1, false }, seen)
    end)

    it("refuses writes from inside check, storing nothing", function()
      local writes = {
        set = function() storage.set("x", 1) end,
        erase = function() storage.erase("x") end,
        clear = function() storage.clear() end,
        set_if = function() storage.set_if("x", function() return true end, 1) end,
      }
      storage.set("x", "keep")
      for name, write in pairs(writes) do
        local msg = H.error_of(storage.set_if, "k", function() write() return true end, 1)
        assert(msg:find("cannot write to the storage inside a set_if check", 1, true), name .. ": " .. msg)
        assert.is_false(storage.exist("k"))
        assert.are.equal("keep", storage.get("x"))
      end
      -- The check may catch the error itself and go on.
      local ok = storage.set_if("k", function() return not pcall(storage.set, "x", 2) end, 1)
      assert.is_true(ok)
      assert.are.equal("keep", storage.get("x"))
    end)

    it("propagates errors of check with nothing stored and the lock released", function()
      storage.set("k", "old")
      H.raises(storage.set_if, "boom", "k", function() error("boom") end, "new")
      assert.are.equal("old", storage.get("k"))
      assert.is_nil(storage.set("other", 1))
    end)

    it("does not let check yield", function()
      local co = coroutine.wrap(function()
        return pcall(storage.set_if, "k", function() coroutine.yield() return true end, 1)
      end)
      local ok, err = co()
      assert.is_false(ok)
      assert.matches("attempt to yield", tostring(err), 1, true)
      assert.is_false(storage.exist("k"))
      -- The lock was released: writes work again.
      assert.is_nil(storage.set("k", 2))
      -- Outside any coroutine too.
      H.raises(storage.set_if, "attempt to yield", "j", function() coroutine.yield() end, 1)
      assert.is_false(storage.exist("j"))
    end)

    it("refuses values that cannot be copied before calling check", function()
      local called = false
      H.raises(storage.set_if, "cannot wrap a function", "k", function() called = true return true end, print)
      assert.is_false(called)
      assert.is_false(storage.exist("k"))
    end)

    it("rejects bad arguments", function()
      H.raises(storage.set_if, "bad argument #1 to 'set_if' (string expected, got table)", {}, function() end, 1)
      H.raises(storage.set_if, "bad argument #2 to 'set_if' (function expected, got nil)", "k", nil, 1)
      H.raises(storage.set_if, "bad argument #2 to 'set_if' (function expected, got no value)", "k")
      H.raises(storage.set_if, "bad argument #2 to 'set_if' (function expected, got string)", "k", "f", 1)
      H.raises(storage.set_if, "no value", "k", function() return true end)
      assert.is_false(storage.exist("k"))
    end)
  end)
end)
