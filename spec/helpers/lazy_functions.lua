-- Built on first read in a service: skynet's functions of `os`, `rpc`,
-- `string` and `table`, and the globals `wrap`, `unwrap`, `compress` and
-- `uncompress`. Answers "lazy.functions" with what it saw.
local absent = {
  os_stopped = rawget(os, "stopped") == nil,
  rpc_timeout = rawget(rpc, "timeout") == nil,
  string_split = rawget(string, "split") == nil,
  table_export = rawget(table, "export") == nil,
  wrap = rawget(_G, "wrap") == nil,
  compress = rawget(_G, "compress") == nil,
}
-- `pairs` lists them before any is read...
local listed = {}
for _, t in ipairs { { "os", os }, { "rpc", rpc }, { "string", string }, { "table", table } } do
  for k in pairs(t[2]) do listed[t[1] .. "." .. k] = true end
end

function main()
  rpc.create("lazy.functions", function()
    return {
      absent_at_start = absent,
      listed = { listed["os.stopped"], listed["os.version"], listed["rpc.create"], listed["rpc.caller"],
                 listed["string.split"], listed["table.import"], listed["os.time"] },
      -- ...and each works when read
      works = {
        os.version() ~= nil, os.stopped(), ("a,b"):split(",")[2], rpc.caller() ~= 0,
        unwrap(wrap(1, "x")), uncompress(compress("zz")),
      },
    }
  end)
  while not os.stopped() do os.wait() end
end
