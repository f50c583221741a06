-- Run by the launcher specs: prints os.name() and the type and value of each argument.
function main(...)
  local out = { os.name() }
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    out[#out + 1] = (math.type(v) or type(v)) .. ":" .. tostring(v)
  end
  print(table.concat(out, " "))
end
