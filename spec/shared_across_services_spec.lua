require "skynet"
local H = require "support.helpers"

-- The peer service lives in spec/helpers/shared_peer.lua; spec/run.sh puts
-- spec/ on LUA_PATH, this line does the same for a bare `busted` run from the
-- checkout root. os.pload passes package.path on to the new state.
package.path = "./spec/?.lua;" .. package.path

-- A synchronous rpc to the peer; fails the test unless the call succeeded.
-- Returns the handler's results, count included.
local function call(name, ...)
  local r = table.pack(pcall(name, ...))
  assert(r[1] == true, ("rpc %s failed: %s"):format(name, tostring(r[2])))
  return table.unpack(r, 2, r.n)
end

local function pack(...)
  return table.pack(...)
end

describe("storage and table.export across services", function()
  local job
  local exports = { "xs.cfg", "xs.peer", "xs.live", "xs.peer_live", "xs.none" }

  setup(function()
    local ok
    ok, job = os.pload("helpers.shared_peer")
    assert(ok, job)
  end)

  teardown(function()
    if job then job:close() end
    storage.clear()
    for _, name in ipairs(exports) do table.export(nil, name) end
  end)

  before_each(function() storage.clear() end)

  describe("storage", function()
    it("a service reads what the main script stored", function()
      storage.set("xs.a", { x = 1, list = { 1, 2 } }, nil, 2.5)
      local r = pack(call("shared_peer.get", "xs.a"))
      assert.are.same({ n = 3, { x = 1, list = { 1, 2 } }, nil, 2.5 }, r)
      assert.are.equal("float", math.type(r[3]))
      r = pack(call("shared_peer.get", "xs.missing"))
      assert.are.same({ n = 1 }, r)
    end)

    it("the main script reads what a service stored", function()
      assert.is_nil(call("shared_peer.set", "xs.b", "from peer", 7))
      local r = pack(storage.get("xs.b"))
      assert.are.same({ n = 2, "from peer", 7 }, r)
      -- The peer's set returns the previous values, which the main script wrote.
      storage.set("xs.b", "from main")
      assert.are.equal("from main", call("shared_peer.set", "xs.b", 2))
      assert.are.equal(2, storage.get("xs.b"))
    end)

    it("both see the same keys", function()
      storage.set("xs.one", 1)
      call("shared_peer.set", "xs.two", 2)
      assert.are.equal(2, storage.size())
      assert.are.equal(2, call("shared_peer.size"))
      storage.clear()
      assert.are.equal(0, call("shared_peer.size"))
    end)

    it("a check in a service reads the store and cannot yield", function()
      storage.set("xs.other", "seen by the check")
      local ok, seen = call("shared_peer.set_if_reads", "xs.k", "xs.other")
      assert.is_true(ok)
      assert.are.equal("seen by the check", seen)
      assert.are.equal("set by peer", storage.get("xs.k"))

      local yielded, err = call("shared_peer.set_if_yield", "xs.y")
      assert.is_false(yielded)
      assert.matches("attempt to yield", err, 1, true)
      assert.is_false(storage.exist("xs.y"))
      -- The lock was released in the peer: the main script can write.
      assert.is_nil(storage.set("xs.y", 1))
    end)

    it("set_if from two services at once counts exactly", function()
      local rounds = 2000
      storage.set("xs.n", 0)
      local done
      assert.is_true(pcall("shared_peer.count", function(ok, r) done = { ok, r } end, "xs.n", rounds))
      for _ = 1, rounds do
        repeat
          local n = storage.get("xs.n")
          local ok = storage.set_if("xs.n", function(_, old) return old == n end, n + 1)
        until ok
      end
      H.wait_until(function() return done end, 60000)
      assert.are.same({ true, true }, done)
      assert.are.equal(2 * rounds, storage.get("xs.n"))
    end)
  end)

  describe("table.export", function()
    it("a service imports what the main script exported", function()
      table.export({ name = "cfg", list = { 10, 20, 30 }, [2.5] = true }, "xs.cfg")
      assert.are.equal("cfg", call("shared_peer.read", "xs.cfg", "name"))
      assert.are.same({ n = 2, "table", 3 }, pack(call("shared_peer.read", "xs.cfg", "list")))
      assert.are.equal(20, call("shared_peer.read", "xs.cfg", "list", 2))
      assert.is_true(call("shared_peer.read", "xs.cfg", 2.5))
    end)

    it("the main script imports what a service exported", function()
      assert.is_true(call("shared_peer.export", { a = { b = "c" }, 1, 2 }, "xs.peer"))
      local p = table.import("xs.peer")
      assert.are.equal("c", p.a.b)
      assert.are.equal(2, #p)
    end)

    it("an import of a name nobody exported is nil in a service too", function()
      assert.is_nil(call("shared_peer.read", "xs.none"))
      assert.are.equal("nil", call("shared_peer.hold", "none", "xs.none"))
    end)

    it("a re-export is seen by proxies a service already holds", function()
      table.export({ v = 1, sub = { w = 1 } }, "xs.live")
      assert.are.equal("table", call("shared_peer.hold", "top", "xs.live"))
      assert.are.equal("table", call("shared_peer.hold", "sub", "xs.live", "sub"))
      assert.are.equal(1, call("shared_peer.read_held", "top", "v"))
      assert.are.equal(1, call("shared_peer.read_held", "sub", "w"))

      table.export({ v = 2, sub = { w = 2, x = 3 } }, "xs.live")
      assert.are.equal(2, call("shared_peer.read_held", "top", "v"))
      assert.are.equal(2, call("shared_peer.read_held", "sub", "w"))
      assert.are.same({ w = 2, x = 3 }, call("shared_peer.pairs_held", "sub"))

      table.export(nil, "xs.live")
      assert.is_nil(call("shared_peer.read_held", "top", "v"))
      assert.are.same({}, call("shared_peer.pairs_held", "top"))
    end)

    it("a re-export by a service is seen by a proxy the main script holds", function()
      call("shared_peer.export", { v = "first", sub = { 1 } }, "xs.peer_live")
      local p = table.import("xs.peer_live")
      local sub = p.sub
      assert.are.equal("first", p.v)
      call("shared_peer.export", { v = "second", sub = { 2 } }, "xs.peer_live")
      assert.are.equal("second", p.v)
      assert.are.equal(2, sub[1])
    end)
  end)
end)
