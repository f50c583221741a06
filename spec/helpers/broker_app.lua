-- A broker with test handlers in the same process, for spec/broker_spec.lua:
--   skynet helpers.broker_app <port> [ca key [pwd]]
-- Starts the http.broker service on 127.0.0.1 and registers the handlers the
-- spec calls, then serves until stopped (SIGTERM or the spec's `timeout`).

local function echo(query, body)
  local keys = {}
  for k in pairs(query) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. query[k] end
  return table.concat(parts, "&") .. "|" .. body
end

local handlers = {
  ["test:echo"] = echo,
  ["test:fail"] = function() error("handler failed on purpose", 0) end,
  ["test:table"] = function(query) return { name = query.name, list = { 1, 2, 3 }, nested = { ok = true } } end,
  ["test:nothing"] = function() end,
  ["test:number"] = function() return 42 end,
  ["test:big"] = function(query) return string.rep("abcdefgh", tonumber(query.n) or 1000) end,
  ["test:size"] = function(_, body) return #body end,
  ["test:slow"] = function(query)
    os.wait(tonumber(query.ms) or 300)
    return "slow done"
  end,
  -- Answers never: the broker's caller times out after 10 s (504).
  ["test:never"] = function() local respond = rpc.responser() end,
}

function main(port, ca, key, pwd)
  local ok, err = os.pload("http.broker", port, "127.0.0.1", ca, key, pwd)
  if not ok then error(err, 0) end
  for name, f in pairs(handlers) do assert(rpc.create(name, f)) end
  io.stdout:write("handlers ready\n")
  io.stdout:flush()
  while not os.stopped() do os.wait() end
end
