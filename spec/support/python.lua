-- Runs a python3 snippet as an independent reference for the codec specs.
-- The snippet sees `data` (bytes read from a temp file) and must assign the
-- bytes to return to `out`; we pass both through temp files so binary data
-- survives. Returns the output bytes, or raises with python's stderr.
local M = {}

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.run(snippet, data)
  local script, input, output, errors = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  write(script, "import sys, json, zlib, gzip, base64\n"
    .. "data = open(sys.argv[1], 'rb').read()\n"
    .. snippet .. "\n"
    .. "open(sys.argv[2], 'wb').write(out)\n")
  write(input, data or "")
  local ok = os.execute(string.format("python3 %s %s %s 2>%s", script, input, output, errors))
  local result, err = read(output), read(errors)
  for _, p in ipairs { script, input, output, errors } do os.remove(p) end
  if not ok then error("python3 failed: " .. err, 2) end
  return result
end

return M
