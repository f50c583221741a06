require "skynet"
local H = require "support.helpers"

local function items(l)
  local t = {}
  for v in pairs(l) do t[#t + 1] = v end
  return t
end

describe("std.list", function()
  it("pushes, pops and peeks at both ends", function()
    local l = std.list()
    assert.is_true(l:empty())
    assert.equal(0, l:size())
    assert.is_nil(l:front())
    assert.is_nil(l:back())
    assert.is_nil(l:pop_back())
    assert.is_nil(l:pop_front())
    l:push_back(2); l:push_back(3); l:push_front(1)
    assert.is_false(l:empty())
    assert.equal(3, #l)
    assert.equal(3, l:size())
    assert.equal(1, l:front())
    assert.equal(3, l:back())
    assert.same({ 1, 2, 3 }, items(l))
    assert.equal(3, l:pop_back())
    assert.equal(1, l:pop_front())
    assert.same({ 2 }, items(l))
  end)

  it("holds any non-nil value, false included", function()
    local l = std.list()
    local t, f = {}, function() end
    l:push_back(false); l:push_back(t); l:push_back(f); l:push_back("s"); l:push_back(1.5)
    assert.same({ false, t, f, "s", 1.5 }, items(l))
    assert.equal(false, l:pop_front())
  end)

  it("rejects nil and calls on non-lists", function()
    local l = std.list()
    H.raises(l.push_back, "bad argument #2 to 'push_back' (value expected, got nil)", l, nil)
    H.raises(l.push_front, "bad argument #2 to 'push_front' (value expected, got no value)", l)
    H.raises(l.size, "bad argument #1 to 'size' (list expected, got table)", {})
    H.raises(l.erase, "bad argument #2 to 'erase' (number expected, got string)", l, "x")
    assert.equal(0, #l)
  end)

  it("clears and reverses", function()
    local l = std.list()
    for i = 1, 5 do l:push_back(i) end
    l:reverse()
    assert.same({ 5, 4, 3, 2, 1 }, items(l))
    assert.equal(5, l:front())
    l:clear()
    assert.is_true(l:empty())
    assert.same({}, items(l))
    l:push_back("again")
    assert.same({ "again" }, items(l))
  end)

  it("pairs yields value and iter; erase(iter) is safe during the loop", function()
    local l = std.list()
    for i = 1, 6 do l:push_back(i) end
    local seen = {}
    for v, it in pairs(l) do
      seen[#seen + 1] = v
      assert.is_number(it)
      if v % 2 == 0 then assert.is_true(l:erase(it)) end
      assert.is_false(v % 2 == 0 and l:erase(it)) -- already removed
    end
    assert.same({ 1, 2, 3, 4, 5, 6 }, seen)
    assert.same({ 1, 3, 5 }, items(l))
  end)

  it("erase(iter) also works after the loop and on handles from push", function()
    local l = std.list()
    local a = l:push_back("a")
    local b = l:push_back("b")
    l:push_front("z")
    assert.is_true(l:erase(b))
    assert.is_false(l:erase(b))
    assert.same({ "z", "a" }, items(l))
    local kept
    for v, it in pairs(l) do if v == "a" then kept = it end end
    assert.equal(a, kept)
    assert.is_true(l:erase(kept))
    assert.same({ "z" }, items(l))
    assert.is_false(l:erase(12345))
  end)

  it("erase() removes the last yielded element in a loop, the back outside", function()
    local l = std.list()
    for i = 1, 5 do l:push_back(i) end
    for v in pairs(l) do
      if v == 2 or v == 3 then assert.is_true(l:erase()) end
    end
    assert.same({ 1, 4, 5 }, items(l))
    assert.is_true(l:erase()) -- loop finished: removes the back
    assert.same({ 1, 4 }, items(l))
    l:clear()
    assert.is_false(l:erase())
  end)

  it("survives removing the next element too", function()
    local l = std.list()
    local its = {}
    for i = 1, 4 do its[i] = l:push_back(i) end
    local seen = {}
    for v in pairs(l) do
      seen[#seen + 1] = v
      if v == 1 then l:erase(its[2]) end
    end
    assert.same({ 1, 3, 4 }, seen)
  end)
end)

describe("std.skiplist", function()
  local function order(sl)
    local t = {}
    for rank, data, score in sl:rank_pairs() do t[#t + 1] = { rank, data, score } end
    return t
  end

  it("inserts in ascending score order by default", function()
    local sl = std.skiplist()
    assert.is_true(sl:insert("b", 20))
    sl:insert("a", 10); sl:insert("c", 30); sl:insert("a2", 10)
    assert.same({ { 1, "a", 10 }, { 2, "a2", 10 }, { 3, "b", 20 }, { 4, "c", 30 } }, order(sl))
    assert.equal(4, #sl)
    assert.equal(4, sl:size())
    assert.equal(math.type(10), math.type(sl:get_score("a"))) -- integers stay integers
    assert.equal(1.5, (function() sl:insert("f", 1.5) return sl:get_score("f") end)())
  end)

  it("descends with comp = true, ascends with false", function()
    local d = std.skiplist(true)
    for i = 1, 5 do d:insert(i, i) end
    assert.same({ 5, 4, 3, 2, 1 }, d:rank_range())
    local a = std.skiplist(false)
    for i = 5, 1, -1 do a:insert(i, i) end
    assert.same({ 1, 2, 3, 4, 5 }, a:rank_range())
  end)

  it("uses a Lua comparator with scores and a tiebreak", function()
    local calls = 0
    local sl = std.skiplist(function(a, b, sa, sb, tiebreak)
      calls = calls + 1
      assert.is_true(tiebreak == -1 or tiebreak == 1)
      if sa ~= sb then return sa - sb end
      if a ~= b then return a < b and -1 or 1 end
      return tiebreak
    end)
    sl:insert(30, 1); sl:insert(10, 2); sl:insert(20, 1)
    assert.is_true(calls > 0)
    assert.same({ 20, 30, 10 }, sl:rank_range())
    -- a comparator that only returns the tiebreak keeps insertion order
    local fifo = std.skiplist(function(_, _, _, _, t) return t end)
    for _, v in ipairs({ "x", "y", "z" }) do fifo:insert(v, 0) end
    assert.same({ "x", "y", "z" }, fifo:rank_range())
  end)

  it("propagates comparator errors without changing the list", function()
    local fail = false
    local sl = std.skiplist(function(a, b, sa, sb)
      if fail then error("comparator broke") end
      return sa - sb
    end)
    for i = 1, 20 do sl:insert(i, i) end
    fail = true
    H.raises(sl.insert, "comparator broke", sl, 99, 5)
    H.raises(sl.update, "comparator broke", sl, 3, 100)
    fail = false
    assert.equal(20, #sl)
    assert.is_false(sl:exists(99))
    assert.equal(3, sl:get_score(3))
    assert.equal(3, sl:rank_of(3))
    local bad = std.skiplist(function() return "x" end)
    bad:insert(1, 1)
    H.raises(bad.insert, "comparator must return a number", bad, 2, 2)
    assert.equal(1, #bad)
  end)

  it("errors on an existing value and on bad arguments", function()
    local sl = std.skiplist()
    sl:insert("a", 1)
    H.raises(sl.insert, "value exists", sl, "a", 2)
    assert.equal(1, sl:get_score("a"))
    H.raises(sl.insert, "bad argument #2 to 'insert' (value expected, got nil)", sl, nil, 1)
    H.raises(sl.insert, "bad argument #3 to 'insert' (number expected, got no value)", sl, "b")
    H.raises(sl.insert, "bad argument #3 to 'insert' (score is NaN)", sl, "b", 0 / 0)
    H.raises(sl.insert, "bad argument #2 to 'insert' (value is NaN)", sl, 0 / 0, 1)
    H.raises(std.skiplist, "bad argument #1 to 'skiplist' (function or boolean expected, got number)", 1)
    H.raises(sl.insert, "bad argument #1 to 'insert' (skiplist expected, got table)", {}, 1, 1)
    H.raises(sl.get_by_rank, "bad argument #2 to 'get_by_rank' (number expected, got string)", sl, "x")
    H.raises(sl.exists, "bad argument #2 to 'exists' (value expected, got nil)", sl, nil)
  end)

  it("keys elements by Lua equality: identity for tables, value for numbers/strings", function()
    local sl = std.skiplist()
    local t1, t2 = {}, {}
    sl:insert(t1, 1); sl:insert(t2, 2)
    assert.equal(1, sl:get_score(t1))
    assert.is_false(sl:exists({}))
    sl:insert(1, 5)
    H.raises(sl.insert, "value exists", sl, 1.0, 6)
    assert.is_true(sl:exists(1.0))
    sl:insert("1", 7)
    assert.equal(4, #sl)
  end)

  it("update inserts, moves and deletes", function()
    local sl = std.skiplist()
    sl:update("a", 3); sl:update("b", 2); sl:update("c", 1)
    assert.same({ "c", "b", "a" }, sl:rank_range())
    sl:update("c", 10)
    assert.same({ "b", "a", "c" }, sl:rank_range())
    sl:update("b", nil)
    assert.same({ "a", "c" }, sl:rank_range())
    sl:update("zz") -- deleting a missing element is a no-op
    assert.equal(2, #sl)
  end)

  it("delete, exists, get_score, rank_of", function()
    local sl = std.skiplist()
    for i = 1, 5 do sl:insert("k" .. i, i * 10) end
    assert.is_true(sl:exists("k3"))
    assert.equal(30, sl:get_score("k3"))
    assert.equal(3, sl:rank_of("k3"))
    assert.is_true(sl:delete("k3"))
    assert.is_false(sl:delete("k3"))
    assert.is_false(sl:exists("k3"))
    assert.is_nil(sl:get_score("k3"))
    assert.is_nil(sl:rank_of("k3"))
    assert.equal(3, sl:rank_of("k4"))
  end)

  it("sl[data] reads and writes scores; method names still resolve to methods", function()
    local sl = std.skiplist()
    sl.x = 5
    sl[42] = 1
    assert.equal(5, sl.x)
    assert.equal(1, sl[42])
    assert.is_nil(sl.missing)
    assert.is_nil(sl[nil])
    assert.same({ 42, "x" }, sl:rank_range())
    sl.x = nil
    assert.is_false(sl:exists("x"))
    assert.is_function(sl.insert)
    sl:update("insert", 7) -- a data key named like a method: use the methods
    assert.is_function(sl.insert)
    assert.equal(7, sl:get_score("insert"))
  end)

  it("get_by_rank and del_by_rank return nil, 'err index' out of range", function()
    local sl = std.skiplist()
    for i = 1, 3 do sl:insert("k" .. i, i) end
    local d, s = sl:get_by_rank(2)
    assert.equal("k2", d); assert.equal(2, s)
    for _, r in ipairs({ 0, -1, 4 }) do
      local v, err = sl:get_by_rank(r)
      assert.is_nil(v); assert.equal("err index", err)
      v, err = sl:del_by_rank(r)
      assert.is_nil(v); assert.equal("err index", err)
    end
    d, s = sl:del_by_rank(1)
    assert.equal("k1", d); assert.equal(1, s)
    assert.same({ "k2", "k3" }, sl:rank_range())
  end)

  it("del_by_rank_range removes a rank range and checks it", function()
    local sl = std.skiplist()
    for i = 1, 10 do sl:insert(i, i) end
    assert.equal(3, sl:del_by_rank_range(2, 4))
    assert.same({ 1, 5, 6, 7, 8, 9, 10 }, sl:rank_range())
    assert.equal(1, sl:del_by_rank_range(7))
    assert.equal(6, #sl)
    H.raises(sl.del_by_rank_range, "bad rank range", sl, 0, 2)
    H.raises(sl.del_by_rank_range, "bad rank range", sl, 3, 2)
    H.raises(sl.del_by_rank_range, "bad rank range", sl, 1, 7)
    H.raises(sl.del_by_rank_range, "bad argument #2 to 'del_by_rank_range' (number expected, got no value)", sl)
    assert.equal(6, sl:del_by_rank_range(1, 6))
    assert.equal(0, #sl)
  end)

  it("rank_range keys results by real ranks", function()
    local sl = std.skiplist()
    assert.same({}, sl:rank_range())
    for i = 1, 6 do sl:insert("k" .. i, i) end
    assert.same({ [3] = "k3", [4] = "k4", [5] = "k5" }, sl:rank_range(3, 5))
    assert.same({ [5] = "k5", [6] = "k6" }, sl:rank_range(5))
    H.raises(sl.rank_range, "bad rank range", sl, 0)
    H.raises(sl.rank_range, "bad rank range", sl, 2, 7)
  end)

  it("score_range returns data and their rank bounds", function()
    local sl = std.skiplist()
    for i = 1, 10 do sl:insert("k" .. i, i * 10) end
    local list, rmin, rmax = sl:score_range(25, 60)
    assert.same({ "k3", "k4", "k5", "k6" }, list)
    assert.equal(3, rmin); assert.equal(6, rmax)
    list, rmin, rmax = sl:score_range(70, 70)
    assert.same({ "k7" }, list); assert.equal(7, rmin); assert.equal(7, rmax)
    list, rmin, rmax = sl:score_range(95)
    assert.same({ "k10" }, list); assert.equal(10, rmin); assert.equal(10, rmax)
    assert.equal(0, select("#", sl:score_range(1000, 2000)))
    assert.equal(0, select("#", sl:score_range(11, 19)))
    H.raises(sl.score_range, "bad argument #3 to 'score_range' (max is less than min)", sl, 5, 4)
    H.raises(sl.score_range, "bad argument #2 to 'score_range' (number expected, got no value)", sl)
    local d = std.skiplist(true)
    for i = 1, 10 do d:insert("k" .. i, i * 10) end
    list, rmin, rmax = d:score_range(25, 60)
    assert.same({ "k6", "k5", "k4", "k3" }, list)
    assert.equal(5, rmin); assert.equal(8, rmax)
    local c = std.skiplist(function(a, b, sa, sb) return sb - sa end)
    for i = 1, 10 do c:insert("k" .. i, i * 10) end
    list, rmin, rmax = c:score_range(25, 60)
    assert.same({ "k6", "k5", "k4", "k3" }, list)
    assert.equal(5, rmin); assert.equal(8, rmax)
  end)

  it("rank_pairs iterates a range; erasing during the loop is safe", function()
    local sl = std.skiplist()
    for i = 1, 8 do sl:insert(i, i) end
    local got = {}
    for rank, data, score in sl:rank_pairs(3, 5) do got[#got + 1] = { rank, data, score } end
    assert.same({ { 3, 3, 3 }, { 4, 4, 4 }, { 5, 5, 5 } }, got)
    local seen = {}
    for _, data in sl:rank_pairs() do
      seen[#seen + 1] = data
      if data % 2 == 0 then sl:delete(data) end
      if data == 3 then sl:delete(4) end -- the next one, too
    end
    assert.same({ 1, 2, 3, 5, 6, 7, 8 }, seen)
    assert.same({ 1, 3, 5, 7 }, sl:rank_range())
    seen = {}
    for rank, data in pairs(sl) do seen[#seen + 1] = rank .. ":" .. data; sl:delete(data) end
    assert.same({ "1:1", "1:3", "1:5", "1:7" }, seen)
    assert.equal(0, #sl)
    for _ in sl:rank_pairs() do error("empty list yields nothing") end
    H.raises(sl.rank_pairs, "bad rank range", sl, 1, 1)
  end)

  it("matches a sorted-table model under random operations (seed 42)", function()
    math.randomseed(42)
    local sl = std.skiplist()
    local model = {} -- { {data, score, seq} } sorted by score then seq
    local seq = 0
    local function sort() table.sort(model, function(a, b)
      if a[2] ~= b[2] then return a[2] < b[2] end
      return a[3] < b[3]
    end) end
    local function find(data) for i, m in ipairs(model) do if m[1] == data then return i end end end
    for _ = 1, 3000 do
      local op = math.random(1, 8)
      local data = math.random(1, 200)
      local score = math.random(-30, 30)
      if op <= 3 then
        seq = seq + 1
        if find(data) then
          H.raises(sl.insert, "value exists", sl, data, score)
        else
          sl:insert(data, score)
          model[#model + 1] = { data, score, seq }
          sort()
        end
      elseif op == 4 then
        seq = seq + 1
        local i = find(data)
        if i then model[i][2], model[i][3] = score, seq else model[#model + 1] = { data, score, seq } end
        sl:update(data, score)
        sort()
      elseif op == 5 then
        local i = find(data)
        if i then table.remove(model, i) end
        assert.equal(i ~= nil, sl:delete(data))
      elseif op == 6 and #model > 0 then
        local r = math.random(1, #model)
        local d, s = sl:get_by_rank(r)
        assert.equal(model[r][1], d); assert.equal(model[r][2], s)
        assert.equal(r, sl:rank_of(d))
      elseif op == 7 then
        local lo = math.random(-35, 35)
        local hi = lo + math.random(0, 10)
        local want, rmin = {}, nil
        for i, m in ipairs(model) do
          if m[2] >= lo and m[2] <= hi then want[#want + 1] = m[1]; rmin = rmin or i end
        end
        local got, gmin, gmax = sl:score_range(lo, hi)
        if #want == 0 then assert.is_nil(got) else
          assert.same(want, got); assert.equal(rmin, gmin); assert.equal(rmin + #want - 1, gmax)
        end
      elseif op == 8 and #model > 2 then
        local a = math.random(1, #model)
        local b = math.random(a, math.min(#model, a + 3))
        for _ = a, b do table.remove(model, a) end
        assert.equal(b - a + 1, sl:del_by_rank_range(a, b))
      end
      assert.equal(#model, #sl)
    end
    local all = sl:rank_range()
    for i, m in ipairs(model) do assert.equal(m[1], all[i]) end
  end)
end)
