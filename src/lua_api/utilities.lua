-- The global helpers `bind`, `throw` and `trace`, built the first time a
-- state reads one of them (see lazy.rs): an idle service never pays for them.
local select, type, error, tostring = select, type, error, tostring
local concat, unpack = table.concat, table.unpack

local function bind(f, ...)
  if type(f) ~= "function" then
    error("bad argument #1 to 'bind' (function expected, got " .. (f == nil and "no value" or type(f)) .. ")", 2)
  end
  local n = select("#", ...)
  if n == 0 then return function(...) return f(...) end end
  if n == 1 then
    local a = ...
    return function(...) return f(a, ...) end
  end
  local bound = { ... }
  return function(...)
    local m = select("#", ...)
    local args = { unpack(bound, 1, n) }
    for i = 1, m do args[n + i] = (select(i, ...)) end
    return f(unpack(args, 1, n + m))
  end
end

local function joined(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return concat(parts, "\t")
end

local function throw(...)
  if select("#", ...) == 0 then error("", 0) end
  error(joined(...), 2)
end

local debugging, date, id = os.debugging, os.date, os.id
local function trace(...)
  if not debugging() then return end
  local info = debug.getinfo(2, "Sl")
  local where = info and (info.short_src .. ":" .. (info.currentline or 0)) or "?"
  io.stderr:write(("#%d [%s] <%s> %s\n"):format(id(), date("%H:%M:%S"), where, joined(...)))
end

return { bind = bind, throw = throw, trace = trace }
