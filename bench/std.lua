-- Throughput of std.list and std.skiplist. Prints `RESULT <name> <value> <unit>`.
-- Run: LUA_CPATH="build/lib/?.so;;" lua5.4 bench/std.lua
require "skynet"
local clock = os.steady_clock or os.clock

local function rate(name, n, f)
  local t0 = clock()
  f(n)
  local dt = clock() - t0
  print(string.format("RESULT %s %.0f ops/s", name, n / dt))
end

local N = 1000000
rate("list_push_back", N, function(n) local l = std.list() for i = 1, n do l:push_back(i) end end)
local l = std.list()
for i = 1, N do l:push_back(i) end
rate("list_pop_front", N, function(n) for _ = 1, n do l:pop_front() end end)
rate("list_push_pop", N, function(n)
  local q = std.list()
  for i = 1, n do q:push_back(i); if i % 2 == 0 then q:pop_front() end end
end)

local M = 200000
math.randomseed(1)
local scores = {}
for i = 1, M do scores[i] = math.random(1, 1000000) end
local sl = std.skiplist()
rate("skiplist_insert", M, function(n) for i = 1, n do sl:insert(i, scores[i]) end end)
rate("skiplist_rank_of", M, function(n) for i = 1, n do sl:rank_of(i) end end)
rate("skiplist_get_by_rank", M, function(n) for i = 1, n do sl:get_by_rank(i) end end)
rate("skiplist_update", M, function(n) for i = 1, n do sl:update(i, scores[n - i + 1]) end end)
rate("skiplist_delete", M, function(n) for i = 1, n do sl:delete(i) end end)
local c = std.skiplist(function(a, b, sa, sb, t) if sa ~= sb then return sa - sb end return t end)
rate("skiplist_insert_lua_comp", M // 4, function(n) for i = 1, n do c:insert(i, scores[i]) end end)
