-- A service for spec/shared_across_services_spec.lua. It runs in its own
-- lua_State (and so maybe on another OS thread) and reads or writes the
-- process-wide `storage` and `table.export` trees on request, so the spec can
-- check that what one service does is seen by another.

-- Proxies held across calls, by slot name: they must see later re-exports.
local held = {}

-- t[k1][k2]..., nil as soon as a step is not a table.
local function walk(t, ...)
  for i = 1, select("#", ...) do
    if type(t) ~= "table" then return nil end
    t = t[(select(i, ...))]
  end
  return t
end

-- A proxy copied to another service arrives as an empty table, so reads
-- answer a table as "table" and its length, anything else as it is.
local function summary(v)
  if type(v) == "table" then return "table", #v end
  return v
end

-- Increments the integer under `key` `rounds` times with compare-and-set.
local function count(key, rounds)
  for _ = 1, rounds do
    repeat
      local n = storage.get(key)
      local ok = storage.set_if(key, function(_, old) return old == n end, n + 1)
    until ok
  end
  return true
end

function main()
  rpc.create("shared_peer.get", function(key) return storage.get(key) end)
  rpc.create("shared_peer.set", function(key, ...) return storage.set(key, ...) end)
  rpc.create("shared_peer.size", function() return storage.size() end)
  rpc.create("shared_peer.count", count)
  rpc.create("shared_peer.set_if_yield", function(key)
    local ok, err = pcall(storage.set_if, key, function() coroutine.yield() return true end, 1)
    return ok, tostring(err)
  end)
  rpc.create("shared_peer.set_if_reads", function(key, other)
    local seen
    local ok = storage.set_if(key, function() seen = storage.get(other) return true end, "set by peer")
    return ok, seen
  end)
  rpc.create("shared_peer.export", function(t, name) table.export(t, name) return true end)
  rpc.create("shared_peer.read", function(name, ...) return summary(walk(table.import(name), ...)) end)
  rpc.create("shared_peer.hold", function(slot, name, ...)
    held[slot] = walk(table.import(name), ...)
    return type(held[slot])
  end)
  rpc.create("shared_peer.read_held", function(slot, ...) return summary(walk(held[slot], ...)) end)
  rpc.create("shared_peer.pairs_held", function(slot)
    local out = {}
    for k, v in pairs(held[slot]) do out[k] = type(v) == "table" and "table" or v end
    return out
  end)
  while not os.stopped() do os.wait() end
end
