-- Speed of the process-wide storage and of table.import proxies (one thread).
-- Run: LUA_CPATH="build/lib/?.so;;" lua5.4 bench/shared_bench.lua
-- Prints `RESULT <name> <value> <unit>` lines.
require "skynet"

local clock = os.steady_clock or os.clock

local function bench(name, n, f)
  f(math.min(n, 1000)) -- warm up
  local t0 = clock()
  f(n)
  local dt = clock() - t0
  print(("RESULT %s %.0f ops/s"):format(name, n / dt))
end

storage.clear()
bench("storage_set_small", 200000, function(n)
  for i = 1, n do storage.set("k", i) end
end)
bench("storage_get_small", 200000, function(n)
  for _ = 1, n do storage.get("k") end
end)
bench("storage_set_if_cas", 200000, function(n)
  for _ = 1, n do
    local v = storage.get("k")
    storage.set_if("k", function(_, old) return old == v end, v + 1)
  end
end)
local record = { id = 1, name = "player", pos = { x = 1.5, y = 2.5 }, items = { 1, 2, 3, 4, 5 } }
bench("storage_set_table", 100000, function(n)
  for _ = 1, n do storage.set("rec", record) end
end)
bench("storage_get_table", 100000, function(n)
  for _ = 1, n do storage.get("rec") end
end)
storage.clear()

local config = { port = 8080, nested = { deeper = { value = 42 } }, list = {} }
for i = 1, 1000 do config.list[i] = i end
table.export(config, "bench.config")
local p = table.import("bench.config")
bench("proxy_index_top", 500000, function(n)
  for _ = 1, n do local _ = p.port end
end)
bench("proxy_index_depth3", 200000, function(n)
  for _ = 1, n do local _ = p.nested.deeper.value end
end)
bench("proxy_ipairs_1000", 200, function(n)
  for _ = 1, n do for _ in ipairs(p.list) do end end
end)
bench("proxy_pairs_1000", 200, function(n)
  for _ = 1, n do for _ in pairs(p.list) do end end
end)
bench("export_1000_entries", 2000, function(n)
  for _ = 1, n do table.export(config, "bench.config") end
end)
table.export(nil, "bench.config")
